//! Zero-downtime reload and scaling of cluster apps while clients keep sending requests (a
//! new connection each): no request may fail. Also `--wait-ready` (start replies once the
//! worker sent 'ready', as PM2's does; reload waits for it, and fails without it while the old worker
//! keeps serving) and `--shutdown-with-message`.
//!
//! Keep-alive clients lose nothing either: a connection the retiring worker closes while its
//! client's next request waits is handed to a new worker (`pm2_cluster::handback`).
//!
//! Every scenario runs on the `node` on PATH and on Node 22 (ignored when not installed).

use crate::harness::cluster::*;
use crate::harness::*;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

on_each_node!(
    three_reloads_in_a_row_under_traffic_lose_nothing,
    reload_with_shared_handles_loses_nothing,
    reload_waits_for_requests_in_progress,
    keep_alive_connections_survive_reloads,
    keep_alive_connections_survive_reloads_with_shared_handles,
    a_connection_still_in_use_when_its_worker_is_killed_is_not_handed_on,
    scaling_up_and_down_under_traffic_loses_nothing,
    the_start_replies_once_the_worker_sent_ready,
    reload_with_wait_ready_waits_for_the_new_workers_ready,
    a_reload_whose_worker_never_gets_ready_fails_and_keeps_the_old_one,
    shutdown_message_on_reload_and_stop,
);

/// Starts `http_pid.js` as app `web` on a free port; returns the port and the events file.
fn start_web(p: &Pm2, node: &Node, env: &[(&str, &str)], extra: &[&str]) -> (u16, PathBuf) {
    p.fixture("http_pid.js");
    let port = free_port();
    let port_s = port.to_string();
    let events = p.dir.join("events.log");
    let mut env = env.to_vec();
    env.push(("PORT", &port_s));
    env.push(("EVENTS", events.to_str().expect("UTF-8 path")));
    let mut flags = vec!["--name", "web"];
    flags.extend_from_slice(extra);
    p.ok_env(&env, &node.start_args("http_pid.js", &flags));
    (port, events)
}

fn pids_of(apps: &[serde_json::Value]) -> Vec<i32> {
    apps.iter().map(pid_of).collect()
}

/// Index of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle))
}

/// Reloads `web` (all `n` workers), checks every pid was replaced and every old worker is
/// gone, and returns the new pids.
fn reload_all(p: &Pm2, n: usize, old: &[i32]) -> Vec<i32> {
    p.ok(&["reload", "web"]);
    let apps = wait_all_online(p, "web", n);
    let fresh = pids_of(&apps);
    for pid in &fresh {
        assert!(
            !old.contains(pid),
            "pid {pid} not replaced: {old:?} -> {fresh:?}"
        );
    }
    for pid in old {
        p.wait_until(T, &format!("old worker {pid} to exit"), || !alive(*pid));
    }
    fresh
}

fn three_reloads_in_a_row_under_traffic_lose_nothing(node: &Node) {
    let p = Pm2::new("reload3");
    let (port, events) = start_web(&p, node, &[], &["-i", "2"]);
    let mut pids = pids_of(&wait_all_online(&p, "web", 2));
    until_each_pid_serves(&p, &pids, || http_get(port));
    let traffic = Traffic::http(port, 2);
    traffic.wait_for_more(&p, 50);
    for round in 1..=3u64 {
        let old = pids.clone();
        pids = reload_all(&p, 2, &pids);
        // Retired through the cluster `disconnect` (servers closed, clean exit), not a signal.
        let text = read(&events);
        for pid in old {
            let exit = format!("exit code=0 pid={pid} ");
            assert!(
                text.contains(&exit),
                "worker {pid} did not exit cleanly:\n{text}"
            );
        }
        for app in instances(&p, "web") {
            assert_eq!(env_u64(&app, "restart_time"), round, "{app:#}");
        }
        traffic.wait_for_more(&p, 50);
    }
    let stats = traffic.finish(&p, 300);
    note(&format!(
        "{}: 3 reloads: {} requests, {} failed, {} pids served",
        node.label,
        stats.total(),
        stats.failed,
        stats.by_pid.len()
    ));
    assert_eq!(stats.failed, 0, "{stats:?}");
    for pid in &pids {
        assert!(
            stats.by_pid.contains_key(pid),
            "last generation served: {stats:?}"
        );
    }
}

