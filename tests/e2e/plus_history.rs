//! The dashboard's history charts (pm2-rs beyond PM2 7, whose charts live in the hosted
//! PM2 Plus service, so no reference twin): recorded every second with no browser
//! connected into `PM2_HOME/plus/history.db` (mode 0600), served by `GET /api/history`
//! for cpu, memory and a custom metric an app reports with the npm `@pm2/io`, and still
//! there after a restart of the dashboard and of the daemon.

use crate::harness::cluster::free_port;
use crate::harness::http::request;
use crate::harness::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// The bearer header of this home's API token.
fn bearer(p: &Pm2) -> String {
    let token = std::fs::read_to_string(p.home.join("plus/api-token"))
        .unwrap_or_else(|e| p.fail(&format!("no api-token: {e}"), None));
    format!("Bearer {}", token.trim())
}

/// `GET /api/history` for one chart; None while the dashboard does not answer 200.
fn history(p: &Pm2, port: u16, app: &str, metric: &str) -> Option<Value> {
    let auth = bearer(p);
    let path = format!("/api/history?app={app}&metric={metric}&range=1h");
    let r = request(port, "GET", &path, &[("Authorization", auth.as_str())]).ok()?;
    if r.status != 200 {
        return None;
    }
    serde_json::from_slice(&r.body).ok()
}

