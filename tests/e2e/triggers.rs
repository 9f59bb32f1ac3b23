//! What restarts an app on its own: the memory limit (`--max-memory-restart`, checked on the
//! metrics timer), `--cron-restart` (PM2's semantics, croner syntax) and `--watch` (one
//! restart per burst, PM2's ignore and toggling rules, cheap on large trees).
//!
//! The memory tests set `PM2_WORKER_INTERVAL` on the first command, the one that spawns the
//! daemon, so the limit is checked every 200 ms instead of every second.

use crate::harness::cluster::*;
use crate::harness::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

on_each_node!(a_cluster_app_over_its_memory_limit_is_reloaded_and_keeps_serving);

/// How often the daemon checks memory in these tests (ms, in the daemon's env).
const WORKER_INTERVAL: &str = "200";
/// The line PM2 writes to pm2.log when it restarts an app over its limit.
const MEMORY_REASON: &str = "exceeds --max-memory-restart";

/// `pm2_env.restart_time` of app `id`.
fn restarts(p: &Pm2, id: u64) -> u64 {
    env_u64(&p.app(id), "restart_time")
}

/// Waits until app `id` restarted at least `n` times in all and is online again; its pid.
fn wait_restarts(p: &Pm2, id: u64, n: u64) -> i32 {
    let mut app = Value::Null;
    p.wait_until(
        T,
        &format!("app {id} restarted {n} time(s), online"),
        || {
            app = p.find(id).unwrap_or(Value::Null);
            env_u64(&app, "restart_time") >= n && st(&app) == "online"
        },
    );
    pid_of(&app)
}

/// The assertion that follows is that nothing happens, so there is no event to poll for:
/// this window is well over the watcher's 200 ms settle time plus a restart, and over a
/// cron period of the 1-second patterns used here.
fn nothing_happens_window() {
    std::thread::sleep(Duration::from_millis(2500));
}

fn daemon_log(p: &Pm2) -> String {
    std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Memory limit
// ---------------------------------------------------------------------------------------

#[test]
fn an_app_over_its_memory_limit_is_restarted_with_the_reason_logged() {
    let p = Pm2::new("mem_fork");
    p.fixture("grow.js");
    let marker = p.dir.join("grew");
    let env = [
        ("PM2_WORKER_INTERVAL", WORKER_INTERVAL),
        ("MARKER", marker.to_str().expect("UTF-8 path")),
    ];
    p.ok_env(&env, &["start", "grow.js", "--max-memory-restart", "80M"]);
    let first = p.wait_online(0);
    assert_eq!(
        p.app(0)["pm2_env"]["max_memory_restart"],
        80 * 1024 * 1024,
        "the limit is kept in bytes"
    );
    // grow.js gains ~50 MB a second: well within T it crosses 80 MB and is restarted.
    let second = wait_restarts(&p, 0, 1);
    assert_ne!(second, first, "a new process after the restart");
    p.wait_until(T, "the reason in pm2.log", || {
        daemon_log(&p).contains(MEMORY_REASON)
    });
}

fn a_cluster_app_over_its_memory_limit_is_reloaded_and_keeps_serving(node: &Node) {
    let p = Pm2::new("mem_cluster");
    p.fixture("grow.js");
    let port = free_port().to_string();
    let marker = p.dir.join("grew");
    let env = [
        ("PM2_WORKER_INTERVAL", WORKER_INTERVAL),
        ("MARKER", marker.to_str().expect("UTF-8 path")),
        ("PORT", port.as_str()),
    ];
    let args = ["-i", "1", "--max-memory-restart", "80M", "--name", "web"];
    p.ok_env(&env, &node.start_args("grow.js", &args));
    let first = p.wait_online(0);
    assert_eq!(env_str(&p.app(0), "exec_mode"), "cluster_mode");
    let port: u16 = port.parse().expect("port");
    p.wait_until(T, "the first worker to serve", || {
        http_get(port) == Ok(first)
    });
    // Clients keep asking while the worker grows and is replaced: a reload loses nothing.
    let traffic = Traffic::http(port, 2);
    let second = wait_restarts(&p, 0, 1);
    assert_ne!(second, first, "a new worker after the reload");
    p.wait_until(T, "the new worker to serve", || {
        http_get(port) == Ok(second)
    });
    let stats = traffic.finish(&p, 20);
    assert_eq!(
        stats.failed, 0,
        "requests failed during the reload: {stats:?}"
    );
    assert!(daemon_log(&p).contains(MEMORY_REASON), "{}", daemon_log(&p));
}

#[test]
fn an_invalid_memory_limit_or_cron_pattern_is_refused() {
    let p = Pm2::new("invalid_limits");
    p.fixture("ticker.js");
    for bad in [
        ["--max-memory-restart", "10X"],
        ["--cron-restart", "61 * * * *"],
    ] {
        let out = p.fails(&["start", "ticker.js", bad[0], bad[1]], 1);
        p.expect_output(&out, bad[1]);
        p.check(
            p.app_count() == 0,
            "a refused start registers nothing",
            &out,
        );
    }
}

// ---------------------------------------------------------------------------------------
// Cron
// ---------------------------------------------------------------------------------------

#[test]
fn a_six_field_cron_restarts_on_schedule() {
    let p = Pm2::new("cron6");
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js", "-c", "*/2 * * * * *"]);
    let first = p.wait_online(0);
    assert_eq!(env_str(&p.app(0), "cron_restart"), "*/2 * * * * *");
    // Every 2 seconds: two restarts show a schedule, not a one-off.
    let second = wait_restarts(&p, 0, 1);
    let third = wait_restarts(&p, 0, 2);
    assert!(
        first != second && second != third,
        "{first} {second} {third}"
    );
}

#[test]
fn cron_zero_disables_it() {
    let p = Pm2::new("cron0");
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js", "-c", "0"]);
    let pid = p.wait_online(0);
    nothing_happens_window();
    let app = p.app(0);
    assert_eq!(env_u64(&app, "restart_time"), 0, "{app:#}");
    assert_eq!(pid_of(&app), pid);
}

#[test]
fn a_stopped_app_is_started_by_its_cron_and_a_deleted_one_is_not() {
    let p = Pm2::new("cron_stop");
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js", "--cron", "* * * * * *"]);
    let first = p.wait_online(0);
    // PM2 keeps the cron job of a stopped app: the next tick starts it again.
    p.ok(&["stop", "ticker"]);
    let pid = p.wait_online(0);
    assert_ne!(pid, first, "a new process, started by the cron");
    p.ok(&["delete", "ticker"]);
    // The job goes with the app. Nothing to wait for: watch a few ticks' worth of time.
    during(Duration::from_secs(3), Duration::from_millis(250), || {
        let apps = p.apps();
        assert!(apps.is_empty(), "a deleted app came back: {apps:#?}");
    });
    assert!(!alive(pid), "the deleted app's process {pid} is gone");
}

// ---------------------------------------------------------------------------------------
// Watch
// ---------------------------------------------------------------------------------------

/// A project folder beside `PM2_HOME` (never containing it: its logs change all the time),
/// holding ticker.js and `src/a.js`.
fn project(p: &Pm2, name: &str) -> PathBuf {
    let dir = p.dir.join(name);
    std::fs::create_dir_all(dir.join("src")).expect("create the project");
    std::fs::copy(Path::new(FIXTURES).join("ticker.js"), dir.join("ticker.js"))
        .expect("copy ticker.js");
    write(&dir.join("src/a.js"), "// a\n");
    dir
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create the parent folder");
    }
    std::fs::write(path, text).expect("write a watched file");
}

