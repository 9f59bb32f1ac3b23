//! The methods beyond start/stop/restart/delete that dashboards, PM2+-style agents and the
//! npm client use: signals, counters reset, `_km_monitored`, a line to stdin, a duplicate
//! instance, reopening the logs, the diagnostic report. Each is one of the daemon's own
//! requests, so it does exactly what the same `pm2` command does.

use super::shapes::{self, id_of};
use crate::handlers;
use crate::instance::Control;
use crate::state::Daemon;
use pm2_proto::{
    Action, ActionRequest, InstanceOutcome, MonitorRequest, Request, Response, ScaleChange,
    ScaleRequest, SendLineRequest, SignalRequest, Target,
};
use serde_json::{json, Value};
use std::sync::Arc;

/// A request whose answer is per-instance outcomes; the first failure is the error.
async fn outcomes(daemon: &Arc<Daemon>, request: Request) -> Result<Vec<InstanceOutcome>, String> {
    match handlers::dispatch(daemon, request).await.0 {
        Response::Outcomes { outcomes } => match outcomes.iter().find_map(|o| o.error.clone()) {
            Some(e) => Err(e),
            None => Ok(outcomes),
        },
        Response::Error { message } => Err(message),
        _ => Err("the daemon gave no outcome".into()),
    }
}

/// The fmt of each instance in `ids`, as they are now.
fn listed(daemon: &Daemon, ids: &[u32]) -> Value {
    let all = daemon.registry().snapshot();
    Value::Array(
        all.iter()
            .filter(|p| ids.contains(&p.pm_id))
            .map(shapes::fmt)
            .collect(),
    )
}

/// `sendSignalToProcessName {signal, process_name}` and `sendSignalToProcessId {signal,
/// process_id}` → the instances signalled.
pub(crate) async fn signal(
    daemon: &Arc<Daemon>,
    arg: &Value,
    by_name: bool,
) -> Result<Value, String> {
    let signal = match arg.get("signal") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("signal missing".into()),
    };
    let target = if by_name {
        let name = arg
            .get("process_name")
            .and_then(Value::as_str)
            .ok_or("process_name missing")?;
        Target::Name(name.to_string())
    } else {
        let id = arg
            .get("process_id")
            .and_then(id_of)
            .ok_or("process_id missing")?;
        Target::Id(id)
    };
    let request = Request::Signal(SignalRequest {
        signal,
        targets: vec![target],
    });
    let done = outcomes(daemon, request).await?;
    let ids: Vec<u32> = done.iter().map(|o| o.pm_id).collect();
    Ok(listed(daemon, &ids))
}

/// `resetMetaProcessId [id]` → the instance, counters at 0.
pub(crate) async fn reset(daemon: &Arc<Daemon>, arg: &Value) -> Result<Value, String> {
    let id = id_of(arg).ok_or_else(|| format!("{arg} : id unknown"))?;
    let request = Request::Action(ActionRequest {
        action: Action::Reset,
        targets: vec![Target::Id(id)],
        update_env: None,
        toggle_watch: false,
        patch: Box::default(),
    });
    outcomes(daemon, request).await?;
    Ok(listed(daemon, &[id]))
}

/// `monitor [pm_id]` / `unmonitor [pm_id]` → `{success, pm_id}`.
pub(crate) async fn monitor(
    daemon: &Arc<Daemon>,
    arg: &Value,
    monitored: bool,
) -> Result<Value, String> {
    let id = id_of(arg).ok_or_else(|| format!("{arg} : id unknown"))?;
    let request = Request::Monitor(MonitorRequest {
        targets: vec![Target::Id(id)],
        monitored,
    });
    outcomes(daemon, request).await?;
    Ok(json!({"success": true, "pm_id": id}))
}

/// `sendLineToStdin {pm_id, line}` → `{pm_id, line}`.
pub(crate) async fn send_line(daemon: &Arc<Daemon>, arg: &Value) -> Result<Value, String> {
    let id = arg.get("pm_id").and_then(id_of).ok_or("pm_id missing")?;
    let line = arg
        .get("line")
        .and_then(Value::as_str)
        .ok_or("line missing")?
        .to_string();
    let request = Request::SendLine(SendLineRequest {
        pm_id: id,
        line: line.clone(),
    });
    match handlers::dispatch(daemon, request).await.0 {
        Response::Error { message } => Err(message),
        _ => Ok(json!({"pm_id": id, "line": line})),
    }
}

/// `duplicateProcessId [id]` → the new instance (a copy with the next pm_id and the lowest
/// free instance index, as `pm2 scale +1`).
pub(crate) async fn duplicate(daemon: &Arc<Daemon>, arg: &Value) -> Result<Value, String> {
    let id = id_of(arg).ok_or_else(|| format!("{arg} : id unknown"))?;
    let name = shapes::find(daemon, id)
        .ok_or_else(|| format!("{id} : id unknown"))?
        .spec
        .name;
    let request = Request::Scale(ScaleRequest {
        name,
        change: ScaleChange::Up(1),
    });
    let added = outcomes(daemon, request).await?;
    let new = added.last().map(|o| o.pm_id).ok_or("nothing was added")?;
    shapes::find(daemon, new)
        .map(|p| shapes::proc(&p))
        .ok_or_else(|| "the copy is gone".into())
}

/// `reloadLogs` → `{}`: every log file reopened (as SIGUSR2 does).
pub(crate) async fn reload_logs(daemon: &Arc<Daemon>) -> Value {
    let _ = handlers::dispatch(daemon, Request::ReloadLogs).await;
    json!({})
}

/// `getReport` → PM2's diagnostic summary (its keys; `node_*` name the node on PATH, which
/// this daemon runs apps with).
pub(crate) fn report(daemon: &Daemon) -> Value {
    let env: serde_json::Map<String, Value> =
        std::env::vars().map(|(k, v)| (k, json!(v))).collect();
    let managed = daemon.registry().len();
    json!({
        "pm2_version": daemon.settings.version,
        "node_version": Value::Null,
        "node_path": which_node(),
        "argv0": std::env::args().next(),
        "argv": std::env::args().collect::<Vec<_>>(),
        "user": std::env::var("USER").ok(),
        "uid": nix::unistd::getuid().as_raw(),
        "gid": nix::unistd::getgid().as_raw(),
        "env": env,
        "managed_apps": managed,
        "started_at": daemon.started_at,
    })
}

fn which_node() -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("node"))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

/// `startWatch`, `stopWatch`, `toggleWatch` `[method, value]`: watching on, off or over for
/// the process `value` names (`{id}` or an id), or every process when the method is
/// `stopAll`/`deleteAll`/`restartAll`, without a restart → `{success: true}`, whatever it names.
pub(crate) async fn watch(daemon: &Arc<Daemon>, args: &[Value], on: Option<bool>) -> Value {
    let method = args.first().and_then(Value::as_str).unwrap_or_default();
    let value = args.get(1).unwrap_or(&Value::Null);
    let ids: Vec<u32> = if matches!(method, "stopAll" | "deleteAll" | "restartAll" | "reloadAll") {
        let mut all = vec![];
        daemon.registry().for_each(|p| all.push(p.pm_id));
        all
    } else {
        id_of(value).into_iter().collect()
    };
    // What names no process is skipped, as PM2's daemon does: the npm client sends this
    // before every stop and delete and does not expect it to fail.
    for id in ids {
        let handle = daemon.registry().get(id);
        if let Some(handle) = handle {
            let _ = handle.call(|r| Control::Watch(on, r)).await;
        }
    }
    json!({"success": true})
}
