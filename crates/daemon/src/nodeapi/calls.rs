//! Each method of `rpc.sock`, answered as PM2 7 answers it (the study's §4), by way of the
//! daemon's own requests, so a call does exactly what the same `pm2` command does.

use super::{controls, messages, prepare, shapes};
use crate::handlers;
use crate::state::Daemon;
use pm2_axon::rpc::{self, Incoming};
use pm2_proto::{Action, ActionRequest, Request, Response, Status, Target};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The version `getVersion` reports: the PM2 release whose API this daemon speaks, so the
/// npm client does not warn that "In-memory PM2 is out-of-date"
/// (`PM2_RS_NODE_API_VERSION` overrides it, for clients of another release).
const API_VERSION: &str = "7.0.4";

/// The methods served, with the parameter names PM2's functions have (the `methods`
/// introspection that pm2-interface and PM2+ agents build their calls from).
const METHODS: &[(&str, &[&str])] = &[
    ("ping", &["opts", "cb"]),
    ("getVersion", &["env", "cb"]),
    ("getMonitorData", &["env", "cb"]),
    ("getSystemData", &["env", "cb"]),
    ("prepare", &["app", "cb"]),
    ("stopProcessId", &["id", "cb"]),
    ("restartProcessId", &["opts", "cb"]),
    ("reloadProcessId", &["opts", "cb"]),
    ("deleteProcessId", &["id", "cb"]),
    ("softReloadProcessId", &["opts", "cb"]),
    ("startProcessId", &["id", "cb"]),
    ("stopWatch", &["method", "value", "fn"]),
    ("startWatch", &["method", "value", "fn"]),
    ("toggleWatch", &["method", "value", "fn"]),
    ("notifyByProcessId", &["opts", "cb"]),
    ("notifyKillPM2", &[]),
    ("sendDataToProcessId", &["packet", "cb"]),
    ("msgProcess", &["cmd", "cb"]),
    ("sendSignalToProcessName", &["opts", "cb"]),
    ("sendSignalToProcessId", &["opts", "cb"]),
    ("resetMetaProcessId", &["id", "cb"]),
    ("monitor", &["pm_id", "cb"]),
    ("unmonitor", &["pm_id", "cb"]),
    ("sendLineToStdin", &["packet", "cb"]),
    ("duplicateProcessId", &["id", "cb"]),
    ("reloadLogs", &["opts", "cb"]),
    ("getReport", &["arg", "cb"]),
    ("killMe", &["opts", "cb"]),
];

/// What a method gives back.
enum Answer {
    /// `{"args":[value]}`.
    Value(Value),
    /// `{"args":[]}`.
    Nothing,
    /// `{"error":message}`.
    Error(String),
    /// No reply at all (`notifyKillPM2`, `killMe`, as PM2).
    Silence,
}

/// The reply frame to one request, if it gets one. `peer` is the client's pid (from the
/// socket's credentials).
pub(crate) async fn answer(
    daemon: &Arc<Daemon>,
    request: Incoming,
    peer: Option<i32>,
) -> Option<Vec<u8>> {
    let framed = match request {
        Incoming::NoReply => return None,
        Incoming::Refused { error, id } => rpc::reply_error(&id, &error),
        Incoming::Methods { id } => rpc::reply_methods(&id, METHODS),
        Incoming::Call { method, args, id } => match call(daemon, &method, &args, peer).await {
            Answer::Value(v) => rpc::reply_ok(&id, v),
            Answer::Nothing => rpc::reply_empty(&id),
            Answer::Error(e) => rpc::reply_error(&id, &e),
            Answer::Silence => return None,
        },
    };
    framed
        .inspect_err(|e| tracing::warn!("rpc.sock: cannot encode a reply: {e}"))
        .ok()
}

