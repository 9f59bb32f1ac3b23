//! Resource limits (beyond PM2): `memory_limit`, `cpu_limit` and `pids_limit` are put in
//! place by the kernel in each process's cgroups (the v2 controller where the v2 hierarchy
//! delegates it, else the controller's v1 hierarchy, as on this machine). An OOM kill
//! under `memory_limit` restarts the app with the reason in pm2.log and `describe`; a
//! limit that cannot be enforced is a warning naming the app and the key, never a silent
//! no-op; bad values are refused naming the key. PM2 has none of these keys (its
//! `max_memory_restart`, a restart after a sample, keeps working as before). Every test
//! checks that the daemon leaves no cgroup behind.

use crate::harness::*;
use std::path::PathBuf;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// Whether the machine lets a root daemon limit with `controller` (a v1 hierarchy of it, or
/// the v2 hierarchy offering it).
fn controller_available(controller: &str) -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let v1 = mountinfo.lines().any(|l| {
        l.split_once(" - ").is_some_and(|(_, right)| {
            let f: Vec<&str> = right.split_whitespace().collect();
            f.first() == Some(&"cgroup")
                && f.get(2)
                    .is_some_and(|o| o.split(',').any(|c| c == controller))
        })
    });
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
        .unwrap_or_default()
        .split_whitespace()
        .any(|c| c == controller);
    root && (v1 || v2)
}

/// Runs the test only where `controller` can be used (fails under CI otherwise).
fn needs(controller: &str) -> bool {
    optional_part(
        controller_available(controller),
        &format!("no {controller} cgroup controller writable here (needs root)"),
    )
}

/// The pm2-rs cgroup folders process `pid` is in, in every hierarchy.
fn cgroup_dirs(pid: i32) -> Vec<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mount_of = |controllers: &str| {
        mountinfo.lines().find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let f: Vec<&str> = right.split_whitespace().collect();
            let point = left.split_whitespace().nth(4)?;
            let fits = match controllers {
                "" => f.first() == Some(&"cgroup2"),
                list => {
                    let first = list.split(',').next()?;
                    f.first() == Some(&"cgroup")
                        && f.get(2).is_some_and(|o| o.split(',').any(|c| c == first))
                }
            };
            fits.then(|| PathBuf::from(point))
        })
    };
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            path.contains("/pm2-rs-")
                .then(|| mount_of(controllers))
                .flatten()
                .map(|m| m.join(path.trim_start_matches('/')))
        })
        .collect()
}

/// `pm2 kill`, then none of `dirs` nor their parents (the daemon's bases) is left.
fn killed_leaving_no_cgroup(p: &Pm2, dirs: &[PathBuf]) {
    assert!(!dirs.is_empty(), "the app had pm2-rs cgroups");
    p.ok(&["kill"]);
    for dir in dirs {
        let base = dir.parent().expect("a process cgroup is in a base");
        assert!(!dir.exists(), "left behind: {}", dir.display());
        assert!(!base.exists(), "base left behind: {}", base.display());
    }
}

fn daemon_log(p: &Pm2) -> String {
    std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default()
}

/// The real Python executable (not a pyenv shim, which forks on its own).
fn python() -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output();
    let path = out
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    require(!path.is_empty(), "python3 not found");
    path
}

#[test]
fn an_app_past_its_memory_limit_is_oom_killed_and_restarted_with_the_reason() {
    if !needs("memory") {
        return;
    }
    let p = Pm2::new("limit_memory");
    p.fixture("grow.js");
    // Only the first process grows (~50 MB a second, to 400 MB): exactly one OOM kill.
    let marker = p.dir.join("grew");
    let env = [("MARKER", marker.to_str().expect("UTF-8 path"))];
    let out = p.ok_env(&env, &["start", "grow.js", "--memory-limit", "50M"]);
    assert!(!out.stderr.contains("WARN"), "{}", out.stderr);
    let first = p.wait_online(0);
    let dirs = cgroup_dirs(first);
    p.wait_until(T, "a restart after the OOM kill", || {
        (p.app(0)["pm2_env"]["restart_time"].as_u64() >= Some(1)).then_some(())
    });
    let reason = "OOM: memory_limit 52428800 reached";
    p.wait_until(T, "the reason in pm2.log", || {
        daemon_log(&p).contains(&format!("App [grow:0] {reason}"))
    });
    let second = p.wait_online(0);
    assert_ne!(second, first, "a new process");
    let env = &p.app(0)["pm2_env"];
    assert_eq!(env["memory_limit"], 50 << 20, "kept in bytes: {env}");
    assert_eq!(env["containment"]["last_restart"], reason, "{env}");
    let describe = p.ok(&["describe", "grow"]).stdout;
    assert!(describe.contains(reason), "{describe}");
    assert!(describe.contains("50.0mb (cgroup v"), "{describe}");
    assert!(
        dirs.iter().all(|d| !d.exists()),
        "the OOM-killed process's cgroups are gone"
    );
    killed_leaving_no_cgroup(&p, &cgroup_dirs(second));
}

