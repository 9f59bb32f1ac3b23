//! Log file maintenance: the built-in pm2-logrotate (settings, size rotation without loss
//! or duplicates, retain, compress, pm2.log), `pm2 flush`, and reopening after an external
//! rotation (`pm2 reloadLogs`, SIGUSR2).

use crate::harness::logs::*;
use crate::harness::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn module_conf(p: &Pm2) -> Value {
    let text = std::fs::read_to_string(p.home.join("module_conf.json")).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Installs pm2-logrotate and applies `settings` (`key`, `value`).
fn logrotate(p: &Pm2, settings: &[(&str, &str)]) {
    p.ok(&["install", "pm2-logrotate"]);
    for (key, value) in settings {
        p.ok(&["set", &format!("pm2-logrotate:{key}"), value]);
    }
}

/// Whether `stamp` is `YYYY-MM-DD_HH-mm-ss`, optionally followed by `_<n>`.
fn is_rotation_stamp(stamp: &str) -> bool {
    let (date, extra) = stamp.split_at(stamp.len().min(19));
    let date_ok = date.len() == 19
        && date.bytes().enumerate().all(|(i, c)| match i {
            4 | 7 | 13 | 16 => c == b'-',
            10 => c == b'_',
            _ => c.is_ascii_digit(),
        });
    let extra_ok = extra.is_empty()
        || extra
            .strip_prefix('_')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()));
    date_ok && extra_ok
}

/// The rotated files of `<dir>/<base>.log` (`<base>__<stamp>.log[.gz]`), sorted by name;
/// fails on a name of another shape.
fn rotated(p: &Pm2, dir: &Path, base: &str) -> Vec<PathBuf> {
    match rotated_unless_compressing(p, dir, base) {
        Ok(found) => found,
        Err(tmp) => p.fail(&format!("unexpected rotated file name {tmp}"), None),
    }
}

/// [`rotated`], or Err with the name of the `.log.gz.tmp` of a compression in progress
/// (the daemon writes the `.gz` under that name, then renames it).
fn rotated_unless_compressing(p: &Pm2, dir: &Path, base: &str) -> Result<Vec<PathBuf>, String> {
    let prefix = format!("{base}__");
    let mut found: Vec<PathBuf> = Vec::new();
    let mut compressing = None;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let stamp = rest
            .strip_suffix(".log.gz")
            .or_else(|| rest.strip_suffix(".log"));
        if !stamp.is_some_and(is_rotation_stamp) {
            let tmp = rest.strip_suffix(".log.gz.tmp");
            if !tmp.is_some_and(is_rotation_stamp) {
                p.fail(&format!("unexpected rotated file name {name}"), None);
            }
            compressing = Some(name);
            continue;
        }
        found.push(entry.path());
    }
    found.sort();
    compressing.map_or(Ok(found), Err)
}

/// A file's bytes, gunzipped when its name ends in `.gz` (empty when unreadable).
fn contents(path: &Path) -> Vec<u8> {
    if path.extension().is_some_and(|e| e == "gz") {
        let out = Command::new("gzip").arg("-dc").arg(path).output();
        return out.map(|o| o.stdout).unwrap_or_default();
    }
    std::fs::read(path).unwrap_or_default()
}

/// Sequence numbers across the rotated files of `base` and its live file.
fn all_numbers(p: &Pm2, base: &str) -> Vec<u64> {
    let logs = p.home.join("logs");
    numbers_in(&rotated(p, &logs, base), &logs, base)
}

/// The sequence numbers of `rotated` files and of the live `<logs>/<base>.log`.
fn numbers_in(rotated: &[PathBuf], logs: &Path, base: &str) -> Vec<u64> {
    let mut seen = Vec::new();
    for f in rotated {
        seen.extend(seq_numbers(&contents(f)));
    }
    seen.extend(seq_numbers_in(&logs.join(format!("{base}.log"))));
    seen
}

/// Starts numbered.js as `name` writing `total` lines, 100 every 10 ms, then exiting.
fn numbered(p: &Pm2, name: &str, total: u64) {
    p.fixture("numbered.js");
    let total = total.to_string();
    p.ok(&[
        "start",
        "numbered.js",
        "--name",
        name,
        "--no-autorestart",
        "--",
        &total,
        "100",
        "10",
    ]);
}

