//! The daemon under the faults an operator meets: a home that belongs to another user,
//! `pm2 kill` after the daemon was SIGKILLed with its apps running, and clients that hold
//! connections: too many, or half-sent requests.

use crate::harness::*;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn others_can_run(bin: &Path) -> bool {
    bin.ancestors().all(|p| {
        p.as_os_str().is_empty()
            || std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o001 != 0)
    })
}

#[test]
#[cfg_attr(
    no_unprivileged_exec,
    ignore = "run by root, but the pm2 binary is not reachable by an unprivileged user here"
)]
fn a_home_of_another_user_is_named_and_no_second_daemon_is_started() {
    let root = nix::unistd::geteuid().is_root();
    require(
        !root || others_can_run(Path::new(bin())),
        "run by root, but the pm2 binary is not reachable by an unprivileged user here",
    );
    let p = Pm2::new("not_yours");
    p.ok(&["ping"]);
    let daemon = p.daemon_pid().expect("daemon pid");
    let before = std::fs::read_dir(&p.home).map(|d| d.count()).unwrap_or(0);
    let home_mode = std::fs::metadata(&p.home).expect("home").permissions();
    let as_other = |args: &[&str]| {
        let mut cmd = Command::new(bin());
        cmd.args(args).env("PM2_HOME", &p.home).current_dir("/");
        if root {
            // Another user: nobody may not enter this 0700 home.
            use std::os::unix::process::CommandExt;
            cmd.uid(65534).gid(65534);
        }
        cmd.output().expect("run pm2")
    };
    if !root {
        // Not root: the same refusal, made by taking our own right to enter the home.
        std::fs::set_permissions(&p.home, std::fs::Permissions::from_mode(0o000)).ok();
    }
    let ping = as_other(&["ping"]);
    let kill = as_other(&["kill"]);
    std::fs::set_permissions(&p.home, home_mode).ok();
    for (what, out) in [("ping", &ping), ("kill", &kill)] {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains("belongs to"), "{what} names the owner: {err}");
        assert!(err.contains("PM2_HOME"), "{what} says what to do: {err}");
        assert!(!err.contains("cannot create"), "{what}: {err}");
    }
    assert_eq!(p.daemon_pid(), Some(daemon), "the daemon is untouched");
    assert!(alive(daemon));
    assert_eq!(daemons_of(&p.home), vec![daemon], "no second daemon");
    let after = std::fs::read_dir(&p.home).map(|d| d.count()).unwrap_or(0);
    assert_eq!(before, after, "nothing was created in the home");
}

#[test]
fn kill_after_a_sigkilled_daemon_stops_the_apps_it_left_running() {
    let p = Pm2::new("kill_orphans");
    p.fixture("graceful.js");
    p.fixture("tree.js");
    p.ok(&["start", "graceful.js"]);
    p.ok(&["start", "tree.js"]);
    let apps = [p.wait_online(0), p.wait_online(1)];
    p.wait_file_contains(&p.log_path("graceful-out.log"), "up pid=", T);
    p.wait_until(T, "tree.js's child", || !children_of(apps[1]).is_empty());
    let tree_child = children_of(apps[1]);
    let daemon = p.daemon_pid().expect("daemon pid");
    sigkill(daemon);
    p.wait_until(T, "the SIGKILLed daemon to be gone", || !alive(daemon));
    assert!(apps.iter().all(|a| alive(*a)), "the condition under test");

    let out = p.ok(&["kill"]);
    p.expect_output(&out, "PM2 daemon is not running");
    p.expect_output(&out, "left running by a daemon that died");
    for pid in apps.iter().chain(&tree_child) {
        p.check(!alive(*pid), &format!("pid {pid} is gone"), &out);
    }
    p.check(
        daemons_of(&p.home).is_empty(),
        "kill does not spawn a daemon",
        &out,
    );
    // The next daemon has nothing to recover: the apps were killed on purpose.
    p.ok(&["ping"]);
    assert_eq!(p.app_count(), 0, "{}", p.daemon_log_tail(20));
}

/// A raw connection to the daemon's socket that reads with a bound, so a test fails
/// instead of hanging when the daemon neither answers nor closes.
fn raw(p: &Pm2) -> UnixStream {
    let s = UnixStream::connect(p.home.join("daemon.sock")).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s
}

