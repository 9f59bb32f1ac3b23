//! The issues inbox and alert endpoints: `GET /api/issues` (the groups without their
//! stacks and log lines, every host's, each with its `host`; `?host=<name>` for one
//! host's, as `/api/logs` and `/api/history` take it), `GET /api/issues/{id}` (all of one), `POST
//! /api/issues/{id}/resolve` (audited), `GET /api/alerts` (settings and the last
//! deliveries).

use crate::auth::Caller;
use crate::body::Body;
use crate::state::State;
use crate::{audit, log, reply};
use hyper::{Response, StatusCode};
use pm2_home::plus_alerts::AlertFormat;
use serde_json::{json, Value};

/// `GET /api/issues[?host=<name>]`.
pub fn list(state: &State, query: &str) -> Response<Body> {
    let only = crate::login::query_param(query, "host").filter(|h| !h.is_empty());
    if let Some(h) = only.as_deref() {
        if h != state.host_name && !state.hosts.knows(h) {
            return reply::error(StatusCode::NOT_FOUND, &format!("no host {h:?} is linked"));
        }
    }
    let Ok(inbox) = state.issues.lock() else {
        return reply::error(StatusCode::INTERNAL_SERVER_ERROR, "inbox unavailable");
    };
    let rows: Vec<Value> = inbox
        .list()
        .into_iter()
        .map(|g| with_host(state, g))
        .filter(|g| only.as_deref().is_none_or(|h| g["host"] == h))
        .map(|mut g| {
            if let Some(o) = g.as_object_mut() {
                o.remove("logs");
                o.remove("stack");
            }
            g
        })
        .collect();
    reply::json(StatusCode::OK, &Value::Array(rows))
}

/// An issue with its `host` named (this host's are stored without).
fn with_host(state: &State, mut issue: Value) -> Value {
    if issue["host"].is_null() {
        issue["host"] = json!(state.host_name);
    }
    issue
}

/// `GET /api/issues/{id}`.
pub fn one(state: &State, id: &str) -> Response<Body> {
    let found = state
        .issues
        .lock()
        .ok()
        .and_then(|i| i.get(id).cloned())
        .map(|g| with_host(state, g));
    match found {
        Some(issue) => reply::json(StatusCode::OK, &issue),
        None => reply::error(StatusCode::NOT_FOUND, &format!("no issue {id}")),
    }
}

/// `POST /api/issues/{id}/resolve`.
pub fn resolve(state: &State, caller: &Caller, remote: &str, id: &str) -> Response<Body> {
    let done = match state.issues.lock() {
        Ok(mut inbox) => {
            let found = inbox.resolve(id);
            if found {
                inbox.save(&state.settings.files);
            }
            found
        }
        Err(_) => false,
    };
    let entry = audit::Entry {
        host: &state.host_name,
        who: caller.who(),
        remote: remote.to_string(),
        action: "resolve",
        target: id,
        params: json!({}),
        ids: Vec::new(),
        error: (!done).then(|| format!("no issue {id}")),
    };
    if let Err(e) = audit::append(&state.settings.files.audit_log(), &entry) {
        log::error(&format!("cannot write the audit log: {e}"));
    }
    if done {
        reply::json(StatusCode::OK, &json!({"id": id, "resolved": true}))
    } else {
        reply::error(StatusCode::NOT_FOUND, &format!("no issue {id}"))
    }
}

/// `GET /api/alerts`.
pub fn alerts(state: &State) -> Response<Body> {
    let (s, error) = match state.alerts.lock() {
        Ok(c) => (c.settings.clone(), c.error.clone()),
        Err(_) => return reply::error(StatusCode::INTERNAL_SERVER_ERROR, "lock poisoned"),
    };
    let deliveries: Vec<Value> = state
        .deliveries
        .lock()
        .map(|d| d.iter().cloned().collect())
        .unwrap_or_default();
    let body = json!({
        "enabled": !s.urls.is_empty(),
        "urls": s.urls,
        "format": match s.format { AlertFormat::Json => "json", AlertFormat::Slack => "slack" },
        "storm": {"restarts": s.storm_restarts, "window_ms": s.storm_window.as_millis() as u64},
        "cpu_percent": s.cpu_percent,
        "memory_bytes": s.memory_bytes,
        "for_ms": s.sustained.as_millis() as u64,
        "reload": s.reload,
        "deploy": s.deploy,
        "error": error,
        "deliveries": deliveries,
    });
    reply::json(StatusCode::OK, &body)
}
