//! `pm2 plus`'s alerts beyond the first set (pm2-rs beyond PM2 7, whose alerts live in
//! the hosted PM2 Plus service, and whose `pm2 set <module>:<key>` restarts the module:
//! no reference twins): alert settings changed with `pm2 set` while the dashboard runs
//! apply without restarting it (a bad value keeps what is in force, and says which key);
//! a busy app over the cpu threshold; a finished `pm2 reload` and `pm2 deploy`.

use crate::harness::webhook::Webhook;
use crate::harness::*;
use crate::plus_alerts::{alerts, wait_alert, write, Dashboard, CRASHER, T};
use serde_json::Value;

/// The dashboard app's pid and restart count.
fn dashboard_run(p: &Pm2) -> (Value, Value) {
    let apps = p.apps();
    let plus = apps
        .iter()
        .find(|a| a["name"] == "pm2-plus")
        .unwrap_or_else(|| p.fail("pm2-plus is not listed", None));
    (plus["pid"].clone(), plus["pm2_env"]["restart_time"].clone())
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn alert_settings_set_while_the_dashboard_runs_apply_without_a_restart() {
    let p = Pm2::new("plus_alerts_live");
    let (first, second) = (Webhook::start(), Webhook::start());
    let d = Dashboard::start(&p, &[("alert_url", &first.url("/one"))]);
    let before = dashboard_run(&p);
    write(&p, "crasher.js", CRASHER);
    write(&p, "steady.js", "setInterval(() => {}, 1000);\n");
    p.ok(&["start", "crasher.js", "--no-autorestart"]);
    wait_alert(&p, &first, "crash", "crasher");

    let out = p.ok(&["set", "pm2-plus:alert_url", &second.url("/two")]);
    p.expect_output(&out, "applies pm2-plus:alert_url without a restart");
    p.wait_until(T, "the new URL in force", || {
        d.json(&p, "/api/alerts")["urls"] == serde_json::json!([second.url("/two")])
    });
    p.ok(&["restart", "crasher"]);
    wait_alert(&p, &second, "crash", "crasher");
    let crashes_at_first = alerts(&first)
        .iter()
        .filter(|a| a["event"] == "crash")
        .count();
    assert_eq!(crashes_at_first, 1, "the old URL gets nothing new");

    // A threshold set live fires for an app already running.
    p.ok(&["start", "steady.js"]);
    p.ok(&["set", "pm2-plus:alert_for", "1s"]);
    p.ok(&["set", "pm2-plus:alert_memory", "1M"]);
    let memory = wait_alert(&p, &second, "memory", "steady");
    assert_eq!(memory["detail"]["limit"], 1 << 20, "{memory}");

    // A bad value: the CLI says so, the dashboard keeps its settings and logs key and value.
    let out = p.ok(&["set", "pm2-plus:alert_cpu", "lots"]);
    p.expect_output(&out, "pm2-plus:alert_cpu");
    let refused = p.wait_until(T, "the bad value refused", || {
        let a = d.json(&p, "/api/alerts");
        let e = a["error"].as_str()?.to_string();
        e.contains("lots").then_some(a)
    });
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("pm2-plus:alert_cpu")),
        "{refused}"
    );
    assert_eq!(refused["urls"], serde_json::json!([second.url("/two")]));
    assert_eq!(refused["memory_bytes"], 1 << 20, "{refused}");
    let log = p.home.join("logs").join("pm2-plus-error.log");
    p.wait_until(T, "the refusal in the dashboard's error log", || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.contains("alert settings unchanged: pm2-plus:alert_cpu is \"lots\"")
    });

    assert_eq!(dashboard_run(&p), before, "pm2-plus was never restarted");
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn a_busy_app_over_the_cpu_threshold_gets_one_cpu_alert() {
    let p = Pm2::new("plus_alerts_cpu");
    let hook = Webhook::start();
    Dashboard::start(
        &p,
        &[
            ("alert_url", &hook.url("/cpu")),
            ("alert_cpu", "10"),
            ("alert_for", "1s"),
        ],
    );
    write(&p, "busy.js", "for (;;) {}\n");
    p.ok(&["start", "busy.js"]);
    // The idle app is `sleep`, not node: a node start-up on a loaded machine can spend
    // over 10 % of a core in its first seconds, which would be a right alert.
    p.ok(&["start", "sleep", "--name", "idle", "--", "1000"]);
    let cpu = wait_alert(&p, &hook, "cpu", "busy");
    assert_eq!(cpu["detail"]["limit"], 10.0, "{cpu}");
    assert!(cpu["detail"]["cpu"].as_f64() > Some(10.0), "{cpu}");
    assert!(
        cpu["message"]
            .as_str()
            .is_some_and(|m| m.contains("over 10% for 1 s")),
        "{cpu}"
    );
    p.ok(&["stop", "busy"]);
    let all = alerts(&hook);
    let count = |app: &str| {
        all.iter()
            .filter(|a| a["event"] == "cpu" && a["app"] == app)
            .count()
    };
    assert_eq!(count("busy"), 1, "once per excursion: {all:?}");
    assert_eq!(count("idle"), 0, "{all:?}");
}

