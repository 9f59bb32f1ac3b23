//! The Node.js cluster primary of pm2-rs.
//!
//! The daemon itself plays the part of Node's `cluster` primary (and of the
//! `child_process.fork` parent) by speaking Node's internal IPC protocol to
//! unmodified Node apps over a socketpair on the child's fd 3. The protocol
//! is described in `docs/node-cluster-ipc.md` (the protocol study).
//!
//! * [`ipc`]: the channel layer: socketpair setup for the child, JSON-line
//!   framing, `NODE_HANDLE` passing with `SCM_RIGHTS` and its ACK flow
//!   control, non-blocking bounded writes.
//! * [`listener`]: binding what workers ask for in `queryServer` (TCP, unix, UDP).
//! * [`handback`]: keep-alive connections a retiring worker closes while their client's
//!   next request is already waiting are handed to a live worker instead of reset; they
//!   come back to the primary on a channel of their own.
//! * [`primary`]: the primary itself: listeners, round-robin hand-over of connections,
//!   shared handles, worker drain and departure, and its typed replies to workers.
//!
//! The modules depend one way: `primary` → `handback` → `listener`, and `primary` → `ipc`.

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod handback;
pub mod ipc;
pub mod listener;
pub mod primary;