#[test]
fn install_writes_the_defaults_and_a_bad_size_changes_nothing() {
    let p = Pm2::new("rot_install");
    p.ok(&["install", "pm2-logrotate"]);
    let text = std::fs::read_to_string(p.home.join("module_conf.json")).unwrap_or_default();
    assert!(text.contains("\n    \""), "4-space JSON: {text}");
    let conf = module_conf(&p);
    let section = &conf["pm2-logrotate"];
    for (key, value) in [
        ("max_size", "10M"),
        ("retain", "30"),
        ("compress", "false"),
        ("dateFormat", "YYYY-MM-DD_HH-mm-ss"),
        ("workerInterval", "30"),
        ("rotateInterval", "0 0 * * *"),
        ("rotateModule", "true"),
    ] {
        assert_eq!(section[key], value, "{key} in {text}");
    }

    let before = std::fs::read(p.home.join("module_conf.json")).unwrap_or_default();
    p.fails(&["set", "pm2-logrotate:max_size", "10X"], 1);
    let after = std::fs::read(p.home.join("module_conf.json")).unwrap_or_default();
    assert_eq!(before, after, "module_conf.json changed");
    let out = p.ok(&["get", "pm2-logrotate:max_size"]);
    assert_eq!(out.stdout.trim(), "10M");
}

#[test]
fn size_rotation_loses_and_duplicates_nothing() {
    let p = Pm2::new("rot_size");
    logrotate(&p, &[("max_size", "20K"), ("workerInterval", "1")]);
    numbered(&p, "big", 30_000);
    p.wait_status(0, "stopped", T);
    let mut seen = Vec::new();
    p.wait_until(T, "every line in the rotated and live files", || {
        seen = all_numbers(&p, "big-out");
        seen.len() >= 30_000
    });
    if let Some(problem) = exactly_once(&seen, 30_000) {
        p.fail(&problem, None);
    }
    let files = rotated(&p, &p.home.join("logs"), "big-out");
    assert!(!files.is_empty(), "no rotated file");
    // Within one file the lines keep their order.
    for f in &files {
        let n = seq_numbers(&contents(f));
        assert!(
            n.windows(2).all(|w| w[0] < w[1]),
            "{} out of order",
            f.display()
        );
    }
}

#[test]
fn retain_keeps_the_newest_rotated_files() {
    let p = Pm2::new("rot_retain");
    logrotate(
        &p,
        &[
            ("max_size", "20K"),
            ("workerInterval", "1"),
            ("retain", "2"),
        ],
    );
    numbered(&p, "kept", 40_000);
    let logs = p.home.join("logs");
    // Three rotations or more, so that one at least was pruned.
    p.wait_until(T, "3 rotations of kept-out.log", || {
        let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
        log.matches("kept-out.log to ").count() >= 3
    });
    p.wait_status(0, "stopped", T);
    p.wait_until(T, "at most 2 rotated files", || {
        rotated(&p, &logs, "kept-out").len() <= 2
    });
    // What is kept is the end of the sequence: the newest files, whole.
    let mut seen = all_numbers(&p, "kept-out");
    seen.sort();
    let contiguous = seen.windows(2).all(|w| w[1] == w[0] + 1);
    assert!(
        contiguous && seen.last() == Some(&39_999) && seen.first() > Some(&0),
        "kept lines {:?}..{:?} ({} lines, contiguous: {contiguous})",
        seen.first(),
        seen.last(),
        seen.len()
    );
}

#[test]
#[cfg_attr(no_gzip, ignore = "gzip not installed (scripts/install-deps.sh)")]
fn compress_gzips_rotated_files_with_every_line() {
    require(have("gzip"), "gzip not installed (scripts/install-deps.sh)");
    let p = Pm2::new("rot_gzip");
    logrotate(
        &p,
        &[
            ("max_size", "20K"),
            ("workerInterval", "1"),
            ("compress", "true"),
        ],
    );
    numbered(&p, "zip", 30_000);
    p.wait_status(0, "stopped", T);
    let logs = p.home.join("logs");
    let mut seen = Vec::new();
    p.wait_until(T, "every line in the .gz and live files", || {
        // A compression in progress (its .gz.tmp) is not settled yet.
        let Ok(files) = rotated_unless_compressing(&p, &logs, "zip-out") else {
            return false;
        };
        let settled = files
            .iter()
            .all(|f| f.extension().is_some_and(|e| e == "gz"));
        seen = numbers_in(&files, &logs, "zip-out");
        settled && seen.len() >= 30_000
    });
    if let Some(problem) = exactly_once(&seen, 30_000) {
        p.fail(&problem, None);
    }
    let files = rotated(&p, &logs, "zip-out");
    assert!(!files.is_empty(), "no rotated file");
    for f in &files {
        let n = seq_numbers(&contents(f));
        assert!(
            !n.is_empty(),
            "{} does not decompress to lines",
            f.display()
        );
    }
}

