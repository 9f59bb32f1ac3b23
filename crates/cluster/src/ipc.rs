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

mod reader;
mod writer;

use std::io;
use std::os::fd::{OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use serde_json::Value;
use tokio::net::UnixStream;
use tokio::sync::{mpsc, watch};

use reader::read_loop;
use writer::Writer;
pub use writer::HANDLES_IN_FLIGHT;

/// The fd number Node expects the channel on (`NODE_CHANNEL_FD`).
pub const CHILD_FD: RawFd = 3;
/// How many outgoing messages one channel may queue before `send` says `Full`.
pub const SEND_QUEUE_CAPACITY: usize = 4096;
/// How many incoming messages wait for the consumer before the reader pauses.
pub const INCOMING_CAPACITY: usize = 1024;
/// Node's `MAX_HANDLE_RETRANSMISSIONS`: a NACKed handle is sent again this often.
pub const MAX_HANDLE_RETRANSMISSIONS: u32 = 3;

/// Reader → writer control messages; small, because a Node child has at most
/// a few ACK/NACKs outstanding (a window of handles in flight).
const CONTROL_CAPACITY: usize = 64;

/// Creates the socketpair for one child: (parent end, child end). Both CLOEXEC, AF_UNIX SOCK_STREAM.
///
/// Pass the child end to [`install_child_end`] in `pre_exec` and drop it in
/// the parent once the child is spawned (otherwise EOF never arrives); pass
/// the parent end to [`start`].
pub fn channel_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let (parent, child) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    Ok((parent, child))
}

/// For use inside `Command::pre_exec` (async-signal-safe, no allocation): makes `child_end` the child's fd 3 without CLOEXEC (handle the case child_end == 3: dup it elsewhere first, as §9 P6 says).
///
/// Only `fcntl`, `dup2` and `close` are called. The original `child_end`
/// keeps its CLOEXEC flag, so exec closes it and only fd 3 remains.
pub fn install_child_end(child_end: RawFd) -> io::Result<()> {
    let mut source = child_end;
    if source == CHILD_FD {
        // dup2(3, 3) is a no-op that would leave CLOEXEC set: move it away first.
        // SAFETY: plain fcntl on an fd number; no memory is touched.
        source = unsafe { libc::fcntl(source, libc::F_DUPFD_CLOEXEC, CHILD_FD + 1) };
        if source < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    // SAFETY: dup2 on fd numbers; the new fd 3 does not have CLOEXEC.
    let result = unsafe { libc::dup2(source, CHILD_FD) };
    let error = io::Error::last_os_error();
    if source != child_end {
        // SAFETY: `source` is the temporary duplicate made above and owned here.
        unsafe { libc::close(source) };
    }
    if result < 0 {
        return Err(error);
    }
    Ok(())
}

/// The environment variables the child needs for the channel: NODE_CHANNEL_FD=3, NODE_CHANNEL_SERIALIZATION_MODE=json (plus NODE_UNIQUE_ID=<id> when `cluster_id` is Some).
///
/// `cluster_id` makes the child a cluster worker (`cluster.worker.id`); that
/// only takes effect when Node runs a script file (`process.argv[1]` set).
pub fn child_env(cluster_id: Option<u32>) -> Vec<(String, String)> {
    let mut env = vec![
        ("NODE_CHANNEL_FD".to_string(), CHILD_FD.to_string()),
        (
            "NODE_CHANNEL_SERIALIZATION_MODE".to_string(),
            "json".to_string(),
        ),
    ];
    if let Some(id) = cluster_id {
        env.push(("NODE_UNIQUE_ID".to_string(), id.to_string()));
    }
    env
}

/// What a handle is, for the NODE_HANDLE `type` field: net.Native (TCP/unix stream) or dgram.Native (UDP).
///
/// Cluster workers expect exactly these raw-handle types (study §4, P3).
/// Only TCP, Unix-stream and UDP sockets may be sent; any other fd type makes
/// the Node child abort (P2), and they must be `O_NONBLOCK` (P1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleKind {
    /// A TCP or Unix stream socket (listening or connected): `"net.Native"`.
    NetNative,
    /// A UDP socket: `"dgram.Native"`.
    DgramNative,
}

impl HandleKind {
    /// The wire value of the `type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            HandleKind::NetNative => "net.Native",
            HandleKind::DgramNative => "dgram.Native",
        }
    }
}

/// A message from the child.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// `{"cmd":"NODE_CLUSTER",...}` messages (online, queryServer, listening, close, exitedAfterDisconnect, accepted replies).
    Cluster(Value),
    /// Any non-internal message (`process.send(x)`): the JSON value x as sent.
    User(Value),
    /// The channel closed (EOF or error): no more messages.
    Closed,
}