/// Without `memory_limit`, `max_memory_restart` restarts as before: no OOM, no limit row.
#[test]
fn max_memory_restart_alone_still_restarts_after_a_sample() {
    let p = Pm2::new("limit_mmr_alone");
    p.fixture("grow.js");
    let marker = p.dir.join("grew");
    let env = [
        ("MARKER", marker.to_str().expect("UTF-8 path")),
        ("PM2_WORKER_INTERVAL", "500"),
    ];
    p.ok_env(&env, &["start", "grow.js", "--max-memory-restart", "80M"]);
    p.wait_online(0);
    p.wait_until(T, "a restart by max_memory_restart", || {
        (p.app(0)["pm2_env"]["restart_time"].as_u64() >= Some(1)).then_some(())
    });
    let log = daemon_log(&p);
    assert!(!log.contains("OOM:"), "{log}");
    let describe = p.ok(&["describe", "grow"]).stdout;
    assert!(!describe.contains("memory_limit"), "{describe}");
}

/// CPU time of `pid` (user + system) in seconds, from `/proc/<pid>/stat` (the kernel's
/// accounting, in clock ticks of 1/100 s).
fn cpu_seconds(pid: i32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are the 14th and 15th fields: 12th and 13th after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Idle time of the whole machine in seconds (all cores), from `/proc/stat`'s `cpu` line
/// (`cpu user nice system idle ...`, in ticks of 1/100 s).
fn idle_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu = stat.lines().next().unwrap_or("");
    let idle = cpu
        .split_whitespace()
        .nth(4)
        .and_then(|f| f.parse::<f64>().ok());
    idle.unwrap_or(0.0) / 100.0
}

