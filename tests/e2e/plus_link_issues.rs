//! A linked host's history, issues and alerts on the dashboard (pm2-rs beyond PM2 7,
//! whose `pm2 link` goes to the hosted PM2 Plus service, so no reference twin). Home A
//! runs the dashboard with a webhook; home B is linked as `hostb` and runs an app that
//! crashes and one that idles over the memory threshold. A's inbox gets B's crash with
//! the host, the lines before it and the stack; the webhook gets the crash, first-seen
//! and memory alerts naming hostb; A's history holds hostb's points under `host=hostb`
//! and none under this host.

use crate::harness::http::request;
use crate::harness::webhook::Webhook;
use crate::harness::*;
use crate::plus_alerts::{alerts, write, Dashboard, CRASHER};
use serde_json::Value;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

fn get(p: &Pm2, d: &Dashboard, path: &str) -> (u16, Value) {
    let r = request(d.port, "GET", path, &[("Authorization", &d.bearer)])
        .unwrap_or_else(|e| p.fail(&format!("GET {path}: {e}"), None));
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

fn alert_from(p: &Pm2, hook: &Webhook, event: &str, app: &str) -> Value {
    p.wait_until(T, &format!("a {event} alert for {app} on hostb"), || {
        alerts(hook)
            .into_iter()
            .find(|a| a["event"] == event && a["app"] == app && a["host"] == "hostb")
    })
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn a_linked_hosts_crash_is_an_issue_with_its_host_its_history_kept_and_alerts_name_it() {
    let a = Pm2::new("linkiss_a");
    let hook = Webhook::start();
    let url = hook.url("/hooks/fleet");
    let d = Dashboard::start(
        &a,
        &[
            ("alert_url", &url),
            ("alert_memory", "1M"),
            ("alert_for", "1s"),
        ],
    );
    let secret = std::fs::read_to_string(a.home.join("plus/link-secret")).expect("link secret");
    let b = Pm2::new("linkiss_b");
    let dashboard = format!("http://127.0.0.1:{}", d.port);
    b.ok(&["link", secret.trim(), &dashboard, "hostb"]);
    write(&b, "crasher.js", CRASHER);
    write(&b, "steady.js", "setInterval(() => {}, 1000);\n");
    b.ok(&["start", "steady.js"]);
    b.ok(&["start", "crasher.js", "--max-restarts", "3"]);

    // The crash, in A's inbox under hostb, with the lines before and the stack.
    let issue = a.wait_until(T, "crasher's crash in A's inbox for hostb", || {
        let (_, rows) = get(&a, &d, "/api/issues?host=hostb");
        rows.as_array()?
            .iter()
            .find(|r| r["app"] == "crasher" && r["kind"] == "crash")
            .cloned()
    });
    assert_eq!(issue["host"], "hostb", "{issue}");
    let id = issue["id"].as_str().unwrap_or_default();
    let (_, full) = get(&a, &d, &format!("/api/issues/{id}"));
    assert!(
        full["message"]
            .as_str()
            .unwrap_or("")
            .contains("Error: boom"),
        "{full}"
    );
    assert!(
        full["stack"].as_str().unwrap_or("").contains("crasher.js"),
        "{full}"
    );
    let logs = full["logs"].to_string();
    assert!(logs.contains("about to fail"), "{full}");
    let (_, all) = get(&a, &d, "/api/issues");
    let crasher_hosts: Vec<&Value> = all
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["app"] == "crasher")
        .map(|r| &r["host"])
        .collect();
    assert!(
        !crasher_hosts.is_empty() && crasher_hosts.iter().all(|h| *h == "hostb"),
        "only hostb's crasher: {all}"
    );
    let (status, _) = get(&a, &d, "/api/issues?host=nohost");
    assert_eq!(status, 404);

    // The alerts name the host.
    let crash = alert_from(&a, &hook, "crash", "crasher");
    assert!(
        crash["message"].as_str().unwrap_or("").contains("on hostb"),
        "{crash}"
    );
    let first = alert_from(&a, &hook, "issue_first_seen", "crasher");
    assert_eq!(first["detail"]["host"], "hostb", "{first}");
    let memory = alert_from(&a, &hook, "memory", "steady");
    assert!(
        memory["message"]
            .as_str()
            .unwrap_or("")
            .contains("steady ("),
        "{memory}"
    );

    // hostb's history is kept apart from this host's.
    let path = "/api/history?host=hostb&app=steady&metric=memory&range=1h";
    a.wait_until(T, "points of hostb's steady", || {
        let (_, h) = get(&a, &d, path);
        h["points"]
            .as_array()
            .is_some_and(|p| p.len() >= 2)
            .then_some(())
    });
    let (_, local) = get(&a, &d, "/api/history?app=steady&metric=memory&range=1h");
    assert_eq!(local["points"].as_array().map(Vec::len), Some(0), "{local}");
    let (status, _) = get(&a, &d, "/api/history?host=nohost&app=steady");
    assert_eq!(status, 404);
    b.ok(&["unlink"]);
}
