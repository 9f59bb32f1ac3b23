//! The reading task: `recvmsg` (closing any fd the child sends), splitting
//! on `\n`, routing ACK/NACK to the writer and the rest to the consumer.

use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use serde_json::Value;
use tokio::io::Interest;
use tokio::net::UnixStream;
use tokio::sync::mpsc;

use super::plumbing::{retryable, Control, Shared};
use super::protocol::Incoming;

/// Bytes read per `recvmsg`.
const READ_CHUNK: usize = 64 * 1024;
/// Room for `SCM_MAX_FD` (253 on Linux) fds, so a child can never make us
/// truncate (and thus leak) the fds it sends.
const MAX_RECV_FDS: usize = 253;

/// Longest message a child may send: a line growing past this without its `\n` would
/// otherwise take the daemon's memory (and every app with it); the channel is closed.
pub(crate) const MAX_LINE: usize = 64 << 20;

/// Reads until EOF or error, then delivers `Closed` once.
pub(crate) async fn read_loop(
    io: Arc<UnixStream>,
    shared: Arc<Shared>,
    ctl: mpsc::Sender<Control>,
    incoming: mpsc::Sender<Incoming>,
) {
    let mut splitter = LineSplitter::default();
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut cmsg_space = nix::cmsg_space!([RawFd; MAX_RECV_FDS]);
    loop {
        match recv_chunk(&io, &mut chunk, &mut cmsg_space).await {
            Ok(0) => break,
            Ok(n) => splitter.push(&chunk[..n]),
            Err(error) => {
                tracing::debug!(%error, "IPC read failed; closing the channel");
                break;
            }
        }
        for message in splitter.take_messages() {
            dispatch(message, &ctl, &incoming).await;
        }
        if splitter.pending() > MAX_LINE {
            tracing::warn!("IPC message over {MAX_LINE} bytes from the child; closing the channel");
            break;
        }
    }
    shared.mark_closed();
    let _ = incoming.send(Incoming::Closed).await;
    // Dropping `ctl` here stops the writer, which drops the queued items.
}

/// Routes one decoded line: flow control to the writer, the rest to the consumer.
async fn dispatch(message: Value, ctl: &mpsc::Sender<Control>, incoming: &mpsc::Sender<Incoming>) {
    let routed = route(message);
    if let Some(control) = routed.control {
        send_control(ctl, control).await;
    }
    if let Some(deliver) = routed.deliver {
        // A dropped receiver means nobody listens: keep draining, discard.
        let _ = incoming.send(deliver).await;
    }
}

/// Where one decoded line goes: a flow-control step for the writer, a message for the
/// consumer, both (a `NODE_HANDLE`) or neither (internal messages we do not act on).
#[derive(Debug)]
pub(crate) struct Routed {
    pub(crate) control: Option<Control>,
    pub(crate) deliver: Option<Incoming>,
}

/// Classifies one line by Node's rules, without side effects (so it can be tested and
/// fuzzed apart from the sockets).
pub(crate) fn route(message: Value) -> Routed {
    let (control, deliver) = match internal_cmd(&message) {
        None => (None, Some(Incoming::User(message))),
        Some("NODE_HANDLE_ACK") => (Some(Control::Ack), None),
        Some("NODE_HANDLE_NACK") => (Some(Control::Nack), None),
        // The fd itself was already closed by `recv_chunk`; ACK so the child's send queue
        // moves on, then deliver the inner message.
        Some("NODE_HANDLE") => (Some(Control::ReplyAck), handle_inner(message)),
        Some("NODE_CLUSTER") => (None, Some(Incoming::Cluster(message))),
        Some(cmd) => {
            tracing::debug!(cmd, "unknown internal IPC message; ignored");
            (None, None)
        }
    };
    Routed { control, deliver }
}

/// The message a `NODE_HANDLE` envelope carries, if it is one we deliver.
fn handle_inner(message: Value) -> Option<Incoming> {
    let Value::Object(mut wrapper) = message else {
        return None;
    };
    let inner = wrapper.remove("msg").unwrap_or(Value::Null);
    match internal_cmd(&inner) {
        None => Some(Incoming::User(inner)),
        Some("NODE_CLUSTER") => Some(Incoming::Cluster(inner)),
        Some(_) => None,
    }
}

