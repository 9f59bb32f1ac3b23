//! The daemon under the faults an operator meets: a home that belongs to another user, and
//! `pm2 kill` after the daemon was SIGKILLed with its apps running.

use crate::harness::*;
use std::os::unix::fs::PermissionsExt;
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