async fn call(daemon: &Arc<Daemon>, method: &str, args: &[Value], peer: Option<i32>) -> Answer {
    let first = args.first().unwrap_or(&Value::Null);
    match method {
        "ping" => Answer::Value(json!({"msg": "pong"})),
        "getVersion" => Answer::Value(json!(api_version())),
        "getMonitorData" => monitor_data(daemon).await,
        "getSystemData" => Answer::Value(json!({})),
        "prepare" => match prepare::prepare(daemon, first).await {
            Ok(procs) => Answer::Value(Value::Array(procs)),
            Err(e) => Answer::Error(e),
        },
        "stopProcessId" => stop(daemon, first).await,
        "restartProcessId" => restart(daemon, first, Action::Restart).await,
        "reloadProcessId" | "softReloadProcessId" => restart(daemon, first, Action::Reload).await,
        "startProcessId" => start_stopped(daemon, first).await,
        "profileCPU" | "profileMEM" => Answer::Error(
            "pm2-rs's daemon is not Node.js, so it has no V8 to profile: profile an app with \
             `pm2 profile:cpu <app>` or `pm2 profile:mem <app>`"
                .into(),
        ),
        "deleteProcessId" => delete(daemon, first).await,
        "stopWatch" => Answer::Value(controls::watch(daemon, args, Some(false)).await),
        "startWatch" => Answer::Value(controls::watch(daemon, args, Some(true)).await),
        "toggleWatch" => Answer::Value(controls::watch(daemon, args, None).await),
        "sendDataToProcessId" => result(messages::send_data(daemon, first).await),
        "msgProcess" => result(messages::msg_process(daemon, first).await),
        "sendSignalToProcessName" => result(controls::signal(daemon, first, true).await),
        "sendSignalToProcessId" => result(controls::signal(daemon, first, false).await),
        "resetMetaProcessId" => result(controls::reset(daemon, first).await),
        "monitor" => result(controls::monitor(daemon, first, true).await),
        "unmonitor" => result(controls::monitor(daemon, first, false).await),
        "sendLineToStdin" => result(controls::send_line(daemon, first).await),
        "duplicateProcessId" => result(controls::duplicate(daemon, first).await),
        "reloadLogs" => Answer::Value(controls::reload_logs(daemon).await),
        "getReport" => Answer::Value(controls::report(daemon)),
        "notifyByProcessId" => notify(daemon, first),
        "notifyKillPM2" => {
            daemon.settings.being_killed.store(true, Ordering::Relaxed);
            Answer::Silence
        }
        "killMe" => kill_me(daemon, first, peer).await,
        other => Answer::Error(rpc::no_such_method(other)),
    }
}

fn result(r: Result<Value, String>) -> Answer {
    match r {
        Ok(v) => Answer::Value(v),
        Err(e) => Answer::Error(e),
    }
}

fn api_version() -> String {
    std::env::var("PM2_RS_NODE_API_VERSION")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| API_VERSION.into())
}

async fn monitor_data(daemon: &Arc<Daemon>) -> Answer {
    match handlers::dispatch(daemon, Request::List).await.0 {
        Response::List { processes } => Answer::Value(pm2_proto::pm2json::jlist(&processes)),
        Response::Error { message } => Answer::Error(message),
        _ => Answer::Error("the daemon gave no list".into()),
    }
}

/// Runs `action` on one id through the daemon's handlers; the first failure is the error.
async fn act(
    daemon: &Arc<Daemon>,
    action: Action,
    id: u32,
    env: Option<BTreeMap<String, String>>,
) -> Result<(), String> {
    let request = Request::Action(ActionRequest {
        action,
        targets: vec![Target::Id(id)],
        update_env: env,
        toggle_watch: false,
        patch: Box::default(),
    });
    match handlers::dispatch(daemon, request).await.0 {
        Response::Outcomes { outcomes } => match outcomes.into_iter().find_map(|o| o.error) {
            Some(e) => Err(e),
            None => Ok(()),
        },
        Response::Error { message } => Err(message),
        _ => Err("the daemon gave no outcome".into()),
    }
}

async fn stop(daemon: &Arc<Daemon>, arg: &Value) -> Answer {
    let Some(id) = shapes::id_of(arg).filter(|id| shapes::find(daemon, *id).is_some()) else {
        return Answer::Error(format!("{} : id unknown", show_id(arg)));
    };
    if let Err(e) = act(daemon, Action::Stop, id, None).await {
        return Answer::Error(e);
    }
    match shapes::find(daemon, id) {
        Some(p) => Answer::Value(shapes::fmt(&p)),
        None => Answer::Error(format!("{id} : id unknown")),
    }
}

async fn delete(daemon: &Arc<Daemon>, arg: &Value) -> Answer {
    let Some(mut gone) = shapes::id_of(arg).and_then(|id| shapes::find(daemon, id)) else {
        return Answer::Error(format!("{} : id unknown", show_id(arg)));
    };
    if let Err(e) = act(daemon, Action::Delete, gone.pm_id, None).await {
        return Answer::Error(e);
    }
    gone.status = Status::Stopped;
    gone.pid = None;
    Answer::Value(shapes::fmt(&gone))
}

