//! The crash-recovery journal: what a reply confirmed survives a SIGKILL of the daemon
//! right after it (each change is fsync'd to `daemon-state.journal` before the reply), and
//! a torn last record is skipped with a pm2.log line, never a crash.

use crate::harness::*;
use serde_json::Value;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// `(name, status, args, E2E_N)` of every app, sorted.
fn specs(p: &Pm2) -> Vec<(String, String, Value, String)> {
    let mut rows: Vec<_> = p
        .apps()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap_or("").to_string(),
                st(a).to_string(),
                a["pm2_env"]["args"].clone(),
                env_str(a, "E2E_N").to_string(),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// SIGKILLs this home's daemon and waits until it is gone.
fn kill_daemon(p: &Pm2) -> i32 {
    let daemon = p.daemon_pid().expect("daemon pid");
    assert!(is_daemon_of(daemon, &p.home));
    sigkill(daemon);
    p.wait_until(T, "the SIGKILLed daemon to be gone", || !alive(daemon));
    // Its leader shows as a zombie while its other threads are still exiting, and their
    // file table (with the listening socket) goes with the last one: until then a CLI
    // would connect and then be reset instead of starting the next daemon.
    let socket = p.home.join("daemon.sock");
    p.wait_until(
        T,
        "the SIGKILLed daemon's socket to refuse connections",
        || std::os::unix::net::UnixStream::connect(&socket).is_err(),
    );
    daemon
}

/// Starts `a0`..`a{n-1}` (`sleep 1000 <i>`, `E2E_N=<i>`), each start's reply returned.
fn start_numbered(p: &Pm2, n: usize) {
    for i in 0..n {
        let (name, arg) = (format!("a{i}"), i.to_string());
        p.ok_env(
            &[("E2E_N", &arg)],
            &["start", "sleep", "--name", &name, "--", "1000", &arg],
        );
    }
}

/// What `start_numbered(p, 6)` then `delete a5` and `stop a4` leave.
fn expected() -> Vec<(String, String, Value, String)> {
    (0..5)
        .map(|i| {
            let status = if i == 4 { "stopped" } else { "online" };
            let args = serde_json::json!(["1000", i.to_string()]);
            (format!("a{i}"), status.to_string(), args, i.to_string())
        })
        .collect()
}

#[test]
fn a_sigkill_right_after_the_replies_loses_nothing_they_confirmed() {
    let p = Pm2::new("journal_sigkill");
    start_numbered(&p, 6);
    p.ok(&["delete", "a5"]);
    p.ok(&["stop", "a4"]);
    // No wait for any file: the replies alone promise the changes are on disk.
    let daemon = kill_daemon(&p);
    let journal = p.home.join("daemon-state.journal");
    assert!(journal.is_file(), "the journal is left behind");
    p.ok(&["list"]);
    assert_ne!(p.daemon_pid(), Some(daemon), "a new daemon answers");
    let want = expected();
    p.wait_until(T, &format!("the apps to be back as {want:?}"), || {
        specs(&p) == want
    });
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    assert!(log.contains("Restored 5 apps"), "pm2.log: {log}");
    // Recovered once: a second SIGKILL and recovery give the same table.
    kill_daemon(&p);
    p.ok(&["list"]);
    p.wait_until(T, "the apps to be back again", || specs(&p) == want);
}

#[test]
fn a_torn_last_journal_record_is_skipped_with_a_pm2_log_line() {
    let p = Pm2::new("journal_torn");
    start_numbered(&p, 2);
    kill_daemon(&p);
    let journal = p.home.join("daemon-state.journal");
    let mut bytes = std::fs::read(&journal).unwrap_or_default();
    let whole = bytes.len();
    // A write cut short: the start of a record, no checksum match, no newline.
    bytes.extend_from_slice(br#"0123456789abcdef {"put":{"id":2,"entry":{"name":"#);
    std::fs::write(&journal, &bytes).expect("tear the journal");
    p.ok(&["list"]);
    let want: Vec<_> = (0..2)
        .map(|i| {
            let args = serde_json::json!(["1000", i.to_string()]);
            (format!("a{i}"), "online".to_string(), args, i.to_string())
        })
        .collect();
    p.wait_until(T, "the two whole starts to be back", || specs(&p) == want);
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    let line = log
        .lines()
        .find(|l| l.contains("ignoring the end of"))
        .unwrap_or("");
    assert!(
        line.contains("daemon-state.journal") && line.contains(&format!("byte {whole}")),
        "pm2.log says where the journal was torn: {log}"
    );
    p.ok(&["ping"]);
}

#[test]
fn a_journal_compacted_into_its_snapshot_recovers_the_same_table() {
    let p = Pm2::new("journal_compact");
    // 120 apps in one start: their records outgrow the journal's 256 KiB floor, so the
    // next housekeeping tick writes a new snapshot and starts a new journal.
    let apps: Vec<Value> = (0..120)
        .map(|i| serde_json::json!({"name": format!("e{i}"), "script": "sleep", "args": "1000"}))
        .collect();
    let eco = p.dir.join("many.json");
    std::fs::write(&eco, serde_json::json!({ "apps": apps }).to_string()).expect("ecosystem");
    // The daemon writes a snapshot of its (empty) table at start; a compaction writes the
    // next generation. Whether it comes after every record of the start or between them
    // depends on when the housekeeping tick falls, so the test waits for the generation,
    // not for given file sizes: either way recovery must read snapshot + journal right.
    p.ok(&["ping"]);
    let snapshot = p.home.join("daemon-state.json");
    let generation = || {
        std::fs::read(&snapshot)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v["generation"].as_u64())
            .unwrap_or(0)
    };
    let first = generation();
    p.ok(&["start", eco.to_str().unwrap_or_default()]);
    p.wait_until(T, "the journal to be compacted into a new snapshot", || {
        generation() > first
    });
    p.ok(&["stop", "e7"]);
    kill_daemon(&p);
    p.ok(&["list"]);
    p.wait_until(T, "the 120 apps to be back, e7 stopped", || {
        let apps = p.apps();
        let stopped: Vec<&str> = apps
            .iter()
            .filter(|a| st(a) == "stopped")
            .filter_map(|a| a["name"].as_str())
            .collect();
        apps.len() == 120
            && stopped == ["e7"]
            && apps.iter().all(|a| st(a) == "online" || a["name"] == "e7")
    });
}
