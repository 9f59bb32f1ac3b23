//! `GET /api/link`: a linked host's agent asks to upgrade to `pm2-link/2` (or `/1`) with the link
//! secret as `Authorization: Bearer` and its name in `X-PM2-Link-Host`. A wrong secret is
//! refused (401), logged with the peer's address, and makes every other attempt wait a
//! second (429 until then), so secrets cannot be guessed fast. Once upgraded, the
//! connection's task reads the host's messages into [`super::hosts::Hosts`] and writes the
//! actions routed to it and, as `follow`, the apps whose log lines someone here follows
//! (the answer's `X-PM2-Link-Logs: on-demand` says it will), with a ping every few seconds. Its `event`s (revision 2: exits
//! and exceptions) go to the issues inbox and the alerts, named with the host.

use super::hosts::Attached;
use crate::body::Body;
use crate::link::wire;
use crate::state::State;
use crate::{log, reply};
use hyper::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONNECTION, UPGRADE};
use hyper::upgrade::OnUpgrade;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use pm2_home::plus::constant_time_eq;
use pm2_home::plus_link::{check_host_name, ensure_secret, HOST_HEADER, PROTOCOLS};
use pm2_proto::ProcessInfo;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncWriteExt, BufReader};

/// The largest message a host may send (the table of a thousand apps fits).
const MAX_IN: usize = 32 * 1024 * 1024;
/// A host silent this long is offline (it sends its table every second).
const SILENCE: Duration = Duration::from_secs(15);
/// How often the dashboard pings.
const PING: Duration = Duration::from_secs(5);
/// After a wrong secret, every attempt is refused for this long.
const FAILURE_PAUSE: Duration = Duration::from_secs(1);

/// Answers `GET /api/link`; on success the upgraded connection is served by a task.
pub fn handle(
    state: &Arc<State>,
    headers: &HeaderMap,
    on_upgrade: OnUpgrade,
    peer: SocketAddr,
) -> Response<Body> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let protocol = match protocol(header(UPGRADE.as_str())) {
        Ok(p) => p,
        Err(why) => return reply::error(StatusCode::BAD_REQUEST, &why),
    };
    let host = header(HOST_HEADER).to_string();
    if let Some(refused) = check_secret(state, header(AUTHORIZATION.as_str()), &host, peer) {
        return refused;
    }
    if let Err(e) = check_host_name(&host) {
        return reply::error(StatusCode::BAD_REQUEST, &e);
    }
    if host == state.host_name {
        return reply::error(StatusCode::CONFLICT, &format!(
            "{host:?} is the dashboard's own host name: link with another name, `pm2 link <secret> <url> <name>`"
        ));
    }
    let version = header(hyper::header::USER_AGENT.as_str()).to_string();
    let mut attached = match state.hosts.attach(&host, &peer.ip().to_string(), &version) {
        Ok(a) => a,
        Err(e) => return reply::error(StatusCode::CONFLICT, &e),
    };
    log::say(&format!("host {host} linked from {peer}"));
    let state = Arc::clone(state);
    tokio::spawn(async move {
        let bye = match on_upgrade.await {
            Ok(upgraded) => serve(&state, &host, TokioIo::new(upgraded), &mut attached).await,
            Err(e) => {
                log::error(&format!("host {host}: the upgrade failed: {e}"));
                false
            }
        };
        state.hosts.detach(&host, attached.conn, bye);
        log::say(&format!(
            "host {host} {}",
            if bye { "unlinked" } else { "went offline" }
        ));
    });
    let mut r = reply::with(StatusCode::SWITCHING_PROTOCOLS, "text/plain", Body::empty());
    r.headers_mut()
        .insert(UPGRADE, HeaderValue::from_static(protocol));
    r.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("upgrade"));
    r.headers_mut()
        .insert(wire::LOGS_HEADER, HeaderValue::from_static(wire::ON_DEMAND));
    r
}

/// The revision of the link the agent asked for (`Upgrade:`), or the refusal.
fn protocol(asked: &str) -> Result<&'static str, String> {
    PROTOCOLS
        .iter()
        .find(|p| asked.eq_ignore_ascii_case(p))
        .copied()
        .ok_or_else(|| {
            format!(
                "GET /api/link is for `pm2 link` agents (Upgrade: one of {})",
                PROTOCOLS.join(", ")
            )
        })
}

