//! The daemon's housekeeping, once per `PM2_WORKER_INTERVAL`:
//!
//! - [`tick`]: the timer; samples every running instance, records the table when it
//!   changed, hands freed memory back to the OS;
//! - [`sampler`]: CPU and memory of one pid from `/proc` (what `pm2 list` shows);
//! - [`memory_limit`]: restarts an instance over its `max_memory_restart`.

pub(crate) mod memory_limit;
pub(crate) mod sampler;
pub(crate) mod tick;
