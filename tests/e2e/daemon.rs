//! The daemon: ping, permissions, stale files, concurrent CLIs, kill, version handshake,
//! bad input on the socket.

use crate::harness::*;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0)
}

#[test]
fn ping_spawns_the_daemon_with_private_files() {
    let p = Pm2::new("ping");
    let out = p.ok(&["ping"]);
    p.check(
        out.stdout.lines().last() == Some("{ msg: 'pong' }"),
        "pong",
        &out,
    );
    assert_eq!(mode(&p.home), 0o700, "PM2_HOME is 0700");
    assert_eq!(
        mode(&p.home.join("daemon.sock")),
        0o600,
        "the socket is 0600"
    );
    let pid = p.daemon_pid().expect("pm2.pid holds a pid");
    assert!(
        is_daemon_of(pid, &p.home),
        "pm2.pid names this home's daemon"
    );
    assert!(p.home.join("logs").is_dir() && p.home.join("pids").is_dir());
    let again = p.ok(&["ping"]);
    p.check(
        again.stdout == "{ msg: 'pong' }\n",
        "no spawn message the second time",
        &again,
    );
    assert_eq!(p.daemon_pid(), Some(pid), "same daemon");
    p.wait_until(T, "the daemon log header", || {
        p.daemon_log_tail(50).contains("New PM2 Daemon started")
    });
}

#[test]
fn a_stale_socket_and_pid_file_are_recovered_from() {
    let p = Pm2::new("stale");
    p.ok(&["ping"]);
    let old = p.daemon_pid().expect("daemon pid");
    sigkill(old);
    p.wait_until(T, "the SIGKILLed daemon to be gone", || !alive(old));
    assert!(
        p.home.join("daemon.sock").exists(),
        "the condition under test: a stale socket"
    );
    assert!(
        p.home.join("pm2.pid").exists(),
        "the condition under test: a stale pid file"
    );
    let out = p.ok(&["ping"]);
    p.expect_output(&out, "{ msg: 'pong' }");
    let new = p.daemon_pid().expect("new daemon pid");
    assert_ne!(new, old);
    assert!(is_daemon_of(new, &p.home));
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js"]);
    p.wait_online(0);
}

#[test]
fn a_daemon_killed_before_it_answers_is_reported_as_such() {
    let p = Pm2::new("hung_up");
    p.ok(&["ping"]);
    let old = p.daemon_pid().expect("daemon pid");
    // Stopped, the daemon still accepts (the kernel's backlog) but never answers.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(old),
        nix::sys::signal::Signal::SIGSTOP,
    )
    .expect("SIGSTOP to this test's daemon");
    let cli = p
        .command(&["list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn pm2 list");
    let cli_pid = cli.id() as i32;
    p.wait_until(T, "the CLI to wait for the reply on its connection", || {
        waits_on_a_socket_read(cli_pid)
    });
    sigkill(old);
    let out = cli.wait_with_output().expect("pm2 list ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "exit non-zero: {stderr}");
    assert!(
        stderr.contains("the daemon closed the connection before it answered")
            && stderr.contains("pm2.log"),
        "says what happened and where to look: {stderr}"
    );
    p.wait_until(T, "the SIGKILLed daemon to be gone", || !alive(old));
    p.expect_output(&p.ok(&["ping"]), "{ msg: 'pong' }");
    assert_ne!(p.daemon_pid(), Some(old), "a new daemon answers");
}

/// Whether `pid` is blocked receiving (x86_64 `read`, `recvfrom` or `recvmsg`) while it
/// holds a socket: the CLI has sent its request and waits for the reply.
fn waits_on_a_socket_read(pid: i32) -> bool {
    let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
    let nr = syscall.split_whitespace().next().unwrap_or("");
    let in_read = ["0", "45", "47"].contains(&nr);
    let holds_socket = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|t| t.to_string_lossy().starts_with("socket:"))
        });
    in_read && holds_socket
}

