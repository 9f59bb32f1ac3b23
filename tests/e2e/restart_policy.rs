//! PM2's restart policy: crash loops end `errored`, autorestart off, stop exit codes,
//! restart delays, exponential backoff, and `pm2 reset`.

use crate::harness::*;
use std::collections::BTreeMap;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

#[test]
fn a_crash_loop_ends_errored_after_15_restarts() {
    let p = Pm2::new("crash_loop");
    p.fixture("crash.sh");
    p.ok(&["start", "crash.sh"]);
    let app = p.wait_status(0, "errored", Duration::from_secs(20));
    assert_eq!(env_u64(&app, "restart_time"), 15, "{app:#}");
    assert_eq!(app["pm2_env"]["exit_code"], 1);
    assert_eq!(pid_of(&app), 0);
    assert_eq!(app["monit"]["memory"], 0);
    // An errored app stays errored.
    // Sleep to create the condition under test: nothing may restart it within this window.
    std::thread::sleep(Duration::from_millis(500));
    let later = p.app(0);
    assert_eq!(st(&later), "errored");
    assert_eq!(env_u64(&later, "restart_time"), 15);

    p.ok(&["reset", "crash"]);
    assert_eq!(env_u64(&p.app(0), "restart_time"), 0);
    assert_eq!(env_u64(&p.app(0), "unstable_restarts"), 0);
}

#[test]
fn no_autorestart_leaves_the_app_stopped() {
    let p = Pm2::new("no_autorestart");
    p.fixture("exit_after.js");
    p.ok(&[
        "start",
        "exit_after.js",
        "--no-autorestart",
        "--",
        "0",
        "100",
    ]);
    let app = p.wait_status(0, "stopped", T);
    assert_eq!(app["pm2_env"]["exit_code"], 0);
    assert_eq!(app["pm2_env"]["autorestart"], false);
    // Sleep to create the condition under test: no restart may happen within this window.
    std::thread::sleep(Duration::from_millis(600));
    let later = p.app(0);
    assert_eq!(st(&later), "stopped");
    assert_eq!(env_u64(&later, "restart_time"), 0);
}

#[test]
fn a_stop_exit_code_leaves_the_app_stopped_and_other_codes_restart() {
    let p = Pm2::new("stop_exit_codes");
    p.fixture("crash.sh");
    // The exit code comes from the env so that `--stop-exit-codes` can be the last flag
    // (see `stop_exit_codes_is_followed_by_other_flags_and_app_args` for the flag parsing).
    let args = [
        "start",
        "crash.sh",
        "--name",
        "three",
        "--stop-exit-codes",
        "3",
    ];
    p.ok_env(&[("EXIT_CODE", "3")], &args);
    let app = p.wait_status(0, "stopped", T);
    assert_eq!(app["pm2_env"]["exit_code"], 3);
    assert_eq!(app["pm2_env"]["stop_exit_codes"], serde_json::json!([3]));

    let args = [
        "start",
        "crash.sh",
        "--name",
        "two",
        "--restart-delay",
        "200",
    ];
    p.ok_env(
        &[("EXIT_CODE", "2")],
        &[&args[..], &["--stop-exit-codes", "3"]].concat(),
    );
    p.wait_until(T, "app 1 (exit 2) to be restarted", || {
        env_u64(&p.app(1), "restart_time") >= 1
    });
    assert_eq!(p.app(1)["pm2_env"]["exit_code"], 2);

    let three = p.app(0);
    assert_eq!(st(&three), "stopped", "{three:#}");
    assert_eq!(env_u64(&three, "restart_time"), 0);
}

#[test]
fn stop_exit_codes_is_followed_by_other_flags_and_app_args() {
    let p = Pm2::new("stop_codes_parse");
    p.fixture("crash.sh");
    let args = [
        "start",
        "crash.sh",
        "--stop-exit-codes",
        "3",
        "--name",
        "three",
        "--",
        "3",
    ];
    p.ok(&args);
    let app = p.wait_status(0, "stopped", T);
    assert_eq!(app["name"], "three");
    assert_eq!(app["pm2_env"]["args"], serde_json::json!(["3"]));
    assert_eq!(app["pm2_env"]["stop_exit_codes"], serde_json::json!([3]));
    assert_eq!(app["pm2_env"]["exit_code"], 3);
}

