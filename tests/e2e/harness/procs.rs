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

/// Whether `pid` is a live process. A zombie only waits to be reaped and counts as gone,
/// unless other threads of its group are still exiting: a SIGKILLed multi-threaded
/// process's leader is a zombie before them, and its files (a daemon's listening socket)
/// go only with the last one.
pub fn alive(pid: i32) -> bool {
    let Some(state) = (pid > 0).then(|| proc_stat(pid)).flatten() else {
        return false;
    };
    match state.first().map(String::as_str) {
        Some("Z") => threads(pid) > 1,
        Some("X") | None => false,
        Some(_) => true,
    }
}

/// How many threads `/proc/<pid>/task` lists (0 when it is gone).
fn threads(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count())
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