async fn send_control(ctl: &mpsc::Sender<Control>, control: Control) {
    // Fails only when the writer is gone, i.e. the channel is closing.
    let _ = ctl.send(control).await;
}

/// Node's rule: `cmd` is a string longer than 5 characters starting with `NODE_`.
pub(crate) fn internal_cmd(message: &Value) -> Option<&str> {
    let cmd = message.get("cmd")?.as_str()?;
    (cmd.len() > 5 && cmd.starts_with("NODE_")).then_some(cmd)
}

/// One non-blocking `recvmsg`. Any fds the child sent are closed at once
/// (the daemon never takes handles from a child), so none can leak.
async fn recv_chunk(io: &UnixStream, chunk: &mut [u8], cmsg_space: &mut [u8]) -> io::Result<usize> {
    loop {
        io.readable().await?;
        let socket = io.as_raw_fd();
        let result = io.try_io(Interest::READABLE, || {
            let mut iov = [IoSliceMut::new(chunk)];
            let flags = MsgFlags::MSG_CMSG_CLOEXEC;
            let msg = recvmsg::<()>(socket, &mut iov, Some(cmsg_space), flags)?;
            close_received_fds(msg.cmsgs());
            Ok(msg.bytes)
        });
        match result {
            Ok(n) => return Ok(n),
            Err(e) if retryable(&e) => {}
            Err(e) => return Err(e),
        }
    }
}

fn close_received_fds(cmsgs: nix::Result<nix::sys::socket::CmsgIterator<'_>>) {
    let Ok(cmsgs) = cmsgs else {
        tracing::warn!("IPC control data truncated; some fds from the child may be lost");
        return;
    };
    for cmsg in cmsgs {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            tracing::debug!(count = fds.len(), "closing fds sent by the child");
            for fd in fds {
                // SAFETY: the kernel just installed this fd for us; nobody else owns it.
                drop(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
}

/// Splits the byte stream into `\n`-terminated JSON messages.
#[derive(Default)]
pub(crate) struct LineSplitter {
    buf: Vec<u8>,
    /// Bytes of `buf` already known to hold no `\n`.
    scanned: usize,
}

impl LineSplitter {
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes of the line still waiting for its `\n`.
    pub(crate) fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Every complete line decoded so far; a line that is not JSON is logged
    /// and skipped (Node would throw in the child; we must not die).
    pub(crate) fn take_messages(&mut self) -> Vec<Value> {
        let mut messages = Vec::new();
        let mut start = 0;
        while let Some(pos) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
            let end = self.scanned + pos;
            match serde_json::from_slice(&self.buf[start..end]) {
                Ok(value) => messages.push(value),
                Err(error) => {
                    tracing::warn!(%error, "undecodable IPC line from the child; skipped")
                }
            }
            start = end + 1;
            self.scanned = start;
        }
        self.buf.drain(..start);
        self.scanned = self.buf.len();
        messages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_newline_only() {
        let mut s = LineSplitter::default();
        s.push("{\"a\":\"x\u{2028}y\\nz\"}\n\"par".as_bytes());
        assert_eq!(
            s.take_messages(),
            vec![serde_json::json!({"a": "x\u{2028}y\nz"})]
        );
        s.push(b"tial\"\n1\n");
        assert_eq!(
            s.take_messages(),
            vec![Value::from("partial"), Value::from(1)]
        );
        assert!(s.buf.is_empty());
    }

    #[test]
    fn internal_rule_matches_node() {
        assert_eq!(
            internal_cmd(&serde_json::json!({"cmd": "NODE_X"})),
            Some("NODE_X")
        );
        assert_eq!(internal_cmd(&serde_json::json!({"cmd": "NODE_"})), None);
        assert_eq!(internal_cmd(&serde_json::json!({"cmd": 1})), None);
        assert_eq!(internal_cmd(&serde_json::json!("NODE_HANDLE")), None);
    }
}
