//! A spawned child as the daemon holds it: its pid, its pipes and its exit status, whether
//! it was started by [`crate::fork_exec`] (clone3, watched through its pidfd) or, where the
//! kernel has no clone3, by tokio's `Command`.

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// The write end of a child's stdin (non-blocking, registered with the reactor).
pub type ChildStdin = tokio::net::unix::pipe::Sender;

/// A running (or exited, not yet reaped) child.
pub struct Child {
    /// The write end of its stdin, until taken.
    pub stdin: Option<ChildStdin>,
    /// The read end of its stdout (blocking mode), until taken.
    pub stdout: Option<OwnedFd>,
    /// The read end of its stderr (blocking mode), until taken.
    pub stderr: Option<OwnedFd>,
    inner: Inner,
}

enum Inner {
    /// Started by tokio's `Command` (kernels without clone3).
    Tokio(tokio::process::Child),
    /// Started by clone3 with `CLONE_PIDFD`.
    Pidfd(PidfdChild),
}

impl Child {
    /// Takes over a child tokio spawned with piped stdio.
    pub(crate) fn from_tokio(mut child: tokio::process::Child) -> io::Result<Child> {
        let stdin = match child.stdin.take() {
            Some(pipe) => Some(ChildStdin::from_owned_fd(pipe.into_owned_fd()?)?),
            None => None,
        };
        let stdout = child.stdout.take().map(|p| p.into_owned_fd()).transpose()?;
        let stderr = child.stderr.take().map(|p| p.into_owned_fd()).transpose()?;
        Ok(Child {
            stdin,
            stdout,
            stderr,
            inner: Inner::Tokio(child),
        })
    }

    /// A child started by clone3: `pid`, its `pidfd`, the parent's ends of its pipes
    /// (stdin, stdout, stderr).
    pub(crate) fn from_pidfd(pid: u32, pidfd: OwnedFd, pipes: [OwnedFd; 3]) -> io::Result<Child> {
        let [stdin, stdout, stderr] = pipes;
        let mut child = Child {
            stdin: None,
            stdout: Some(stdout),
            stderr: Some(stderr),
            inner: Inner::Pidfd(PidfdChild {
                pid,
                pidfd: Some(pidfd),
                watch: None,
                status: None,
                orphan: false,
            }),
        };
        match ChildStdin::from_owned_fd(stdin) {
            Ok(stdin) => child.stdin = Some(stdin),
            Err(e) => {
                // Not left running unsupervised: killed, and reaped by Drop.
                // SAFETY: kill(2) of our own child, not yet reaped.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                return Err(io::Error::new(e.kind(), format!("the child's stdin: {e}")));
            }
        }
        Ok(child)
    }

    /// Its pid; `None` once it has been reaped (as tokio's `Child::id`).
    pub fn id(&self) -> Option<u32> {
        match &self.inner {
            Inner::Tokio(c) => c.id(),
            Inner::Pidfd(c) => c.status.is_none().then_some(c.pid),
        }
    }

    /// Waits for the child to exit and reaps it; cancel-safe, and every later call
    /// returns the same status.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        match &mut self.inner {
            Inner::Tokio(c) => c.wait().await,
            Inner::Pidfd(c) => c.wait().await,
        }
    }
}

/// A clone3 child: reaped by pid once its pidfd says it exited (nothing else in the
/// daemon reaps by pid or waits for any child, so the pid is ours until then).
struct PidfdChild {
    pid: u32,
    /// The pidfd until it is handed to the reactor on the first wait.
    pidfd: Option<OwnedFd>,
    watch: Option<AsyncFd<OwnedFd>>,
    status: Option<ExitStatus>,
    /// Already handed to a reaping task by Drop (which must not hand it on again).
    orphan: bool,
}

impl PidfdChild {
    async fn wait(&mut self) -> io::Result<ExitStatus> {
        loop {
            if let Some(status) = self.try_reap()? {
                return Ok(status);
            }
            let watch = self.watch()?;
            let mut ready = watch.readable().await?;
            ready.clear_ready();
        }
    }

    fn watch(&mut self) -> io::Result<&AsyncFd<OwnedFd>> {
        if let Some(fd) = self.pidfd.take() {
            // SAFETY: the AsyncFd owns the pidfd, and nothing else closes or replaces it
            // while it is registered.
            let watch = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) };
            self.watch = Some(watch.map_err(|e| e.into_parts().1)?);
        }
        self.watch
            .as_ref()
            .ok_or_else(|| io::Error::other("the child's pidfd is gone"))
    }

    /// The exit status if the child has exited (reaping it), `None` while it runs.
    fn try_reap(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let mut raw = 0;
        // SAFETY: waitpid on our own child with a valid out-pointer.
        let got = unsafe { libc::waitpid(self.pid as libc::pid_t, &mut raw, libc::WNOHANG) };
        match got {
            0 => Ok(None),
            n if n > 0 => {
                let status = ExitStatus::from_raw(raw);
                self.status = Some(status);
                self.watch = None;
                self.pidfd = None;
                Ok(Some(status))
            }
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    return Ok(None);
                }
                Err(io::Error::new(
                    e.kind(),
                    format!("waitpid {}: {e}", self.pid),
                ))
            }
        }
    }
}

impl Drop for PidfdChild {
    /// A child dropped while it runs is reaped when it exits (tokio does the same for its
    /// own), so it never stays a zombie; without a runtime it is left to init at exit.
    fn drop(&mut self) {
        if self.orphan || self.status.is_some() || matches!(self.try_reap(), Ok(Some(_))) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut orphan = PidfdChild {
            pid: self.pid,
            pidfd: self.pidfd.take(),
            watch: self.watch.take(),
            status: None,
            orphan: true,
        };
        runtime.spawn(async move {
            let _ = orphan.wait().await;
        });
    }
}
