//! Whole-tree tracking (beyond PM2): every process of an instance is in a cgroup of its
//! own, so a daemonised grandchild (new session, re-parented away from the app's tree) is
//! stopped with the app. PM2, and pm2-rs without cgroups (`PM2_RS_NO_CGROUPS`), leave it
//! running.

use crate::harness::*;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

/// Whether this machine lets the test process make a cgroup v2 (root with a v2 mount).
pub(crate) fn cgroups_usable() -> bool {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    root && mountinfo.contains(" - cgroup2 ")
}

/// Starts the daemoniser as `app`, returns the grandchild's pid once it is written.
fn grandchild_of_started_app(p: &Pm2, env: &[(&str, &str)]) -> i32 {
    let script = p.fixture("daemonizer.sh");
    p.ok_env(env, &["start", script.to_str().unwrap(), "--name", "app"]);
    let pid_file = p.dir.join("grandchild.pid");
    let pid = p.wait_until(T, "the grandchild's pid", || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
    });
    p.record_pid(pid);
    let app_pid = p.wait_online(0);
    assert!(alive(pid));
    assert!(
        !children_of(app_pid).contains(&pid),
        "the grandchild is out of the app's tree"
    );
    pid
}

#[test]
fn a_daemonised_grandchild_is_stopped_with_its_app() {
    if !optional_part(
        cgroups_usable(),
        "no writable cgroup v2 hierarchy (needs root and a cgroup2 mount)",
    ) {
        return;
    }
    let p = Pm2::new("whole_tree");
    let grandchild = grandchild_of_started_app(&p, &[]);
    p.ok(&["stop", "app"]);
    p.wait_until(T, "the daemonised grandchild to be stopped too", || {
        (!alive(grandchild)).then_some(())
    });
}

/// The contrast, so the test above can fail: without cgroups the grandchild outlives
/// `pm2 stop`, as under PM2.
#[test]
fn without_cgroups_the_grandchild_survives_the_stop() {
    let p = Pm2::new("whole_tree_off");
    let off = [("PM2_RS_NO_CGROUPS", "1")];
    p.ok_env(&off, &["ping"]);
    let grandchild = grandchild_of_started_app(&p, &off);
    p.ok(&["stop", "app"]);
    p.wait_until(T, "app stopped", || {
        (st(&p.app(0)) == "stopped").then_some(())
    });
    assert!(alive(grandchild), "without cgroups it survives");
    sigkill(grandchild);
}
