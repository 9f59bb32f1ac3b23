//! The `pm2-logrotate` settings: what `pm2 set pm2-logrotate:<key>` stores and the daemon's
//! rotation reads.
//!
//! The CLI validates a change with the same parser the daemon runs, so a setting the
//! daemon would refuse is refused when typed. The rotation itself (renaming, gzip,
//! pruning) stays in the daemon.

mod config;
mod cron;
mod date;
mod settings;
#[cfg(test)]
mod tests;
mod tz;

pub use config::{RotateConfig, LOGROTATE, LOGROTATE_DEFAULTS, RETAIN_ALL};
pub use cron::{CronError, CronSchedule};
pub use date::format_date;
pub use settings::{parse_size, InvalidSettings, SizeError};
pub use tz::resolve_tz;
