//! The instance's child process as the actor holds it, and how its ending is read.

use super::phase::Exit;
use crate::worker_channel::WorkerLink;
use std::time::Duration;
use tokio::process::Child;

/// A live child with its output relays and, for Node apps, its IPC channel.
pub(super) struct Running {
    /// The process.
    pub child: Child,
    /// Its pid (0 if the OS gave none).
    pub pid: u32,
    /// The tasks copying its stdout and stderr to the logs.
    pub relays: Vec<tokio::task::JoinHandle<()>>,
    /// Its IPC channel, for Node apps whose channel came up.
    pub link: Option<WorkerLink>,
    /// The write end of its stdin (`pm2 send`, `pm2 attach`).
    pub stdin: Option<tokio::process::ChildStdin>,
    /// Its cgroups (whole-tree tracking, resource limits): held only for its lifetime,
    /// they are removed (when empty) once this process is gone.
    pub cgroups: pm2_supervisor::ProcessCgroups,
}

/// PM2 reports `code || 0` and the signal name separately.
pub(super) fn exit_of(status: std::io::Result<std::process::ExitStatus>) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    let (code, signal) = match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => (c, None),
            (None, Some(sig)) => (
                0,
                nix::sys::signal::Signal::try_from(sig)
                    .ok()
                    .map(|s| s.as_str()),
            ),
            _ => (0, None),
        },
        Err(_) => (1, None),
    };
    Exit { code, signal }
}

/// Waits (bounded) for the output relays to reach EOF, so the last lines are on disk before
/// a stop is reported. A grandchild that keeps the pipe open cannot hold the daemon up.
pub(super) async fn drain(relays: Vec<tokio::task::JoinHandle<()>>) {
    for relay in relays {
        let _ = tokio::time::timeout(Duration::from_secs(2), relay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn signals_report_code_zero_like_pm2() {
        let killed = std::process::ExitStatus::from_raw(9);
        let exit = exit_of(Ok(killed));
        assert_eq!((exit.code, exit.signal), (0, Some("SIGKILL")));
        let exited = std::process::ExitStatus::from_raw(3 << 8);
        assert_eq!(
            (exit_of(Ok(exited)).code, exit_of(Ok(exited)).signal),
            (3, None)
        );
    }
}
