//! Node's IPC channel, as the parent (daemon) end speaks it.
//!
//! Wire format (json serialization, the only one we use): every message is
//! `JSON.stringify(msg) + "\n"` in UTF-8. Lines are split on `\n` only;
//! U+2028/U+2029 travel raw and are part of the message. A message is
//! *internal* when its `cmd` is a string longer than 5 characters starting
//! with `NODE_`.
//!
//! Handles (listening sockets, accepted connections, UDP sockets) travel as
//! `{"cmd":"NODE_HANDLE","type":<kind>,"msg":<inner>}` with exactly one fd in
//! `SCM_RIGHTS` on the `sendmsg` that carries the start of that line. The
//! receiver answers `NODE_HANDLE_ACK` (or `NODE_HANDLE_NACK` if no fd came).
//! Unlike Node's own sender (one handle in flight), this channel keeps up to
//! [`HANDLES_IN_FLIGHT`] handles unacknowledged: Linux ends every read after a
//! message carrying fds, so each fd still meets its own line (study §5), and a
//! round-robin worker no longer waits a round trip per connection. ACK/NACK
//! come back in wire order; a NACKed handle is sent again behind the others.
//!
//! Each channel runs two tasks: a reader (recvmsg, line splitting, ACK
//! bookkeeping, delivery of [`Incoming`]) and a writer (bounded queue,
//! non-blocking `sendmsg`, flow control). A child that stops reading only
//! fills its own queue: [`IpcSender::send`] then returns [`SendError::Full`].

mod child;
mod plumbing;
mod protocol;
mod reader;
mod sender;
mod writer;

use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

pub use child::{channel_pair, child_env, install_child_end, CHILD_FD};
pub use protocol::{HandleKind, Incoming, HANDLES_IN_FLIGHT, MAX_HANDLE_RETRANSMISSIONS};
pub use sender::{IpcSender, SendError};

#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use protocol::{to_line, HandleEnvelope};
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use {
    plumbing::Control,
    reader::{internal_cmd, route, LineSplitter},
};

use plumbing::Shared;
use reader::read_loop;
use writer::Writer;

/// How many outgoing messages one channel may queue before `send` says `Full`.
pub const SEND_QUEUE_CAPACITY: usize = 4096;
/// How many incoming messages wait for the consumer before the reader pauses.
pub const INCOMING_CAPACITY: usize = 1024;

/// Reader → writer control messages; small, because a Node child has at most
/// a few ACK/NACKs outstanding (a window of handles in flight).
const CONTROL_CAPACITY: usize = 64;

/// Starts the reader and writer tasks (must be called inside a tokio runtime) on the parent end. Returns the sender and the stream of incoming messages (bounded mpsc; when the receiver is dropped, the channel keeps draining and discarding).
///
/// The channel lives until the child closes its end (or a read/write fails);
/// then [`Incoming::Closed`] is delivered once and every queued or in-flight
/// item is dropped.
pub fn start(parent_end: OwnedFd) -> io::Result<(IpcSender, mpsc::Receiver<Incoming>)> {
    let flags = OFlag::from_bits_retain(fcntl(&parent_end, FcntlArg::F_GETFL)?);
    fcntl(&parent_end, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    let io = Arc::new(UnixStream::from_std(parent_end.into())?);

    let (shared, closed_rx) = Shared::new();
    let (out_tx, out_rx) = mpsc::channel(SEND_QUEUE_CAPACITY);
    let (ctl_tx, ctl_rx) = mpsc::channel(CONTROL_CAPACITY);
    let (in_tx, in_rx) = mpsc::channel(INCOMING_CAPACITY);

    let writer = Writer::new(Arc::clone(&io), Arc::clone(&shared), closed_rx);
    tokio::spawn(writer.run(out_rx, ctl_rx));
    tokio::spawn(read_loop(io, Arc::clone(&shared), ctl_tx, in_tx));
    Ok((IpcSender::new(out_tx, shared), in_rx))
}
