//! `NOTIFY_SOCKET` readiness (`notify`, beyond PM2) and the overlap reload of a fork-mode
//! app with `listen`: a Python app says `READY=1` as systemd's `sd_notify` does; until then
//! it is `launching` and the start or reload reply waits, as `--wait-ready` waits for
//! Node's `process.send('ready')`.

use crate::harness::cluster::free_port;
use crate::harness::*;
use crate::listen::served_pid;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const T: Duration = Duration::from_secs(20);

/// An ecosystem file for `notify_app.py` as `web` on `port`, with `notify` and `extra`
/// keys and `env`.
fn ecosystem(p: &Pm2, port: u16, env: serde_json::Value, extra: serde_json::Value) -> String {
    let mut app = serde_json::json!({
        "name": "web", "script": p.fixture("notify_app.py"), "interpreter": "python3",
        "listen": [format!("127.0.0.1:{port}")], "notify": true, "env": env,
    });
    if let (Some(app), Some(extra)) = (app.as_object_mut(), extra.as_object()) {
        app.extend(extra.clone());
    }
    let file = p.dir.join("notify.config.json");
    let conf = serde_json::json!({ "apps": [app] });
    std::fs::write(&file, conf.to_string()).expect("write the ecosystem");
    file.to_string_lossy().into_owned()
}

/// Runs `pm2 start file` while watching the app: the time the reply took, and whether it
/// was seen `launching` with a process meanwhile.
fn start_watching(p: &Pm2, file: &str) -> (Duration, bool) {
    let replied = AtomicBool::new(false);
    std::thread::scope(|s| {
        let start = s.spawn(|| {
            let began = Instant::now();
            p.ok(&["start", file]);
            replied.store(true, Ordering::SeqCst);
            began.elapsed()
        });
        let mut seen = false;
        while !replied.load(Ordering::SeqCst) {
            let app = p.find(0).unwrap_or_default();
            seen |= st(&app) == "launching" && app["pid"].as_i64().unwrap_or(0) > 0;
            std::thread::sleep(Duration::from_millis(50));
        }
        (start.join().expect("start thread"), seen)
    })
}

#[test]
fn a_notify_app_is_launching_until_ready_and_the_start_reply_waits() {
    let p = Pm2::new("notify_ready");
    let port = free_port();
    let file = ecosystem(
        &p,
        port,
        serde_json::json!({"READY_DELAY": "2"}),
        serde_json::json!({"listen_timeout": 20000}),
    );
    let (took, seen_launching) = start_watching(&p, &file);
    assert!(seen_launching, "never seen launching before READY=1");
    assert!(
        took >= Duration::from_millis(1800),
        "the reply came after {took:?}"
    );
    assert_eq!(st(&p.app(0)), "online", "online when the reply comes");
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    assert!(log.contains("App [web:0] sent READY=1"), "{log}");
    assert!(log.contains("App [web:0] online (ready)"), "{log}");
    let out = p.log_path("web-out.log");
    p.wait_file_contains(&out, "notify socket=", T);
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(
        text.contains(&format!(
            "notify socket={}",
            p.home.join("notify.sock").display()
        )),
        "{text}"
    );
    p.wait_until(T, "STATUS=serving in jlist", || {
        p.app(0)["pm2_env"]["notify_status"] == "serving"
    });
    let describe = p.ok(&["describe", "web"]);
    p.expect_output(&describe, "notify status");
    p.expect_output(&describe, "serving");
}

#[test]
fn a_notify_app_that_never_says_ready_goes_online_at_listen_timeout() {
    let p = Pm2::new("notify_timeout");
    let port = free_port();
    let file = ecosystem(
        &p,
        port,
        serde_json::json!({"NO_READY": "1"}),
        serde_json::json!({"listen_timeout": 1500}),
    );
    let (took, seen_launching) = start_watching(&p, &file);
    assert!(seen_launching, "never seen launching");
    assert!(
        took >= Duration::from_millis(1400),
        "the reply came after {took:?}"
    );
    assert_eq!(st(&p.app(0)), "online");
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    assert!(log.contains("App [web:0] online (listen timeout)"), "{log}");
}

