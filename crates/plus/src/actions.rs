//! The actions the dashboard offers on an app (`POST /api/processes/{target}/{action}`):
//! start, stop, restart, reload, delete, scale, flush, and trigger (a custom action the
//! app registered, `axm_actions`, as `pm2 trigger` runs it), by id or name, each sent to
//! the daemon as the CLI would and written to the audit log, whatever its outcome.

use crate::audit;
use crate::auth::Caller;
use crate::daemon::Daemon;
use crate::state::State;
use hyper::StatusCode;
use pm2_proto::{
    Action, ActionRequest, FlushRequest, Request, Response, ScaleChange, ScaleRequest, Target,
    TriggerRequest,
};
use serde_json::{json, Value};

/// The actions, as the URL names them (the OpenAPI file lists the same).
pub const NAMES: [&str; 8] = [
    "start", "stop", "restart", "reload", "delete", "scale", "flush", "trigger",
];

/// What an action ended in: the HTTP status and the JSON answer.
pub struct Done {
    /// 200 when every instance did it, 404 for an unknown target or action, 400 for bad
    /// parameters, 409 when the daemon refused or an instance failed.
    pub status: StatusCode,
    /// `{"ok", "outcomes"}` or `{"error"}`.
    pub body: Value,
}

/// Runs `action` on `target` for `caller`, and audits it.
pub async fn run(
    state: &State,
    caller: &Caller,
    remote: &str,
    target: &str,
    action: &str,
    params: Value,
) -> Done {
    let (done, ids) = perform(&state.daemon, target, action, &params).await;
    let asked = Asked {
        host: &state.host_name,
        caller,
        remote,
        target,
        action,
    };
    record(state, &asked, params, ids, &done);
    done
}

/// Who asked for an action, on which host and app.
pub struct Asked<'a> {
    /// The host acted on.
    pub host: &'a str,
    /// Who asked.
    pub caller: &'a Caller,
    /// From where (the peer's address).
    pub remote: &'a str,
    /// The target as given.
    pub target: &'a str,
    /// The action.
    pub action: &'a str,
}

/// Writes the audit line of `asked`, which ended in `done` having touched `ids`.
pub fn record(state: &State, asked: &Asked<'_>, params: Value, ids: Vec<u32>, done: &Done) {
    let entry = audit::Entry {
        host: asked.host,
        who: asked.caller.who(),
        remote: asked.remote.to_string(),
        action: asked.action,
        target: asked.target,
        params,
        ids,
        error: done.error(),
    };
    if let Err(e) = audit::append(&state.settings.files.audit_log(), &entry) {
        crate::log::error(&format!("cannot write the audit log: {e}"));
    }
}

impl Done {
    /// Why it failed, when it did.
    pub fn error(&self) -> Option<String> {
        self.body
            .get("error")
            .and_then(Value::as_str)
            .map(String::from)
    }
}

/// Runs `action` on `target` at `daemon` (the dashboard's own, or a linked host's agent's);
/// the answer and the ids it touched. Auditing is the caller's.
pub async fn perform(
    daemon: &Daemon,
    target: &str,
    action: &str,
    params: &Value,
) -> (Done, Vec<u32>) {
    match request(daemon, target, action, params).await {
        Err((status, message)) => (fail(status, &message), Vec::new()),
        Ok(request) => send(daemon, request).await,
    }
}

/// A failed action's answer.
pub fn fail(status: StatusCode, message: &str) -> Done {
    Done {
        status,
        body: json!({ "error": message }),
    }
}

/// The daemon request of an action.
async fn request(
    daemon: &Daemon,
    target: &str,
    action: &str,
    params: &Value,
) -> Result<Request, (StatusCode, String)> {
    let targets = vec![Target::parse(target)];
    let simple = |action| {
        Request::Action(ActionRequest {
            action,
            targets: targets.clone(),
            update_env: None,
            toggle_watch: false,
            patch: Default::default(),
        })
    };
    Ok(match action {
        // PM2's `start <name>` of a registered app is a restart (it starts a stopped one).
        "start" | "restart" => simple(Action::Restart),
        "stop" => simple(Action::Stop),
        "reload" => simple(Action::Reload),
        "delete" => simple(Action::Delete),
        "flush" => Request::Flush(FlushRequest {
            targets: targets.clone(),
        }),
        "scale" => Request::Scale(scale(daemon, target, params).await?),
        "trigger" => Request::Trigger(trigger(targets.clone(), params)?),
        other => {
            return Err((
                StatusCode::NOT_FOUND,
                format!("no action {other:?}: one of {}", NAMES.join(", ")),
            ))
        }
    })
}

