//! `pub.sock`: the subscribers' connections, and the relay from the log hub (apps' output,
//! process events, messages) to the [`Bus`] publisher. The relay runs only while someone is
//! subscribed, so without subscribers the bus costs the apps' output nothing.

use super::accept::accept_each;
use super::publisher::Bus;
use super::shapes;
use crate::logs::hub::{Delivery, Filter, LogEvent, LogKind};
use crate::state::Daemon;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
/// Subscribers served at once.
const MAX_SUBSCRIBERS: usize = 512;

/// Accepts subscribers until the daemon exits.
pub(crate) async fn accept_loop(listener: UnixListener, daemon: Arc<Daemon>) {
    accept_each(listener, MAX_SUBSCRIBERS, "pub.sock", |stream| {
        let bus = daemon.node_bus.clone();
        async move { serve_subscriber(stream, &bus).await }
    })
    .await;
}

/// Writes the subscriber's events until it hangs up (it never sends anything; what it
/// does send is read and ignored, so its end is seen).
async fn serve_subscriber(stream: UnixStream, bus: &Bus) {
    let (me, mut frames) = bus.add();
    let (mut reader, mut writer) = stream.into_split();
    let mut sink = [0u8; 1024];
    loop {
        tokio::select! {
            frame = frames.recv() => {
                let Some(frame) = frame else { break };
                me.queued.fetch_sub(frame.len(), Ordering::Relaxed);
                if writer.write_all(&frame).await.is_err() {
                    break;
                }
            }
            read = reader.read(&mut sink) => {
                if !matches!(read, Ok(n) if n > 0) {
                    break;
                }
            }
        }
    }
    bus.remove(&me);
}

/// While anyone is subscribed, turns what the log hub carries into bus events.
pub(crate) async fn relay_from_hub(daemon: Arc<Daemon>) {
    let mut count = daemon.node_bus.count.subscribe();
    loop {
        if count.wait_for(|n| *n > 0).await.is_err() {
            return;
        }
        let everything = Filter {
            targets: vec![],
            daemon: true,
        };
        let mut hub = daemon.hub.subscribe(everything);
        loop {
            tokio::select! {
                delivery = hub.recv() => match delivery {
                    Some(Delivery::Event(event)) => relay(&daemon, &event),
                    Some(Delivery::Gap { .. }) => {}
                    None => return,
                },
                left = count.wait_for(|n| *n == 0) => {
                    if left.is_err() { return; }
                    break;
                }
            }
        }
    }
}

/// One hub event as PM2 publishes it.
fn relay(daemon: &Daemon, event: &LogEvent) {
    let bus = &daemon.node_bus;
    let data = String::from_utf8_lossy(&event.data);
    let who = || json!({"pm_id": event.pm_id, "name": &*event.name, "rev": null, "namespace": &*event.namespace});
    match event.kind {
        LogKind::Out => bus.publish("log:out", &json!({"process": who(), "at": event.at, "data": data})),
        LogKind::Err => bus.publish("log:err", &json!({"process": who(), "at": event.at, "data": data})),
        LogKind::Pm2 => bus.publish(
            "log:PM2",
            &json!({"process": {"pm_id": "PM2", "name": "PM2", "rev": null}, "at": event.at, "data": data}),
        ),
        LogKind::Event => process_event(daemon, event, &data),
        LogKind::Message => message(bus, event, &data, who()),
    }
}

/// `process:event`. A stop is published as PM2's daemon publishes one, as its `exit`: the
/// `stop` itself comes from the client's `notifyByProcessId`, which PM2's clients send
/// after every action.
fn process_event(daemon: &Daemon, event: &LogEvent, name: &str) {
    let name = if name == "stop" { "exit" } else { name };
    let Some(p) = event.pm_id.and_then(|id| shapes::find(daemon, id)) else {
        return;
    };
    daemon.node_bus.publish(
        "process:event",
        &json!({"event": name, "manually": false, "process": shapes::event_process(&p), "at": event.at}),
    );
}

/// What an app sent over IPC: `{type: T, data: D}` with a truthy D is event T; anything
/// else is a raw `process:msg`. The daemon's own `axm:*` bookkeeping is never published.
fn message(bus: &Bus, event: &LogEvent, text: &str, who: Value) {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let typed = v.get("type").and_then(Value::as_str).map(str::to_string);
    let data = v.get("data").filter(|d| truthy(d)).cloned();
    match (typed, data) {
        (Some(t), _) if INTERNAL.contains(&t.as_str()) => {}
        (Some(t), Some(data)) => {
            bus.publish(&t, &json!({"at": event.at, "data": data, "process": who}))
        }
        _ => bus.publish(
            "process:msg",
            &json!({"at": event.at, "raw": v, "process": who}),
        ),
    }
}

/// Messages the daemon keeps in `pm2_env` instead of publishing (the study's §5).
const INTERNAL: &[&str] = &[
    "axm:action",
    "axm:monitor",
    "axm:option:setPID",
    "axm:option:configuration",
];

/// JavaScript's truthiness of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}
