//! What the agent reads from its daemon, whether or not the dashboard is connected: the
//! process table and the host's overview every second (`state`), and every app's log
//! lines as the daemon's log hub relays them (`log`, and `missed` when the hub dropped
//! some), and (revision 2) each exit and `process:exception` with the app's last lines
//! (`event`), which the dashboard's issues inbox and alerts read, and the daemon's own
//! `pm2:reload` / `pm2:deploy` events (an `event` without a `pm_id`), which its "done"
//! alerts read. Each reader offers its messages to the [`Outbox`] and never waits on it.

use super::follow::Follow;
use super::outbox::Outbox;
use crate::daemon::Daemon;
use crate::issues::recent::Recent;
use crate::overview;
use pm2_proto::{LogChunk, LogChunkKind, LogsRequest, Request, Response};
use serde_json::{json, Value};
use std::time::Duration;

/// How often the table goes out.
const EVERY: Duration = Duration::from_secs(1);
/// The overview rides along every this many tables.
const OVERVIEW_EVERY: u32 = 5;
/// Pause before the log stream is opened again after the daemon ended it.
const REOPEN: Duration = Duration::from_secs(1);

/// Sends the table every second, with the overview every few.
pub async fn table(daemon: Daemon, out: Outbox) {
    let node = overview::node_version();
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n: u32 = 0;
    loop {
        tick.tick().await;
        let processes = match daemon.request(Request::Summary).await {
            Ok(Response::List { processes }) => processes,
            Ok(_) | Err(_) => continue,
        };
        let mut message = json!({"t": "state", "processes": processes});
        if n % OVERVIEW_EVERY == 0 {
            message["overview"] = overview::overview(node.as_deref(), ping(&daemon).await);
        }
        n = n.wrapping_add(1);
        out.offer(&message);
    }
}

async fn ping(daemon: &Daemon) -> Value {
    match daemon.request(Request::Ping).await {
        Ok(Response::Pong { version, pid }) => json!({"version": version, "pid": pid}),
        _ => Value::Null,
    }
}

/// Reads every app's log lines, reopening the stream when the daemon ends it: each goes
/// out when the dashboard follows its app, and each exit and exception goes out with the
/// lines before it.
pub async fn logs(daemon: Daemon, out: Outbox, follow: Follow) {
    let mut recent = Recent::default();
    loop {
        let request = Request::Logs(LogsRequest {
            targets: Vec::new(),
            daemon: true,
        });
        if let Ok(mut stream) = daemon.open(request).await {
            while let Ok(Some(response)) = stream.next().await {
                match response {
                    // The daemon's own lines stay on this host; its done events travel.
                    Response::Log(c) if c.pm_id.is_none() => {
                        if let Some(done) = done_event(&c) {
                            out.offer(&done);
                        }
                    }
                    Response::Log(c) => {
                        if let Some(event) = event(&mut recent, &c) {
                            out.offer(&event);
                        }
                        if !follow.wants(&c.name, c.pm_id) {
                            continue;
                        }
                        out.offer(&json!({
                            "t": "log", "pm_id": c.pm_id, "name": c.name, "kind": c.kind,
                            "at": c.at, "data": c.data,
                        }));
                    }
                    Response::LogsMissed { lines } if follow.any() => out.offer(&json!({
                        "t": "missed", "lines": lines, "where": "the daemon's log hub",
                    })),
                    _ => {}
                }
            }
        }
        tokio::time::sleep(REOPEN).await;
    }
}

/// The `event` message of a daemon's chunk when it is one of the "done" events
/// (`{"type": "pm2:reload", "data": ...}`): `pm_id` null, no lines. A dashboard from
/// before it drops an `event` without a `pm_id`.
fn done_event(c: &LogChunk) -> Option<Value> {
    if c.kind != LogChunkKind::Message {
        return None;
    }
    let v: Value = serde_json::from_str(&c.data).ok()?;
    let kind = v.get("type")?.as_str()?;
    crate::alerts::done::EVENTS.contains(&kind).then(|| {
        json!({
            "t": "event", "pm_id": null, "name": c.name, "kind": c.kind, "at": c.at,
            "data": c.data, "lines": [],
        })
    })
}

/// The `event` message of a chunk, when it is one the dashboard's inbox or alerts need:
/// an `exit` (with how it ended) or a `process:exception` message, each with the app's
/// last lines before it. Output lines are noted in `recent` on the way.
fn event(recent: &mut Recent, c: &LogChunk) -> Option<Value> {
    match c.kind {
        LogChunkKind::Out | LogChunkKind::Err => {
            let kind = if c.kind == LogChunkKind::Out {
                "out"
            } else {
                "err"
            };
            recent.push(&c.name, kind, c.at, &c.data);
            return None;
        }
        LogChunkKind::Event if c.data == "exit" => {}
        LogChunkKind::Message if c.data.contains("process:exception") => {}
        _ => return None,
    }
    Some(json!({
        "t": "event", "pm_id": c.pm_id, "name": c.name, "kind": c.kind, "at": c.at,
        "data": c.data, "exit": c.exit, "lines": Recent::json(&recent.of(&c.name)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: LogChunkKind, data: &str) -> LogChunk {
        LogChunk {
            pm_id: None,
            name: "PM2".into(),
            kind,
            at: 5,
            data: data.into(),
            exit: None,
        }
    }

    #[test]
    fn only_the_daemons_done_events_travel() {
        let reload = r#"{"type":"pm2:reload","data":{"ok":true}}"#;
        let e = done_event(&chunk(LogChunkKind::Message, reload)).expect("a reload travels");
        assert_eq!(
            (e["t"].as_str(), e["pm_id"].is_null()),
            (Some("event"), true)
        );
        assert_eq!(e["data"], reload);
        let other = r#"{"type":"pm2:other"}"#;
        assert!(done_event(&chunk(LogChunkKind::Message, other)).is_none());
        assert!(
            done_event(&chunk(LogChunkKind::Pm2, reload)).is_none(),
            "a daemon line"
        );
        assert!(done_event(&chunk(LogChunkKind::Message, "not json")).is_none());
    }
}
