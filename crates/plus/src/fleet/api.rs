//! The fleet's endpoints: `GET /api/hosts` (this host and each linked one),
//! `GET /api/fleet` (every host's apps, each row with its `host`),
//! `GET /api/hosts/{host}/processes` and `/server`, a linked host's live logs
//! (`/api/logs?host=<host>&app=<id|name|all>`), and
//! `POST /api/hosts/{host}/processes/{target}/{action}`, routed to the host's agent and
//! audited with the host. This host's name routes to the local endpoints.

use crate::actions::{self, Done};
use crate::auth::Caller;
use crate::body::Body;
use crate::state::State;
use crate::{api, reply, table};
use bytes::Bytes;
use hyper::{Response, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// How long an action on a linked host may take (a reload waits for its apps).
const ACTION_TIMEOUT: Duration = Duration::from_secs(120);

/// `GET /api/hosts`.
pub async fn hosts(state: &State) -> Response<Body> {
    let local = api::list(state).await.map(|p| p.len()).unwrap_or(0);
    let mut all = vec![json!({
        "host": state.host_name, "local": true, "online": true, "processes": local,
    })];
    all.extend(state.hosts.list());
    reply::json(StatusCode::OK, &Value::Array(all))
}

/// `GET /api/fleet`: every host's rows.
pub async fn fleet(state: &State) -> Response<Body> {
    let now = pm2_home::now_ms();
    let mut rows = match api::list(state).await {
        Ok(p) => table::rows_of(&state.host_name, true, &p, now),
        Err(e) => return reply::error(StatusCode::BAD_GATEWAY, &e),
    };
    for s in state.hosts.snapshots(None) {
        rows.extend(table::rows_of(&s.host, s.online, &s.processes, now));
    }
    reply::json(StatusCode::OK, &Value::Array(rows))
}

/// `GET /api/hosts/{host}/...`, when `rest` (after the host) is an endpoint.
pub async fn get(state: Arc<State>, host: &str, rest: &str) -> Response<Body> {
    let local = host == state.host_name;
    match rest {
        "processes" if local => api::processes(&state).await,
        "server" if local => api::server(&state).await,
        "processes" => match state.hosts.snapshots(Some(host)).pop() {
            Some(s) => reply::json(
                StatusCode::OK,
                &Value::Array(table::rows_of(
                    &s.host,
                    s.online,
                    &s.processes,
                    pm2_home::now_ms(),
                )),
            ),
            None => unknown(host),
        },
        "server" => match state.hosts.overview(host) {
            Some(o) => reply::json(StatusCode::OK, &o),
            None => unknown(host),
        },
        _ => reply::error(
            StatusCode::NOT_FOUND,
            "no such page: /api/hosts/{host}/processes or /server",
        ),
    }
}

fn unknown(host: &str) -> Response<Body> {
    reply::error(
        StatusCode::NOT_FOUND,
        &format!("no host {host:?}: see GET /api/hosts"),
    )
}

/// `POST /api/hosts/{host}/processes/{target}/{action}` for a linked host (the caller
/// routes this host's own to the local action).
pub async fn act(
    state: &State,
    caller: &Caller,
    remote: &str,
    host: &str,
    target: &str,
    action: &str,
    params: Value,
) -> Done {
    let done = if actions::NAMES.contains(&action) {
        routed(state, caller, host, target, action, &params).await
    } else {
        actions::fail(
            StatusCode::NOT_FOUND,
            &format!("no action {action:?}: one of {}", actions::NAMES.join(", ")),
        )
    };
    let ids = done
        .body
        .get("ids")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_u64())
                .filter_map(|v| u32::try_from(v).ok())
                .collect()
        })
        .unwrap_or_default();
    let asked = actions::Asked {
        host,
        caller,
        remote,
        target,
        action,
    };
    actions::record(state, &asked, params, ids, &done);
    done
}

async fn routed(
    state: &State,
    caller: &Caller,
    host: &str,
    target: &str,
    action: &str,
    params: &Value,
) -> Done {
    let message = json!({"t": "action", "target": target, "action": action, "params": params, "who": caller.who()});
    let wait = match state.hosts.send(host, message) {
        Ok(w) => w,
        Err(e) if state.hosts.knows(host) => {
            return actions::fail(StatusCode::SERVICE_UNAVAILABLE, &e)
        }
        Err(e) => return actions::fail(StatusCode::NOT_FOUND, &e),
    };
    match tokio::time::timeout(ACTION_TIMEOUT, wait).await {
        Ok(Ok(reply)) => {
            let status = reply
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok());
            let status = status
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::BAD_GATEWAY);
            let mut body = reply.get("body").cloned().unwrap_or_else(|| json!({}));
            body["host"] = json!(host);
            body["ids"] = reply.get("ids").cloned().unwrap_or_else(|| json!([]));
            Done { status, body }
        }
        Ok(Err(_)) => actions::fail(
            StatusCode::BAD_GATEWAY,
            &format!("host {host:?} went offline before it answered"),
        ),
        Err(_) => actions::fail(
            StatusCode::GATEWAY_TIMEOUT,
            &format!("host {host:?} did not answer within {ACTION_TIMEOUT:?}"),
        ),
    }
}

/// A linked host's log stream (`app`: an id, a name, or `all`), as SSE `log` and `missed`
/// events carrying the host; `None` for an unknown host. The host sends `app`'s lines
/// while the stream is open (it follows them until the client goes away).
pub fn logs(state: &Arc<State>, host: &str, app: &str) -> Option<Body> {
    let app = match app {
        "" => "all",
        app => app,
    }
    .to_string();
    let mut lines = state.hosts.follow(host, &app)?;
    let host = host.to_string();
    let (tx, rx) = mpsc::channel(64);
    let following = Following {
        state: Arc::clone(state),
        host: host.clone(),
        app: app.clone(),
    };
    tokio::spawn(async move {
        let _following = following;
        if tx
            .send(Bytes::from_static(b": streaming\n\n"))
            .await
            .is_err()
        {
            return;
        }
        loop {
            let event = tokio::select! {
                next = lines.recv() => next,
                () = tx.closed() => return,
            };
            let chunk = match event {
                Ok(e) if wire_kind(&e) == "missed" => frame("missed", &e),
                Ok(e) if wanted(&app, &e) => frame("log", &e),
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(n)) => frame(
                    "missed",
                    &json!({"host": host, "lines": n, "where": "the dashboard (this browser was slow)"}),
                ),
                Err(broadcast::error::RecvError::Closed) => return,
            };
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
    });
    Some(Body::Stream(rx))
}

/// A follower of a host's app, counted until the stream's task ends.
struct Following {
    state: Arc<State>,
    host: String,
    app: String,
}

impl Drop for Following {
    fn drop(&mut self) {
        self.state.hosts.unfollow(&self.host, &self.app);
    }
}

fn wire_kind(e: &Value) -> &str {
    crate::link::wire::kind(e)
}

/// Whether the line `e` is from `app` (an id, a name, `all` or empty for every app).
fn wanted(app: &str, e: &Value) -> bool {
    match app {
        "" | "all" => true,
        app => {
            e["name"].as_str() == Some(app)
                || e["pm_id"].as_u64().is_some_and(|id| id.to_string() == app)
        }
    }
}

fn frame(name: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}