/// The `[t, value]` points of one chart (empty while it does not answer).
fn points(p: &Pm2, port: u16, app: &str, metric: &str) -> Vec<(u64, f64)> {
    let Some(body) = history(p, port, app, metric) else {
        return Vec::new();
    };
    body["points"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|pt| Some((pt[0].as_u64()?, pt[1].as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Starts the app that reports `queue` with `@pm2/io`.
fn start_app(p: &Pm2, node_path: &str) {
    p.ok_env(
        &[("NODE_PATH", node_path)],
        &["start", "pm2io_metric.js", "--name", "io-metric"],
    );
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
#[cfg_attr(no_pm2_io, ignore = "@pm2/io not installed (scripts/install-deps.sh)")]
fn plus_history_records_every_second_and_survives_restarts_of_dashboard_and_daemon() {
    let p = Pm2::new("plus_history");
    let node_path = pm2_io_path();
    p.fixture("pm2io_metric.js");
    start_app(&p, &node_path);
    let port = free_port();
    p.ok(&["set", "pm2-plus:port", &port.to_string()]);
    p.ok(&["plus"]);

    // No browser is connected: the dashboard records anyway.
    p.wait_until(T, "5 cpu and memory points", || {
        points(&p, port, "io-metric", "cpu").len() >= 5
            && points(&p, port, "io-metric", "memory").len() >= 5
    });
    let memory = points(&p, port, "io-metric", "memory");
    assert!(memory.iter().all(|(_, m)| *m > 0.0), "{memory:?}");
    p.wait_until(T, "the custom metric `queue` as a series", || {
        let q = points(&p, port, "io-metric", "queue");
        q.len() >= 3 && q.iter().all(|(_, v)| (1.0..=9.0).contains(v))
    });
    let listed = history(&p, port, "io-metric", "cpu").expect("history");
    let metrics: Vec<&str> = listed["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // Built-in ones first, then `queue` among @pm2/io's own (heap, event loop, ...).
    assert_eq!(metrics[..3], ["cpu", "memory", "restarts"], "{listed}");
    assert!(metrics.contains(&"queue"), "{listed}");
    assert_eq!(listed["step_s"], 1);
    let db = p.home.join("plus/history.db");
    let mode = std::fs::metadata(&db)
        .expect("history.db")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "{}", db.display());
    bad_queries_are_refused(&p, port);
    // A restart of the app shows in its restarts series.
    p.ok_env(
        &[("NODE_PATH", node_path.as_str())],
        &["restart", "io-metric"],
    );
    p.wait_until(T, "the restarts series at 1", || {
        points(&p, port, "io-metric", "restarts")
            .last()
            .is_some_and(|pt| pt.1 == 1.0)
    });
    let auth = bearer(&p);
    let week = "/api/history?app=io-metric&metric=memory&range=7d";
    let r = request(port, "GET", week, &[("Authorization", auth.as_str())]).expect("reply");
    let body: Value = serde_json::from_slice(&r.body).expect("JSON");
    assert_eq!(body["step_s"], 60, "7d reads the minute tier: {body}");

    // A restart of the dashboard keeps the points and records on.
    let first = points(&p, port, "io-metric", "cpu")[0].0;
    p.ok(&["restart", "pm2-plus"]);
    let restarted = now_ms();
    p.wait_until(
        T,
        "points from before and after the dashboard's restart",
        || {
            let cpu = points(&p, port, "io-metric", "cpu");
            cpu.first().is_some_and(|pt| pt.0 == first)
                && cpu.last().is_some_and(|pt| pt.0 > restarted)
        },
    );

    // So does a restart of the daemon (`pm2 kill`, then `pm2 plus` again).
    p.ok(&["kill"]);
    let killed = now_ms();
    start_app(&p, &node_path);
    p.ok(&["plus"]);
    p.wait_until(
        T,
        "points from before and after the daemon's restart",
        || {
            let cpu = points(&p, port, "io-metric", "cpu");
            cpu.first().is_some_and(|pt| pt.0 == first)
                && cpu.last().is_some_and(|pt| pt.0 > killed)
        },
    );
    let queue = points(&p, port, "io-metric", "queue");
    assert!(queue.first().is_some_and(|pt| pt.0 < killed), "{queue:?}");
}

/// An unknown range, no app: 400 with what to send; no token: 401.
fn bad_queries_are_refused(p: &Pm2, port: u16) {
    let auth = bearer(p);
    let with = [("Authorization", auth.as_str())];
    let r = request(port, "GET", "/api/history?app=io-metric&range=1y", &with).expect("reply");
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("1h, 24h, 7d, 90d"), "{}", r.text());
    let r = request(port, "GET", "/api/history?metric=cpu", &with).expect("reply");
    assert_eq!(r.status, 400, "{}", r.text());
    let r = request(port, "GET", "/api/history?app=io-metric", &[]).expect("reply");
    assert_eq!(r.status, 401, "{}", r.text());
}

#[test]
fn plus_without_a_usable_history_store_runs_on_and_says_why() {
    let p = Pm2::new("plus_history_unusable");
    // A directory where the database should be: SQLite cannot open it.
    std::fs::create_dir_all(p.home.join("plus/history.db/x")).expect("mkdir");
    let port = free_port();
    p.ok(&["set", "pm2-plus:port", &port.to_string()]);
    p.ok(&["plus"]);
    let auth = bearer(&p);
    let with = [("Authorization", auth.as_str())];
    let table = request(port, "GET", "/api/processes", &with).expect("reply");
    assert_eq!(table.status, 200, "the rest of the dashboard works");
    let r = request(port, "GET", "/api/history?app=pm2-plus", &with).expect("reply");
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("history store"), "{}", r.text());
    let log = p.home.join("logs/pm2-plus-error.log");
    p.wait_until(T, "the reason in pm2-plus's error log", || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.contains("history charts off") && text.contains("history.db")
    });
}

/// The `[t, value]` points of an answer.
fn points_of(body: &Value) -> Vec<(u64, f64)> {
    body["points"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|pt| Some((pt[0].as_u64()?, pt[1].as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_incremental_history_answer_holds_only_the_points_after_the_given_one() {
    let p = Pm2::new("plus_history_after");
    let port = free_port();
    p.ok(&["set", "pm2-plus:port", &port.to_string()]);
    p.ok(&["plus"]);
    let auth = bearer(&p);
    let with = [("Authorization", auth.as_str())];
    let get = |query: &str| {
        let path = format!("/api/history?app=pm2-plus&metric=memory&range=1h{query}");
        let r = request(port, "GET", &path, &with).ok()?;
        (r.status == 200)
            .then(|| serde_json::from_slice::<Value>(&r.body).ok())
            .flatten()
    };
    // The dashboard records itself: wait for a few seconds of its own memory.
    let full = p.wait_until(T, "five points of pm2-plus's memory", || {
        let body = get("")?;
        (points_of(&body).len() >= 5).then_some(points_of(&body))
    });
    let (second, last) = (full[1].0, full[full.len() - 1].0);
    let after_second = points_of(&get(&format!("&after={second}")).unwrap_or_default());
    assert!(
        after_second.iter().all(|(t, _)| *t > second),
        "{after_second:?}"
    );
    // The last point may be rewritten by a second tick within its second: not compared.
    let settled = full.len() - 1;
    assert_eq!(
        after_second[..settled - 2],
        full[2..settled],
        "the same points as the full answer, from the third on"
    );
    let newer = p.wait_until(T, "a point newer than the last one held", || {
        let pts = points_of(&get(&format!("&after={last}"))?);
        (!pts.is_empty()).then_some(pts)
    });
    assert!(newer.iter().all(|(t, _)| *t > last), "{newer:?}");
    assert!(newer.len() < full.len(), "only the new ones: {newer:?}");

    let r = request(
        port,
        "GET",
        "/api/history?app=pm2-plus&after=yesterday",
        &with,
    )
    .expect("reply");
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("after must be"), "{}", r.text());
}
