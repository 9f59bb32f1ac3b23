//! Log rotation policy, compatible with the `pm2-logrotate` module (its settings,
//! `RotateConfig`, are read by `pm2_home::logrotate`, shared with the CLI).
//!
//! `pm2-logrotate` (keymetrics/pm2-logrotate, `app.js`) runs two independent timers:
//!
//! - a *worker* every `workerInterval` seconds: every app log (out, err and combined, each
//!   path once), plus `PM2_HOME/pm2.log` and `agent.log`, is rotated when it is non-empty and
//!   at least `max_size` bytes long ([`due_by_size`]);
//! - a *cron* (`rotateInterval`, node-schedule syntax, local time): every non-empty app log is
//!   rotated whatever its size (not `pm2.log` nor `agent.log`). See `pm2_home::logrotate::CronSchedule`.
//!
//! For a cluster app with several instances sharing files, only the first instance of each
//! name is considered. Modules are skipped when `rotateModule` is false.
//!
//! One rotation of `<dir>/<base>.log` is, in this daemon (which owns the descriptors, so there
//! is no copy-truncate window):
//! 1. `to = rotated_path(live, &date_stamp(cfg, now))`, then rename the live file to `to` and
//!    reopen a fresh one (the daemon's `LogSink::rotate_to`);
//! 2. if `cfg.compress`, [`compress`]`(&to)` (gives `to` + `.gz`);
//! 3. [`prune`]`(live, cfg.retain)`.
//!
//! Files: `naming.rs` (rotated names, their date, pruning), `gzip.rs` (compression), and
//! `rotator.rs` (the daemon task that applies the policy to the files the daemon owns).

mod gzip;
mod naming;
pub(crate) mod rotator;
#[cfg(test)]
mod tests;

pub use gzip::compress;
pub use naming::{date_stamp, prune, rotated_path};

use pm2_home::logrotate::RotateConfig;

/// Whether a file of `len` bytes is due for rotation by the size check (the worker).
///
/// Like `pm2-logrotate`, an empty file is never rotated, even with `max_size` 0. A forced
/// (cron) rotation only needs `len > 0`.
pub fn due_by_size(len: u64, cfg: &RotateConfig) -> bool {
    len > 0 && len >= cfg.max_size
}