/// `None` when `authorization` carries the link secret; else the refusal (and the log line).
fn check_secret(
    state: &State,
    authorization: &str,
    host: &str,
    peer: SocketAddr,
) -> Option<Response<Body>> {
    let Ok(mut last) = state.last_failed_link.lock() else {
        return Some(reply::error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned"));
    };
    if last.is_some_and(|at| at.elapsed() < FAILURE_PAUSE) {
        return Some(reply::error(
            StatusCode::TOO_MANY_REQUESTS,
            "a wrong link secret was just given: try again in a second",
        ));
    }
    let secret = match ensure_secret(&state.settings.files) {
        Ok(s) => s,
        Err(e) => {
            return Some(reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("cannot read the link secret: {e}"),
            ))
        }
    };
    let given = authorization.strip_prefix("Bearer ").unwrap_or("");
    if constant_time_eq(given.as_bytes(), secret.as_bytes()) {
        return None;
    }
    *last = Some(Instant::now());
    log::error(&format!(
        "refused a link from {peer} (host {host:?}): wrong link secret"
    ));
    Some(reply::error(
        StatusCode::UNAUTHORIZED,
        "wrong link secret: use the one `pm2 plus` prints on the dashboard's host",
    ))
}

/// Serves one host's connection; whether it ended with `bye`.
async fn serve(
    state: &State,
    host: &str,
    io: TokioIo<hyper::upgrade::Upgraded>,
    out: &mut Attached,
) -> bool {
    let conn = out.conn;
    let (read, mut write) = tokio::io::split(io);
    let mut read = BufReader::new(read);
    let mut ping = tokio::time::interval(PING);
    loop {
        tokio::select! {
            message = tokio::time::timeout(SILENCE, wire::read(&mut read, MAX_IN)) => {
                let message = match message {
                    Ok(Ok(Some(m))) => m,
                    Ok(Ok(None)) => return false,
                    Ok(Err(e)) => { log::error(&format!("host {host} sent {e}")); return false }
                    Err(_) => { log::error(&format!("host {host} silent for {SILENCE:?}")); return false }
                };
                if wire::kind(&message) == "bye" {
                    return true;
                }
                take(state, host, conn, message);
            }
            action = out.actions.recv() => {
                let Some(action) = action else { return false };
                if write.write_all(&wire::encode(&action)).await.is_err() {
                    return false;
                }
            }
            changed = out.wanted.changed() => {
                if changed.is_err() {
                    return false; // The host was forgotten.
                }
                let apps = out.wanted.borrow_and_update().clone();
                let follow = json!({"t": "follow", "apps": apps});
                if write.write_all(&wire::encode(&follow)).await.is_err() {
                    return false;
                }
            }
            _ = ping.tick() => {
                if write.write_all(&wire::encode(&json!({"t": "ping"}))).await.is_err() {
                    return false;
                }
            }
        }
    }
}

/// One message from a host.
fn take(state: &State, host: &str, conn: u64, mut message: Value) {
    let hosts = &state.hosts;
    match wire::kind(&message) {
        "state" => {
            let raw = message.get_mut("processes").map(Value::take);
            let processes: Vec<ProcessInfo> = match raw.map(serde_json::from_value) {
                Some(Ok(p)) => p,
                Some(Err(e)) => {
                    // A host on another version of pm2-rs: say why its table is empty.
                    log::error(&format!(
                        "host {host}: a table this dashboard cannot read: {e}"
                    ));
                    Vec::new()
                }
                None => Vec::new(),
            };
            hosts.update(
                host,
                conn,
                processes,
                message.get_mut("overview").map(Value::take),
            );
        }
        "log" | "missed" => {
            message["host"] = json!(host);
            hosts.log(host, conn, message);
        }
        "event" => {
            hosts.seen(host, conn);
            crate::issues::remote::on_event(state, host, &message);
        }
        "reply" => {
            let id = message.get("id").and_then(Value::as_u64).unwrap_or(0);
            hosts.reply(host, conn, id, message);
        }
        _ => hosts.seen(host, conn),
    }
}
