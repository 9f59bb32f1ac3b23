//! What the daemon reports about running apps: cpu and memory from /proc (one timer for all
//! instances), and what Node apps report themselves over IPC with @pm2/io's protocol:
//! custom metrics (`axm:monitor`) in jlist and describe, and actions (`axm:action`) that
//! `pm2 trigger` runs, printing the app's `axm:reply`.

use crate::harness::*;
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(15);

/// `monit.<key>` of a jlist element as f64 (0 when missing).
fn monit(app: &Value, key: &str) -> f64 {
    app["monit"][key].as_f64().unwrap_or(0.0)
}

#[test]
fn a_spin_loop_shows_near_full_cpu_and_its_memory() {
    // Alone: the other tests' apps would take their share of the cores.
    let p = Pm2::alone("cpu_spin");
    p.fixture("spin.js");
    p.fixture("ticker.js");
    p.ok(&["start", "spin.js"]);
    p.ok(&["start", "ticker.js"]);
    p.wait_online(0);
    p.wait_online(1);
    let mut app = Value::Null;
    let pid = p.app(0)["pid"].as_u64().unwrap_or(0);
    let mut window = cpu_ticks(pid).map(|t| (t, Instant::now()));
    let mut share: Option<f64> = None;
    // One busy thread: about one core, not a unit error (ticks vs ms, per-mille). The very
    // first reading may be higher: Node's start-up compiles and collects on other threads.
    // On a loaded machine the loop gets less than a core: then the figure must match the
    // share the kernel gave it over the last second, which the test reads from /proc.
    p.wait_until(
        T,
        "spin.js to show the cpu share it gets (about one core when idle)",
        || {
            app = p.app(0);
            let cpu = monit(&app, "cpu");
            if let (Some((t0, i0)), Some(t1)) = (window, cpu_ticks(pid)) {
                let secs = i0.elapsed().as_secs_f64();
                if secs >= 1.0 {
                    // Ticks are hundredths of a second: per cent of a core over the window.
                    share = Some((t1 - t0) as f64 / secs);
                    window = Some((t1, Instant::now()));
                }
            }
            let about_a_core = cpu > 50.0 && cpu <= 150.0;
            let loaded_but_right =
                share.is_some_and(|s| s < 50.0 && cpu > s * 0.5 && cpu < s * 1.5 + 10.0);
            about_a_core || loaded_but_right
        },
    );
    assert!(monit(&app, "memory") > 0.0, "{:#}", app["monit"]);
    // The same timer samples the other instance too.
    p.wait_until(T, "ticker.js to show its memory", || {
        monit(&p.app(1), "memory") > 0.0
    });
    let out = p.ok(&["describe", "spin"]);
    p.expect_output(&out, "spin");
}

/// utime + stime of `pid` in clock ticks (100 a second on Linux).
fn cpu_ticks(pid: u64) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Starts axm.js as `axm` (events go to `<dir>/events.log`) and returns the events path.
fn start_axm(p: &Pm2) -> PathBuf {
    p.fixture("axm.js");
    let events = p.dir.join("events.log");
    let env = [("EVENTS", events.to_str().expect("UTF-8 path"))];
    p.ok_env(&env, &["start", "axm.js", "--name", "axm"]);
    p.wait_online(0);
    p.wait_file_contains(&events, "started pid=", T);
    events
}

#[test]
fn custom_metrics_show_in_jlist_and_describe() {
    let p = Pm2::new("axm_monitor");
    start_axm(&p);
    let mut app = Value::Null;
    p.wait_until(T, "axm_monitor to hold Req/min", || {
        app = p.app(0);
        app["pm2_env"]["axm_monitor"]["Req/min"]["value"] == 42
    });
    assert_eq!(
        app["pm2_env"]["axm_monitor"]["Req/min"]["unit"], "req",
        "{app:#}"
    );
    // PM2 prints a " Code metrics value " table of `<name> │ <value> <unit>` rows, and the
    // registered actions under " Actions available ".
    let out = p.ok(&["describe", "axm"]);
    p.expect_output(&out, "Code metrics value");
    let shown = out
        .stdout
        .lines()
        .any(|l| l.contains("Req/min") && l.contains("42 req"));
    p.check(shown, "describe shows the metric, its value and unit", &out);
    p.expect_output(&out, "Actions available");
    p.expect_output(&out, "hello");
}

#[test]
fn trigger_runs_an_action_and_prints_the_reply() {
    let p = Pm2::new("axm_trigger");
    let events = start_axm(&p);
    p.wait_until(T, "the action `hello` in axm_actions", || {
        p.app(0)["pm2_env"]["axm_actions"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["action_name"] == "hello"))
    });

    let out = p.ok(&["trigger", "axm", "hello"]);
    p.expect_output(&out, "hi from axm");
    p.check(
        read(&events).contains("received \"hello\""),
        "without a param the app gets the bare action name",
        &out,
    );

    let out = p.ok(&["trigger", "axm", "hello", "world"]);
    p.expect_output(&out, "hi from axm");
    p.expect_output(&out, "world");
    p.check(
        read(&events).contains(r#"received {"msg":"hello","opts":"world"}"#),
        "with a param the app gets {msg, opts}",
        &out,
    );

    let out = p.fails(&["trigger", "axm", "nope"], 1);
    p.expect_output(&out, "not found");
    assert!(!read(&events).contains("nope"), "{}", read(&events));
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
