//! One request → one answer. Public: the login endpoints and the page's script and style.
//! Everything else needs a session or the API token (else 401: the login page for `/`, a
//! JSON error for the rest); a state-changing call from a session also needs its CSRF
//! token. While the dashboard listens on loopback, a request whose `Host` is not a
//! loopback name is refused (a page on another site cannot reach it by DNS rebinding).

use crate::auth::{self, Caller};
use crate::body::{self, Body};
use crate::state::State;
use crate::{actions, api, assets, events, fleet, history, issues_api, login, reply};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap};
use hyper::{Method, Request, Response, StatusCode};
use std::net::SocketAddr;
use std::sync::Arc;

/// Every route the OpenAPI file must describe (a unit test checks it does).
#[cfg(test)]
pub const DOCUMENTED: &[&str] = &[
    "/login",
    "/logout",
    "/api/session",
    "/api/server",
    "/api/processes",
    "/api/processes/{target}/{action}",
    "/api/events",
    "/api/logs",
    "/api/openapi.json",
    "/api/issues",
    "/api/issues/{id}",
    "/api/issues/{id}/resolve",
    "/api/alerts",
    "/api/history",
    "/metrics",
    "/api/link",
    "/api/hosts",
    "/api/fleet",
    "/api/hosts/{host}/processes",
    "/api/hosts/{host}/server",
    "/api/hosts/{host}/processes/{target}/{action}",
];

/// Answers one request.
pub async fn handle(
    state: Arc<State>,
    mut request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    // A linked host's agent authenticates with the link secret, not a session.
    let on_upgrade =
        (request.uri().path() == "/api/link").then(|| hyper::upgrade::on(&mut request));
    let (parts, body) = request.into_parts();
    if !host_allowed(&state.settings.bind, &parts.headers) {
        return reply::error(StatusCode::FORBIDDEN, "unexpected Host header");
    }
    if let Some(on_upgrade) = on_upgrade {
        return fleet::accept::handle(&state, &parts.headers, on_upgrade, peer);
    }
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    if let Some(asset) = assets::public(&path) {
        if parts.method == Method::GET {
            return assets::answer(&asset, &parts.headers);
        }
    }
    if path == "/login" {
        return match parts.method {
            Method::GET => login::link(&state, &query),
            Method::POST => match body::read_capped(body).await {
                Some(form) => login::password(Arc::clone(&state), form).await,
                None => reply::error(StatusCode::PAYLOAD_TOO_LARGE, "form too large"),
            },
            _ => not_allowed(),
        };
    }
    let caller = match state.sessions.lock() {
        Ok(s) => auth::caller(&parts.headers, &s, &state.api_token, pm2_home::now_ms()),
        Err(_) => None,
    };
    let Some(caller) = caller else {
        return if path == "/" {
            login::page()
        } else {
            reply::error(StatusCode::UNAUTHORIZED, "log in first: run `pm2 plus` for a login link, or send the API token as `Authorization: Bearer`")
        };
    };
    if parts.method == Method::POST {
        return post(state, &caller, &parts.headers, &path, body, peer).await;
    }
    if parts.method != Method::GET {
        return not_allowed();
    }
    get(state, &caller, &path, &query).await
}

async fn get(state: Arc<State>, caller: &Caller, path: &str, query: &str) -> Response<Body> {
    match path {
        "/" => reply::text(
            StatusCode::OK,
            "text/html; charset=utf-8",
            assets::INDEX_HTML.to_string(),
        ),
        "/api/session" => api::session(caller),
        "/api/server" => api::server(&state).await,
        "/api/processes" => api::processes(&state).await,
        "/api/openapi.json" => reply::text(
            StatusCode::OK,
            "application/json",
            assets::OPENAPI_JSON.to_string(),
        ),
        "/metrics" => api::prometheus(&state).await,
        "/api/hosts" => fleet::api::hosts(&state).await,
        "/api/fleet" => fleet::api::fleet(&state).await,
        "/api/issues" => issues_api::list(&state, query),
        "/api/alerts" => issues_api::alerts(&state),
        "/api/history" => history::api::get(state, query).await,
        _ if path.starts_with("/api/hosts/") => match path["/api/hosts/".len()..].split_once('/') {
            Some((host, rest)) => fleet::api::get(Arc::clone(&state), &decode(host), rest).await,
            None => reply::error(StatusCode::NOT_FOUND, "no such page"),
        },
        _ if path.starts_with("/api/issues/") => {
            issues_api::one(&state, &path["/api/issues/".len()..])
        }
        "/api/events" => reply::with(
            StatusCode::OK,
            "text/event-stream",
            events::processes(state),
        ),
        "/api/logs" => {
            let app = login::query_param(query, "app").unwrap_or_default();
            let host = login::query_param(query, "host").unwrap_or_default();
            if !host.is_empty() && host != state.host_name {
                return match fleet::api::logs(&state, &host, &app) {
                    Some(body) => reply::with(StatusCode::OK, "text/event-stream", body),
                    None => reply::error(StatusCode::NOT_FOUND, &format!("no host {host:?}")),
                };
            }
            reply::with(
                StatusCode::OK,
                "text/event-stream",
                events::logs(state, &app),
            )
        }
        _ => reply::error(StatusCode::NOT_FOUND, "no such page"),
    }
}

