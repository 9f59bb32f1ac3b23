//! Graceful stop: SIGINT, `--kill-timeout`, whole process trees, `--no-treekill`, and the
//! `stopping` status while a stop is under way.

use crate::harness::*;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

/// `online` comes right after spawn, before node has run the script: wait for the app's
/// first line so its SIGINT handler is installed.
fn wait_ready(p: &Pm2, out_log: &str) {
    p.wait_file_contains(&p.log_path(out_log), "up pid=", T);
}

#[test]
fn a_child_trapping_sigint_exits_cleanly_before_stop_returns() {
    let p = Pm2::new("graceful");
    p.fixture("graceful.js");
    p.ok(&["start", "graceful.js"]);
    let pid = p.wait_online(0);
    wait_ready(&p, "graceful-out.log");
    let out = p.ok(&["stop", "graceful"]);
    assert!(!alive(pid), "pid {pid} still alive after stop returned");
    // The app needs 300 ms to clean up after SIGINT; stop waits for it.
    p.check(
        out.elapsed >= Duration::from_millis(300),
        "stop waited for the app",
        &out,
    );
    let log = std::fs::read_to_string(p.log_path("graceful-out.log")).unwrap_or_default();
    p.check(
        log.contains("graceful\n"),
        "the graceful line is in the out log",
        &out,
    );
    let app = p.app(0);
    assert_eq!(st(&app), "stopped");
    assert_eq!(pid_of(&app), 0);
    assert_eq!(app["pm2_env"]["exit_code"], 0, "{app:#}");
    assert!(
        !p.home.join("pids/graceful-0.pid").exists(),
        "pid file removed on stop"
    );
}

#[test]
fn a_child_ignoring_sigint_is_killed_after_the_kill_timeout() {
    let p = Pm2::new("ignore_sigint");
    p.fixture("ignore_sigint.js");
    p.ok(&["start", "ignore_sigint.js", "--kill-timeout", "500"]);
    let pid = p.wait_online(0);
    wait_ready(&p, "ignore-sigint-out.log");
    assert_eq!(p.app(0)["pm2_env"]["kill_timeout"], 500);
    let out = p.ok(&["stop", "0"]);
    p.check(
        out.elapsed >= Duration::from_millis(500),
        "stop took the kill timeout",
        &out,
    );
    assert!(!alive(pid), "pid {pid} still alive after stop returned");
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    p.check(
        log.contains("via signal [SIGKILL]"),
        "it was killed after the timeout",
        &out,
    );
    p.wait_file_contains(&p.log_path("ignore-sigint-out.log"), "ignoring SIGINT", T);
    assert_eq!(st(&p.app(0)), "stopped");
}

/// Starts tree.js (with `extra` flags) and returns its pid and its two grandchildren.
fn start_tree(p: &Pm2, extra: &[&str]) -> (i32, Vec<i32>) {
    p.fixture("tree.js");
    p.ok(&[&["start", "tree.js", "--kill-timeout", "1000"][..], extra].concat());
    let pid = p.wait_online(0);
    let mut kids = Vec::new();
    p.wait_until(T, "tree.js to have spawned its two sleeps", || {
        kids = children_of(pid);
        kids.len() == 2
    });
    for k in &kids {
        p.record_pid(*k);
    }
    (pid, kids)
}

#[test]
fn stopping_a_tree_leaves_no_process_alive() {
    let p = Pm2::new("treekill");
    let (pid, kids) = start_tree(&p, &[]);
    let out = p.ok(&["stop", "tree"]);
    let survivors: Vec<i32> = std::iter::once(pid)
        .chain(kids)
        .filter(|k| alive(*k))
        .collect();
    p.check(
        survivors.is_empty(),
        &format!("survivors: {survivors:?}"),
        &out,
    );
}

#[test]
fn no_treekill_only_signals_the_main_process() {
    let p = Pm2::new("no_treekill");
    let (pid, kids) = start_tree(&p, &["--no-treekill"]);
    assert_eq!(p.app(0)["pm2_env"]["treekill"], false);
    let out = p.ok(&["stop", "tree"]);
    p.check(!alive(pid), "the main process is stopped", &out);
    let survivors: Vec<i32> = kids.iter().copied().filter(|k| alive(*k)).collect();
    p.check(
        survivors == kids,
        "the grandchildren were not signalled",
        &out,
    );
    for k in kids {
        sigkill(k);
    }
}

#[test]
fn status_is_stopping_during_a_slow_stop() {
    let p = Pm2::new("stopping");
    p.fixture("ignore_sigint.js");
    p.ok(&["start", "ignore_sigint.js", "--kill-timeout", "1500"]);
    let pid = p.wait_online(0);
    wait_ready(&p, "ignore-sigint-out.log");
    let started = Instant::now();
    std::thread::scope(|s| {
        let stopper = s.spawn(|| p.run(&["stop", "0"]));
        p.wait_until(
            Duration::from_millis(1400),
            "status `stopping` during the stop",
            || st(&p.app(0)) == "stopping",
        );
        let out = stopper.join().expect("stop thread");
        p.expect_code(&out, 0);
    });
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert!(!alive(pid));
    assert_eq!(st(&p.app(0)), "stopped");
}

#[test]
fn delete_stops_gracefully_too() {
    let p = Pm2::new("delete_graceful");
    p.fixture("graceful.js");
    p.ok(&["start", "graceful.js"]);
    let pid = p.wait_online(0);
    wait_ready(&p, "graceful-out.log");
    p.ok(&["delete", "graceful"]);
    assert!(!alive(pid));
    let log = std::fs::read_to_string(p.log_path("graceful-out.log")).unwrap_or_default();
    assert!(log.contains("graceful\n"), "out log: {log}");
    assert!(p.apps().is_empty());
}
