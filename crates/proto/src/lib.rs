//! Wire types and framing shared by the `pm2` CLI and its daemon.
//!
//! The CLI and the daemon talk over `$PM2_HOME/daemon.sock` with length-prefixed JSON frames
//! ([`frame`]). Every request is wrapped in an [`Envelope`] carrying the client's version so the
//! daemon can point at `pm2 update` when the two drift apart. PM2's own JSON shapes (`jlist`,
//! `pm2_env`) are produced in [`pm2json`] so that every consumer (CLI views, dumps, the child's
//! environment) renders one source of truth.
//!
//! # Protocol revisions
//!
//! Each envelope carries the client's [`PROTOCOL`] revision (absent means 1); the daemon
//! answers a client in the forms that revision reads, so a CLI and a daemon of different
//! builds keep understanding each other (and the CLI still says `pm2 update`):
//!
//! - **1**: the first; `list` and `summary` are answered with [`Response::List`], every
//!   instance carrying its environment.
//! - **2**: `list` and `summary` are answered with [`Response::SharedList`]: each
//!   environment once, and each instance the index of its own ([`shared_list`]). With a
//!   hundred apps started from one shell this is 100 KB instead of 400 KB. A daemon of
//!   revision 1 ignores the field and answers [`Response::List`], which a revision-2
//!   client still reads.
//!
//! A request type a daemon does not know is answered with [`Response::Error`], so a new
//! request needs no new revision when its client can fall back: [`Request::Readings`]
//! (the dashboard's per-second poll, [`readings`]) is read with [`Request::Summary`] from
//! an older daemon.

pub mod depends;
pub mod emit;
pub mod frame;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod health;
pub mod limits;
pub mod model;
pub mod node_path;
pub mod patch;
pub mod pm2json;
pub mod readings;
pub mod reply;
pub mod request;
pub mod shared_env;
pub mod shared_list;
pub mod table_row;

pub use health::{Condition, Dependency, HealthCheck, HealthInfo, HealthStatus, Probe};
pub use limits::{Containment, LimitState, ResourceLimits};
pub use model::*;
pub use patch::{Change, SpecPatch};
pub use readings::{Reading, Readings, ReadingsRequest};
pub use request::*;
pub use shared_env::{EnvPool, SharedEnv};
pub use table_row::TableRow;

/// The protocol revision this build speaks (see the crate's "Protocol revisions").
pub const PROTOCOL: u32 = 2;

/// Version of this build, reported in handshakes, `pm2 --version` and `jlist`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

impl Envelope {
    /// `request` from a client of this build, reading this build's [`PROTOCOL`].
    pub fn new(request: Request) -> Envelope {
        Envelope {
            client_version: VERSION.to_string(),
            protocol: PROTOCOL,
            request,
        }
    }
}

/// File name of the daemon's control socket inside `PM2_HOME`.
///
/// PM2's own `rpc.sock`/`pub.sock` stay free for a later Node-API-compatible endpoint.
pub const SOCKET_NAME: &str = "daemon.sock";

/// Environment variable naming the file descriptor of the readiness pipe a CLI hands to the
/// daemon it spawns: the CLI then waits on an event (the pipe) instead of polling the socket.
/// The daemon removes it from its environment at once, so no app or helper inherits it.
pub const READY_FD_ENV: &str = "PM2_RS_READY_FD";

/// The byte the daemon writes on the readiness pipe once its socket is bound and queues
/// connections; end of file without it means the daemon died at start.
pub const READY_BYTE: u8 = b'R';

/// The first argument that makes the pm2 binary `pm2 serve`'s static file server: the CLI
/// (and an ecosystem app with `script: "serve"`) starts `pm2 __serve [path] [port] [host]`
/// as an ordinary app, and `src/main.rs` recognises it before anything else runs.
pub const SERVE_MODE_ARG: &str = "__serve";
