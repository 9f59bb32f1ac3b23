//! The Node `cluster` primary, as a task that owns every listening socket.
//!
//! Workers' `NODE_CLUSTER` messages arrive as [`PrimaryCmd::Message`]; the primary binds what
//! they ask for (`queryServer`), then either accepts connections itself and hands each to a
//! worker (round-robin, the default) or hands the bound socket to every worker (shared).
//! It tracks which connection went to which worker so a dying worker's undelivered
//! connections go to another one (P7), stops routing to a worker the moment it is drained
//! (P9), and bounds what it queues (P11, P12).

use crate::handback::{self, Handback};
use crate::ipc::{HandleKind, IpcSender};
use crate::listener::{self, Endpoint};
use nix::sys::socket::{accept4, SockFlag};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

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
        /// The app it belongs to (listeners are per app).
        app: String,
        /// Its channel.
        sender: IpcSender,
        /// Its scheduling policy.
        policy: SchedPolicy,
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
        reply: tokio::sync::oneshot::Sender<()>,
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
        reply: tokio::sync::oneshot::Sender<Option<Handback>>,
    },
    /// The worker's channel closed or its process exited.
    Detach {
        /// Worker id.
        worker: u32,
    },
    /// A connection accepted on a round-robin listener (or handed back by a retiring
    /// worker).
    NewConn {
        /// Listener key.
        key: ListenerKey,
        /// The connection.
        conn: OwnedFd,
    },
}

/// Listeners are per app, so two apps asking for the same port conflict (EADDRINUSE)
/// instead of silently sharing it.
pub type ListenerKey = (String, String);

/// Connections handed to one worker before waiting for its verdicts: Node allows one, a
/// small window is safe on Linux (study §5) and keeps connection setup off the critical path.
const WINDOW: usize = 8;
/// Connections parked while no worker is free.
const MAX_PENDING: usize = 4096;
/// Times one connection may be refused (`accepted:false`) before it is closed (P8).
const MAX_REFUSALS: u32 = 16;

struct Worker {
    app: String,
    sender: IpcSender,
    policy: SchedPolicy,
    seq: u64,
    draining: bool,
    in_flight: HashMap<u64, Conn>,
}

struct Conn {
    key: ListenerKey,
    fd: Arc<OwnedFd>,
    refusals: u32,
}

struct Listener {
    fd: Arc<OwnedFd>,
    endpoint: Endpoint,
    workers: Vec<u32>,
    data: Value,
    round_robin: bool,
    accept: Option<JoinHandle<()>>,
    pending: VecDeque<Conn>,
    cursor: usize,
}

/// A handle to the primary task.
#[derive(Clone)]
pub struct Primary {
    tx: mpsc::Sender<PrimaryCmd>,
}

impl Primary {
    /// Starts the primary task.
    pub fn start() -> Primary {
        let (tx, rx) = mpsc::channel(1024);
        let state = State {
            workers: HashMap::new(),
            listeners: BTreeMap::new(),
            tx: tx.clone(),
            settled_waiters: HashMap::new(),
        };
        tokio::spawn(state.run(rx));
        Primary { tx }
    }

    /// Sends a command (waits only when the primary is saturated).
    pub async fn send(&self, cmd: PrimaryCmd) {
        let _ = self.tx.send(cmd).await;
    }
}

struct State {
    workers: HashMap<u32, Worker>,
    listeners: BTreeMap<ListenerKey, Listener>,
    tx: mpsc::Sender<PrimaryCmd>,
    settled_waiters: HashMap<u32, Vec<tokio::sync::oneshot::Sender<()>>>,
}

fn str_field<'a>(msg: &'a Value, k: &str) -> Option<&'a str> {
    msg.get(k).and_then(Value::as_str)
}