/// `s` after one ping answered on it.
fn pinged(mut s: UnixStream) -> UnixStream {
    let body = br#"{"client_version":"0","request":{"type":"ping"}}"#;
    s.write_all(&(body.len() as u32).to_be_bytes())
        .expect("header");
    s.write_all(body).expect("body");
    let mut header = [0u8; 4];
    s.read_exact(&mut header).expect("a reply");
    let mut reply = vec![0u8; u32::from_be_bytes(header) as usize];
    s.read_exact(&mut reply).expect("the reply's body");
    assert!(
        String::from_utf8_lossy(&reply).contains("pong"),
        "{reply:?}"
    );
    s
}

/// What the daemon sends before it closes `s` (its error reply, if any).
fn until_closed(mut s: UnixStream) -> std::io::Result<String> {
    let mut reply = Vec::new();
    s.read_to_end(&mut reply)?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

#[test]
fn connections_over_the_limit_are_refused_with_the_reason_and_the_daemon_recovers() {
    let p = Pm2::new("conn_limit");
    p.ok_env(&[("PM2_RS_MAX_CONNECTIONS", "4")], &["ping"]);
    let daemon = p.daemon_pid().expect("daemon pid");
    // Each holder is answered once, so it is known to hold one of the 4 places.
    let held: Vec<UnixStream> = (0..4).map(|_| pinged(raw(&p))).collect();
    let refusal = until_closed(raw(&p)).expect("the 5th is closed at once");
    assert!(refusal.contains("at most 4 connections"), "{refusal:?}");
    let out = p.run(&["ping"]);
    p.check(out.code == Some(1), "ping is refused while full", &out);
    p.expect_output(&out, "PM2_RS_MAX_CONNECTIONS");
    drop(held);
    p.wait_until(T, "ping to be served again", || {
        p.run(&["ping"]).code == Some(0)
    });
    assert_eq!(p.daemon_pid(), Some(daemon));
}

#[test]
fn a_client_that_stalls_inside_a_frame_is_cut_off_and_one_that_idles_is_closed() {
    let p = Pm2::new("half_open");
    let env = [
        ("PM2_RS_FRAME_TIMEOUT_MS", "300"),
        ("PM2_RS_IDLE_TIMEOUT_MS", "600"),
    ];
    p.ok_env(&env, &["ping"]);
    let mut stalled = raw(&p);
    stalled.write_all(b"\x00\x00").expect("half a header");
    let reply = until_closed(stalled).expect("the daemon closed the stalled client");
    assert!(reply.contains("did not arrive within"), "{reply:?}");
    let mut half_body = raw(&p);
    half_body
        .write_all(b"\x00\x00\x00\x10{\"req")
        .expect("half a body");
    let reply = until_closed(half_body).expect("the daemon closed the stalled client");
    assert!(reply.contains("did not arrive within"), "{reply:?}");
    let idle = raw(&p);
    assert_eq!(until_closed(idle).expect("closed, not timed out"), "");
    p.ok(&["ping"]);
}

#[test]
fn a_start_beyond_the_bounds_is_refused_with_the_limit_named_and_nothing_starts() {
    let p = Pm2::new("start_bounds");
    let script = p.sleeper_script("app.sh");
    let script = script.to_string_lossy().into_owned();
    let long_name = "n".repeat(300);
    let out = p.run(&["start", &script, "--name", &long_name]);
    p.expect_code(&out, 1);
    p.expect_output(&out, "at most 200");
    let huge = "v".repeat(200 * 1024);
    let eco = p.dir.join("big.config.js");
    let text = format!(
        "module.exports = {{ apps: [{{ name: 'big', script: '{script}', env: {{ BIG: '{huge}' }} }}] }};"
    );
    std::fs::write(&eco, text).expect("ecosystem");
    let out = p.run(&["start", "big.config.js"]);
    p.expect_code(&out, 1);
    p.expect_output(&out, "Linux's limit for one");
    assert_eq!(p.app_count(), 0, "nothing was started");
    p.ok(&["start", &script, "--name", "fine"]);
    p.wait_online(0);
    // Scaling is bounded the same way, by one app's count and by the daemon's total.
    let out = p.run(&["scale", "fine", "20000"]);
    p.expect_code(&out, 1);
    p.expect_output(
        &out,
        "app fine: 19999 instances asked for: the daemon runs at most 10000",
    );
    let out = p.run(&["scale", "fine", "+10000"]);
    p.expect_code(&out, 1);
    p.expect_output(
        &out,
        "the daemon runs at most 10000 instances: 1 exist, 10000 more were asked for",
    );
    assert_eq!(p.app_count(), 1, "nothing more was started");
}
