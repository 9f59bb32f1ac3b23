//! The objects PM2's methods reply with, built from the daemon's own process records.
//!
//! PM2 replies with JSON copies of its live Node objects (a ChildProcess or a Worker, 7–9
//! KB each); clients read only `pid`, `name`, `pm_id` and `pm2_env`, so the element here is
//! `{pid, name, pm_id, pm2_env, process: {pid}}` (the study's recommendation), and "fmt"
//! (stop, delete) is the same without `process`.

use crate::state::Daemon;
use pm2_proto::{pm2json, ProcessInfo};
use serde_json::{json, Map, Value};

/// `{pid, name, pm_id, pm2_env}`: what stop and delete answer.
pub(crate) fn fmt(p: &ProcessInfo) -> Value {
    let running = p.status.is_running();
    let pid = p.pid.filter(|_| running).unwrap_or(0);
    json!({
        "pid": pid,
        "name": p.spec.name,
        "pm_id": p.pm_id,
        "pm2_env": Value::Object(pm2json::pm2_env(p)),
    })
}

/// [`fmt`] plus `process: {pid}`: what prepare and restart answer for each instance.
pub(crate) fn proc(p: &ProcessInfo) -> Value {
    let mut v = fmt(p);
    let pid = v["pid"].clone();
    if let Some(m) = v.as_object_mut() {
        m.insert("process".into(), json!({ "pid": pid }));
    }
    v
}

/// The reload answer for a cluster worker that was replaced: the old worker, as PM2
/// reports it once gone (`pm_id: "_old_<id>"`, `stopped`, no pid).
pub(crate) fn replaced(p: &ProcessInfo) -> Value {
    let mut v = fmt(p);
    v["pid"] = json!(0);
    v["pm_id"] = json!(format!("_old_{}", p.pm_id));
    if let Some(env) = v["pm2_env"].as_object_mut() {
        env.insert("pm_id".into(), json!(format!("_old_{}", p.pm_id)));
        env.insert("status".into(), json!("stopped"));
    }
    v
}

/// `process:event`'s `process`: pm2_env without `env` (its variables are flattened into it
/// already), as PM2 publishes it.
pub(crate) fn event_process(p: &ProcessInfo) -> Value {
    let mut env: Map<String, Value> = pm2json::pm2_env(p);
    env.remove("env");
    Value::Object(env)
}

/// An id as clients send it: a number, a numeric string, or `{id: …}` (the study's §8).
pub(crate) fn id_of(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        Value::Object(m) => m.get("id").and_then(id_of),
        _ => None,
    }
}

/// The process `id` names, as it is now.
pub(crate) fn find(daemon: &Daemon, id: u32) -> Option<ProcessInfo> {
    let handle = daemon.registry().get(id);
    handle.map(|h| h.info())
}
