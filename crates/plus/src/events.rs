//! Live updates as server-sent events: the process table every second
//! (`/api/events`, event `processes`, one fetch a second shared by every browser, each row
//! with its `host`, followed by event `fleet`, the linked hosts' tables), and one
//! app's log lines as the daemon's log hub relays them (`/api/logs?app=<id|name>`, event
//! `log`). Each stream is a task that ends when the browser goes away (its channel
//! closes) or the daemon does.

use crate::body::Body;
use crate::fleet::hosts::Snapshot;
use crate::readings::{self, Held, Read};
use crate::state::{State, TableRead};
use crate::{history, table};
use bytes::Bytes;
use pm2_proto::{LogsRequest, ProcessInfo, Request, Response, Target};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the table is sent.
pub const TABLE_EVERY: Duration = Duration::from_secs(1);
/// Chunks queued for a slow browser before the stream waits.
const QUEUE: usize = 64;

/// The table stream: the latest table at once (when there is one), then each new one.
/// Every browser reads the same table, fetched once a second by [`poll_table`].
pub fn processes(state: Arc<State>) -> Body {
    let (tx, rx) = mpsc::channel(QUEUE);
    let mut table = state.table.subscribe();
    state.table_wanted.notify_one();
    tokio::spawn(async move {
        let first = table.borrow_and_update().clone();
        if let Some(frame) = first {
            if tx.send(frame).await.is_err() {
                return;
            }
        }
        while table.changed().await.is_ok() {
            let frame = table.borrow_and_update().clone();
            if let Some(frame) = frame {
                if tx.send(frame).await.is_err() {
                    return;
                }
            }
        }
    });
    Body::Stream(rx)
}

/// Reads the table every [`TABLE_EVERY`] (cheaply: [`readings::read`]) and hands it, with each online linked host's
/// last table, to the history store and the alert engine, with or without a browser
/// watching (the charts must have no holes).
/// Only when the store could not be opened and no alert URL is set does it wait for the
/// first browser (then an idle dashboard costs the daemon nothing).
pub async fn poll_table(state: Arc<State>) {
    let mut held = Held::default();
    let mut tick = tokio::time::interval(TABLE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if state.table.receiver_count() == 0 && state.history.is_none() && !state.alerts_on() {
            state.table_wanted.notified().await;
            tick.reset_immediately();
            continue;
        }
        tick.tick().await;
        let frame = match readings::read(&state, &mut held).await {
            Ok(Read {
                processes,
                monit_at,
            }) => {
                let now_ms = pm2_home::now_ms();
                let snapshots = state.hosts.snapshots(None);
                let hosts: Vec<(String, Vec<ProcessInfo>)> = snapshots
                    .iter()
                    .filter(|s| s.online)
                    .map(|s| (s.host.clone(), s.processes.clone()))
                    .collect();
                if let Some(store) = &state.history {
                    let mut samples = history::record::samples(None, &processes);
                    for (host, table) in &hosts {
                        samples.extend(history::record::samples(Some(host), table));
                    }
                    let now = (now_ms / 1000) as i64;
                    tokio::spawn(history::record::tick(Arc::clone(store), now, samples));
                }
                let mut rows = table::rows(&state.host_name, &processes, now_ms);
                table::add_monit_at(&mut rows, &monit_at);
                let mut both = frame("processes", &rows).to_vec();
                both.extend_from_slice(&fleet_frame(&snapshots, now_ms));
                state.processes.send_replace(Some(Arc::new(TableRead {
                    at_ms: now_ms,
                    processes,
                    hosts,
                })));
                Bytes::from(both)
            }
            Err(e) => frame("error", &json!({ "error": e })),
        };
        state.table.send_replace(Some(frame));
    }
}

/// The log stream of `app` (an id or a name; `all` for every app).
pub fn logs(state: Arc<State>, app: &str) -> Body {
    let (tx, rx) = mpsc::channel(QUEUE);
    let targets = match app {
        "" | "all" => Vec::new(),
        app => vec![Target::parse(app)],
    };
    tokio::spawn(async move {
        let request = Request::Logs(LogsRequest {
            targets,
            daemon: false,
        });
        let mut stream = match state.daemon.open(request).await {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.send(frame("error", &json!({ "error": e }))).await;
                return;
            }
        };
        let _ = tx.send(Bytes::from_static(b": streaming\n\n")).await;
        loop {
            // A browser gone while its app is quiet must not keep the daemon's stream open.
            let response = tokio::select! {
                next = stream.next() => match next {
                    Ok(Some(response)) => response,
                    _ => return,
                },
                () = tx.closed() => return,
            };
            let event = match response {
                Response::Log(c) => frame(
                    "log",
                    &json!({"pm_id": c.pm_id, "name": c.name, "kind": c.kind, "at": c.at, "data": c.data}),
                ),
                Response::LogsMissed { lines } => frame("missed", &json!({ "lines": lines })),
                Response::Error { message } => frame("error", &json!({ "error": message })),
                _ => continue,
            };
            if tx.send(event).await.is_err() {
                return;
            }
        }
    });
    Body::Stream(rx)
}

/// The linked hosts' tables, one `fleet` event: `[{"host", "online", "processes": rows}]`.
fn fleet_frame(snapshots: &[Snapshot], now_ms: u64) -> Bytes {
    let hosts: Vec<Value> = snapshots
        .iter()
        .map(|s| {
            let rows = table::rows_of(&s.host, s.online, &s.processes, now_ms);
            json!({"host": s.host, "online": s.online, "processes": rows})
        })
        .collect();
    frame("fleet", &Value::Array(hosts))
}

/// One event: `event: <name>` and its JSON on one `data:` line (JSON has no newline).
fn frame(name: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}