#[test]
fn garbage_and_datagrams_from_other_processes_are_ignored() {
    let p = Pm2::new("notify_garbage");
    let port = free_port();
    let file = ecosystem(
        &p,
        port,
        serde_json::json!({"GARBAGE": "1", "READY_DELAY": "3"}),
        serde_json::json!({"listen_timeout": 30000}),
    );
    std::thread::scope(|s| {
        let start = s.spawn(|| p.ok(&["start", &file]));
        p.wait_until(T, "web launching", || {
            let app = p.find(0).unwrap_or_default();
            st(&app) == "launching" && app["pid"].as_i64().unwrap_or(0) > 0
        });
        // This test's process is no instance of the app: its READY=1 does nothing.
        let sock = p.home.join("notify.sock");
        let stranger = std::os::unix::net::UnixDatagram::unbound().expect("socket");
        for junk in [&b"READY=1"[..], b"\0\0\0", &[b'x'; 9000]] {
            let _ = stranger.send_to(junk, &sock);
        }
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(st(&p.app(0)), "launching", "a stranger's READY=1 was taken");
        start.join().expect("start thread");
    });
    assert_eq!(st(&p.app(0)), "online");
    p.ok(&["ping"]);
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    assert!(log.contains("App [web:0] sent READY=1"), "{log}");
}

#[test]
fn a_process_that_stops_sending_watchdog_is_restarted_after_watchdog_sec() {
    let p = Pm2::new("notify_watchdog");
    let port = free_port();
    let file = ecosystem(
        &p,
        port,
        serde_json::json!({"PET_FOR": "2.5"}),
        serde_json::json!({"watchdog_sec": 1}),
    );
    p.ok(&["start", &file]);
    let online = Instant::now();
    let first = p.wait_online(0);
    let out = p.log_path("web-out.log");
    p.wait_file_contains(&out, "watchdog=1000000", T);
    p.wait_until(T, "a restart by the watchdog", || {
        p.app(0)["pm2_env"]["restart_time"].as_i64() == Some(1)
    });
    let lived = online.elapsed();
    assert!(
        lived >= Duration::from_millis(2500),
        "restarted while it sent WATCHDOG=1: after {lived:?}"
    );
    let again = p.wait_online(0);
    assert_ne!(again, first);
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    assert!(
        log.contains(
            "App [web:0] restarted because it sent no WATCHDOG=1 within watchdog_sec (1000 ms)"
        ),
        "{log}"
    );
}

#[test]
fn bad_notify_and_watchdog_values_are_refused_naming_the_key() {
    let p = Pm2::new("notify_errors");
    for (key, value) in [
        ("notify", serde_json::json!("yes")),
        ("watchdog_sec", serde_json::json!(0)),
        ("watchdog_sec", serde_json::json!("soon")),
    ] {
        let file = ecosystem(
            &p,
            free_port(),
            serde_json::json!({}),
            serde_json::json!({ key: value }),
        );
        let out = p.fails(&["start", &file], 1);
        p.expect_output(&out, key);
        assert_eq!(p.app_count(), 0, "nothing registered for {key}: {value}");
    }
}

