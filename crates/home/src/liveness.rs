//! Whether a process still runs, and waiting for processes to exit without polling.
//!
//! The CLI waits for the daemon to be gone (`pm2 kill`), the daemon for the trees it
//! stopped: both wait on a pidfd, which the kernel makes readable when the process exits.
//! Where `pidfd_open` is refused (a kernel before 5.3, a seccomp filter) they fall back to
//! checking `/proc` at [`FALLBACK_POLL`].

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::process::{pidfd_open, Pid, PidfdFlags};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

/// How often a process without a pidfd is checked.
pub const FALLBACK_POLL: Duration = Duration::from_millis(5);

/// Whether `pid` is a live process (a zombie counts as dead: it only waits to be reaped).
pub fn alive(pid: i32) -> bool {
    match procfs::process::Process::new(pid).and_then(|p| p.stat()) {
        Ok(stat) => stat.state != 'Z' && stat.state != 'X',
        Err(_) => false,
    }
}

/// How to learn that one process has exited.
#[derive(Debug)]
pub enum ExitWatch {
    /// It already has (no such process, or a zombie).
    Gone,
    /// Readable once the process has exited.
    Pidfd(OwnedFd),
    /// `pidfd_open` was refused: check [`alive`] from time to time.
    Poll(i32),
}

impl ExitWatch {
    /// Starts watching `pid`. The pidfd is opened before the liveness check, so a pid
    /// reused after the check cannot be mistaken for the process meant.
    pub fn open(pid: i32) -> ExitWatch {
        let Some(raw) = (pid > 0).then(|| Pid::from_raw(pid)).flatten() else {
            return ExitWatch::Gone;
        };
        match pidfd_open(raw, PidfdFlags::empty()) {
            Ok(_) if !alive(pid) => ExitWatch::Gone,
            Ok(fd) => ExitWatch::Pidfd(fd),
            Err(Errno::SRCH) => ExitWatch::Gone,
            Err(_) if !alive(pid) => ExitWatch::Gone,
            Err(_) => ExitWatch::Poll(pid),
        }
    }
}

/// Blocks until every one of `pids` has exited or `timeout` passes; true when all are gone.
pub fn wait_gone(pids: &[i32], timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut fds = Vec::new();
    let mut polled = Vec::new();
    for pid in pids {
        match ExitWatch::open(*pid) {
            ExitWatch::Gone => {}
            ExitWatch::Pidfd(fd) => fds.push(fd),
            ExitWatch::Poll(pid) => polled.push(pid),
        }
    }
    loop {
        polled.retain(|pid| alive(*pid));
        if fds.is_empty() && polled.is_empty() {
            return true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let wait = if polled.is_empty() {
            left
        } else {
            left.min(FALLBACK_POLL)
        };
        fds = still_running(fds, wait);
    }
}

/// Waits up to `wait` for any of `fds` to become readable; returns those not readable yet.
fn still_running(fds: Vec<OwnedFd>, wait: Duration) -> Vec<OwnedFd> {
    if fds.is_empty() {
        std::thread::sleep(wait);
        return fds;
    }
    let timeout = Timespec {
        tv_sec: wait.as_secs() as _,
        tv_nsec: wait.subsec_nanos() as _,
    };
    let exited: Vec<bool> = {
        let mut set: Vec<PollFd> = fds
            .iter()
            .map(|fd| PollFd::new(fd, PollFlags::IN))
            .collect();
        match poll(&mut set, Some(&timeout)) {
            Ok(_) => set.iter().map(|p| !p.revents().is_empty()).collect(),
            // EINTR: nothing known yet, the caller loops.
            Err(_) => vec![false; set.len()],
        }
    };
    fds.into_iter()
        .zip(exited)
        .filter_map(|(fd, done)| (!done).then_some(fd))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn waits_for_a_child_to_exit() {
        let mut child = Command::new("/bin/sh")
            .args(["-c", "read line"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("spawn sh");
        let pid = child.id() as i32;
        assert!(alive(pid));
        assert!(
            !wait_gone(&[pid], Duration::from_millis(50)),
            "still running"
        );
        drop(child.stdin.take());
        // Our own child stays a zombie until reaped: the pidfd is readable all the same.
        assert!(wait_gone(&[pid], Duration::from_secs(10)));
        assert!(!alive(pid));
        child.wait().expect("reap");
        assert!(wait_gone(&[pid], Duration::from_secs(1)), "reaped is gone");
    }
}
