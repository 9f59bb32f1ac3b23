//! The `pm2-logrotate` settings, their defaults, and the size rule they set.
//! (`conf.rs` reads them from `module_conf.json`.)

use super::cron::CronSchedule;
use std::time::Duration;

/// `retain` value meaning "keep every rotated file" (`pm2 set pm2-logrotate:retain all`).
pub const RETAIN_ALL: usize = usize::MAX;

/// The `pm2-logrotate` settings, as stored by `pm2 set pm2-logrotate:<key> <value>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotateConfig {
    /// `max_size`: rotate a file once it holds at least this many bytes.
    pub max_size: u64,
    /// `retain`: rotated files kept per live file; [`RETAIN_ALL`] keeps them all, 0 keeps none.
    pub retain: usize,
    /// `compress`: gzip rotated files (`.gz` suffix).
    pub compress: bool,
    /// `dateFormat`: moment-style format of the date in rotated names.
    pub date_format: String,
    /// `workerInterval`: period of the size check.
    pub worker_interval: Duration,
    /// `rotateInterval`: cron expression forcing a rotation (see [`CronSchedule`]).
    pub rotate_interval: String,
    /// `rotateModule`: also rotate the logs of PM2 modules.
    pub rotate_module: bool,
    /// `TZ`: time zone of the date in rotated names; `None` is the daemon's local time.
    pub tz: Option<String>,
}

impl Default for RotateConfig {
    /// The defaults of `pm2-logrotate`'s `package.json` `config` section.
    fn default() -> RotateConfig {
        RotateConfig {
            max_size: 10 * 1024 * 1024,
            retain: 30,
            compress: false,
            date_format: "YYYY-MM-DD_HH-mm-ss".to_string(),
            worker_interval: Duration::from_secs(30),
            rotate_interval: "0 0 * * *".to_string(),
            rotate_module: true,
            tz: None,
        }
    }
}

impl RotateConfig {
    /// The parsed `rotate_interval` (already validated by `from_module_conf`).
    pub fn rotate_schedule(&self) -> Result<CronSchedule, String> {
        CronSchedule::parse(&self.rotate_interval)
    }
}

/// Whether a file of `len` bytes is due for rotation by the size check (the worker).
///
/// Like `pm2-logrotate`, an empty file is never rotated, even with `max_size` 0. A forced
/// (cron) rotation only needs `len > 0`.
pub fn due_by_size(len: u64, cfg: &RotateConfig) -> bool {
    len > 0 && len >= cfg.max_size
}
