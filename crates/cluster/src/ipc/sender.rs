//! The sending side of a channel: queues lines for the writer task without ever blocking.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use super::plumbing::{Outgoing, Shared};
use super::protocol::{to_line, HandleEnvelope, HandleKind};

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

/// The sending side; cheap to clone. Never blocks: a bounded queue per channel (P11).
#[derive(Clone, Debug)]
pub struct IpcSender {
    tx: mpsc::Sender<Outgoing>,
    shared: Arc<Shared>,
}

impl IpcSender {
    pub(crate) fn new(tx: mpsc::Sender<Outgoing>, shared: Arc<Shared>) -> Self {
        IpcSender { tx, shared }
    }

    /// Queues a plain message (any JSON value, written as JSON + "\n").
    pub fn send(&self, msg: Value) -> Result<(), SendError> {
        self.send_message(&msg)
    }

    /// Queues `{"cmd":"NODE_HANDLE","type":<kind>,"msg":<msg>}` with `fd` attached by SCM_RIGHTS on the same sendmsg as the start of that line. The fd is shared (Arc) so the caller may keep its own reference; the channel drops its reference once the child ACKs (or NACKs after retries, or the channel closes).
    pub fn send_handle(
        &self,
        msg: Value,
        kind: HandleKind,
        fd: Arc<OwnedFd>,
    ) -> Result<(), SendError> {
        self.send_handle_message(&msg, kind, fd)
    }

    /// [`IpcSender::send`] for the crate's typed replies (serialized straight to the line).
    pub(crate) fn send_message(&self, msg: &impl Serialize) -> Result<(), SendError> {
        self.push(Outgoing::Plain(to_line(msg)))
    }

    /// [`IpcSender::send_handle`] for the crate's typed replies.
    pub(crate) fn send_handle_message(
        &self,
        msg: &impl Serialize,
        kind: HandleKind,
        fd: Arc<OwnedFd>,
    ) -> Result<(), SendError> {
        let line = to_line(&HandleEnvelope::new(kind, msg));
        self.push(Outgoing::Handle { line, fd })
    }

    /// Whether the channel is still open.
    pub fn is_open(&self) -> bool {
        self.shared.is_open() && !self.tx.is_closed()
    }

    fn push(&self, item: Outgoing) -> Result<(), SendError> {
        if !self.shared.is_open() {
            return Err(SendError::Closed);
        }
        self.tx.try_send(item).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SendError::Full,
            mpsc::error::TrySendError::Closed(_) => SendError::Closed,
        })
    }
}