/// `restartProcessId` / `reloadProcessId` `{id, env}`: the env (the caller's, with
/// `--update-env` or `pm2 set`) is merged into the app's; values that are not text or
/// numbers are skipped, as PM2 skips what prints as `[object Object]`.
async fn restart(daemon: &Arc<Daemon>, arg: &Value, action: Action) -> Answer {
    if daemon.settings.being_killed.load(Ordering::Relaxed) {
        return Answer::Error(
            "[RestartProcessId] PM2 is being killed, stopping restart procedure...".into(),
        );
    }
    let Some(before) = shapes::id_of(arg).and_then(|id| shapes::find(daemon, id)) else {
        return Answer::Error(match arg.get("id") {
            None => format!("opts.id not passed to {}", action.pm2_method()),
            Some(_) => "God db process id unknown".into(),
        });
    };
    let env = arg.get("env").and_then(env_update);
    if let Err(e) = act(daemon, action, before.pm_id, env).await {
        return Answer::Error(e);
    }
    let replaced_worker = action == Action::Reload
        && before.spec.exec_mode == pm2_proto::ExecMode::Cluster
        && before.status == Status::Online;
    if replaced_worker {
        return Answer::Value(shapes::replaced(&before));
    }
    match shapes::find(daemon, before.pm_id) {
        Some(p) => Answer::Value(shapes::proc(&p)),
        None => Answer::Error("God db process id unknown".into()),
    }
}

/// `startProcessId [id]`: starts a stopped entry; PM2's errors for one that runs.
async fn start_stopped(daemon: &Arc<Daemon>, arg: &Value) -> Answer {
    let Some(p) = shapes::id_of(arg).and_then(|id| shapes::find(daemon, id)) else {
        return Answer::Error(format!("{} : id unknown", show_id(arg)));
    };
    match p.status {
        Status::Online => return Answer::Error("process already online".into()),
        Status::Launching => return Answer::Error("process already started".into()),
        _ => {}
    }
    if let Err(e) = act(daemon, Action::Restart, p.pm_id, None).await {
        return Answer::Error(e);
    }
    match shapes::find(daemon, p.pm_id) {
        Some(p) => Answer::Value(shapes::proc(&p)),
        None => Answer::Error(format!("{} : id unknown", p.pm_id)),
    }
}

fn env_update(env: &Value) -> Option<BTreeMap<String, String>> {
    let map: BTreeMap<String, String> = env
        .as_object()?
        .iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.clone(), s.clone())),
            Value::Number(n) => Some((k.clone(), n.to_string())),
            Value::Bool(b) => Some((k.clone(), b.to_string())),
            _ => None,
        })
        .collect();
    (!map.is_empty()).then_some(map)
}

/// `notifyByProcessId {id, action_name, manually}`: a `process:event` on the bus.
fn notify(daemon: &Daemon, arg: &Value) -> Answer {
    let Some(p) = shapes::id_of(arg).and_then(|id| shapes::find(daemon, id)) else {
        return Answer::Error("process id doesnt exists".into());
    };
    let event = arg.get("action_name").cloned().unwrap_or(Value::Null);
    let manually = arg.get("manually").cloned().unwrap_or(json!(false));
    daemon.node_bus.publish(
        "process:event",
        &json!({
            "event": event,
            "manually": manually,
            "process": shapes::event_process(&p),
            "at": now_ms(),
        }),
    );
    Answer::Nothing
}

/// `killMe {pid}`: `pm2:kill` on the bus (sent before anything else happens), SIGQUIT to
/// the caller (the npm client waits for it, 3 s at most), then the daemon exits. The signal
/// goes only to the pid the socket says the caller is: a client cannot make the daemon
/// signal another process.
async fn kill_me(daemon: &Daemon, arg: &Value, peer: Option<i32>) -> Answer {
    daemon.node_bus.publish(
        "pm2:kill",
        &json!({"status": "killed", "msg": "pm2 has been killed via CLI"}),
    );
    daemon
        .node_bus
        .drained(std::time::Duration::from_secs(1))
        .await;
    let asked = arg.get("pid").and_then(Value::as_i64);
    if let (Some(asked), Some(peer)) = (asked, peer) {
        if i64::from(peer) == asked {
            let pid = nix::unistd::Pid::from_raw(peer);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGQUIT);
        }
    }
    tracing::info!("PM2 is being killed via the Node API (killMe)");
    daemon.shutdown.notify_one();
    Answer::Silence
}

fn show_id(arg: &Value) -> String {
    match arg {
        Value::Object(m) => m.get("id").map_or("undefined".into(), show_id),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
