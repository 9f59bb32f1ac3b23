//! The JSON endpoints that read: the caller's session, the server overview, the process
//! table, and the Prometheus page (every online host's series, with a `host` label).

use crate::auth::Caller;
use crate::body::Body;
use crate::state::State;
use crate::{metrics, overview, reply, table};
use hyper::{Response, StatusCode};
use pm2_proto::{ProcessInfo, Request, Response as DaemonResponse};
use serde_json::{json, Value};

/// `GET /api/session`: the CSRF token the page sends back on every POST.
pub fn session(caller: &Caller) -> Response<Body> {
    let csrf = match caller {
        Caller::Session(s) => Value::String(s.csrf.clone()),
        Caller::Token => Value::Null,
    };
    reply::json(StatusCode::OK, &json!({"csrf": csrf, "who": caller.who()}))
}

/// `GET /api/server`.
pub async fn server(state: &State) -> Response<Body> {
    let daemon = match state.daemon.request(Request::Ping).await {
        Ok(DaemonResponse::Pong { version, pid }) => json!({"version": version, "pid": pid}),
        Ok(_) => Value::Null,
        Err(e) => json!({ "error": e }),
    };
    let body = overview::overview(state.node_version.as_deref(), daemon);
    reply::json(StatusCode::OK, &body)
}

/// `GET /api/processes`.
pub async fn processes(state: &State) -> Response<Body> {
    match list(state).await {
        Ok(p) => {
            let now = pm2_home::now_ms();
            let mut rows = table::rows(&state.host_name, &p, now);
            // Summary's readings are as of now (fresh).
            table::add_monit_at(&mut rows, &table::read_now(&p, now));
            reply::json(StatusCode::OK, &rows)
        }
        Err(e) => reply::error(StatusCode::BAD_GATEWAY, &e),
    }
}

/// `GET /metrics`.
pub async fn prometheus(state: &State) -> Response<Body> {
    match list(state).await {
        Ok(p) => {
            let mut hosts = vec![(state.host_name.clone(), p)];
            for s in state.hosts.snapshots(None).into_iter().filter(|s| s.online) {
                hosts.push((s.host, s.processes));
            }
            reply::text(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                metrics::render(&hosts, pm2_home::now_ms()),
            )
        }
        Err(e) => reply::error(StatusCode::BAD_GATEWAY, &e),
    }
}

/// The instances without their environments.
pub async fn list(state: &State) -> Result<Vec<ProcessInfo>, String> {
    state.daemon.summary().await
}
