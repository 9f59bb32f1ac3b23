//! What the primary is told: the commands the daemon (and the primary's own accept tasks)
//! send it, and how a worker wants its connections.

use crate::handback::Handback;
use crate::ipc::IpcSender;
use crate::listener::ListenerKey;
use serde_json::Value;
use std::os::fd::OwnedFd;
use tokio::sync::oneshot;

/// How connections reach workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedPolicy {
    /// The primary accepts and hands each connection to a worker (Node's default).
    RoundRobin,
    /// Every worker accepts on the shared socket (`NODE_CLUSTER_SCHED_POLICY=none`).
    Shared,
}

/// What the primary is told.
pub enum PrimaryCmd {
    /// A worker's channel is up.
    Attach {
        /// Unique worker id (its `NODE_UNIQUE_ID`).
        worker: u32,
        /// The app it belongs to (for the log; listeners are shared by every app, as in
        /// Node's primary).
        app: String,
        /// Its channel.
        sender: IpcSender,
        /// Its scheduling policy.
        policy: SchedPolicy,
        /// Route it no connection until [`PrimaryCmd::Admit`]: a health-checked worker
        /// warming up (pm2-rs's readiness; the others keep serving meanwhile).
        held: bool,
    },
    /// A held worker passed its readiness: route connections to it from now on.
    Admit {
        /// Worker id.
        worker: u32,
    },
    /// Hand `conn` (the server end of a loopback connection the daemon made) to this
    /// worker as if accepted on its round-robin listener on `port`, held or not: a health
    /// probe that reaches this worker and no other. Answers whether it was handed over.
    Probe {
        /// Worker id.
        worker: u32,
        /// The listening port the probe is for.
        port: u16,
        /// The connection.
        conn: OwnedFd,
        /// Whether the worker listens there (round-robin) and got it.
        reply: oneshot::Sender<bool>,
    },
    /// A `NODE_CLUSTER` message from a worker.
    Message {
        /// Worker id.
        worker: u32,
        /// The message.
        msg: Value,
    },
    /// Route nothing more to this worker (it is being stopped or replaced); with
    /// `disconnect`, also send it the cluster `disconnect` so it closes its servers.
    Drain {
        /// Worker id.
        worker: u32,
        /// Send `act: disconnect`.
        disconnect: bool,
    },
    /// Answer once no connection handed to this worker awaits its verdict (used between
    /// drain and disconnect, so nothing in flight is cut by the worker's `server.close()`).
    WhenSettled {
        /// Worker id.
        worker: u32,
        /// Fired when settled (or dropped if the worker is unknown).
        reply: oneshot::Sender<()>,
    },
    /// Hold the connections this draining worker has on the app's TCP (round-robin or
    /// shared) listeners, so those it closes while a request waits can be handed to another worker
    /// (see [`crate::handback`]); answers None when there is nothing to hold or the kernel
    /// refuses.
    Hold {
        /// Worker id.
        worker: u32,
        /// Its process id.
        pid: i32,
        /// The held connections.
        reply: oneshot::Sender<Option<Handback>>,
    },
    /// The worker's channel closed or its process exited.
    Detach {
        /// Worker id.
        worker: u32,
    },
    /// A connection accepted on a round-robin listener.
    NewConn {
        /// Listener key.
        key: ListenerKey,
        /// The connection.
        conn: OwnedFd,
    },
}
