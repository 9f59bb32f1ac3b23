//! Everything the CLI prints about processes, in PM2's exact shapes: the `list` table,
//! `describe`, `env`, and `prettylist` (Node's `util.inspect` syntax).
//!
//! Views are pure functions from the daemon's [`pm2_proto::ProcessInfo`] (and the current time)
//! to text, so they are tested without a daemon and the caller decides where the text goes and
//! whether colour is wanted. `describe` and `env_listing` end every line with a newline (they
//! are written as is, one process after another); `list_table` and `prettylist` do not.

mod describe;
mod describe_limits;
mod format;
mod grid;
mod health_column;
mod inspect;
#[cfg(test)]
mod inspect_tests;
mod module_table;
mod table;

pub use describe::{describe, env_listing};
pub use format::{bytes_to_size, format_uptime};
pub use inspect::prettylist;
pub use table::{list_table, rows_table};
