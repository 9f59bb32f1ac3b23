//! What the pm2 CLI and the pm2 daemon agree on without talking: the `PM2_HOME` layout
//! and the files in it (with PM2's `PM2_<KEY>` overrides), how those files are replaced,
//! the settings of the built-in `pm2-logrotate`, how to tell that a process is gone, and
//! how an app's git work tree is read and moved (PM2's versioning).
//!
//! Both programs depend on this crate and neither on the other, so a contract changes in
//! one place. The wire protocol between them is `pm2-proto`'s.

mod atomic;
mod clock;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod git;
mod layout;
pub mod liveness;
pub mod logrotate;
pub mod module_conf;
pub mod orphans;
pub mod overrides;
pub mod plus;
pub mod plus_alerts;
pub mod plus_link;
pub mod plus_tls;

pub use atomic::{write_atomic, write_atomic_mode};
pub use clock::now_ms;
pub use layout::Pm2Home;
pub use liveness::alive;
pub use module_conf::ModuleConfError;
pub use overrides::Entry;
