//! Processes seen from the outside, through `/proc` and signals: liveness that ignores
//! zombies, start times that tell a pid from a reused one, children, the daemon of a given
//! `PM2_HOME`, and the single-pid SIGKILL the drop guards use.

use std::path::Path;
use std::process::{Command, Stdio};

/// SIGKILL to exactly one pid.
pub fn sigkill(pid: i32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

fn proc_stat(pid: i32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(String::from).collect())
}

/// Whether `pid` is a live process (a zombie only waits to be reaped: it counts as gone).
pub fn alive(pid: i32) -> bool {
    pid > 0
        && proc_stat(pid)
            .and_then(|f| f.first().cloned())
            .is_some_and(|state| state != "Z" && state != "X")
}

/// The start time of `pid` (clock ticks since boot), to tell a pid from a reused one.
pub fn start_time(pid: i32) -> Option<u64> {
    proc_stat(pid)?.get(19)?.parse().ok()
}

/// Direct children of `pid`, from /proc.
pub fn children_of(pid: i32) -> Vec<i32> {
    let mut kids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return kids;
    };
    for entry in entries.flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let ppid = proc_stat(child).and_then(|f| f.get(1)?.parse::<i32>().ok());
        if ppid == Some(pid) && alive(child) {
            kids.push(child);
        }
    }
    kids
}

/// Whether `pid` is a `pm2 __daemon` serving `home`.
pub fn is_daemon_of(pid: i32, home: &Path) -> bool {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    let wanted = format!("PM2_HOME={}", home.display());
    alive(pid)
        && cmdline.split(|b| *b == 0).any(|a| a == b"__daemon")
        && environ.split(|b| *b == 0).any(|kv| kv == wanted.as_bytes())
}

/// Every live daemon process serving `home`.
pub fn daemons_of(home: &Path) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| is_daemon_of(*pid, home))
        .collect()
}

/// PM2's own Node daemons (`PM2 v…: God Daemon (<home>)`) running for `home`.
pub fn node_daemons_of(home: &Path) -> Vec<i32> {
    let wanted = format!("God Daemon ({})", home.display());
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&wanted))
        })
        .collect()
}

/// Whether a program is on PATH.
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Current time in ms since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
