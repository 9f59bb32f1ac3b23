//! A log file on a full disk: the app is never blocked, and `pm2.log` says exactly how much
//! was lost, in bytes and in whole lines (a line cut by the full disk counts as lost).

use crate::harness::*;
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);
const LINES: u64 = 5000;

/// `N bytes (M lines) of output were dropped` in the daemon's log, as (N, M).
fn dropped_report(log: &str) -> Option<(u64, u64)> {
    let at = log.find(" of output were dropped")?;
    let head = &log[..at];
    let (bytes, lines) = head[head.rfind("] ")? + 2..].split_once(" bytes (")?;
    let lines = lines.split(' ').next()?;
    Some((bytes.parse().ok()?, lines.parse().ok()?))
}

#[test]
#[cfg_attr(
    no_pid_namespace,
    ignore = "needs root and unshare (a small tmpfs in a private mount namespace)"
)]
fn a_full_disk_is_reported_in_bytes_and_whole_lines_exactly() {
    require(
        nix::unistd::geteuid().is_root() && have("unshare"),
        "needs root and unshare (a small tmpfs in a private mount namespace)",
    );
    let p = Pm2::new("disk_full");
    p.fixture("lines.js");
    let small = p.dir.join("small");
    std::fs::create_dir(&small).expect("mount point");
    // The daemon is spawned inside the namespace, so only it (and its apps) see the tmpfs.
    let script = r#"mount -t tmpfs -o size=16k tmpfs "$1" && exec "$2" start lines.js \
        --name full -o "$1/out.log" -e "$3" --no-autorestart -- "$4""#;
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(&small)
        .arg(bin())
        .arg(p.dir.join("err.log"))
        .arg(LINES.to_string())
        .current_dir(&p.dir)
        .env("PM2_HOME", &p.home)
        .output()
        .expect("unshare");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    p.wait_status(0, "stopped", T);
    let daemon_log = p.home.join("pm2.log");
    p.wait_until(T, "the loss reported in pm2.log", || {
        dropped_report(&std::fs::read_to_string(&daemon_log).unwrap_or_default()).is_some()
    });
    let daemon = p.daemon_pid().expect("daemon pid");
    let inside = format!("/proc/{daemon}/root{}/out.log", small.display());
    let file = std::fs::read(&inside).expect("the out file, seen from the daemon's namespace");
    let text = String::from_utf8_lossy(&file);
    let complete = text
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .count() as u64;
    let total: u64 = (0..LINES).map(|i| format!("line {i}\n").len() as u64).sum();
    let report = dropped_report(&std::fs::read_to_string(&daemon_log).unwrap_or_default());
    assert!(
        complete > 0 && complete < LINES,
        "the disk filled midway: {complete} lines"
    );
    assert_eq!(
        report,
        Some((total - file.len() as u64, LINES - complete)),
        "{} bytes and {complete} whole lines reached the file\n{}",
        file.len(),
        p.daemon_log_tail(10)
    );
}

#[test]
fn the_report_parser_reads_the_daemons_line() {
    let line =
        "2026-12-02T20:00:00: PM2 log: App [full:0] 120 bytes (3 lines) of output were dropped";
    assert_eq!(dropped_report(line), Some((120, 3)));
    assert_eq!(dropped_report("App [a:0] log writes resumed"), None);
}
