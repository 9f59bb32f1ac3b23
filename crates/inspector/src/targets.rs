//! The debug targets an inspector lists at `/json/list`: what a user pastes into Chrome,
//! and the websocket a profile is recorded over.

use crate::{http, Error};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;

/// One debug target (a Node process has one, its main thread).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Node's id for it (the path of its websocket).
    pub id: String,
    /// The script, as Node titles it.
    pub title: String,
    /// `ws://host:port/id`: what DevTools clients connect to.
    pub web_socket_debugger_url: String,
    /// `devtools://devtools/bundled/js_app.html?...`: opens Chrome DevTools on it.
    pub devtools_frontend_url: String,
}

/// The targets the inspector at `addr` lists; an error when it is not an inspector.
pub fn list(addr: SocketAddr, within: Duration) -> Result<Vec<Target>, Error> {
    let body = http::get(addr, "/json/list", within)?;
    let not_a_list = |what: &str| Error::Http {
        addr,
        what: format!("{what}, not an inspector's target list"),
    };
    let value: Value = serde_json::from_slice(&body).map_err(|_| not_a_list("no JSON"))?;
    let entries = value.as_array().ok_or_else(|| not_a_list("JSON"))?;
    let targets: Vec<Target> = entries.iter().filter_map(target_of).collect();
    if targets.is_empty() {
        return Err(not_a_list("no target with a webSocketDebuggerUrl"));
    }
    Ok(targets)
}

fn target_of(entry: &Value) -> Option<Target> {
    let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_string);
    let ws = text("webSocketDebuggerUrl").filter(|u| u.starts_with("ws://"))?;
    let devtools = text("devtoolsFrontendUrl")
        .filter(|u| u.starts_with("devtools://"))
        .unwrap_or_else(|| devtools_url(&ws));
    Some(Target {
        id: text("id").unwrap_or_default(),
        title: text("title").unwrap_or_default(),
        web_socket_debugger_url: ws,
        devtools_frontend_url: devtools,
    })
}

/// Chrome's URL for a Node target, as Node itself forms it, for an inspector that does
/// not send one.
fn devtools_url(ws: &str) -> String {
    let host_path = ws.trim_start_matches("ws://");
    format!("devtools://devtools/bundled/js_app.html?experiments=true&v8only=true&ws={host_path}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_node_entry_gives_its_urls() {
        let t = target_of(&json!({
            "id": "abc", "title": "/app.js", "type": "node",
            "webSocketDebuggerUrl": "ws://127.0.0.1:9229/abc",
            "devtoolsFrontendUrl": "devtools://devtools/bundled/js_app.html?experiments=true&v8only=true&ws=127.0.0.1:9229/abc"
        }))
        .expect("a target");
        assert_eq!(t.web_socket_debugger_url, "ws://127.0.0.1:9229/abc");
        assert!(t.devtools_frontend_url.ends_with("ws=127.0.0.1:9229/abc"));
    }

    #[test]
    fn a_missing_devtools_url_is_formed_and_an_entry_without_websocket_is_skipped() {
        let t = target_of(&json!({"webSocketDebuggerUrl": "ws://[::1]:4000/x"})).expect("t");
        assert_eq!(
            t.devtools_frontend_url,
            "devtools://devtools/bundled/js_app.html?experiments=true&v8only=true&ws=[::1]:4000/x"
        );
        assert!(target_of(&json!({"id": "attached"})).is_none());
        assert!(target_of(&json!({"webSocketDebuggerUrl": "http://x"})).is_none());
    }
}