/// The reload alerts a webhook got whose apps include `app`.
fn reload_alerts_with(hook: &Webhook, app: &str) -> Vec<Value> {
    alerts(hook)
        .into_iter()
        .filter(|a| a["event"] == "reload")
        .filter(|a| {
            a["detail"]["apps"]
                .as_array()
                .is_some_and(|apps| apps.iter().any(|x| x["name"] == app))
        })
        .collect()
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn a_finished_reload_sends_one_alert_with_the_instances_and_the_duration() {
    let p = Pm2::new("plus_alerts_reload");
    let hook = Webhook::start();
    let d = Dashboard::start(&p, &[("alert_url", &hook.url("/reload"))]);
    write(
        &p,
        "api.js",
        "require('http').createServer((q, s) => s.end('ok')).listen(0);\n",
    );
    write(&p, "worker.js", "setInterval(() => {}, 1000);\n");
    p.ok(&["start", "api.js", "-i", "2"]);
    p.ok(&["start", "worker.js"]);
    let ids: Vec<Value> = p
        .apps()
        .iter()
        .filter(|a| a["name"] == "api")
        .map(|a| a["pm_id"].clone())
        .collect();

    p.ok(&["reload", "api"]);
    let reload = wait_alert(&p, &hook, "reload", "api");
    assert_eq!(reload["detail"]["apps"][0]["instances"], Value::Array(ids));
    assert_eq!(reload["detail"]["ok"], true, "{reload}");
    assert!(
        reload["detail"]["duration_ms"].as_u64().is_some(),
        "{reload}"
    );
    assert!(
        reload["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("reloaded api (2 instance(s): ")),
        "{reload}"
    );

    p.ok(&["reload", "all"]);
    let all = p.wait_until(T, "one alert for `reload all`", || {
        reload_alerts_with(&hook, "worker").pop()
    });
    let names = all["detail"]["apps"].to_string();
    assert!(
        names.contains("\"api\"") && names.contains("\"worker\""),
        "{all}"
    );
    assert_eq!(reload_alerts_with(&hook, "api").len(), 2, "one per reload");

    // Switched off (live): the next reload sends nothing; a crash, after it, still does.
    p.ok(&["set", "pm2-plus:alert_reload", "off"]);
    p.wait_until(T, "reload alerts off", || {
        d.json(&p, "/api/alerts")["reload"] == false
    });
    p.ok(&["reload", "worker"]);
    write(&p, "crasher.js", CRASHER);
    p.ok(&["start", "crasher.js", "--no-autorestart"]);
    wait_alert(&p, &hook, "crash", "crasher");
    assert_eq!(
        reload_alerts_with(&hook, "worker").len(),
        1,
        "{:?}",
        alerts(&hook)
    );
}

#[test]
#[cfg_attr(no_ssh, ignore = "ssh not on PATH (scripts/install-deps.sh)")]
fn a_deploy_that_fails_on_an_unreachable_host_sends_one_deploy_alert() {
    require(have("ssh"), "ssh not on PATH (scripts/install-deps.sh)");
    let p = Pm2::new("plus_alerts_deploy");
    let hook = Webhook::start();
    Dashboard::start(&p, &[("alert_url", &hook.url("/deploy"))]);
    let closed = crate::harness::cluster::free_port();
    let eco = serde_json::json!({
        "apps": [{"name": "site", "script": "site.js"}],
        "deploy": {"production": {
            "user": "deploy", "host": ["127.0.0.1"], "port": closed.to_string(),
            "ref": "origin/main", "repo": "/nowhere.git", "path": p.dir.join("srv").display().to_string(),
        }},
    });
    write(&p, "ecosystem.json", &eco.to_string());
    let out = p.fails(&["deploy", "ecosystem.json", "production", "--force"], 1);
    p.expect_output(&out, "Deploy failed");
    let alert = wait_alert(&p, &hook, "deploy", "production");
    assert_eq!(alert["detail"]["ok"], false, "{alert}");
    assert_eq!(alert["detail"]["hosts"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(alert["detail"]["failed"][0]["host"], "127.0.0.1", "{alert}");
    assert!(
        alert["message"].as_str().is_some_and(
            |m| m.starts_with("deploy update to production (127.0.0.1) failed on 127.0.0.1")
        ),
        "{alert}"
    );
    let deploys = alerts(&hook)
        .iter()
        .filter(|a| a["event"] == "deploy")
        .count();
    assert_eq!(deploys, 1);
}
