//! One git command as a subprocess: an argument vector (never a shell), a deadline, and a
//! cap on what it may print, so a hung or chatty git can never hold its caller.

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::process::{kill_process_group, Pid, Signal};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a local git command may take (PM2's vizion allows 5 s).
pub const LOCAL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a command that talks to a remote (`git remote update`) may take (PM2: 60 s).
pub const REMOTE_TIMEOUT: Duration = Duration::from_secs(60);
/// The most a git command may print before it is stopped (PM2's 1 MiB `maxBuffer`).
const MAX_OUTPUT: usize = 1024 * 1024;

/// Why a git command gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The folder to run in does not exist (or is not a directory).
    #[error("{folder} is not a directory")]
    NoFolder {
        /// The folder.
        folder: String,
    },
    /// git could not be started (not installed, not executable).
    #[error("cannot run git in {folder}: {source}")]
    Spawn {
        /// Where it was run.
        folder: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// It ran past its deadline and was killed.
    #[error("`git {args}` in {folder} took longer than {after:?} and was stopped")]
    TimedOut {
        /// The arguments, for the message.
        args: String,
        /// Where it was run.
        folder: String,
        /// The deadline it missed.
        after: Duration,
    },
    /// It printed more than 1 MiB and was stopped.
    #[error("`git {args}` in {folder} printed more than {MAX_OUTPUT} bytes and was stopped")]
    TooMuchOutput {
        /// The arguments, for the message.
        args: String,
        /// Where it was run.
        folder: String,
    },
    /// A revision to check out that is not a commit id (PM2 takes hex digits only).
    #[error("{revision:?} is not a commit id (hex digits expected)")]
    InvalidRevision {
        /// What was given.
        revision: String,
    },
    /// It exited with a failure.
    #[error("`git {args}` in {folder} failed ({status}): {stderr}")]
    Failed {
        /// The arguments, for the message.
        args: String,
        /// Where it was run.
        folder: String,
        /// How it exited.
        status: String,
        /// What it said on stderr (trimmed).
        stderr: String,
    },
}

impl GitError {
    /// Whether git itself cannot be run, so trying other folders is pointless.
    pub fn git_missing(&self) -> bool {
        matches!(self, GitError::Spawn { .. })
    }
}

/// What a finished git command printed.
#[derive(Debug, Clone)]
pub struct GitOutput {
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

/// Runs `git <args>` in `folder` and returns its stdout once it exits 0 within `timeout`.
pub fn git(folder: &Path, args: &[&str], timeout: Duration) -> Result<String, GitError> {
    git_output(folder, args, timeout).map(|o| o.stdout)
}

/// Like [`git`], with stderr too (what `git reset` says goes to both).
pub fn git_output(folder: &Path, args: &[&str], timeout: Duration) -> Result<GitOutput, GitError> {
    let shown = || args.join(" ");
    let where_ = || folder.display().to_string();
    if !folder.is_dir() {
        return Err(GitError::NoFolder { folder: where_() });
    }
    let mut child = command(folder, args)
        .spawn()
        .map_err(|source| GitError::Spawn {
            folder: where_(),
            source,
        })?;
    let read = read_until(&mut child, Instant::now() + timeout);
    if read.is_err() {
        stop(&mut child);
    }
    let status = child.wait().map_err(|source| GitError::Spawn {
        folder: where_(),
        source,
    })?;
    let (stdout, stderr) = match read {
        Ok(both) => both,
        Err(Overrun::Time) => {
            return Err(GitError::TimedOut {
                args: shown(),
                folder: where_(),
                after: timeout,
            })
        }
        Err(Overrun::Size) => {
            return Err(GitError::TooMuchOutput {
                args: shown(),
                folder: where_(),
            })
        }
    };
    if !status.success() {
        return Err(GitError::Failed {
            args: shown(),
            folder: where_(),
            status: status.to_string(),
            stderr: stderr.trim().to_string(),
        });
    }
    Ok(GitOutput { stdout, stderr })
}

/// The command: no shell, no prompt, C locale, no inherited repository overrides, its own
/// process group (so a stop reaches what it spawned, e.g. ssh for a fetch).
fn command(folder: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(folder)
        .env("LC_ALL", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    cmd
}

/// Ends the child's process group; the child is not reaped yet, so its pid (the group id)
/// is still ours.
fn stop(child: &mut Child) {
    let group = i32::try_from(child.id()).ok().and_then(Pid::from_raw);
    if let Some(group) = group {
        let _ = kill_process_group(group, Signal::KILL);
    }
    let _ = child.kill();
}

/// Why reading stopped early.
enum Overrun {
    Time,
    Size,
}

/// Reads stdout and stderr together until both close, the deadline passes, or they grow
/// past [`MAX_OUTPUT`].
fn read_until(child: &mut Child, deadline: Instant) -> Result<(String, String), Overrun> {
    let (Some(mut out), Some(mut err)) = (child.stdout.take(), child.stderr.take()) else {
        return Ok((String::new(), String::new()));
    };
    let (mut out_buf, mut err_buf) = (Vec::new(), Vec::new());
    let (mut out_open, mut err_open) = (true, true);
    let mut chunk = [0u8; 8192];
    while out_open || err_open {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Overrun::Time);
        }
        let timeout = Timespec {
            tv_sec: left.as_secs() as _,
            tv_nsec: left.subsec_nanos() as _,
        };
        let (out_ready, err_ready) = {
            let mut fds = Vec::with_capacity(2);
            if out_open {
                fds.push(PollFd::new(&out, PollFlags::IN));
            }
            if err_open {
                fds.push(PollFd::new(&err, PollFlags::IN));
            }
            match poll(&mut fds, Some(&timeout)) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => return Err(Overrun::Time),
            }
            let ready = |i: usize| fds.get(i).is_some_and(|f| !f.revents().is_empty());
            match (out_open, err_open) {
                (true, true) => (ready(0), ready(1)),
                (true, false) => (ready(0), false),
                _ => (false, ready(0)),
            }
        };
        if out_ready {
            out_open = pump(&mut out, &mut out_buf, &mut chunk);
        }
        if err_ready {
            err_open = pump(&mut err, &mut err_buf, &mut chunk);
        }
        if out_buf.len() + err_buf.len() > MAX_OUTPUT {
            return Err(Overrun::Size);
        }
    }
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    Ok((text(out_buf), text(err_buf)))
}

/// One read from a readable pipe into `buf`; false once it is closed.
fn pump(pipe: &mut impl Read, buf: &mut Vec<u8>, chunk: &mut [u8]) -> bool {
    match pipe.read(chunk) {
        Ok(0) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => true,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_is_not_a_missing_git() {
        let e = git(
            Path::new("/nonexistent/folder/x"),
            &["status"],
            LOCAL_TIMEOUT,
        )
        .expect_err("no such folder");
        assert!(matches!(e, GitError::NoFolder { .. }), "{e}");
        assert!(!e.git_missing(), "{e}");
    }
}
