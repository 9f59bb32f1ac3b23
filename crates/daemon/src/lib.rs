//! The pm2 daemon: it owns every app instance and answers the CLI over a unix socket.
//!
//! [`run`] is the whole daemon as a library function, so tests can run it in-process and
//! the `pm2` binary can run it detached (or in the foreground for `pm2-runtime`).

mod entry;
mod handlers;
mod health;
mod housekeeping;
mod instance;
mod life;
mod listen;
mod logs;
mod modules;
mod nodeapi;
mod notify;
mod passed_sockets;
mod persist;
mod ready_pipe;
mod registry;
mod settings;
mod socket;
mod state;
mod watch;
mod worker_channel;

pub use entry::{daemon_main, InProcess};
pub use life::{run, StartError};
pub use listen::exec_with_listen_pid;
pub use settings::DaemonSettings;
