//! What a linked host sends besides its table (pm2-rs beyond PM2 7, whose `pm2 link` goes
//! to the hosted PM2 Plus service, so no reference twin). Home A runs the dashboard with
//! a webhook; home B is linked as `hostb`. A `pm2 reload` on B is a reload alert naming
//! hostb, in the webhook and in A's `/api/alerts` deliveries; a `pm2 deploy` run on B is
//! a deploy alert naming it. B sends its apps' log lines only while a client on A follows
//! them (one app, or all), and stops when the client goes away.

use crate::harness::sse::Stream;
use crate::harness::webhook::Webhook;
use crate::harness::*;
use crate::plus_alerts::{alerts, write, Dashboard, T};
use serde_json::Value;

/// A prints a numbered line every 50 ms.
const TICKER: &str = "let n = 0; setInterval(() => console.log('tick ' + (++n)), 50);\n";
/// Another app as chatty.
const TOCKER: &str = "let n = 0; setInterval(() => console.log('tock ' + (++n)), 50);\n";

/// A's dashboard (with `settings`) and B linked to it as hostb, hostb online.
fn linked(tag: &str, settings: &[(&str, &str)]) -> (Pm2, Pm2, Dashboard) {
    let a = Pm2::new(&format!("{tag}_a"));
    let d = Dashboard::start(&a, settings);
    let secret = std::fs::read_to_string(a.home.join("plus/link-secret")).expect("link secret");
    let b = Pm2::new(&format!("{tag}_b"));
    let url = format!("http://127.0.0.1:{}", d.port);
    b.ok(&["link", secret.trim(), &url, "hostb"]);
    hostb(&a, &d);
    (a, b, d)
}

/// hostb as `/api/hosts` lists it, once it is online.
fn hostb(a: &Pm2, d: &Dashboard) -> Value {
    a.wait_until(T, "hostb online", || {
        d.json(a, "/api/hosts")
            .as_array()?
            .iter()
            .find(|h| h["host"] == "hostb" && h["online"] == true)
            .cloned()
    })
}

fn log_lines(a: &Pm2, d: &Dashboard) -> u64 {
    hostb(a, d)["log_lines"].as_u64().unwrap_or(u64::MAX)
}

/// The lines in B's out log of `app`.
fn printed(b: &Pm2, app: &str) -> usize {
    let path = b
        .apps()
        .into_iter()
        .find(|x| x["name"] == app)
        .map(|x| env_str(&x, "pm_out_log_path").to_string())
        .unwrap_or_else(|| b.fail(&format!("{app} is not in B's list"), None));
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .count()
}

/// Waits until B's `app` printed `more` lines after the `printed` it had.
fn after_lines(b: &Pm2, app: &str, more: usize) {
    let from = printed(b, app);
    b.wait_until(T, &format!("{more} more lines of {app}"), || {
        (printed(b, app) >= from + more).then_some(())
    });
}