/// Polls jlist, recording the `pm_uptime` of each `restart_time` of app 0, until
/// `restart_time` reaches `last`. Also reports whether `waiting restart` was seen.
fn launches(p: &Pm2, last: u64, within: Duration) -> (BTreeMap<u64, u64>, bool) {
    let mut seen = BTreeMap::new();
    let mut waiting = false;
    p.wait_until(within, &format!("restart_time {last}"), || {
        let app = p.app(0);
        waiting |= st(&app) == "waiting restart";
        let restarts = env_u64(&app, "restart_time");
        seen.entry(restarts).or_insert(env_u64(&app, "pm_uptime"));
        restarts >= last
    });
    (seen, waiting)
}

#[test]
fn restart_delay_waits_before_respawning() {
    let p = Pm2::new("restart_delay");
    p.fixture("crash.sh");
    p.ok(&["start", "crash.sh", "--restart-delay", "1500"]);
    let (seen, waiting) = launches(&p, 1, T);
    assert!(waiting, "status `waiting restart` was never shown");
    let (Some(first), Some(second)) = (seen.get(&0), seen.get(&1)) else {
        p.fail(&format!("launches not observed: {seen:?}"), None);
    };
    let gap = second - first;
    assert!(
        (1500..2500).contains(&gap),
        "respawned {gap} ms after the previous launch, expected about 1500 ({seen:?})"
    );
    assert_eq!(p.app(0)["pm2_env"]["restart_delay"], 1500);
}

#[test]
fn exponential_backoff_grows_by_half_each_time() {
    let p = Pm2::new("exp_backoff");
    p.fixture("crash.sh");
    p.ok(&["start", "crash.sh", "--exp-backoff-restart-delay", "100"]);
    let (seen, waiting) = launches(&p, 6, Duration::from_secs(15));
    assert!(waiting, "status `waiting restart` was never shown");
    // PM2: first delay = base, then floor(prev * 1.5).
    let mut expected = BTreeMap::new();
    let mut delay = 100u64;
    for n in 1..=6u64 {
        expected.insert(n, delay);
        delay = delay * 3 / 2;
    }
    let mut gaps = BTreeMap::new();
    for (n, up) in &seen {
        if let Some(prev) = n.checked_sub(1).and_then(|m| seen.get(&m)) {
            gaps.insert(*n, up - prev);
        }
    }
    assert!(
        gaps.len() >= 4,
        "too few consecutive launches observed: {seen:?}"
    );
    // A gap is the app's own run time plus the delay: at least the delay, and the
    // run time's jitter under load says nothing about the delay, so the delays
    // themselves are read from pm2.log, where the daemon says each one.
    for (n, gap) in &gaps {
        let want = expected[n];
        assert!(
            *gap + 10 >= want,
            "restart {n}: gap {gap} ms, shorter than the {want} ms delay (all gaps {gaps:?})"
        );
    }
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    let said: Vec<u64> = log
        .lines()
        .filter_map(|l| l.split("will restart in ").nth(1))
        .filter_map(|rest| rest.trim_end_matches("ms").parse().ok())
        .take(5)
        .collect();
    let want: Vec<u64> = expected.values().copied().take(5).collect();
    assert_eq!(said, want, "delays said in pm2.log:\n{log}");
}

#[test]
fn reset_zeroes_restart_time() {
    let p = Pm2::new("reset");
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js"]);
    p.ok(&["restart", "ticker"]);
    p.ok(&["restart", "0"]);
    assert_eq!(env_u64(&p.app(0), "restart_time"), 2);
    let out = p.ok(&["reset", "ticker"]);
    p.expect_output(&out, "[ticker](0) ✓");
    let app = p.app(0);
    assert_eq!(env_u64(&app, "restart_time"), 0);
    assert_eq!(st(&app), "online", "reset does not stop the app");
    p.ok(&["restart", "all"]);
    p.ok(&["reset", "all"]);
    assert_eq!(env_u64(&p.app(0), "restart_time"), 0);
}