fn reload_with_shared_handles_loses_nothing(node: &Node) {
    let p = Pm2::new("reload_shared");
    let env = [("NODE_CLUSTER_SCHED_POLICY", "none")];
    let (port, _) = start_web(&p, node, &env, &["-i", "2"]);
    let mut pids = pids_of(&wait_all_online(&p, "web", 2));
    until_each_pid_serves(&p, &pids, || http_get(port));
    let traffic = Traffic::http(port, 2);
    for _ in 0..2 {
        traffic.wait_for_more(&p, 50);
        pids = reload_all(&p, 2, &pids);
    }
    let stats = traffic.finish(&p, 300);
    note(&format!(
        "{}: 2 shared-handle reloads: {} requests, {} failed",
        node.label,
        stats.total(),
        stats.failed
    ));
    assert_eq!(stats.failed, 0, "{stats:?}");
}

fn keep_alive_connections_survive_reloads(node: &Node) {
    keep_alive_reloads(node, &[("KEEP_ALIVE", "1")]);
}

/// With shared handles the workers accept themselves, but a connection the retiring one
/// lets go is still handed to a live worker (Node's worker takes a `newconn` for a shared
/// server too).
fn keep_alive_connections_survive_reloads_with_shared_handles(node: &Node) {
    keep_alive_reloads(
        node,
        &[("KEEP_ALIVE", "1"), ("NODE_CLUSTER_SCHED_POLICY", "none")],
    );
}

fn keep_alive_reloads(node: &Node, env: &[(&str, &str)]) {
    let p = Pm2::new("reload_keepalive");
    let (port, _) = start_web(&p, node, env, &["-i", "2"]);
    let mut pids = pids_of(&wait_all_online(&p, "web", 2));
    until_each_pid_serves(&p, &pids, || http_get(port));
    let handed_over = Arc::new(AtomicUsize::new(0));
    let traffic = Traffic::keep_alive(port, 4, &handed_over);
    traffic.wait_for_more(&p, 200);
    for _ in 0..3 {
        pids = reload_all(&p, 2, &pids);
        traffic.wait_for_more(&p, 200);
    }
    let stats = traffic.finish(&p, 1000);
    let handed_over = handed_over.load(Ordering::SeqCst);
    note(&format!(
        "{} {env:?}: 3 reloads, 4 keep-alive clients: {} requests, {} failed, {handed_over} \
         connections answered by two workers",
        node.label,
        stats.total(),
        stats.failed
    ));
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert!(
        handed_over > 0,
        "no keep-alive connection went on with a new worker: {stats:?}"
    );
    for pid in &pids {
        assert!(
            stats.by_pid.contains_key(pid),
            "last generation served: {stats:?}"
        );
    }
}

