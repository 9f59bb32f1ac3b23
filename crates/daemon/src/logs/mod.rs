//! Logs: from an app's pipes to its files and to live `pm2 logs` readers, and the daemon's
//! own `pm2.log`.
//!
//! - [`sinks`]: an instance's open log files, swappable under writers (reopen, rotation);
//! - [`relay`]: the task per pipe that moves a child's output into its files and the hub
//!   (spliced while nobody reads it live, copied otherwise);
//! - [`append`]: appending to a file opened without `O_APPEND` (which `splice` needs);
//! - [`stage`]: the per-thread pipe a splice goes through, so the app never waits on it;
//! - [`pipe_size`]: an app's pipe grown while it floods and shrunk back once quiet;
//! - [`line_format`]: what happens to each line on its way (raw, dated, PM2's JSON lines);
//! - [`hub`]: fan-out of chunks and process events to live readers, never blocking a writer;
//! - [`daemon_log`]: `pm2.log`, the daemon's tracing output in PM2's line format;
//! - [`rotation`]: the built-in `pm2-logrotate` (policy, and the task that applies it).

pub(crate) mod append;
pub(crate) mod daemon_log;
pub(crate) mod dropped;
pub(crate) mod event;
pub(crate) mod filter;
pub(crate) mod hub;
pub(crate) mod line_format;
pub(crate) mod pipe_size;
pub(crate) mod relay;
pub mod rotation;
pub(crate) mod sinks;
pub(crate) mod stage;
