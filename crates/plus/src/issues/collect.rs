//! Reads every app's output and events from the daemon (`daemon.sock`'s `Logs`, all
//! apps and the daemon's own events) for as long as the dashboard runs, reconnecting when
//! the daemon goes away: keeps each app's last lines, records crashes (`exit` events with
//! a non-zero code or a signal) and `process:exception` messages in the inbox, and tells
//! the alerts (and hands them the daemon's `pm2:reload` and `pm2:deploy` events). A linked
//! host's exits and exceptions come over its link instead (`remote`) and go through
//! [`occurred`] too.

use super::recent::{last_error, Line, Recent};
use super::store::{Occurrence, Recorded};
use crate::alerts::Signal;
use crate::state::State;
use pm2_proto::{LogChunk, LogChunkKind, LogsRequest, Request, Response};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Pause before reconnecting to a daemon that is gone.
const RECONNECT: Duration = Duration::from_secs(1);

/// Runs forever.
pub async fn run(state: Arc<State>) {
    let mut recent = Recent::default();
    loop {
        let request = Request::Logs(LogsRequest {
            targets: Vec::new(),
            daemon: true,
        });
        if let Ok(mut stream) = state.daemon.open(request).await {
            while let Ok(Some(response)) = stream.next().await {
                if let Response::Log(chunk) = response {
                    on_chunk(&state, &mut recent, &chunk);
                }
            }
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

fn on_chunk(state: &State, recent: &mut Recent, chunk: &LogChunk) {
    if chunk.name == pm2_home::plus::APP_NAME {
        return; // The dashboard's own crash is seen by the next one, in `pm2 logs`.
    }
    match chunk.kind {
        LogChunkKind::Out => recent.push(&chunk.name, "out", chunk.at, &chunk.data),
        LogChunkKind::Err => recent.push(&chunk.name, "err", chunk.at, &chunk.data),
        LogChunkKind::Message if chunk.pm_id.is_none() => daemon_event(state, None, chunk),
        LogChunkKind::Event | LogChunkKind::Message => {
            occurred(state, None, chunk, &recent.of(&chunk.name));
        }
        LogChunkKind::Pm2 => {}
    }
}

/// An app's event or message, on this host (`host` None) or a linked one: an exit tells
/// the alerts (restart storms) and, when it was a crash, the inbox; a
/// `process:exception` goes to the inbox. `lines` are the app's last lines before it.
pub fn occurred(state: &State, host: Option<&str>, chunk: &LogChunk, lines: &[Line]) {
    match chunk.kind {
        LogChunkKind::Event if chunk.data == "exit" => {
            let code = chunk.exit.as_ref().map_or(0, |e| e.code);
            let signal = chunk.exit.as_ref().and_then(|e| e.signal.clone());
            state.alert(Signal::Exit {
                host: host.map(str::to_string),
                app: chunk.name.clone(),
                pm_id: chunk.pm_id,
                at: chunk.at,
            });
            if code != 0 || signal.is_some() {
                crashed(state, host, lines, chunk, code, signal);
            }
        }
        LogChunkKind::Message => {
            if let Some(mut o) = exception(chunk, lines) {
                o.host = host.map(str::to_string);
                record(state, o);
            }
        }
        _ => {}
    }
}

/// `{"type": "pm2:reload", "data": {...}}` and the like, which the daemon publishes (this
/// host's, `host` None, or a linked host's, over its link).
pub fn daemon_event(state: &State, host: Option<&str>, chunk: &LogChunk) {
    let Ok(Value::Object(mut v)) = serde_json::from_str::<Value>(&chunk.data) else {
        return;
    };
    let Some(Value::String(event)) = v.remove("type") else {
        return;
    };
    if crate::alerts::done::EVENTS.contains(&event.as_str()) {
        let data = v.remove("data").unwrap_or(Value::Null);
        state.alert(Signal::Done {
            host: host.map(str::to_string),
            event,
            data,
            at: chunk.at,
        });
    }
}

fn crashed(
    state: &State,
    host: Option<&str>,
    lines: &[Line],
    chunk: &LogChunk,
    code: i32,
    signal: Option<String>,
) {
    let how = match &signal {
        Some(s) => format!("killed by {s}"),
        None => format!("exited with code {code}"),
    };
    let (message, stack) = match last_error(lines) {
        Some((headline, stack)) => (headline, Some(stack)),
        None => (how.clone(), None),
    };
    state.alert(Signal::Crash {
        host: host.map(str::to_string),
        app: chunk.name.clone(),
        pm_id: chunk.pm_id,
        how: how.clone(),
        message: message.clone(),
    });
    record(
        state,
        Occurrence {
            kind: "crash",
            host: host.map(str::to_string),
            app: chunk.name.clone(),
            pm_id: chunk.pm_id,
            message,
            stack,
            detail: json!({"exit_code": code, "signal": signal, "how": how}),
            logs: Recent::json(lines),
            at: chunk.at,
        },
    );
}

/// PM2's `{type: 'process:exception', data: {message, stack, name, ...}}` (or `data` a
/// string), as `@pm2/io` sends for an uncaught exception or `notifyError`.
fn exception(chunk: &LogChunk, lines: &[Line]) -> Option<Occurrence> {
    let v: Value = serde_json::from_str(&chunk.data).ok()?;
    if v.get("type").and_then(Value::as_str) != Some("process:exception") {
        return None;
    }
    let data = v.get("data")?;
    let text = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_string);
    let message = match data {
        Value::String(s) => s.clone(),
        _ => text("message").unwrap_or_else(|| data.to_string()),
    };
    let name = text("name");
    let message = match &name {
        Some(n) if !message.starts_with(n.as_str()) => format!("{n}: {message}"),
        _ => message,
    };
    Some(Occurrence {
        kind: "exception",
        host: None,
        app: chunk.name.clone(),
        pm_id: chunk.pm_id,
        message,
        stack: text("stack"),
        detail: json!({ "name": name }),
        logs: Recent::json(lines),
        at: chunk.at,
    })
}

fn record(state: &State, o: Occurrence) {
    let Ok(mut inbox) = state.issues.lock() else {
        return;
    };
    let outcome = inbox.record(o);
    inbox.save(&state.settings.files);
    if let Recorded::New(id) = outcome {
        if let Some(issue) = inbox.get(&id).cloned() {
            drop(inbox);
            state.alert(Signal::FirstSeen { issue });
        }
    }
}