#[test]
fn concurrent_starts_share_one_daemon_and_one_table() {
    let p = Pm2::new("concurrent");
    let names: Vec<String> = (0..24).map(|i| format!("s{i}")).collect();
    let outs: Vec<Output> = std::thread::scope(|s| {
        let handles: Vec<_> = names
            .iter()
            .map(|name| {
                let p = &p;
                s.spawn(move || p.run(&["start", "sleep", "--name", name, "--", "1000"]))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for out in &outs {
        p.expect_code(out, 0);
    }
    let daemons = daemons_of(&p.home);
    assert_eq!(daemons.len(), 1, "exactly one daemon: {daemons:?}");
    assert_eq!(p.daemon_pid(), Some(daemons[0]));
    let apps = p.apps();
    let ids: Vec<u64> = apps.iter().filter_map(|a| a["pm_id"].as_u64()).collect();
    assert_eq!(
        ids,
        (0..24).collect::<Vec<u64>>(),
        "ids 0..23, unique and sorted"
    );
    let got: BTreeSet<&str> = apps.iter().filter_map(|a| a["name"].as_str()).collect();
    let want: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(got, want);
    for id in 0..24 {
        p.wait_online(id);
    }
    let list = p.ok(&["list"]);
    let rows = list
        .stdout
        .lines()
        .filter(|l| {
            let first = l.split('│').nth(1).map(str::trim).unwrap_or("");
            first.parse::<u32>().is_ok()
        })
        .count();
    p.check(rows == 24, "24 rows in the table", &list);
}

#[test]
fn kill_stops_apps_gracefully_and_the_daemon_exits() {
    let p = Pm2::new("kill");
    p.fixture("graceful.js");
    p.fixture("ticker.js");
    p.ok(&["start", "graceful.js"]);
    p.ok(&["start", "ticker.js"]);
    let pids = [p.wait_online(0), p.wait_online(1)];
    p.wait_file_contains(&p.log_path("graceful-out.log"), "up pid=", T);
    let daemon = p.daemon_pid().expect("daemon pid");
    let out = p.ok(&["kill"]);
    p.expect_output(&out, "[v] PM2 Daemon Stopped");
    p.check(!alive(daemon), "the daemon is gone when kill returns", &out);
    p.check(!p.home.join("daemon.sock").exists(), "socket removed", &out);
    p.check(!p.home.join("pm2.pid").exists(), "pm2.pid removed", &out);
    for pid in pids {
        p.check(!alive(pid), &format!("app pid {pid} is gone"), &out);
    }
    let log = std::fs::read_to_string(p.log_path("graceful-out.log")).unwrap_or_default();
    p.check(
        log.contains("graceful\n"),
        "the app got SIGINT and cleaned up",
        &out,
    );
    let again = p.ok(&["kill"]);
    p.check(
        daemons_of(&p.home).is_empty(),
        "kill does not spawn a daemon",
        &again,
    );
}

#[test]
fn a_version_mismatch_is_reported() {
    let p = Pm2::new("version_mismatch");
    p.ok_env(&[("PM2_RS_DAEMON_VERSION", "0.0.1")], &["ping"]);
    let out = p.ok(&["ping"]);
    p.check(
        out.stderr.contains("In-memory PM2 is out-of-date"),
        "warning",
        &out,
    );
    p.check(out.stderr.contains("pm2 update"), "says what to do", &out);
    p.check(
        out.stderr.contains("0.0.1"),
        "names the daemon version",
        &out,
    );
    p.check(out.stdout.contains("{ msg: 'pong' }"), "still works", &out);
}

#[test]
fn version_flag_prints_the_crate_version() {
    let p = Pm2::new("version_flag");
    for flag in ["--version", "-v"] {
        let out = p.ok(&[flag]);
        p.check(
            out.stdout.trim() == env!("CARGO_PKG_VERSION"),
            "crate version",
            &out,
        );
    }
    assert!(
        daemons_of(&p.home).is_empty(),
        "--version does not spawn a daemon"
    );
}

/// Sends raw bytes and returns what came back before the daemon closed (or an error).
fn raw_exchange(p: &Pm2, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut s = UnixStream::connect(p.home.join("daemon.sock"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(bytes)?;
    s.shutdown(std::net::Shutdown::Write)?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply)?;
    Ok(reply)
}

#[test]
fn garbage_on_the_socket_does_not_hurt_the_daemon() {
    let p = Pm2::new("garbage");
    p.ok(&["ping"]);
    let daemon = p.daemon_pid().expect("daemon pid");
    let attempts: [&[u8]; 4] = [
        b"\xff\xff\xff\xffnot a frame at all",
        b"\x00\x00\x00\x05hello",
        b"\x00\x00\x00\x0a{\"x\":1}   ",
        b"\x00\x00",
    ];
    for bytes in attempts {
        match raw_exchange(&p, bytes) {
            Ok(reply) if reply.len() >= 4 => {
                let body = String::from_utf8_lossy(&reply[4..]);
                assert!(body.contains("rror"), "an error reply, got {body}");
            }
            Ok(_) => {} // closed without a reply
            Err(e) => assert!(
                !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "the daemon neither answered nor closed within 5 s for {bytes:?}"
            ),
        }
    }
    let out = p.ok(&["ping"]);
    p.expect_output(&out, "{ msg: 'pong' }");
    assert_eq!(p.daemon_pid(), Some(daemon), "same daemon, still alive");
    assert!(alive(daemon));
}

#[test]
fn usage_errors_exit_non_zero() {
    let p = Pm2::new("usage");
    let out = p.run(&["stop"]);
    p.check(
        out.code == Some(2),
        "a missing argument is a usage error",
        &out,
    );
    // Without a script, PM2 starts ./ecosystem.config.js; there is none here.
    let out = p.run(&["start"]);
    p.check(out.code == Some(1), "nothing to start is refused", &out);
    p.check(
        out.stderr.contains("ecosystem.config.js"),
        "names the file it looked for",
        &out,
    );
    let out = p.run(&["no-such-command"]);
    p.check(
        matches!(out.code, Some(1) | Some(2)),
        "unknown command fails",
        &out,
    );
    assert!(daemons_of(&p.home).is_empty(), "no daemon for usage errors");
}

/// Scheduling policy of a thread or process (`SCHED_*`), from `sched_getscheduler(2)`.
fn policy(tid: i32) -> i32 {
    // SAFETY: a plain syscall on a pid; no memory is passed.
    unsafe { libc::sched_getscheduler(tid) }
}

#[test]
fn the_daemon_batches_and_its_apps_run_under_the_normal_policy() {
    let p = Pm2::new("sched");
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js"]);
    let app = p.wait_online(0);
    let daemon = p.daemon_pid().expect("daemon pid");
    let threads: Vec<i32> = std::fs::read_dir(format!("/proc/{daemon}/task"))
        .expect("daemon threads")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let summary = format!("daemon threads {threads:?}, app {app}");
    for tid in &threads {
        if policy(*tid) != libc::SCHED_BATCH {
            p.fail(
                &format!("daemon thread {tid} is not SCHED_BATCH ({summary})"),
                None,
            );
        }
    }
    if policy(app) != libc::SCHED_OTHER {
        p.fail(&format!("the app is not SCHED_OTHER ({summary})"), None);
    }
}

/// (soft, hard) "Max open files" of a process, from `/proc/<pid>/limits`.
fn open_files_limit(pid: i32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap_or_default();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap_or_default();
    let mut words = line.split_whitespace().skip(3);
    let soft = words.next().unwrap_or_default().to_string();
    let hard = words.next().unwrap_or_default().to_string();
    (soft, hard)
}

#[test]
fn the_daemon_raises_its_open_files_limit_and_apps_inherit_it_as_under_pm2() {
    use std::os::unix::process::CommandExt;
    let p = Pm2::new("nofile");
    p.fixture("ticker.js");
    // Spawn the daemon from a CLI whose soft limit is low (the usual 1024 case).
    let mut cli = std::process::Command::new(bin());
    cli.arg("ping")
        .env("PM2_HOME", &p.home)
        .current_dir(&p.dir)
        .stdout(std::process::Stdio::null());
    // SAFETY: only getrlimit/setrlimit between fork and exec (async-signal-safe).
    unsafe {
        cli.pre_exec(|| {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
                lim.rlim_cur = lim.rlim_cur.min(512);
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            }
            Ok(())
        });
    }
    let status = cli.status().expect("run pm2 ping");
    assert!(status.success(), "pm2 ping: {status}");
    p.ok(&["start", "ticker.js"]);
    let app = p.wait_online(0);
    let daemon = p.daemon_pid().expect("daemon pid");
    let (soft, hard) = open_files_limit(daemon);
    let raised = soft != "512" && (soft == hard || hard == "unlimited");
    if !raised {
        p.fail(&format!("daemon open files limit {soft}/{hard}"), None);
    }
    let inherited = open_files_limit(app);
    if inherited != (soft.clone(), hard.clone()) {
        p.fail(
            &format!("app limit {inherited:?}, daemon {soft}/{hard}"),
            None,
        );
    }
}
