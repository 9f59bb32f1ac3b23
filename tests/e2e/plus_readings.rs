//! What the dashboard's per-second table read costs the daemon (pm2-rs beyond PM2 7, whose
//! dashboard is the hosted PM2 Plus, so no reference twin): with no browser looking
//! closely, the table shows the daemon sampler's kept readings of idle apps (renewed by
//! its 30 s sweep), so the daemon does not read their `/proc` every second; an app whose
//! live chart a browser polls is read fresh every second, and its chart gets 1 s points.
//! Each SSE table row says when its reading was taken (`monit_at`), which is what these
//! tests observe.

use crate::harness::cluster::free_port;
use crate::harness::http::request;
use crate::harness::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// The bearer header of this home's API token.
fn bearer(p: &Pm2) -> String {
    let token = std::fs::read_to_string(p.home.join("plus/api-token"))
        .unwrap_or_else(|e| p.fail(&format!("no api-token: {e}"), None));
    format!("Bearer {}", token.trim())
}

/// The latest SSE table's row of `app`: (`uptime_ms`, which moves every second, so it
/// tells tables apart, and `monit_at`). None while the dashboard does not answer.
fn row(p: &Pm2, port: u16, app: &str) -> Option<(u64, u64)> {
    let auth = bearer(p);
    let headers = [("Authorization", auth.as_str())];
    let table = sse::first_event(port, "/api/events", &headers, "processes", T).ok()?;
    let table: Value = serde_json::from_str(&table).ok()?;
    let row = table.as_array()?.iter().find(|r| r["name"] == app)?;
    Some((row["uptime_ms"].as_u64()?, row["monit_at"].as_u64()?))
}

/// The times of `app`'s live cpu chart's points, as the page fetches them (which marks
/// the chart open).
fn chart(p: &Pm2, port: u16, app: &str) -> Vec<u64> {
    let auth = bearer(p);
    let path = format!("/api/history?app={app}&metric=cpu&range=1h");
    let Ok(r) = request(port, "GET", &path, &[("Authorization", auth.as_str())]) else {
        return Vec::new();
    };
    let body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
    body["points"]
        .as_array()
        .map(|a| a.iter().filter_map(|pt| pt[0].as_u64()).collect())
        .unwrap_or_default()
}

/// Tables read until `tables` different ones were seen (each a second apart), calling
/// `meanwhile` before each read; the distinct `monit_at` of `app` and of `other` in them.
fn watch(
    p: &Pm2,
    port: u16,
    (app, other): (&str, &str),
    tables: usize,
    mut meanwhile: impl FnMut(),
) -> (BTreeSet<u64>, BTreeSet<u64>) {
    let (mut seen, mut at, mut other_at) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    p.wait_until(T * 2, &format!("{tables} tables"), || {
        meanwhile();
        if let (Some((up, a)), Some((_, o))) = (row(p, port, app), row(p, port, other)) {
            seen.insert(up);
            at.insert(a);
            other_at.insert(o);
        }
        seen.len() >= tables
    });
    (at, other_at)
}

#[test]
fn plus_reads_idle_apps_from_the_sweep_and_a_live_chart_every_second() {
    let p = Pm2::new("plus_readings");
    // `sleep`, not node: nothing here needs an app that reports anything.
    p.ok(&["start", "sleep", "--name", "idle", "--", "1000"]);
    p.ok(&["start", "sleep", "--name", "other", "--", "1000"]);
    let port = free_port();
    p.ok(&["set", "pm2-plus:port", &port.to_string()]);
    p.ok(&["plus"]);
    p.wait_until(T, "the table with both apps' readings", || {
        row(&p, port, "idle").is_some_and(|(_, at)| at > 0)
            && row(&p, port, "other").is_some_and(|(_, at)| at > 0)
    });

    // No browser: six tables, a second apart, show at most three readings of each app (the
    // daemon's 30 s sweep, or a command's table, may renew them in between), not six.
    let (idle, other) = watch(&p, port, ("idle", "other"), 6, || {});
    assert!(idle.len() <= 3, "idle read every second: {idle:?}");
    assert!(other.len() <= 3, "other read every second: {other:?}");

    // A browser's live chart of `idle` (the page fetches it every second): its readings
    // are as of each second, the other app's stay the sweep's.
    let (idle, other) = watch(&p, port, ("idle", "other"), 6, || {
        chart(&p, port, "idle");
    });
    assert!(
        idle.len() >= 4,
        "the charted app read every second: {idle:?}"
    );
    assert!(
        other.len() <= 3,
        "the other app read every second: {other:?}"
    );
    // Its chart gets a point every second (a tick the loaded machine delays skips one).
    p.wait_until(T, "4 points of the live chart 1 s apart", || {
        let times = chart(&p, port, "idle");
        let last: Vec<u64> = times.iter().rev().take(4).copied().collect();
        last.len() == 4 && last.windows(2).all(|w| w[0] - w[1] == 1000)
    });
}
