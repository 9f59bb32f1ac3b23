//! What the primary knows: its workers, its listeners, the connections in flight, and the
//! bounds on each. The behaviour lives in the sibling files, each an `impl State` block.

use super::command::{PrimaryCmd, SchedPolicy};
use super::replies::ClusterMessage;
use crate::handback::HandedBack;
use crate::ipc::{HandleKind, IpcSender, SendError};
use crate::listener::{Endpoint, ListenerKey};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::os::fd::OwnedFd;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Connections handed to one worker before waiting for its verdicts: the channel's own
/// window of handles in flight, so the connections never queue behind each other in it.
pub(super) const WINDOW: usize = crate::ipc::HANDLES_IN_FLIGHT;
/// Connections parked while no worker is free.
pub(super) const MAX_PENDING: usize = 4096;
/// Times one connection may be refused (`accepted:false`) before it is closed (P8).
pub(super) const MAX_REFUSALS: u32 = 16;

/// One cluster worker as the primary sees it.
pub(super) struct Worker {
    pub(super) sender: IpcSender,
    pub(super) policy: SchedPolicy,
    /// The primary's next `seq` for this worker.
    seq: u64,
    /// No new connections (stopping or being replaced).
    pub(super) draining: bool,
    /// No connections yet: warming up until admitted (see `PrimaryCmd::Attach`).
    pub(super) held: bool,
    /// Connections handed over and awaiting `accepted`, by the `seq` of their `newconn`.
    pub(super) in_flight: HashMap<u64, Conn>,
}

impl Worker {
    pub(super) fn new(sender: IpcSender, policy: SchedPolicy, held: bool) -> Self {
        Worker {
            sender,
            policy,
            seq: 0,
            draining: false,
            held,
            in_flight: HashMap::new(),
        }
    }

    /// The `seq` for the next message (counted even when that message cannot be queued).
    pub(super) fn next_seq(&mut self) -> u64 {
        let seq = self.seq;
        self.seq += 1;
        seq
    }

    /// Sends `{"cmd":"NODE_CLUSTER", ...body, "seq"}`.
    pub(super) fn send(&mut self, body: impl Serialize) -> Result<(), SendError> {
        let msg = ClusterMessage::new(body, self.next_seq());
        self.sender.send_message(&msg)
    }

    /// Sends the same with `fd` attached; returns the `seq` used.
    pub(super) fn send_handle(
        &mut self,
        body: impl Serialize,
        kind: HandleKind,
        fd: Arc<OwnedFd>,
    ) -> Result<u64, SendError> {
        let seq = self.next_seq();
        let msg = ClusterMessage::new(body, seq);
        self.sender
            .send_handle_message(&msg, kind, fd)
            .map(|()| seq)
    }
}

/// A connection accepted by the primary (or handed back), on its way to a worker.
pub(super) struct Conn {
    pub(super) key: ListenerKey,
    pub(super) fd: Arc<OwnedFd>,
    pub(super) refusals: u32,
}

impl Conn {
    pub(super) fn new(key: ListenerKey, fd: OwnedFd) -> Self {
        Conn {
            key,
            fd: Arc::new(fd),
            refusals: 0,
        }
    }
}

/// A socket the primary bound for an app.
pub(super) struct Listener {
    pub(super) fd: Arc<OwnedFd>,
    pub(super) endpoint: Endpoint,
    /// Workers that asked for it, in order (the round-robin order).
    pub(super) workers: Vec<u32>,
    /// The first worker's `data`, echoed to all (P4).
    pub(super) data: Value,
    pub(super) round_robin: bool,
    /// The accept task of a round-robin listener.
    pub(super) accept: Option<JoinHandle<()>>,
    /// Accepted connections no worker could take yet.
    pub(super) pending: VecDeque<Conn>,
    /// Where the next round-robin search starts.
    pub(super) cursor: usize,
}

/// The primary task's whole state.
pub(super) struct State {
    pub(super) workers: HashMap<u32, Worker>,
    pub(super) listeners: BTreeMap<ListenerKey, Listener>,
    /// For the accept tasks.
    pub(super) tx: mpsc::Sender<PrimaryCmd>,
    /// For the hand-back watchers.
    pub(super) handed_back: mpsc::Sender<HandedBack>,
    pub(super) settled_waiters: HashMap<u32, Vec<oneshot::Sender<()>>>,
}

impl State {
    pub(super) fn new(tx: mpsc::Sender<PrimaryCmd>, handed_back: mpsc::Sender<HandedBack>) -> Self {
        State {
            workers: HashMap::new(),
            listeners: BTreeMap::new(),
            tx,
            handed_back,
            settled_waiters: HashMap::new(),
        }
    }

    /// Sends a cluster message to a worker, if it is known (a closed channel is noticed by
    /// the worker's own `Detach`).
    pub(super) fn send_to(&mut self, worker: u32, body: impl Serialize) {
        if let Some(w) = self.workers.get_mut(&worker) {
            let _ = w.send(body);
        }
    }
}
