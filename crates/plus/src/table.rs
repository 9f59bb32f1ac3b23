//! The process table's rows: what the dashboard shows of each instance (the API's
//! `/api/processes` and each SSE `processes` event), a compact shape without the app's
//! environment.

use pm2_proto::ProcessInfo;
use serde_json::{json, Value};

/// One instance as the dashboard shows it.
pub fn row(p: &ProcessInfo, now_ms: u64) -> Value {
    let running = p.status.is_running();
    let actions: Vec<&Value> = p
        .axm_actions
        .iter()
        .filter_map(|a| a.get("action_name"))
        .collect();
    json!({
        "pm_id": p.pm_id,
        "name": p.spec.name,
        "namespace": p.spec.namespace,
        "status": p.status.as_str(),
        "pid": p.pid.filter(|_| running),
        "cpu": if running { p.monit.cpu } else { 0.0 },
        "memory": if running { p.monit.memory } else { 0 },
        "restarts": p.restart_time,
        "unstable_restarts": p.unstable_restarts,
        "uptime_ms": if running { now_ms.saturating_sub(p.pm_uptime) } else { 0 },
        "pm_uptime": p.pm_uptime,
        "exec_mode": p.spec.exec_mode.as_str(),
        "instances": p.spec.instances,
        "metrics": p.axm_monitor,
        "actions": actions,
        "km_monitored": p.km_monitored,
    })
}

/// Every instance of this host, in id order, each row with the host's name.
pub fn rows(host: &str, processes: &[ProcessInfo], now_ms: u64) -> Value {
    Value::Array(rows_of(host, true, processes, now_ms))
}

/// Every instance of `host`, each row with `host` and whether the host is `online` (a
/// linked host's last table stays shown, marked, while its agent is away).
pub fn rows_of(host: &str, online: bool, processes: &[ProcessInfo], now_ms: u64) -> Vec<Value> {
    processes
        .iter()
        .map(|p| {
            let mut r = row(p, now_ms);
            r["host"] = Value::String(host.to_string());
            r["host_online"] = Value::Bool(online);
            r
        })
        .collect()
}

/// Adds to each row of this host's table when its cpu/memory reading was taken
/// (`monit_at`, ms since the epoch; by index, as [`crate::readings::Read`] has them): a
/// kept reading of an idle app can be up to the daemon's sweep old.
pub fn add_monit_at(rows: &mut Value, monit_at: &[u64]) {
    let Value::Array(rows) = rows else { return };
    for (row, at) in rows.iter_mut().zip(monit_at) {
        row["monit_at"] = Value::from(*at);
    }
}

/// `monit_at` of readings taken now (`now_ms`): now for each running instance, 0 for
/// the others (what a `Summary`'s fresh readings are).
pub fn read_now(processes: &[ProcessInfo], now_ms: u64) -> Vec<u64> {
    processes
        .iter()
        .map(|p| if p.status.is_running() { now_ms } else { 0 })
        .collect()
}