/// Why a message could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The channel's queue is full: the child is not reading.
    #[error("IPC send queue is full (the child is not reading)")]
    Full,
    /// The channel is closed: the child exited or closed its end.
    #[error("IPC channel is closed")]
    Closed,
}

/// One queued outgoing line (with its trailing `\n`).
pub(crate) enum Outgoing {
    Plain(Vec<u8>),
    Handle { line: Vec<u8>, fd: Arc<OwnedFd> },
}

/// What the reader tells the writer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Control {
    /// The child ACKed the handle in flight.
    Ack,
    /// The child NACKed the handle in flight (it arrived without an fd).
    Nack,
    /// The child sent us a handle: answer `NODE_HANDLE_ACK` ahead of the queue.
    ReplyAck,
}

/// State both tasks and every sender see.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) open: AtomicBool,
    pub(crate) closed: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn mark_closed(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.closed.send_replace(true);
    }
}

/// The sending side; cheap to clone. Never blocks: a bounded queue per channel (P11).
#[derive(Clone, Debug)]
pub struct IpcSender {
    tx: mpsc::Sender<Outgoing>,
    shared: Arc<Shared>,
}

impl IpcSender {
    /// Queues a plain message (any JSON value, written as JSON + "\n").
    pub fn send(&self, msg: Value) -> Result<(), SendError> {
        self.push(Outgoing::Plain(to_line(&msg)))
    }

    /// Queues `{"cmd":"NODE_HANDLE","type":<kind>,"msg":<msg>}` with `fd` attached by SCM_RIGHTS on the same sendmsg as the start of that line. The fd is shared (Arc) so the caller may keep its own reference; the channel drops its reference once the child ACKs (or NACKs after retries, or the channel closes).
    pub fn send_handle(
        &self,
        msg: Value,
        kind: HandleKind,
        fd: Arc<OwnedFd>,
    ) -> Result<(), SendError> {
        let wrapper = serde_json::json!({"cmd": "NODE_HANDLE", "type": kind.as_str(), "msg": msg});
        self.push(Outgoing::Handle {
            line: to_line(&wrapper),
            fd,
        })
    }

    /// Whether the channel is still open.
    pub fn is_open(&self) -> bool {
        self.shared.open.load(Ordering::SeqCst) && !self.tx.is_closed()
    }

    fn push(&self, item: Outgoing) -> Result<(), SendError> {
        if !self.shared.open.load(Ordering::SeqCst) {
            return Err(SendError::Closed);
        }
        self.tx.try_send(item).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SendError::Full,
            mpsc::error::TrySendError::Closed(_) => SendError::Closed,
        })
    }
}

fn to_line(msg: &Value) -> Vec<u8> {
    let mut line = serde_json::to_vec(msg).expect("a serde_json::Value always serializes");
    line.push(b'\n');
    line
}

/// Starts the reader and writer tasks (must be called inside a tokio runtime) on the parent end. Returns the sender and the stream of incoming messages (bounded mpsc; when the receiver is dropped, the channel keeps draining and discarding).
///
/// The channel lives until the child closes its end (or a read/write fails);
/// then [`Incoming::Closed`] is delivered once and every queued or in-flight
/// item is dropped.
pub fn start(parent_end: OwnedFd) -> io::Result<(IpcSender, mpsc::Receiver<Incoming>)> {
    let flags = OFlag::from_bits_retain(fcntl(&parent_end, FcntlArg::F_GETFL)?);
    fcntl(&parent_end, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    let io = Arc::new(UnixStream::from_std(parent_end.into())?);

    let (closed_tx, closed_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        open: AtomicBool::new(true),
        closed: closed_tx,
    });
    let (out_tx, out_rx) = mpsc::channel(SEND_QUEUE_CAPACITY);
    let (ctl_tx, ctl_rx) = mpsc::channel(CONTROL_CAPACITY);
    let (in_tx, in_rx) = mpsc::channel(INCOMING_CAPACITY);

    let writer = Writer::new(Arc::clone(&io), Arc::clone(&shared), closed_rx);
    tokio::spawn(writer.run(out_rx, ctl_rx));
    tokio::spawn(read_loop(io, Arc::clone(&shared), ctl_tx, in_tx));
    Ok((IpcSender { tx: out_tx, shared }, in_rx))
}

/// `try_io` already cleared readiness on `WouldBlock`; `Interrupted` just retries.
pub(crate) fn retryable(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_env_values() {
        assert_eq!(child_env(None).len(), 2);
        assert!(child_env(Some(7)).contains(&("NODE_UNIQUE_ID".into(), "7".into())));
    }
}
