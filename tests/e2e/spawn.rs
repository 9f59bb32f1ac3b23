//! How the daemon starts an app's process (its own clone3 spawn, beyond PM2's): the
//! process is in its cgroup from its first instruction, so a child it forks at once is
//! tracked too; it gets what `Command` gave it (its own session, its working directory,
//! pipes on 0-2 and no other inherited descriptor, no blocked or ignored `SIGPIPE`); and
//! an exec that fails is reported by the start as before.

use crate::harness::*;
use crate::whole_tree::cgroups_usable;
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

/// Writes an executable shell script `name` into the test's folder.
fn script(p: &Pm2, name: &str, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = p.dir.join(name);
    std::fs::write(&path, body).expect("write the script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// The cgroup v2 path of `pid` (`0::<path>`), empty when unreadable.
fn cgroup_of(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap_or("")
        .to_string()
}

/// Waits for `file` (written whole by a rename) and returns it.
fn read_when_written(p: &Pm2, file: &Path) -> String {
    p.wait_until(T, &format!("{} to be written", file.display()), || {
        std::fs::read_to_string(file).ok().filter(|t| !t.is_empty())
    })
}

#[test]
fn a_child_forked_as_the_apps_first_action_is_in_the_apps_cgroup() {
    if !optional_part(
        cgroups_usable(),
        "no writable cgroup v2 hierarchy (needs root and a cgroup2 mount)",
    ) {
        return;
    }
    let p = Pm2::new("spawn_first_fork");
    let app = script(
        &p,
        "forker.sh",
        "#!/bin/sh\nsleep 100000 &\necho $! > child.tmp; mv child.tmp child.pid\nexec sleep 100001\n",
    );
    p.ok(&["start", app.to_str().unwrap(), "--name", "forker"]);
    let child: i32 = read_when_written(&p, &p.dir.join("child.pid"))
        .trim()
        .parse()
        .expect("the child's pid");
    p.record_pid(child);
    let app_pid = p.wait_online(0);
    let (theirs, its) = (cgroup_of(app_pid), cgroup_of(child));
    assert!(
        theirs.contains("/pm2-rs-") && theirs == its,
        "app {app_pid} in {theirs:?}, its first child {child} in {its:?}"
    );
    assert_ne!(
        theirs,
        cgroup_of(p.daemon_pid().expect("daemon")),
        "not the daemon's"
    );
    p.ok(&["stop", "forker"]);
    p.wait_until(T, "the first child to be stopped with the app", || {
        (!alive(child)).then_some(())
    });
}

#[test]
fn an_app_gets_its_session_cwd_pipes_and_signals_as_before() {
    let p = Pm2::new("spawn_setup");
    let work = p.dir.join("work");
    std::fs::create_dir_all(&work).expect("work dir");
    // `exec`: what is read below is the process the daemon started, not a shell's state.
    let app = script(&p, "idle", "#!/bin/sh\nexec sleep 100000\n");
    let cwd = work.to_str().unwrap();
    p.ok(&[
        "start",
        app.to_str().unwrap(),
        "--name",
        "idle",
        "--cwd",
        cwd,
    ]);
    let pid = p.wait_online(0);
    p.wait_until(T, "the shell to exec sleep", || {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .ok()
            .filter(|c| c.trim() == "sleep")
    });
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_comm = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
    let sid = after_comm.split_whitespace().nth(3).unwrap_or("");
    assert_eq!(sid, pid.to_string(), "a session of its own: {stat}");
    let at = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
    assert_eq!(at, work, "its working directory");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let mask = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(u64::MAX)
    };
    assert_eq!(mask("SigBlk:"), 0, "no signal blocked: {status}");
    let sigpipe = 1u64 << (libc::SIGPIPE - 1);
    assert_eq!(
        mask("SigIgn:") & sigpipe,
        0,
        "SIGPIPE not ignored: {status}"
    );
    let mut fds: Vec<(i32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("its fds")
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_str()?.parse().ok()?;
            Some((n, std::fs::read_link(e.path()).ok()?.display().to_string()))
        })
        .collect();
    fds.sort();
    let numbers: Vec<i32> = fds.iter().map(|f| f.0).collect();
    assert_eq!(numbers, [0, 1, 2], "nothing else inherited: {fds:?}");
    assert!(
        fds.iter().all(|f| f.1.starts_with("pipe:")),
        "0-2 are pipes: {fds:?}"
    );
}

#[test]
fn a_start_whose_exec_fails_reports_the_os_error() {
    let p = Pm2::new("spawn_exec_fails");
    let app = script(&p, "badshebang", "#!/nonexistent/interpreter\necho never\n");
    let out = p.fails(&["start", app.to_str().unwrap()], 1);
    let said = format!(
        "spawn {} failed: No such file or directory (os error 2)",
        app.display()
    );
    p.expect_output(&out, &said);
    assert_eq!(st(&p.app(0)), "errored");
    // The daemon is unharmed, and the next start works.
    let good = script(&p, "good.sh", "#!/bin/sh\nexec sleep 100000\n");
    p.ok(&["start", good.to_str().unwrap(), "--name", "good"]);
    p.wait_online(1);
}