async fn post(
    state: Arc<State>,
    caller: &Caller,
    headers: &HeaderMap,
    path: &str,
    body: Incoming,
    peer: SocketAddr,
) -> Response<Body> {
    if path == "/logout" {
        // No CSRF token needed: a forged logout harms nothing, and SameSite=Strict keeps
        // the cookie off cross-site requests anyway.
        return login::logout(&state, headers);
    }
    if !caller.may_change(headers) {
        return reply::error(
            StatusCode::FORBIDDEN,
            "missing or wrong X-CSRF-Token (from /api/session)",
        );
    }
    if let Some(done) = issue_post(&state, caller, path, peer) {
        return done;
    }
    let (host, rest) = match route(path) {
        Some(r) => r,
        None => return reply::error(StatusCode::NOT_FOUND, "no such endpoint"),
    };
    let Some((target, action)) = rest.split_once('/') else {
        return reply::error(
            StatusCode::NOT_FOUND,
            "POST /api/processes/{target}/{action}",
        );
    };
    let target = decode(target);
    let Some(raw) = body::read_capped(body).await else {
        return reply::error(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
    };
    let params = if raw.iter().all(u8::is_ascii_whitespace) {
        serde_json::json!({})
    } else {
        match serde_json::from_slice(&raw) {
            Ok(v) => v,
            Err(e) => {
                return reply::error(StatusCode::BAD_REQUEST, &format!("body is not JSON: {e}"))
            }
        }
    };
    let remote = peer.ip().to_string();
    let done = match host {
        Some(host) if host != state.host_name => {
            fleet::api::act(&state, caller, &remote, &host, &target, action, params).await
        }
        _ => actions::run(&state, caller, &remote, &target, action, params).await,
    };
    reply::json(done.status, &done.body)
}

/// An action's path: `/api/processes/{target}/{action}` (this host) or
/// `/api/hosts/{host}/processes/{target}/{action}`; the host and the rest.
fn route(path: &str) -> Option<(Option<String>, &str)> {
    if let Some(rest) = path.strip_prefix("/api/processes/") {
        return Some((None, rest));
    }
    let (host, rest) = path.strip_prefix("/api/hosts/")?.split_once('/')?;
    Some((Some(decode(host)), rest.strip_prefix("processes/")?))
}

/// A path segment, percent-decoded.
fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// `POST /api/issues/{id}/resolve`, when that is the path.
fn issue_post(
    state: &State,
    caller: &Caller,
    path: &str,
    peer: SocketAddr,
) -> Option<Response<Body>> {
    let id = path
        .strip_prefix("/api/issues/")?
        .strip_suffix("/resolve")?;
    Some(issues_api::resolve(
        state,
        caller,
        &peer.ip().to_string(),
        id,
    ))
}

fn not_allowed() -> Response<Body> {
    reply::error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
}

/// Whether the `Host` header names this machine while the dashboard listens on loopback.
fn host_allowed(bind: &pm2_home::plus::Bind, headers: &HeaderMap) -> bool {
    if !bind.is_loopback() {
        return true;
    }
    let mut hosts = headers.get_all(header::HOST).iter();
    let (Some(host), None) = (hosts.next().and_then(|h| h.to_str().ok()), hosts.next()) else {
        // None, or several (which one a proxy looked at is anyone's guess).
        return false;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "localhost" | "127.0.0.1" | "[::1]") || name == bind.host
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_file_describes_every_action_and_route() {
        let doc: serde_json::Value = serde_json::from_str(assets::OPENAPI_JSON).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for route in DOCUMENTED {
            assert!(
                paths.contains_key(*route),
                "{route} missing from openapi.json"
            );
        }
        let actions =
            &paths["/api/processes/{target}/{action}"]["post"]["parameters"][1]["schema"]["enum"];
        let listed: Vec<&str> = actions
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        assert_eq!(listed, crate::actions::NAMES);
    }

    #[test]
    fn on_loopback_only_this_machines_names_are_served() {
        use hyper::header::HeaderValue;
        let bind = |host: &str| pm2_home::plus::Bind {
            host: host.into(),
            port: 9615,
        };
        let with = |hosts: &[&str]| {
            let mut h = HeaderMap::new();
            for v in hosts {
                h.append(header::HOST, HeaderValue::from_str(v).unwrap());
            }
            h
        };
        let local = bind("127.0.0.1");
        assert!(host_allowed(&local, &with(&["127.0.0.1:9615"])));
        assert!(host_allowed(&local, &with(&["localhost:9615"])));
        assert!(host_allowed(&local, &with(&["[::1]:9615"])));
        assert!(!host_allowed(&local, &with(&["attacker.example:9615"])));
        assert!(!host_allowed(
            &local,
            &with(&["localhost", "attacker.example"])
        ));
        assert!(!host_allowed(&local, &with(&[])));
        assert!(host_allowed(&bind("0.0.0.0"), &with(&["dash.example.org"])));
    }
}