/// A reload's new process that exits before READY=1 fails the reload; the old one stays.
/// One that never says it is ready takes over at `listen_timeout`, logged.
#[test]
fn a_reload_whose_process_dies_before_ready_keeps_the_old_and_a_silent_one_takes_over_late() {
    let p = Pm2::new("notify_reload_fail");
    let port = free_port();
    let old = slow_to_ready(&p, port);
    let out = p.run_with(
        &p.dir,
        &[("EXIT_BEFORE_READY", "1")],
        &["reload", "web", "--update-env"],
    );
    p.check(out.code.is_some_and(|c| c != 0), "reload must fail", &out);
    p.expect_output(&out, "reload of web:0 failed");
    let app = p.app(0);
    p.check(
        app["pid"].as_i64() == Some(old),
        "the old process stays",
        &out,
    );
    p.check(st(&app) == "online", "still online", &out);
    assert_eq!(served_pid(port), Ok(old));
    let file = ecosystem(
        &p,
        port,
        serde_json::json!({"NO_READY": "1"}),
        serde_json::json!({"listen_timeout": 1500}),
    );
    let began = Instant::now();
    p.ok(&["reload", &file]);
    let took = began.elapsed();
    assert!(
        took >= Duration::from_millis(1400),
        "the reply came after {took:?}"
    );
    let new = p.app(0)["pid"].as_i64().unwrap_or(0);
    assert_ne!(new, old);
    p.wait_until(T, "the new process serving", || served_pid(port) == Ok(new));
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    assert!(
        log.contains("new process sent no READY=1 within listen_timeout (1500 ms)"),
        "{log}"
    );
}

/// `pm2 save` keeps `notify` and `watchdog_sec`, and the resurrected app waits for READY=1.
#[test]
fn save_and_resurrect_keep_notify_and_the_watchdog() {
    let p = Pm2::new("notify_resurrect");
    let port = free_port();
    let file = ecosystem(
        &p,
        port,
        serde_json::json!({"PET_FOR": "60"}),
        serde_json::json!({"watchdog_sec": "1500ms"}),
    );
    p.ok(&["start", &file]);
    p.wait_online(0);
    p.ok(&["save"]);
    p.ok(&["kill"]);
    p.ok(&["resurrect"]);
    let app = p.wait_status(0, "online", T);
    assert_eq!(app["pm2_env"]["notify"], true, "{app}");
    assert_eq!(app["pm2_env"]["watchdog_ms"], 1500, "{app}");
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    let readies = log.matches("App [web:0] sent READY=1").count();
    assert_eq!(readies, 2, "before and after the resurrect: {log}");
}

/// One request of the client loop.
#[derive(Clone)]
struct Request {
    /// When its reply came, seconds since the epoch.
    at: f64,
    /// How long it took.
    took: Duration,
    /// The pid that served it.
    pid: Result<i64, String>,
}

/// A client sending requests in a loop, a new connection each, until [`Load::finish`].
struct Load {
    stop: Arc<AtomicBool>,
    results: Arc<Mutex<Vec<Request>>>,
    client: std::thread::JoinHandle<()>,
}

impl Load {
    fn start(port: u16) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let results: Arc<Mutex<Vec<Request>>> = Arc::default();
        let client = {
            let (stop, results) = (Arc::clone(&stop), Arc::clone(&results));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let began = Instant::now();
                    let pid = served_pid(port);
                    let (took, at) = (began.elapsed(), now_secs());
                    results.lock().unwrap().push(Request { at, took, pid });
                }
            })
        };
        Load {
            stop,
            results,
            client,
        }
    }

    fn served_by(&self, pid: i64) -> bool {
        let results = self.results.lock().unwrap();
        results.iter().any(|r| r.pid.as_ref().ok() == Some(&pid))
    }

    fn finish(self) -> Vec<Request> {
        self.stop.store(true, Ordering::Relaxed);
        self.client.join().expect("client thread");
        let results = self.results.lock().unwrap();
        results.clone()
    }
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// When each process said READY=1 (the app's `ready pid=.. at=..` lines).
fn ready_times(p: &Pm2) -> std::collections::HashMap<i64, f64> {
    let text = std::fs::read_to_string(p.log_path("web-out.log")).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix("ready pid="))
        .filter_map(|rest| {
            let (pid, at) = rest.split_once(" at=")?;
            Some((pid.parse().ok()?, at.trim().parse().ok()?))
        })
        .collect()
}

