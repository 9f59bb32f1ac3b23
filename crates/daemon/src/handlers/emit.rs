//! Daemon-level events on the log hub, for the readers that take daemon lines (the
//! dashboard's alert engine) and, through the hub's relay, the Node API's bus: what a
//! client asks to publish (`Request::Emit`: `pm2 deploy` finished) and `pm2:reload`,
//! published here when a reload request completed.

use crate::logs::hub::{LogEvent, LogKind};
use crate::state::Daemon;
use pm2_proto::{EmitRequest, InstanceOutcome, Response};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// `Request::Emit`.
pub(crate) fn emit(daemon: &Daemon, req: EmitRequest) -> Response {
    if let Some(message) = req.refusal() {
        return Response::Error { message };
    }
    publish(daemon, &req.event, req.data);
    Response::Outcomes { outcomes: vec![] }
}

/// `pm2:reload`: the apps a reload request reloaded, each with its instances and the
/// errors, and how long the whole request took. Nothing when nothing was reloaded.
pub(crate) fn reload_done(daemon: &Daemon, started: Instant, outcomes: &[InstanceOutcome]) {
    if outcomes.is_empty() {
        return;
    }
    let mut apps: BTreeMap<&str, (Vec<u32>, Vec<Value>)> = BTreeMap::new();
    for o in outcomes {
        let (ids, errors) = apps.entry(&o.name).or_default();
        ids.push(o.pm_id);
        if let Some(e) = &o.error {
            errors.push(json!({"pm_id": o.pm_id, "error": e}));
        }
    }
    let apps: Vec<Value> = apps
        .into_iter()
        .map(|(name, (ids, errors))| json!({"name": name, "instances": ids, "errors": errors}))
        .collect();
    let data = json!({
        "apps": apps,
        "ok": outcomes.iter().all(|o| o.error.is_none()),
        "duration_ms": started.elapsed().as_millis() as u64,
    });
    publish(daemon, "pm2:reload", data);
}

fn publish(daemon: &Daemon, event: &str, data: Value) {
    daemon.hub.publish_with(|| LogEvent {
        pm_id: None,
        name: Arc::from("PM2"),
        namespace: Arc::from(""),
        kind: LogKind::Message,
        data: Arc::from(
            json!({"type": event, "data": data})
                .to_string()
                .into_bytes(),
        ),
        at: pm2_home::now_ms(),
        exit: None,
    });
}
