//! Wire types and framing shared by the `pm2` CLI and its daemon.
//!
//! The CLI and the daemon talk over `$PM2_HOME/daemon.sock` with length-prefixed JSON frames
//! ([`frame`]). Every request is wrapped in an [`Envelope`] carrying the client's version so the
//! daemon can point at `pm2 update` when the two drift apart. PM2's own JSON shapes (`jlist`,
//! `pm2_env`) are produced in [`pm2json`] so that every consumer (CLI views, dumps, the child's
//! environment) renders one source of truth.

pub mod frame;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod model;
pub mod pm2json;
pub mod request;

pub use model::*;
pub use request::*;

/// Version of this build, reported in handshakes, `pm2 --version` and `jlist`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// File name of the daemon's control socket inside `PM2_HOME`.
///
/// PM2's own `rpc.sock`/`pub.sock` stay free for a later Node-API-compatible endpoint.
pub const SOCKET_NAME: &str = "daemon.sock";
