//! What the channel's reader task, writer task and senders share: the queued items, the
//! reader → writer flow-control messages, and the open/closed state.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

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
    open: AtomicBool,
    closed: watch::Sender<bool>,
}

impl Shared {
    /// A fresh open channel's state, and the receiver that learns when it closes.
    pub(crate) fn new() -> (Arc<Shared>, watch::Receiver<bool>) {
        let (closed, closed_rx) = watch::channel(false);
        let shared = Shared {
            open: AtomicBool::new(true),
            closed,
        };
        (Arc::new(shared), closed_rx)
    }

    /// Whether sends are still accepted.
    pub(crate) fn is_open(&self) -> bool {
        self.open.load(Ordering::SeqCst)
    }

    /// The writer failed: senders get `Closed` from now on (the reader, woken by the
    /// shutdown, then marks the channel closed).
    pub(crate) fn refuse_sends(&self) {
        self.open.store(false, Ordering::SeqCst);
    }

    /// The reader is done: no more sends, and the writer stops waiting for writability.
    pub(crate) fn mark_closed(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.closed.send_replace(true);
    }
}

/// `try_io` already cleared readiness on `WouldBlock`; `Interrupted` just retries.
pub(crate) fn retryable(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}