/// Starts `dir`/ticker.js as `name` with `extra` flags and `--watch` (no paths: its cwd),
/// and returns its pid once online.
fn start_watched(p: &Pm2, dir: &Path, name: &str, extra: &[&str]) -> i32 {
    let mut args = vec!["start", "ticker.js", "--name", name];
    args.extend_from_slice(extra);
    args.push("--watch");
    let out = p.run_in(dir, &args);
    p.expect_code(&out, 0);
    let id = p.apps().len() as u64 - 1;
    p.wait_online(id)
}

fn watch_flag(p: &Pm2, id: u64) -> Value {
    p.app(id)["pm2_env"]["watch"].clone()
}

#[test]
fn a_burst_of_changes_restarts_once() {
    let p = Pm2::new("watch_burst");
    let dir = project(&p, "project");
    let first = start_watched(&p, &dir, "w", &[]);
    assert_eq!(watch_flag(&p, 0), Value::Bool(true));
    for i in 0..20 {
        write(&dir.join("src/a.js"), &format!("// version {i}\n"));
    }
    let second = wait_restarts(&p, 0, 1);
    assert_ne!(second, first);
    nothing_happens_window();
    let app = p.app(0);
    assert_eq!(env_u64(&app, "restart_time"), 1, "one restart per burst");
    assert_eq!(pid_of(&app), second, "{app:#}");
}

