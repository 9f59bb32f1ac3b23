//! A running Node app's inspector, reached from outside the app and without running any
//! code in it: Node opens its inspector when it receives `SIGUSR1` ([`activate()`]), the
//! app's own listening sockets in `/proc` say where ([`listeners`]), its HTTP endpoint
//! lists the debug targets ([`targets`]), and a minimal Chrome DevTools protocol session
//! over the target's websocket records CPU and sampling heap profiles ([`session`],
//! [`profile`]).
//!
//! Every step has a deadline: a hung or vanished inspector ends in an [`Error`], never in
//! a wait without end. The crate knows no daemon: the caller sends the signal.

pub mod activate;
mod deadline;
mod error;
mod http;
pub mod listeners;
pub mod profile;
pub mod session;
pub mod targets;

pub use activate::{activate, Inspector, Waits};
pub use error::Error;
pub use profile::{record, Kind};
pub use session::Session;
pub use targets::Target;
