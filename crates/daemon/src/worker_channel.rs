//! The daemon's end of a Node app's IPC channel: cluster messages go to the primary,
//! readiness signals to the instance task, other messages to live readers.

use crate::logs::hub::{LogEvent, LogHub, LogKind};
use pm2_cluster::ipc::{self, Incoming, IpcSender};
use pm2_cluster::primary::{Primary, PrimaryCmd, SchedPolicy};
use pm2_home::now_ms;
use serde_json::Value;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// What the instance task learns from its worker.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerEvent {
    /// Cluster worker is up (`act: online`).
    Online,
    /// A server in the worker is listening (`act: listening`).
    Listening,
    /// `process.send('ready')` (for `--wait-ready`).
    Ready,
    /// `axm:monitor` data: custom metrics, merged into what the app reported before.
    Metrics(Value),
    /// `axm:action` data: an action the app registers for `pm2 trigger`.
    Action(Value),
    /// `axm:reply` data: an action's answer.
    Reply(Value),
    /// `axm:option:configuration` data: what `@pm2/io` or `pmx` says of the app at init
    /// (module name and version, APM type, features), for `axm_options`.
    Options(Value),
    /// The channel closed.
    Closed,
}

/// One worker's channel as the instance task holds it.
pub struct WorkerLink {
    /// `NODE_UNIQUE_ID` (unique across the daemon's life).
    pub id: u32,
    /// Whether it is a cluster worker (registered with the primary).
    pub cluster: bool,
    /// Sends messages to the worker.
    pub sender: IpcSender,
    /// Readiness events.
    pub events: mpsc::Receiver<WorkerEvent>,
}

static NEXT_WORKER_ID: AtomicU32 = AtomicU32::new(1);

/// A fresh `NODE_UNIQUE_ID`.
pub fn next_worker_id() -> u32 {
    NEXT_WORKER_ID.fetch_add(1, Ordering::Relaxed)
}

/// Who a worker is, for routing its messages.
pub struct WorkerInfo {
    /// Its id.
    pub id: u32,
    /// App name (listeners are per app).
    pub app: Arc<str>,
    /// pm_id, for live readers.
    pub pm_id: u32,
    /// Namespace, for live readers.
    pub namespace: Arc<str>,
    /// Scheduling policy when it is a cluster worker; None in fork mode.
    pub cluster: Option<SchedPolicy>,
    /// Whether the primary holds its connections back until admitted (a health-checked
    /// worker, ready only once its check passes).
    pub held: bool,
}

/// Starts the channel on the daemon's end and the task that routes what the worker says.
pub async fn attach(
    parent_end: OwnedFd,
    who: WorkerInfo,
    primary: &Primary,
    hub: LogHub,
) -> std::io::Result<WorkerLink> {
    let (sender, incoming) = ipc::start(parent_end)?;
    if let Some(policy) = who.cluster {
        primary
            .send(PrimaryCmd::Attach {
                worker: who.id,
                app: who.app.to_string(),
                sender: sender.clone(),
                policy,
                held: who.held,
            })
            .await;
    }
    let (events_tx, events) = mpsc::channel(64);
    let link = WorkerLink {
        id: who.id,
        cluster: who.cluster.is_some(),
        sender,
        events,
    };
    tokio::spawn(route(incoming, who, primary.clone(), events_tx, hub));
    Ok(link)
}

/// Routes what the worker says until its channel closes, then detaches it from the primary.
async fn route(
    mut incoming: mpsc::Receiver<Incoming>,
    who: WorkerInfo,
    primary: Primary,
    events: mpsc::Sender<WorkerEvent>,
    hub: LogHub,
) {
    while let Some(msg) = incoming.recv().await {
        match msg {
            Incoming::Cluster(msg) => route_cluster(msg, &who, &primary, &events).await,
            Incoming::User(v) => route_user(&v, &who, &events, &hub),
            Incoming::Closed => break,
        }
    }
    if who.cluster.is_some() {
        primary.send(PrimaryCmd::Detach { worker: who.id }).await;
    }
    let _ = events.try_send(WorkerEvent::Closed);
}

/// A Node cluster message: readiness to the instance task, the message to the primary.
async fn route_cluster(
    msg: Value,
    who: &WorkerInfo,
    primary: &Primary,
    events: &mpsc::Sender<WorkerEvent>,
) {
    match msg.get("act").and_then(Value::as_str) {
        Some("online") => {
            let _ = events.try_send(WorkerEvent::Online);
        }
        Some("listening") => {
            let _ = events.try_send(WorkerEvent::Listening);
        }
        _ => {}
    }
    if who.cluster.is_some() {
        primary
            .send(PrimaryCmd::Message {
                worker: who.id,
                msg,
            })
            .await;
    }
}

/// A `process.send` message: PM2's axm messages and `ready` to the instance task, anything
/// but axm metrics, actions and options to live readers.
fn route_user(v: &Value, who: &WorkerInfo, events: &mpsc::Sender<WorkerEvent>, hub: &LogHub) {
    let data = || v.get("data").cloned().unwrap_or(Value::Null);
    let event = match v.get("type").and_then(Value::as_str) {
        Some("axm:monitor") => Some(WorkerEvent::Metrics(data())),
        Some("axm:action") => Some(WorkerEvent::Action(data())),
        Some("axm:reply") => Some(WorkerEvent::Reply(data())),
        Some("axm:option:configuration") => Some(WorkerEvent::Options(data())),
        _ if v.as_str() == Some("ready") => Some(WorkerEvent::Ready),
        _ => None,
    };
    let internal = matches!(
        event,
        Some(WorkerEvent::Metrics(_) | WorkerEvent::Action(_) | WorkerEvent::Options(_))
    );
    if let Some(event) = event {
        let _ = events.try_send(event);
    }
    if !internal {
        publish_message(hub, who, v);
    }
}

/// PM2's `process:msg`: what an app sends is shown to live readers (`pm2 logs --json`).
fn publish_message(hub: &LogHub, who: &WorkerInfo, v: &Value) {
    hub.publish_with(|| LogEvent {
        pm_id: Some(who.pm_id),
        name: Arc::clone(&who.app),
        namespace: Arc::clone(&who.namespace),
        kind: LogKind::Message,
        data: Arc::from(v.to_string().into_bytes()),
        at: now_ms(),
        exit: None,
    });
}