/// `web`, a notify app that takes a second to be ready, started and online.
fn slow_to_ready(p: &Pm2, port: u16) -> i64 {
    let file = ecosystem(
        p,
        port,
        serde_json::json!({"READY_DELAY": "1"}),
        serde_json::json!({"listen_timeout": 20000}),
    );
    p.ok(&["start", &file]);
    i64::from(p.wait_online(0))
}

/// Runs `pm2 <action> web` three times under load: every request, and the pids in order.
fn three_times_under_load(p: &Pm2, port: u16, action: &str) -> (Vec<Request>, Vec<i64>) {
    let mut pids = vec![slow_to_ready(p, port)];
    let load = Load::start(port);
    for _ in 0..3 {
        let began = Instant::now();
        p.ok(&[action, "web"]);
        let took = began.elapsed();
        assert!(
            took >= Duration::from_millis(900),
            "the {action} reply came after {took:?}"
        );
        let app = p.app(0);
        assert_eq!(st(&app), "online", "online when the {action} reply comes");
        let new = app["pid"].as_i64().unwrap_or(0);
        assert!(!pids.contains(&new), "a new process after {action}: {new}");
        pids.push(new);
    }
    let last = *pids.last().unwrap();
    p.wait_until(T, "a request served by the last process", || {
        load.served_by(last)
    });
    (load.finish(), pids)
}

fn slowest(results: &[Request]) -> Duration {
    results.iter().map(|r| r.took).max().unwrap_or_default()
}

#[test]
fn three_overlap_reloads_of_a_slow_to_ready_app_fail_no_request() {
    let p = Pm2::new("notify_reload");
    let port = free_port();
    let (results, _) = three_times_under_load(&p, port, "reload");
    let failed: Vec<&String> = results
        .iter()
        .filter_map(|r| r.pid.as_ref().err())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} failed: {:?}",
        failed.len(),
        results.len(),
        &failed[..failed.len().min(5)]
    );
    let ready = ready_times(&p);
    for r in &results {
        let pid = r.pid.as_ref().expect("no failure");
        let said = ready.get(pid).copied().unwrap_or(f64::MAX);
        assert!(
            r.at >= said,
            "pid {pid} served at {} before its READY=1 at {said}",
            r.at
        );
    }
    // No request waited for a process to start: the old one served until the new was ready.
    let slowest = slowest(&results);
    assert!(
        slowest < Duration::from_millis(800),
        "a request took {slowest:?}"
    );
    // Each old process was stopped only after its successor's READY=1.
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    let at = |needle: &str| -> Vec<usize> {
        let found = lines.iter().enumerate().filter(|(_, l)| l.contains(needle));
        found.map(|(i, _)| i).collect()
    };
    let readies = at("App [web:0] new process sent READY=1");
    let retired = at("Stopping app:web id:_old_0");
    assert_eq!((readies.len(), retired.len()), (3, 3), "{log}");
    for (r, o) in readies.iter().zip(&retired) {
        assert!(
            r < o,
            "an old process was stopped before its successor was ready:\n{log}"
        );
    }
    let served: std::collections::BTreeSet<i64> = results
        .iter()
        .filter_map(|r| r.pid.as_ref().ok().copied())
        .collect();
    assert!(served.len() >= 4, "every process served: {served:?}");
    // The new process's own STATUS= is what describe shows after the reload.
    assert_eq!(p.app(0)["pm2_env"]["notify_status"], "serving");
}

/// The contrast, so the test above can fail: `pm2 restart` stops first, then starts, and
/// requests wait (in the kept socket's backlog) for the new process to be ready.
#[test]
fn restarts_of_the_same_app_make_requests_wait_for_the_new_process() {
    let p = Pm2::new("notify_restart");
    let port = free_port();
    let (results, _) = three_times_under_load(&p, port, "restart");
    let slowest = slowest(&results);
    assert!(
        slowest >= Duration::from_millis(900),
        "the slowest request took {slowest:?}"
    );
}
