//! Health checks (beyond PM2, issue 18): an app's `health_check` gates `online` (the
//! instance stays `launching` until the check passes, and the start reply waits for it),
//! says why in `describe` and `jlist` when it fails, restarts a hung app (liveness, counted
//! in `restart_time`, the reason in pm2.log), and gates a cluster reload under traffic.
//! PM2 has no such key, so there is no reference twin.
//!
//! The app is `fixtures/health_app.js` (Node), configured through its environment.

use crate::harness::cluster::{free_port, Stats, Traffic};
use crate::harness::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(20);
const NEED_NODE: &str = "node not on PATH (scripts/install-deps.sh)";

/// Writes an ecosystem file running `health_app.js` as `web` with `extra` merged into the
/// app object, and returns its name.
fn ecosystem(p: &Pm2, extra: Value) -> &'static str {
    p.fixture("health_app.js");
    let mut app = json!({ "name": "web", "script": "health_app.js" });
    if let (Some(app), Value::Object(extra)) = (app.as_object_mut(), extra) {
        app.extend(extra);
    }
    let text = serde_json::to_string_pretty(&json!({ "apps": [app] })).expect("json");
    std::fs::write(p.dir.join("eco.json"), text).expect("write eco.json");
    "eco.json"
}

fn health(app: &Value) -> &Value {
    &app["pm2_env"]["health"]
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn readiness_holds_launching_until_the_port_opens() {
    require(have("node"), NEED_NODE);
    let p = Pm2::new("health_ready");
    let port = free_port();
    let eco = ecosystem(
        &p,
        json!({
            "env": { "PORT": port.to_string(), "LISTEN_AFTER_MS": "2000" },
            "health_check": { "tcp": port, "interval": 200 }
        }),
    );
    // The start replies only once the check passed: watch it from beside.
    let mut start = p.command(&["start", eco]).spawn().expect("spawn pm2 start");
    let began = Instant::now();
    let launching = p.wait_until(T, "web launching with an unhealthy check", || {
        let app = p.find(0)?;
        (st(&app) == "launching" && health(&app)["status"] == "unhealthy").then_some(app)
    });
    assert!(!port_open(port), "launching while the port is open");
    let why = health(&launching)["last_error"].as_str().unwrap_or("");
    assert!(why.contains(&format!("tcp 127.0.0.1:{port}")), "{why}");
    let status = start.wait().expect("pm2 start");
    assert!(status.success(), "pm2 start failed");
    assert!(
        began.elapsed() >= Duration::from_millis(1500),
        "replied before ready"
    );
    let app = p.app(0);
    assert_eq!(st(&app), "online", "online once the check passed");
    assert_eq!(health(&app)["status"], "healthy");
    assert!(port_open(port));
    assert!(p
        .daemon_log_tail(200)
        .contains("App [web:0] passed its health check"));
    let describe = p.ok(&["describe", "web"]).stdout;
    assert!(
        describe.contains("health") && describe.contains("healthy"),
        "{describe}"
    );
    let list = p.ok(&["list"]).stdout;
    assert!(
        list.contains("│ health ") && list.contains("│ healthy "),
        "{list}"
    );
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn an_http_check_with_a_wrong_status_never_goes_online() {
    require(have("node"), NEED_NODE);
    let p = Pm2::new("health_status");
    let port = free_port();
    let eco = ecosystem(
        &p,
        json!({
            "env": { "PORT": port.to_string(), "HEALTH_STATUS": "500" },
            "health_check": {
                "http": format!("http://127.0.0.1:{port}/health"),
                "interval": 200,
                "readyTimeout": 1500
            }
        }),
    );
    p.ok(&["start", eco]);
    // Well past the reply's bound and many probes later, it is still not online.
    p.wait_until(T, "several failed probes", || {
        p.find(0)
            .is_some_and(|a| port_open(port) && health(&a)["last_error"].is_string())
    });
    during(Duration::from_secs(2), Duration::from_millis(200), || {
        assert_eq!(st(&p.app(0)), "launching", "a failing check went online");
    });
    let app = p.app(0);
    let why = health(&app)["last_error"].as_str().unwrap_or("");
    assert!(why.contains("status 500, expected 2xx"), "{why}");
    assert_eq!(
        app["pm2_env"]["restart_time"], 0,
        "readiness failures do not restart"
    );
    let describe = p.ok(&["describe", "web"]).stdout;
    assert!(describe.contains("status 500, expected 2xx"), "{describe}");
    assert!(describe.contains("launching"), "{describe}");
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn liveness_restarts_a_hung_app() {
    require(have("node"), NEED_NODE);
    let p = Pm2::new("health_live");
    let port = free_port();
    let hang = p.dir.join("hang");
    let eco = ecosystem(
        &p,
        json!({
            "env": { "PORT": port.to_string(), "HANG_FILE": hang.to_str().expect("utf-8") },
            "health_check": {
                "http": port, "path": "/health",
                "interval": 200, "timeout": 300, "failure_threshold": 2
            }
        }),
    );
    p.ok(&["start", eco]);
    let app = p.app(0);
    assert_eq!(st(&app), "online");
    assert_eq!(app["pm2_env"]["restart_time"], 0);
    let old = pid_of(&app);
    // It stops answering its health check (the process lives on, hung).
    std::fs::write(&hang, old.to_string()).expect("write hang file");
    let fresh = p.wait_until(T, "a restart by the health check", || {
        let app = p.find(0)?;
        (pid_of(&app) != old && pid_of(&app) > 0 && st(&app) == "online").then_some(app)
    });
    assert_eq!(fresh["pm2_env"]["restart_time"], 1, "counted as a restart");
    p.wait_until(T, "the hung process gone", || !alive(old));
    assert_eq!(health(&fresh)["restarts"], 1);
    let why = health(&fresh)["last_restart"].as_str().unwrap_or("");
    assert!(
        why.contains("health check failed 2 times in a row"),
        "{why}"
    );
    let log = p.daemon_log_tail(300);
    assert!(
        log.contains("App [web:0] restarted because its health check failed (health check failed 2 times in a row: "),
        "{log}"
    );
    let describe = p.ok(&["describe", "web"]).stdout;
    assert!(describe.contains("health restart reason"), "{describe}");
    // `pm2 reset` zeroes the health check's count with PM2's.
    p.ok(&["reset", "web"]);
    let app = p.app(0);
    assert_eq!(
        (
            app["pm2_env"]["restart_time"].as_u64(),
            health(&app)["restarts"].as_u64()
        ),
        (Some(0), Some(0))
    );
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn an_exec_check_runs_in_the_apps_cwd_and_env() {
    require(have("node"), NEED_NODE);
    let p = Pm2::new("health_exec");
    let port = free_port();
    let eco = ecosystem(
        &p,
        json!({
            "env": { "PORT": port.to_string(), "CHECK_TOKEN": "yes" },
            "health_check": {
                "exec": "test \"$CHECK_TOKEN\" = yes && test -f ready.flag",
                "interval": 200,
                "ready_timeout": 500
            }
        }),
    );
    p.ok(&["start", eco]);
    assert_eq!(st(&p.app(0)), "launching", "no flag file yet");
    let why = health(&p.app(0))["last_error"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(why.contains("exec /bin/sh: exit code 1"), "{why}");
    std::fs::write(p.dir.join("ready.flag"), "").expect("flag");
    p.wait_status(0, "online", T);
    assert_eq!(health(&p.app(0))["status"], "healthy");
}

/// Starts `web` in cluster mode (2 workers that listen at once but answer 503 for their
/// first second), with or without a readiness check on its port, reloads it under a
/// connection-per-request client loop, and returns the client's stats and how long the
/// reload took.
fn reload_cold_workers(p: &Pm2, checked: bool) -> (Stats, Duration) {
    let port = free_port();
    let mut app = json!({
        "exec_mode": "cluster", "instances": 2,
        "env": { "PORT": port.to_string(), "WARM_MS": "1000" }
    });
    if checked {
        app["health_check"] = json!({ "http": port, "path": "/health", "interval": 200 });
    }
    let eco = ecosystem(p, app);
    p.ok(&["start", eco]);
    // Past the first warm-up (with a check, the start replied once both passed it).
    p.wait_until(T, "both workers warm", || {
        (0..8).all(|_| crate::harness::cluster::http_get(port).is_ok())
    });
    let old: Vec<i32> = p.apps().iter().map(pid_of).collect();
    let traffic = Traffic::http(port, 2);
    traffic.wait_for_more(p, 20);
    let began = Instant::now();
    p.ok(&["reload", "web"]);
    let took = began.elapsed();
    traffic.wait_for_more(p, 20);
    let stats = traffic.finish(p, 40);
    let apps = p.apps();
    assert!(apps
        .iter()
        .all(|a| st(a) == "online" && !old.contains(&pid_of(a))));
    (stats, took)
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn a_cluster_reload_with_readiness_loses_no_request() {
    require(have("node"), NEED_NODE);
    let p = Pm2::new("health_reload");
    let (stats, took) = reload_cold_workers(&p, true);
    assert_eq!(stats.failed, 0, "failed requests: {:?}", stats.reasons);
    assert!(
        took >= Duration::from_millis(1000),
        "reload did not wait for warm-up: {took:?}"
    );
    assert!(p.apps().iter().all(|a| health(a)["status"] == "healthy"));
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn without_readiness_the_same_reload_fails_requests() {
    require(have("node"), NEED_NODE);
    let p = Pm2::new("health_reload_none");
    let (stats, _) = reload_cold_workers(&p, false);
    assert!(
        stats.failed > 0,
        "no cold worker served a 503: the scenario proves nothing"
    );
}

#[test]
fn bad_health_check_keys_name_file_and_key_and_change_nothing() {
    let p = Pm2::new("health_keys");
    p.sleeper_script("app.sh");
    std::fs::write(
        p.dir.join("eco.json"),
        r#"{"apps":[{"name":"web","script":"app.sh","healthCheck":{"tcp":3000,"intervall":5}}]}"#,
    )
    .expect("write");
    let out = p.fails(&["start", "eco.json"], 1);
    let needle = "apps[0].healthCheck: intervall: unknown key (did you mean interval?)";
    assert!(out.stderr.contains(needle), "{}", out.report());
    assert!(out.stderr.contains("eco.json"), "{}", out.report());
    std::fs::write(
        p.dir.join("eco.json"),
        r#"{"apps":[{"name":"web","script":"app.sh","health_check":{"http":1,"tcp":2}}]}"#,
    )
    .expect("write");
    let out = p.fails(&["start", "eco.json"], 1);
    assert!(
        out.stderr
            .contains("apps[0].health_check: http and tcp given"),
        "{}",
        out.report()
    );
    assert_eq!(p.app_count(), 0, "nothing started");
}
