//! `sd_notify` readiness (beyond PM2; the ecosystem key `notify`, and every app with
//! `listen`): the daemon owns one unix datagram socket, `notify.sock` in PM2_HOME (0600),
//! whose path each such process gets as `NOTIFY_SOCKET`. The kernel stamps every datagram
//! with the sender's pid (`SO_PASSCRED`), which routes it to the instance that spawned that
//! pid; a datagram from any other pid is dropped.
//!
//! One socket per daemon rather than one per instance: a hundred apps cost one fd and one
//! small task, and the pid from the kernel (not a path the app could guess) says who
//! spoke. Messages are bounded: a datagram is read into 4096 bytes (the rest is
//! cut off), `STATUS=` keeps 256 characters, and what a process said is kept
//! merged until its instance reads it (`hub.rs`: the last `STATUS=`, whether `READY=1`
//! came...), so a flood costs a constant amount of memory and never hides a `READY=1`.
//! Unknown or malformed lines are ignored.
//!
//! - `message.rs`: the lines pm2-rs reads, parsed (pure);
//! - `watchdog.rs`: the `watchdog_sec` timer;
//! - `hub.rs`: the socket, its reading task, and the routing by sender pid.

mod hub;
mod message;
mod watchdog;

pub use hub::{NotifyHub, NotifyLink};
pub use message::{Note, Notice};
pub use watchdog::Watchdog;