/// The `log` events of a stream, parsed.
fn logs(stream: &mut Stream) -> Vec<Value> {
    stream
        .events("log")
        .iter()
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect()
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn a_reload_on_a_linked_host_is_a_reload_alert_naming_it() {
    let hook = Webhook::start();
    let url = hook.url("/hooks/reload");
    let (a, b, d) = linked("linkdone", &[("alert_url", &url)]);
    write(&b, "api.js", "setInterval(() => {}, 1000);\n");
    b.ok(&["start", "api.js", "-i", "2"]);
    b.ok(&["reload", "api"]);
    let reload = a.wait_until(T, "a reload alert from hostb", || {
        alerts(&hook)
            .into_iter()
            .find(|x| x["event"] == "reload" && x["host"] == "hostb")
    });
    assert_eq!(reload["app"], "api", "{reload}");
    assert_eq!(reload["detail"]["ok"], true, "{reload}");
    let message = reload["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("reloaded api (2 instance(s): ") && message.contains(" on hostb in "),
        "{reload}"
    );
    a.wait_until(T, "hostb's reload in A's deliveries", || {
        let deliveries = d.json(&a, "/api/alerts")["deliveries"].clone();
        deliveries
            .as_array()?
            .iter()
            .find(|x| x["event"] == "reload" && x["host"] == "hostb" && x["ok"] == true)?;
        Some(())
    });
    // A's own reload is still A's.
    write(&a, "local.js", "setInterval(() => {}, 1000);\n");
    a.ok(&["start", "local.js"]);
    a.ok(&["reload", "local"]);
    let local = a.wait_until(T, "a reload alert from A", || {
        alerts(&hook)
            .into_iter()
            .find(|x| x["event"] == "reload" && x["app"] == "local")
    });
    assert_ne!(local["host"], "hostb", "{local}");
    b.ok(&["unlink"]);
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn a_linked_host_sends_log_lines_only_while_a_client_follows_them() {
    let (a, b, d) = linked("linkfollow", &[]);
    write(&b, "ticker.js", TICKER);
    write(&b, "tocker.js", TOCKER);
    b.ok(&["start", "ticker.js"]);
    b.ok(&["start", "tocker.js"]);

    // Nobody follows: 40 lines printed on B (2 s), none sent.
    after_lines(&b, "ticker", 40);
    assert_eq!(log_lines(&a, &d), 0, "no follower, no line");
    assert_eq!(hostb(&a, &d)["following"], serde_json::json!([]));

    // Following ticker: its lines arrive, and only its lines are sent.
    let auth = [("Authorization", d.bearer.as_str())];
    let mut one = Stream::open(d.port, "/api/logs?host=hostb&app=ticker", &auth)
        .unwrap_or_else(|e| a.fail(&e, None));
    let got = a.wait_until(T, "20 of ticker's lines", || {
        let got = logs(&mut one);
        (got.len() >= 20).then_some(got)
    });
    assert!(
        got.iter()
            .all(|l| l["name"] == "ticker" && l["host"] == "hostb"),
        "{got:?}"
    );
    let sent = log_lines(&a, &d);
    let shown = logs(&mut one).len() as u64;
    assert!(
        sent > 0 && sent <= shown + 10,
        "only ticker's lines travel: {sent} sent, {shown} shown"
    );
    assert_eq!(hostb(&a, &d)["following"], serde_json::json!(["ticker"]));

    // The client goes: the lines stop.
    drop(one);
    a.wait_until(T, "nobody following hostb", || {
        (hostb(&a, &d)["following"] == serde_json::json!([])).then_some(())
    });
    after_lines(&b, "ticker", 10);
    let stopped = log_lines(&a, &d);
    after_lines(&b, "ticker", 40);
    assert!(
        log_lines(&a, &d) <= stopped + 2,
        "lines stopped once nobody followed"
    );

    // Following all: both apps' lines.
    let mut all = Stream::open(d.port, "/api/logs?host=hostb&app=all", &auth)
        .unwrap_or_else(|e| a.fail(&e, None));
    a.wait_until(T, "lines of both apps", || {
        let got = logs(&mut all);
        let has = |app: &str| got.iter().any(|l| l["name"] == app);
        (has("ticker") && has("tocker")).then_some(())
    });
    drop(all);
    b.ok(&["unlink"]);
}

#[test]
#[cfg_attr(no_ssh, ignore = "ssh not on PATH (scripts/install-deps.sh)")]
fn a_deploy_from_a_linked_host_is_a_deploy_alert_naming_it() {
    require(have("ssh"), "ssh not on PATH (scripts/install-deps.sh)");
    let hook = Webhook::start();
    let url = hook.url("/hooks/deploy");
    let (a, b, _d) = linked("linkdeploy", &[("alert_url", &url)]);
    let closed = crate::harness::cluster::free_port();
    let eco = serde_json::json!({
        "apps": [{"name": "site", "script": "site.js"}],
        "deploy": {"production": {
            "user": "deploy", "host": ["127.0.0.1"], "port": closed.to_string(),
            "ref": "origin/main", "repo": "/nowhere.git", "path": b.dir.join("srv").display().to_string(),
        }},
    });
    write(&b, "ecosystem.json", &eco.to_string());
    let out = b.fails(&["deploy", "ecosystem.json", "production", "--force"], 1);
    b.expect_output(&out, "Deploy failed");
    let alert = a.wait_until(T, "a deploy alert from hostb", || {
        alerts(&hook)
            .into_iter()
            .find(|x| x["event"] == "deploy" && x["host"] == "hostb")
    });
    assert_eq!(alert["detail"]["ok"], false, "{alert}");
    assert!(
        alert["message"].as_str().is_some_and(|m| m
            .starts_with("deploy update to production (127.0.0.1) from hostb failed on 127.0.0.1")),
        "{alert}"
    );
    b.ok(&["unlink"]);
}