#[test]
fn changes_in_ignored_paths_do_not_restart() {
    let p = Pm2::new("watch_ignore");
    let plain = project(&p, "plain");
    write(&plain.join("node_modules/lib/index.js"), "// dep\n");
    let globbed = project(&p, "globbed");
    write(&globbed.join("tmp/cache.js"), "// cache\n");
    start_watched(&p, &plain, "plain", &[]);
    start_watched(&p, &globbed, "globbed", &["--ignore-watch", "*.log,tmp"]);

    // PM2's default: dotfiles and node_modules.
    write(&plain.join("node_modules/lib/index.js"), "// dep v2\n");
    write(&plain.join("node_modules/other/new.js"), "// new dep\n");
    write(&plain.join(".env"), "A=1\n");
    write(&plain.join(".git/HEAD"), "ref: x\n");
    // The --ignore-watch globs: a file pattern and a folder name.
    write(&globbed.join("out.log"), "a log line\n");
    write(&globbed.join("src/debug.log"), "a log line\n");
    write(&globbed.join("tmp/cache.js"), "// cache v2\n");
    nothing_happens_window();
    assert_eq!(restarts(&p, 0), 0, "an ignored path restarted `plain`");
    assert_eq!(restarts(&p, 1), 0, "an ignored path restarted `globbed`");

    // Both watchers were live all along: a source change restarts each once.
    write(&plain.join("src/a.js"), "// changed\n");
    write(&globbed.join("src/a.js"), "// changed\n");
    wait_restarts(&p, 0, 1);
    wait_restarts(&p, 1, 1);
}

#[test]
fn a_folder_created_after_start_is_watched() {
    let p = Pm2::new("watch_newdir");
    let dir = project(&p, "project");
    start_watched(&p, &dir, "w", &[]);
    std::fs::create_dir_all(dir.join("src/added/deeper")).expect("create folders");
    // Creating folders is a change in itself; wait for that burst to be over.
    wait_restarts(&p, 0, 1);
    nothing_happens_window();
    let before = restarts(&p, 0);
    write(&dir.join("src/added/deeper/b.js"), "// b\n");
    wait_restarts(&p, 0, before + 1);
}

/// utime + stime of `pid`, in seconds, from /proc/<pid>/stat.
fn cpu_seconds(pid: i32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("daemon stat");
    // Fields after the command name (which may contain spaces): state is field 3, utime
    // and stime are fields 14 and 15.
    let rest = &text[text.rfind(')').expect("stat format") + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1);
    ticks as f64 / hz as f64
}

#[test]
fn a_large_tree_is_watched_without_burning_cpu() {
    let p = Pm2::new("watch_large");
    let dir = project(&p, "project");
    for pkg in 0..100 {
        for f in 0..30 {
            write(
                &dir.join(format!("node_modules/pkg{pkg}/lib/f{f}.js")),
                "// dep\n",
            );
        }
    }
    for d in 0..10 {
        for f in 0..20 {
            write(&dir.join(format!("src/d{d}/f{f}.js")), "// src\n");
        }
    }
    start_watched(&p, &dir, "w", &[]);
    let daemon = p.daemon_pid().expect("daemon pid");
    // A coarse sanity bound, not a latency measure: a watcher that polls or rescans 3200
    // files keeps a core busy, while an event-driven one costs next to nothing when idle
    // (the metrics timer included). Nothing to wait for in an idle window: sleep through it.
    let before = cpu_seconds(daemon);
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_seconds(daemon) - before;
    assert!(
        used < 1.0,
        "the idle daemon used {used:.2} s of CPU in 3 s watching the tree"
    );
    // And the tree is really watched, deep folders included.
    write(&dir.join("src/d7/f13.js"), "// changed\n");
    wait_restarts(&p, 0, 1);
}

#[test]
fn stop_turns_watch_off_and_restart_watch_toggles_it() {
    let p = Pm2::new("watch_toggle");
    let dir = project(&p, "project");
    start_watched(&p, &dir, "w", &[]);
    assert_eq!(watch_flag(&p, 0), Value::Bool(true));

    p.ok(&["stop", "w"]);
    p.wait_status(0, "stopped", T);
    assert_eq!(
        watch_flag(&p, 0),
        Value::Bool(false),
        "stop turns watch off"
    );
    p.ok(&["restart", "w"]);
    p.wait_online(0);
    assert_eq!(
        watch_flag(&p, 0),
        Value::Bool(false),
        "restart keeps it off"
    );
    write(&dir.join("src/a.js"), "// while unwatched\n");
    nothing_happens_window();
    let count = restarts(&p, 0);

    p.ok(&["restart", "w", "--watch"]);
    assert_eq!(
        watch_flag(&p, 0),
        Value::Bool(true),
        "--watch toggles it on"
    );
    wait_restarts(&p, 0, count + 1);
    write(&dir.join("src/a.js"), "// watched again\n");
    wait_restarts(&p, 0, count + 2);

    p.ok(&["restart", "w", "--watch"]);
    assert_eq!(
        watch_flag(&p, 0),
        Value::Bool(false),
        "--watch toggles it off"
    );
    wait_restarts(&p, 0, count + 3);
    let count = restarts(&p, 0);
    write(&dir.join("src/a.js"), "// unwatched again\n");
    nothing_happens_window();
    assert_eq!(restarts(&p, 0), count, "no restart once watch is off");
}