#[test]
fn pm2_log_rotates_when_over_max_size() {
    let p = Pm2::new("rot_pm2log");
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js"]);
    p.wait_online(0);
    // Each rotation logs a line, so pm2.log keeps growing past 1K.
    logrotate(&p, &[("max_size", "1K"), ("workerInterval", "1")]);
    p.wait_until(T, "a rotated pm2.log", || {
        !rotated(&p, &p.home, "pm2").is_empty()
    });
    let first = &rotated(&p, &p.home, "pm2")[0];
    let text = String::from_utf8_lossy(&contents(first)).into_owned();
    assert!(text.contains("App [ticker:0] online"), "{text}");
    // The daemon goes on writing to a fresh pm2.log.
    p.ok(&["stop", "ticker"]);
    p.wait_file_contains(&p.home.join("pm2.log"), "Stopping app:ticker", T);
}

#[test]
fn flush_empties_the_target_only_and_pm2_log_without_target() {
    let p = Pm2::new("rot_flush");
    p.fixture("lines.js");
    for name in ["one", "two"] {
        p.ok(&[
            "start",
            "lines.js",
            "--name",
            name,
            "--no-autorestart",
            "--",
            "5",
        ]);
    }
    p.wait_status(0, "stopped", T);
    p.wait_status(1, "stopped", T);
    let size = |f: &str| std::fs::metadata(p.log_path(f)).map(|m| m.len()).ok();
    p.ok(&["flush", "one"]);
    assert_eq!(size("one-out.log"), Some(0));
    assert_eq!(size("one-error.log"), Some(0));
    assert!(size("two-out.log") > Some(0) && size("two-error.log") > Some(0));
    let pm2_log = p.home.join("pm2.log");
    p.wait_file_contains(&pm2_log, "App [one:0] online", T);

    p.ok(&["flush"]);
    assert_eq!(size("two-out.log"), Some(0));
    assert_eq!(size("two-error.log"), Some(0));
    let log = std::fs::read_to_string(&pm2_log).unwrap_or_default();
    assert!(!log.contains("App [one:0] online"), "pm2.log kept: {log}");
}

/// The `tick <n>` numbers of a ticker.js log.
fn ticks(path: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    complete
        .lines()
        .filter_map(|l| l.strip_prefix("tick ")?.parse().ok())
        .collect()
}

/// Moves the ticker's out file away like logrotate, runs `reopen`, and checks that new lines
/// land at the original path and that the two files hold every tick exactly once.
fn reopen_after_external_rotation(p: &Pm2, reopen: impl FnOnce()) {
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js"]);
    let live = p.log_path("ticker-out.log");
    p.wait_file_contains(&live, "tick 2", T);
    let moved = p.log_path("ticker-out.log.1");
    std::fs::rename(&live, &moved).expect("rename the out file");
    // Until the reopen, lines go on landing in the moved file.
    let n = ticks(&moved).len();
    p.wait_until(T, "a new tick in the moved file", || {
        ticks(&moved).len() > n
    });
    reopen();
    p.wait_until(T, "ticks in a new file at the original path", || {
        ticks(&live).len() >= 3
    });
    let old = ticks(&moved);
    let new = ticks(&live);
    let mut all = old.clone();
    all.extend(&new);
    let in_sequence = all.iter().enumerate().all(|(i, t)| *t == i as u64);
    assert!(
        in_sequence,
        "ticks split across files: moved {old:?}, new {new:?}"
    );
}

#[test]
fn reload_logs_reopens_files_moved_away() {
    let p = Pm2::new("rot_reload");
    reopen_after_external_rotation(&p, || {
        p.ok(&["reloadLogs"]);
    });
}

#[test]
fn sigusr2_to_the_daemon_reopens_files_moved_away() {
    let p = Pm2::new("rot_usr2");
    reopen_after_external_rotation(&p, || {
        let pid = p.daemon_pid().filter(|pid| is_daemon_of(*pid, &p.home));
        let Some(pid) = pid else {
            p.fail("no daemon pid in pm2.pid", None);
        };
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGUSR2,
        )
        .expect("signal the daemon");
    });
}