/// `scale` takes `{"instances": "N" | "+N" | "-N"}` and an app name (an id names its app).
async fn scale(
    daemon: &Daemon,
    target: &str,
    params: &Value,
) -> Result<ScaleRequest, (StatusCode, String)> {
    let raw = match params.get("instances") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let change = ScaleChange::parse(&raw).ok_or((
        StatusCode::BAD_REQUEST,
        format!("scale needs {{\"instances\": \"N\" | \"+N\" | \"-N\"}}, got {raw:?}"),
    ))?;
    let name = match target.parse::<u32>() {
        Err(_) => target.to_string(),
        Ok(id) => name_of(daemon, id).await?,
    };
    Ok(ScaleRequest { name, change })
}

/// `trigger` takes `{"action": "<name>", "param": "<optional>"}`.
fn trigger(targets: Vec<Target>, params: &Value) -> Result<TriggerRequest, (StatusCode, String)> {
    let action = params
        .get("action")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .ok_or((
            StatusCode::BAD_REQUEST,
            "trigger needs {\"action\": \"<name>\"} (one of the app's axm_actions)".to_string(),
        ))?;
    let param = match params.get("param") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    Ok(TriggerRequest {
        targets,
        action: action.to_string(),
        param,
    })
}

async fn name_of(daemon: &Daemon, id: u32) -> Result<String, (StatusCode, String)> {
    match daemon.request(Request::Summary).await {
        Ok(Response::List { processes }) => processes
            .into_iter()
            .find(|p| p.pm_id == id)
            .map(|p| p.spec.name)
            .ok_or((StatusCode::NOT_FOUND, format!("no process with id {id}"))),
        Ok(other) => Err((
            StatusCode::BAD_GATEWAY,
            format!("unexpected reply {other:?}"),
        )),
        Err(e) => Err((StatusCode::BAD_GATEWAY, e)),
    }
}

/// Sends the request; the answer and the ids it touched.
async fn send(daemon: &Daemon, request: Request) -> (Done, Vec<u32>) {
    match daemon.request(request).await {
        Ok(Response::Outcomes { outcomes }) => summarize(
            "outcomes",
            outcomes
                .iter()
                .map(|o| {
                    let shown = json!({"pm_id": o.pm_id, "name": o.name, "error": o.error});
                    (o.pm_id, o.name.as_str(), o.error.as_deref(), shown)
                })
                .collect(),
        ),
        Ok(Response::TriggerReplies { replies }) => summarize(
            "replies",
            replies
                .iter()
                .map(|r| {
                    let shown = json!({"pm_id": r.pm_id, "name": r.name, "value": r.value, "error": r.error});
                    (r.pm_id, r.name.as_str(), r.error.as_deref(), shown)
                })
                .collect(),
        ),
        Ok(Response::Error { message }) => (fail(StatusCode::CONFLICT, &message), Vec::new()),
        Ok(other) => (
            fail(
                StatusCode::BAD_GATEWAY,
                &format!("unexpected reply {other:?}"),
            ),
            Vec::new(),
        ),
        Err(e) => (fail(StatusCode::BAD_GATEWAY, &e), Vec::new()),
    }
}

/// The answer to per-instance results (id, name, error, what is shown of it) and the ids.
fn summarize(key: &str, items: Vec<(u32, &str, Option<&str>, Value)>) -> (Done, Vec<u32>) {
    let ids = items.iter().map(|i| i.0).collect();
    let failed: Vec<String> = items
        .iter()
        .filter_map(|(id, name, error, _)| error.map(|e| format!("{name} ({id}): {e}")))
        .collect();
    let list = items.into_iter().map(|i| i.3).collect();
    (answer(failed, key, list), ids)
}

/// 200 with `{"ok": true, <key>: list}`, or 409 naming each instance that failed.
fn answer(failed: Vec<String>, key: &str, list: Vec<Value>) -> Done {
    let (status, mut body) = if failed.is_empty() {
        (StatusCode::OK, json!({"ok": true}))
    } else {
        (
            StatusCode::CONFLICT,
            json!({"ok": false, "error": failed.join("; ")}),
        )
    };
    body[key] = Value::Array(list);
    Done { status, body }
}
