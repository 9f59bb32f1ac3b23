//! The settings as typed values, and the defaults `pm2 install pm2-logrotate` writes.

use crate::logrotate::cron::{CronError, CronSchedule};
use std::time::Duration;

/// The built-in log rotation module's name, as users install it; also the key of its
/// section in `module_conf.json` and the prefix of its settings.
pub const LOGROTATE: &str = "pm2-logrotate";

/// `retain` value meaning "keep every rotated file" (`pm2 set pm2-logrotate:retain all`).
pub const RETAIN_ALL: usize = usize::MAX;

/// pm2-logrotate's package.json `config` defaults, as `pm2 install` writes them.
pub const LOGROTATE_DEFAULTS: &[(&str, &str)] = &[
    ("max_size", "10M"),
    ("retain", "30"),
    ("compress", "false"),
    ("dateFormat", "YYYY-MM-DD_HH-mm-ss"),
    ("workerInterval", "30"),
    ("rotateInterval", "0 0 * * *"),
    ("rotateModule", "true"),
];

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
    pub fn rotate_schedule(&self) -> Result<CronSchedule, CronError> {
        CronSchedule::parse(&self.rotate_interval)
    }
}