/// The hand-back never gives a new worker a connection the old one was still using: here a
/// request is in progress when the old worker is killed (kill_timeout), and a request the
/// client sends afterwards on that connection must not be answered by the new worker (it
/// would be taken as the answer to the first one).
fn a_connection_still_in_use_when_its_worker_is_killed_is_not_handed_on(node: &Node) {
    let p = Pm2::new("reload_in_use");
    let env = [("KEEP_ALIVE", "1"), ("DELAY_MS", "3000")];
    let (port, events) = start_web(&p, node, &env, &["-i", "1", "--kill-timeout", "300"]);
    let old = pids_of(&wait_all_online(&p, "web", 1));
    let listening = format!("listening port={port} pid={} ", old[0]);
    p.wait_until(T, "the worker to listen", || {
        read(&events).contains(&listening)
    });
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    conn.set_read_timeout(Some(REQUEST_TIMEOUT))
        .expect("timeout");
    conn.write_all(b"GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("first request");
    let received = format!("request received pid={} ", old[0]);
    p.wait_until(T, "the slow request to arrive", || {
        read(&events).contains(&received)
    });
    reload_all(&p, 1, &old);
    // The old worker is gone; whatever the client sends now must not reach the new one.
    let _ = conn.write_all(b"GET /next HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let mut got = Vec::new();
    let _ = conn.read_to_end(&mut got);
    let got = String::from_utf8_lossy(&got);
    assert!(
        !got.contains("HTTP/1.1 200"),
        "a request on the killed worker's connection was answered: {got:?}"
    );
}

fn reload_waits_for_requests_in_progress(node: &Node) {
    let p = Pm2::new("reload_slow");
    let (port, _) = start_web(&p, node, &[("DELAY_MS", "100")], &["-i", "2"]);
    let pids = pids_of(&wait_all_online(&p, "web", 2));
    until_each_pid_serves(&p, &pids, || http_get(port));
    let traffic = Traffic::http(port, 4);
    traffic.wait_for_more(&p, 20);
    reload_all(&p, 2, &pids);
    traffic.wait_for_more(&p, 20);
    let stats = traffic.finish(&p, 60);
    assert_eq!(stats.failed, 0, "{stats:?}");
}

/// pm_ids and NODE_APP_INSTANCE values of `web`'s online instances.
fn ids_and_indexes(p: &Pm2, n: usize) -> (Vec<u64>, Vec<u64>) {
    let apps = wait_all_online(p, "web", n);
    let ids = apps.iter().filter_map(|a| a["pm_id"].as_u64()).collect();
    let idx = apps
        .iter()
        .map(|a| env_u64(a, "NODE_APP_INSTANCE"))
        .collect();
    (ids, idx)
}

fn scaling_up_and_down_under_traffic_loses_nothing(node: &Node) {
    let p = Pm2::new("scale");
    // Slow answers: removed workers always have requests in progress.
    let (port, _) = start_web(&p, node, &[("DELAY_MS", "50")], &["-i", "2"]);
    let first = pids_of(&wait_all_online(&p, "web", 2));
    until_each_pid_serves(&p, &first, || http_get(port));
    let traffic = Traffic::http(port, 2);
    traffic.wait_for_more(&p, 20);

    p.ok(&["scale", "web", "+2"]);
    assert_eq!(ids_and_indexes(&p, 4), (vec![0, 1, 2, 3], vec![0, 1, 2, 3]));
    let four = pids_of(&wait_all_online(&p, "web", 4));
    until_each_pid_serves(&p, &four, || http_get(port));
    traffic.wait_for_more(&p, 20);

    // Scaling down removes the lowest pm_ids first.
    p.ok(&["scale", "web", "1"]);
    assert_eq!(ids_and_indexes(&p, 1), (vec![3], vec![3]));
    for pid in &four[..3] {
        p.wait_until(T, &format!("removed worker {pid} to exit"), || !alive(*pid));
    }
    traffic.wait_for_more(&p, 20);

    // Scaling up again reuses the lowest free index.
    p.ok(&["scale", "web", "+1"]);
    assert_eq!(ids_and_indexes(&p, 2), (vec![3, 4], vec![3, 0]));
    traffic.wait_for_more(&p, 20);
    let stats = traffic.finish(&p, 100);
    note(&format!(
        "{}: scale 2 -> 4 -> 1 -> 2: {} requests, {} failed",
        node.label,
        stats.total(),
        stats.failed
    ));
    assert_eq!(stats.failed, 0, "{stats:?}");
}

fn the_start_replies_once_the_worker_sent_ready(node: &Node) {
    let p = Pm2::new("wait_ready");
    let env = [("READY_AFTER_MS", "1500")];
    // A listen timeout far away: `online` can only come from 'ready'.
    let flags = ["-i", "1", "--wait-ready", "--listen-timeout", "20000"];
    let (port, events) = start_web(&p, node, &env, &flags);
    online_once_ready(&p, 0, &events, "sending ready");
    assert_eq!(env_str(&p.app(0), "exec_mode"), "cluster_mode");
    let stats = requests(10, || http_get(port));
    assert_eq!(stats.failed, 0, "{stats:?}");
}

fn reload_with_wait_ready_waits_for_the_new_workers_ready(node: &Node) {
    let p = Pm2::new("reload_ready");
    let env = [("READY_AFTER_MS", "800")];
    let flags = ["-i", "1", "--wait-ready", "--listen-timeout", "20000"];
    let (port, events) = start_web(&p, node, &env, &flags);
    online_once_ready(&p, 0, &events, "sending ready");
    let old = pid_of(&p.app(0));
    let traffic = Traffic::http(port, 1);
    traffic.wait_for_more(&p, 20);
    let new = reload_all(&p, 1, &[old])[0];
    // Reload returned after the new worker's 'ready', and retired the old one only then.
    let text = read(&events);
    let ready = line_of(&text, &format!("sending ready pid={new} "));
    assert!(ready.is_some(), "reload returned before 'ready':\n{text}");
    if let Some(exit) = line_of(&text, &format!("exit code=0 pid={old} ")) {
        assert!(
            ready < Some(exit),
            "old worker left before 'ready':\n{text}"
        );
    }
    traffic.wait_for_more(&p, 20);
    let stats = traffic.finish(&p, 100);
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert!(
        stats.by_pid.contains_key(&old) && stats.by_pid.contains_key(&new),
        "{stats:?}"
    );
    assert_eq!(env_u64(&p.app(0), "restart_time"), 1);
}

fn a_reload_whose_worker_never_gets_ready_fails_and_keeps_the_old_one(node: &Node) {
    let p = Pm2::new("never_ready");
    let flags = ["-i", "1", "--wait-ready", "--listen-timeout", "1000"];
    // Slow answers: the new worker has requests in progress when it is given up on.
    let (port, _) = start_web(&p, node, &[("DELAY_MS", "50")], &flags);
    let old = pids_of(&wait_all_online(&p, "web", 1))[0];
    let traffic = Traffic::http(port, 2);
    traffic.wait_for_more(&p, 20);
    let out = p.run(&["reload", "web"]);
    p.check(out.code.is_some_and(|c| c != 0), "reload must fail", &out);
    p.expect_output(&out, "ready");
    let app = p.app(0);
    p.check(pid_of(&app) == old, "the old worker stays", &out);
    p.check(st(&app) == "online", "still online", &out);
    p.check(
        env_u64(&app, "restart_time") == 0,
        "no restart counted",
        &out,
    );
    let daemon = p.daemon_pid().expect("daemon pid");
    p.wait_until(T, "the failed new worker to be gone", || {
        children_of(daemon) == vec![old]
    });
    traffic.wait_for_more(&p, 20);
    let stats = traffic.finish(&p, 100);
    note(&format!(
        "{}: failed reload: {} requests, {} failed, split {:?}",
        node.label,
        stats.total(),
        stats.failed,
        stats.by_pid
    ));
    assert_eq!(stats.failed, 0, "{stats:?}");
    let after = requests(20, || http_get(port));
    assert_eq!(after.by_pid.keys().copied().collect::<Vec<_>>(), vec![old]);
}

fn shutdown_message_on_reload_and_stop(node: &Node) {
    let p = Pm2::new("shutdown_msg");
    let flags = [
        "-i",
        "2",
        "--shutdown-with-message",
        "--kill-timeout",
        "5000",
    ];
    let (port, events) = start_web(&p, node, &[], &flags);
    let old = pids_of(&wait_all_online(&p, "web", 2));
    until_each_pid_serves(&p, &old, || http_get(port));
    let traffic = Traffic::http(port, 2);
    traffic.wait_for_more(&p, 50);
    let new = reload_all(&p, 2, &old);
    let stats = traffic.finish(&p, 200);
    assert_eq!(stats.failed, 0, "{stats:?}");
    p.ok(&["stop", "web"]);
    let text = read(&events);
    for pid in old.iter().chain(&new) {
        let got = line_of(&text, &format!("shutdown received pid={pid} "));
        let exit = line_of(&text, &format!("exit code=0 pid={pid} "));
        assert!(
            got.is_some() && got < exit,
            "pid {pid}: no shutdown then exit 0:\n{text}"
        );
    }
    let stopped: BTreeSet<(String, i64)> = instances(&p, "web")
        .iter()
        .map(|a| {
            (
                st(a).to_string(),
                a["pm2_env"]["exit_code"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(stopped, BTreeSet::from([("stopped".to_string(), 0)]));
}
