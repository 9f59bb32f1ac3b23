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
//! - `hub.rs`: the routing by sender pid;
//! - `receive.rs`: the sockets and their reading tasks.
//!
//! An app run as another user (`uid`) cannot reach the owner-only `notify.sock` (nor
//! `PM2_HOME`): it gets a second, abstract socket (`NOTIFY_SOCKET=@pm2-rs/notify/...`,
//! systemd's form for one). Anyone on the machine can write to an abstract socket, so
//! there the pid check is the whole guard: only the daemon's own processes are heard,
//! and only the users given the socket may hold a place among the messages of pids not
//! routed yet; what anyone else sends costs one read and is dropped, the reading task
//! yielding every 64 datagrams.

mod hub;
mod message;
mod receive;
mod watchdog;

pub use hub::{NotifyHub, NotifyLink};
pub use message::{Note, Notice};
pub use watchdog::Watchdog;