/// How many periods the CFS quota throttled the cgroup at `dir` (`cpu.stat`).
fn throttled_periods(dir: &std::path::Path) -> u64 {
    std::fs::read_to_string(dir.join("cpu.stat"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("nr_throttled ")?.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_cpu_limit_holds_a_busy_loop_to_its_share_of_a_core() {
    if !needs("cpu") {
        return;
    }
    // Alone: no other test of this run competes for the cores while it measures.
    let p = Pm2::alone("limit_cpu");
    p.fixture("spin.js");
    p.ok(&[
        "start",
        "spin.js",
        "--name",
        "limited",
        "--cpu-limit",
        "0.2",
    ]);
    p.ok(&["start", "spin.js", "--name", "twin"]);
    let (limited, twin) = (p.wait_online(0), p.wait_online(1));
    let dirs = cgroup_dirs(limited);
    let window = Duration::from_secs(3);
    let (l0, t0, i0) = (cpu_seconds(limited), cpu_seconds(twin), idle_seconds());
    let start = std::time::Instant::now();
    p.wait_until(window + T, "the measuring window", || {
        (start.elapsed() >= window).then_some(())
    });
    let secs = start.elapsed().as_secs_f64();
    let used = (cpu_seconds(limited) - l0) / secs;
    let twin_used = (cpu_seconds(twin) - t0) / secs;
    let idle = (idle_seconds() - i0) / secs;
    eprintln!("cpu_limit 0.2: {used:.2} of a core; unlimited twin: {twin_used:.2}; machine idle: {idle:.2} cores");
    assert!(used < 0.5, "the limited loop used {used:.2} of a core");
    // The twin takes all it can: under 70% of a core only when the machine had no idle
    // core to give it (other sessions' load), never while one sat idle.
    assert!(
        twin_used > 0.7 || idle < 0.2,
        "the unlimited twin used {twin_used:.2} of a core while {idle:.2} cores were idle"
    );
    let throttled = dirs.iter().map(|d| throttled_periods(d)).max().unwrap_or(0);
    assert!(
        throttled > 0,
        "the kernel throttled the limited cgroup: {dirs:?}"
    );
    let describe = p.ok(&["describe", "limited"]).stdout;
    assert!(describe.contains("0.2 cores (cgroup v"), "{describe}");
    let mut all = dirs;
    all.extend(cgroup_dirs(twin));
    killed_leaving_no_cgroup(&p, &all);
}

#[test]
fn a_pids_limit_makes_forks_past_it_fail() {
    if !needs("pids") {
        return;
    }
    let p = Pm2::new("limit_pids");
    let script = p.dir.join("forks.py");
    std::fs::write(
        &script,
        "import os, time\nforked = failed = 0\nfor _ in range(10):\n    try:\n        pid = os.fork()\n    except OSError:\n        failed += 1\n        continue\n    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n    forked += 1\nprint(f'forked={forked} failed={failed}', flush=True)\ntime.sleep(60)\n",
    )
    .expect("write the app");
    let python = python();
    let args = [
        "start",
        "forks.py",
        "--interpreter",
        &python,
        "--pids-limit",
        "5",
    ];
    p.ok(&args);
    let pid = p.wait_online(0);
    // The app is one of the 5: 4 children fork, the 6 others fail.
    p.wait_file_contains(&p.log_path("forks-out.log"), "forked=4 failed=6", T);
    let env = &p.app(0)["pm2_env"];
    assert_eq!(env["pids_limit"], 5, "{env}");
    killed_leaving_no_cgroup(&p, &cgroup_dirs(pid));
}

#[test]
fn without_cgroups_a_limit_is_a_warning_and_the_app_still_starts() {
    let p = Pm2::new("limit_off");
    let off = [("PM2_RS_NO_CGROUPS", "1")];
    p.ok_env(&off, &["ping"]);
    let script = p.sleeper_script("sleeper.sh");
    let script = script.to_str().expect("UTF-8 path");
    let out = p.ok(&[
        "start",
        script,
        "--name",
        "app",
        "--cpu-limit",
        "50%",
        "--memory-limit",
        "64M",
    ]);
    for key in ["cpu_limit needs the cpu", "memory_limit needs the memory"] {
        let line = format!("[PM2][WARN] App [app] {key} controller, not available here");
        p.check(out.stderr.contains(&line), &format!("warns: {line}"), &out);
    }
    p.wait_online(0);
    let log = daemon_log(&p);
    assert!(
        log.contains("App [app:0] cpu_limit needs the cpu controller, not available here: cgroups are turned off (PM2_RS_NO_CGROUPS)"),
        "{log}"
    );
    let describe = p.ok(&["describe", "app"]).stdout;
    assert!(describe.contains("0.5 cores, not enforced"), "{describe}");
    assert!(describe.contains("process tree"), "tracking: {describe}");
    // `pm2 save` keeps the limits, in the keys' own units, and not the process's state.
    p.ok(&["save"]);
    let dump = std::fs::read_to_string(p.home.join("dump.pm2")).expect("dump.pm2");
    let dump: serde_json::Value = serde_json::from_str(&dump).expect("JSON");
    assert_eq!(dump[0]["cpu_limit"], 0.5, "{dump}");
    assert_eq!(dump[0]["memory_limit"], 64 << 20, "{dump}");
    assert!(dump[0].get("containment").is_none(), "{dump}");
}

#[test]
fn bad_limit_values_are_refused_naming_the_key() {
    let p = Pm2::new("limit_bad");
    let script = p.sleeper_script("sleeper.sh");
    let script = script.to_str().expect("UTF-8 path");
    for (flag, value) in [
        ("--memory-limit", "50m"),
        ("--memory-limit", "1K"),
        ("--cpu-limit", "0"),
        ("--cpu-limit", "fast"),
        ("--pids-limit", "0"),
    ] {
        let out = p.fails(&["start", script, flag, value], 1);
        p.expect_output(&out, &format!("invalid value {value:?} for {flag}"));
    }
    for (key, value) in [
        ("memory_limit", serde_json::json!("lots")),
        ("cpuLimit", serde_json::json!(-1)),
        ("pids_limit", serde_json::json!(2.5)),
    ] {
        let file = p.dir.join(format!("{key}.config.json"));
        let app = serde_json::json!({"apps": [{"name": "x", "script": script, key: value}]});
        std::fs::write(&file, app.to_string()).expect("write the file");
        let file = file.to_str().expect("UTF-8 path");
        let out = p.fails(&["start", file], 1);
        p.expect_output(&out, &format!("apps[0].{key}: "));
    }
    assert_eq!(p.app_count(), 0, "nothing registered");
}
