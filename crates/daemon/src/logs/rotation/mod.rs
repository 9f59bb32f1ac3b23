//! Log rotation policy, compatible with the `pm2-logrotate` module.
//!
//! `pm2-logrotate` (keymetrics/pm2-logrotate, `app.js`) runs two independent timers:
//!
//! - a *worker* every `workerInterval` seconds: every app log (out, err and combined, each
//!   path once), plus `PM2_HOME/pm2.log` and `agent.log`, is rotated when it is non-empty and
//!   at least `max_size` bytes long ([`due_by_size`]);
//! - a *cron* (`rotateInterval`, node-schedule syntax, local time): every non-empty app log is
//!   rotated whatever its size (not `pm2.log` nor `agent.log`). See [`CronSchedule`].
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
//! The policy (pure, no daemon state): `settings.rs` (the settings, their defaults, the size
//! rule), `conf.rs` (reading them from `module_conf.json`), `cron.rs` (the schedule),
//! `naming.rs` (rotated names, dates, pruning), `gzip.rs` (compression). The daemon task
//! that applies it to the files the daemon owns: `rotator.rs`.

mod conf;
mod cron;
mod gzip;
mod naming;
pub(crate) mod rotator;
mod settings;
#[cfg(test)]
mod tests;

pub use conf::parse_size;
pub use cron::CronSchedule;
pub use gzip::compress;
pub use naming::{date_stamp, prune, rotated_path};
pub use settings::{due_by_size, RotateConfig, RETAIN_ALL};