/// Node 20's key: `address:port:addressType:fd:index`, with JS's spelling of null/undefined.
fn node_key(msg: &Value) -> String {
    let js = |k: &str| match msg.get(k) {
        None => "undefined".to_string(),
        Some(Value::Null) => "null".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    format!(
        "{}:{}:{}:{}:{}",
        js("address"),
        js("port"),
        js("addressType"),
        js("fd"),
        js("index")
    )
}

impl State {
    async fn run(mut self, mut rx: mpsc::Receiver<PrimaryCmd>) {
        while let Some(cmd) = rx.recv().await {
            match cmd {
                PrimaryCmd::Attach {
                    worker,
                    app,
                    sender,
                    policy,
                } => {
                    self.workers.insert(
                        worker,
                        Worker {
                            app,
                            sender,
                            policy,
                            seq: 0,
                            draining: false,
                            in_flight: HashMap::new(),
                        },
                    );
                }
                PrimaryCmd::Message { worker, msg } => self.on_message(worker, msg),
                PrimaryCmd::Drain { worker, disconnect } => self.drain(worker, disconnect),
                PrimaryCmd::WhenSettled { worker, reply } => {
                    self.settled_waiters.entry(worker).or_default().push(reply);
                    self.notify_settled(worker);
                }
                PrimaryCmd::Hold { worker, pid, reply } => self.hold(worker, pid, reply),
                PrimaryCmd::Detach { worker } => self.detach(worker),
                PrimaryCmd::NewConn { key, conn } => {
                    let conn = Conn {
                        key: key.clone(),
                        fd: Arc::new(conn),
                        refusals: 0,
                    };
                    self.enqueue(conn, false);
                }
            }
        }
    }

    /// Sends `fields` + `seq` to a worker.
    fn reply(&mut self, worker: u32, mut fields: serde_json::Map<String, Value>) {
        let Some(w) = self.workers.get_mut(&worker) else {
            return;
        };
        fields.insert("seq".into(), json!(w.seq));
        w.seq += 1;
        let _ = w.sender.send(Value::Object(fields));
    }

    fn on_message(&mut self, worker: u32, msg: Value) {
        match str_field(&msg, "act") {
            Some("queryServer") => self.query_server(worker, &msg),
            Some("close") => {
                if let Some(key) = str_field(&msg, "key") {
                    let app = self.app_of(worker);
                    self.leave(worker, &(app, key.to_string()));
                }
            }
            Some("exitedAfterDisconnect") => {
                let mut m = serde_json::Map::new();
                m.insert("cmd".into(), json!("NODE_CLUSTER"));
                m.insert("ack".into(), msg.get("seq").cloned().unwrap_or(Value::Null));
                self.reply(worker, m);
            }
            Some(_) => {}
            None => {
                if let Some(ack) = msg.get("ack").and_then(Value::as_u64) {
                    let accepted = msg
                        .get("accepted")
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    self.verdict(worker, ack, accepted);
                }
            }
        }
    }

    fn app_of(&self, worker: u32) -> String {
        self.workers
            .get(&worker)
            .map(|w| w.app.clone())
            .unwrap_or_default()
    }

    /// `queryServer`: find or bind the socket, then answer as Node's primary does.
    fn query_server(&mut self, worker: u32, msg: &Value) {
        let Some(w) = self.workers.get(&worker) else {
            return;
        };
        let node_key = node_key(msg);
        let key = (w.app.clone(), node_key.clone());
        let policy = w.policy;
        let ack = msg.get("seq").cloned().unwrap_or(Value::Null);
        let opened = self.listener_for(&key, msg, policy);
        let mut m = serde_json::Map::new();
        m.insert("cmd".into(), json!("NODE_CLUSTER"));
        let listener = match opened {
            Ok(l) => l,
            Err(errno) => {
                m.insert("errno".into(), json!(errno.0));
                m.insert("key".into(), json!(node_key));
                m.insert("ack".into(), ack);
                m.insert("data".into(), Value::Null);
                return self.reply(worker, m);
            }
        };
        if !listener.workers.contains(&worker) {
            listener.workers.push(worker);
        }
        let data = listener.data.clone();
        let round_robin = listener.round_robin;
        let fd = Arc::clone(&listener.fd);
        let kind = if listener.endpoint.is_udp() {
            HandleKind::DgramNative
        } else {
            HandleKind::NetNative
        };
        let sockname = listener::sockname(&fd);
        if round_robin {
            m.insert("errno".into(), Value::Null);
            m.insert("key".into(), json!(node_key));
            m.insert("ack".into(), ack);
            m.insert("data".into(), data);
            if let Some(name) = sockname {
                m.insert("sockname".into(), name);
            }
            self.reply(worker, m);
            self.dispatch(&key);
        } else {
            m.insert("errno".into(), json!(0));
            m.insert("key".into(), json!(node_key));
            m.insert("ack".into(), ack);
            m.insert("data".into(), data);
            let Some(w) = self.workers.get_mut(&worker) else {
                return;
            };
            m.insert("seq".into(), json!(w.seq));
            w.seq += 1;
            let _ = w.sender.send_handle(Value::Object(m), kind, fd);
        }
    }

    /// The listener for `key`, bound now if it does not exist yet.
    fn listener_for(
        &mut self,
        key: &ListenerKey,
        msg: &Value,
        policy: SchedPolicy,
    ) -> Result<&mut Listener, listener::Errno> {
        if !self.listeners.contains_key(key) {
            let endpoint = Endpoint::from_query(msg)?;
            let round_robin = policy == SchedPolicy::RoundRobin && !endpoint.is_udp();
            let backlog = msg.get("backlog").and_then(Value::as_i64).unwrap_or(0) as i32;
            let fd = Arc::new(listener::open(&endpoint, round_robin, backlog)?);
            let accept =
                round_robin.then(|| spawn_accept(Arc::clone(&fd), key.clone(), self.tx.clone()));
            self.listeners.insert(
                key.clone(),
                Listener {
                    fd,
                    endpoint,
                    workers: Vec::new(),
                    data: msg.get("data").cloned().unwrap_or(Value::Null),
                    round_robin,
                    accept,
                    pending: VecDeque::new(),
                    cursor: 0,
                },
            );
        }
        Ok(self.listeners.get_mut(key).expect("inserted above"))
    }

    /// Parks or hands over a connection (front of the queue for a refused one, P8).
    fn enqueue(&mut self, conn: Conn, front: bool) {
        let key = conn.key.clone();
        let Some(l) = self.listeners.get_mut(&key) else {
            return;
        };
        if l.pending.len() >= MAX_PENDING {
            tracing::warn!(
                "cluster: too many pending connections on {}, closing one",
                key.1
            );
            return;
        }
        if front {
            l.pending.push_front(conn);
        } else {
            l.pending.push_back(conn);
        }
        self.dispatch(&key);
    }

    /// Hands parked connections to the least busy live worker, round-robin among equals.
    fn dispatch(&mut self, key: &ListenerKey) {
        loop {
            let Some(l) = self.listeners.get_mut(key) else {
                return;
            };
            if l.pending.is_empty() {
                return;
            }
            let n = l.workers.len();
            let workers = &self.workers;
            let candidate = (0..n)
                .map(|i| l.workers[(l.cursor + i) % n])
                .filter_map(|id| workers.get(&id).map(|w| (id, w)))
                .filter(|(_, w)| !w.draining && w.sender.is_open() && w.in_flight.len() < WINDOW)
                .min_by_key(|(_, w)| w.in_flight.len())
                .map(|(id, _)| id);
            let Some(worker) = candidate else {
                return;
            };
            l.cursor = (l.workers.iter().position(|w| *w == worker).unwrap_or(0) + 1) % n.max(1);
            let conn = l.pending.pop_front().expect("checked non-empty");
            self.hand_over(worker, conn);
        }
    }

    fn hand_over(&mut self, worker: u32, conn: Conn) {
        let Some(w) = self.workers.get_mut(&worker) else {
            return;
        };
        let seq = w.seq;
        w.seq += 1;
        let msg = json!({"cmd": "NODE_CLUSTER", "act": "newconn", "key": conn.key.1, "seq": seq});
        match w
            .sender
            .send_handle(msg, HandleKind::NetNative, Arc::clone(&conn.fd))
        {
            Ok(()) => {
                w.in_flight.insert(seq, conn);
            }
            Err(_) => {
                w.draining = true;
                self.enqueue(conn, true);
            }
        }
    }

    /// Fires the settled waiters of a worker that has nothing in flight (or is gone).
    fn notify_settled(&mut self, worker: u32) {
        let busy = self
            .workers
            .get(&worker)
            .is_some_and(|w| !w.in_flight.is_empty());
        if !busy {
            for reply in self.settled_waiters.remove(&worker).unwrap_or_default() {
                let _ = reply.send(());
            }
        }
    }

    /// A worker's `accepted` reply to `newconn`.
    fn verdict(&mut self, worker: u32, ack: u64, accepted: bool) {
        let Some(conn) = self
            .workers
            .get_mut(&worker)
            .and_then(|w| w.in_flight.remove(&ack))
        else {
            return;
        };
        let key = conn.key.clone();
        if !accepted {
            let mut conn = conn;
            conn.refusals += 1;
            if conn.refusals < MAX_REFUSALS {
                self.enqueue(conn, true);
            }
        }
        self.notify_settled(worker);
        self.dispatch(&key);
    }

    /// No new connections for this worker; optionally tell it to close its servers.
    fn drain(&mut self, worker: u32, disconnect: bool) {
        let Some(w) = self.workers.get_mut(&worker) else {
            return;
        };
        w.draining = true;
        if disconnect {
            let mut m = serde_json::Map::new();
            m.insert("cmd".into(), json!("NODE_CLUSTER"));
            m.insert("act".into(), json!("disconnect"));
            self.reply(worker, m);
        }
    }

    /// See [`PrimaryCmd::Hold`].
    fn hold(&self, worker: u32, pid: i32, reply: tokio::sync::oneshot::Sender<Option<Handback>>) {
        let Some(app) = self.workers.get(&worker).map(|w| &w.app) else {
            let _ = reply.send(None);
            return;
        };
        let ports: Vec<(ListenerKey, SocketAddr)> = self
            .listeners
            .iter()
            .filter(|(key, l)| &key.0 == app && !l.endpoint.is_udp() && l.workers.contains(&worker))
            .filter_map(|(key, l)| Some((key.clone(), listener::ip_addr(l.fd.as_fd())?)))
            .collect();
        if ports.is_empty() {
            let _ = reply.send(None);
            return;
        }
        // Off this task: holding costs a few syscalls per socket of the worker.
        let primary = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let held = handback::hold(pid, &ports, primary)
                .inspect_err(|e| {
                    tracing::debug!("cluster: cannot hold the connections of worker pid {pid}: {e}")
                })
                .ok();
            let _ = reply.send(held);
        });
    }

    /// The worker is gone: give its undelivered connections to others, leave its listeners.
    fn detach(&mut self, worker: u32) {
        let Some(w) = self.workers.remove(&worker) else {
            return;
        };
        let keys: Vec<ListenerKey> = self
            .listeners
            .iter()
            .filter(|(_, l)| l.workers.contains(&worker))
            .map(|(k, _)| k.clone())
            .collect();
        for key in &keys {
            self.leave(worker, key);
        }
        for (_, conn) in w.in_flight {
            self.enqueue(conn, true);
        }
        self.notify_settled(worker);
    }

    /// Removes a worker from a listener; the last one out closes it (and unlinks a unix
    /// socket path, which only the binder may do).
    fn leave(&mut self, worker: u32, key: &ListenerKey) {
        let Some(l) = self.listeners.get_mut(key) else {
            return;
        };
        l.workers.retain(|w| *w != worker);
        if !l.workers.is_empty() {
            return self.dispatch(key);
        }
        if let Some(l) = self.listeners.remove(key) {
            if let Some(task) = l.accept {
                task.abort();
            }
            if let Endpoint::Unix(path) = &l.endpoint {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Accepts on a round-robin listener and feeds the primary; waits (so the kernel backlog
/// pushes back) when the primary is saturated (P12).
fn spawn_accept(
    fd: Arc<OwnedFd>,
    key: ListenerKey,
    tx: mpsc::Sender<PrimaryCmd>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        // SAFETY: the AsyncFd owns an Arc of the descriptor, which therefore stays open and
        // the same for the AsyncFd's whole life.
        let registered =
            unsafe { AsyncFd::register_with_interest(Arc::clone(&fd), Interest::READABLE) };
        let Ok(async_fd) = registered else {
            tracing::warn!("cluster: cannot watch listener {}", key.1);
            return;
        };
        loop {
            let Ok(mut ready) = async_fd.readable().await else {
                return;
            };
            match accept4(
                fd.as_raw_fd(),
                SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            ) {
                Ok(raw) => {
                    // SAFETY: accept4 returned a fresh descriptor that nothing else owns.
                    let conn = unsafe { OwnedFd::from_raw_fd(raw) };
                    let cmd = PrimaryCmd::NewConn {
                        key: key.clone(),
                        conn,
                    };
                    if tx.send(cmd).await.is_err() {
                        return;
                    }
                }
                Err(nix::errno::Errno::EAGAIN) => ready.clear_ready(),
                Err(nix::errno::Errno::EMFILE | nix::errno::Errno::ENFILE) => {
                    tracing::warn!("cluster: out of file descriptors accepting on {}", key.1);
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(_) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_key_spells_null_and_undefined_like_js() {
        let msg = json!({"act": "queryServer", "index": 0, "data": null, "address": null,
            "port": 3000, "addressType": 4, "backlog": 0, "seq": 1});
        assert_eq!(node_key(&msg), "null:3000:4:undefined:0");
    }
}
