//! The child's side of [`crate::fork_exec`]: from clone3 to exec. It runs in a copy of a
//! threaded process, so only async-signal-safe calls are made (no allocation, no lock,
//! and raw syscalls where glibc's wrapper would talk to the parent's other threads), and
//! it never returns: it execs or reports its failure and exits 127.

use crate::credentials::Credentials;
use std::ffi::CStr;
use std::io;
use std::os::fd::RawFd;
use std::os::raw::c_char;

/// Everything the child needs, made by the parent before the clone.
pub(crate) struct Plan<'a> {
    /// The child's ends of the stdin, stdout and stderr pipes, for fds 0, 1, 2.
    pub stdio: [RawFd; 3],
    pub cwd: &'a CStr,
    pub program: &'a CStr,
    /// Null-terminated arrays, alive in the parent for the clone's duration.
    pub argv: *const *const c_char,
    pub envp: *const *const c_char,
    /// The `cgroup.procs` the child writes itself into (best-effort).
    pub join: &'a [RawFd],
    pub hook: Option<&'a (dyn Fn() -> io::Result<()> + Send + Sync)>,
    pub credentials: Option<&'a Credentials>,
    /// The write end of the close-on-exec report pipe.
    pub report: RawFd,
}

/// The step that failed, as the report carries it.
#[derive(Clone, Copy)]
#[repr(u32)]
enum Step {
    Stdio = 1,
    Signals = 2,
    Cwd = 3,
    Session = 4,
    Hook = 5,
    Credentials = 6,
    Exec = 7,
}

/// The error the parent returns for the child's report: the errno alone for the exec
/// (as `Command::spawn` reports it), the step named for the others.
pub(crate) fn error_of(step: u32, errno: i32) -> io::Error {
    let os = io::Error::from_raw_os_error(errno);
    let what = match step {
        s if s == Step::Exec as u32 => return os,
        s if s == Step::Stdio as u32 => "placing stdio",
        s if s == Step::Signals as u32 => "resetting signals",
        s if s == Step::Cwd as u32 => "changing to the working directory",
        s if s == Step::Session as u32 => "setsid",
        s if s == Step::Hook as u32 => "handing over descriptors",
        s if s == Step::Credentials as u32 => "switching user",
        _ => "an unknown step",
    };
    io::Error::new(os.kind(), format!("{what} in the child: {os}"))
}

/// Runs the child to its exec.
///
/// # Safety
/// Only in the child of clone3 (without `CLONE_VM`), with `plan` built by the parent.
pub(crate) unsafe fn run(plan: &Plan<'_>) -> ! {
    let (step, errno) = match steps(plan) {
        Err(failed) => failed,
        Ok(()) => (Step::Exec, errno()),
    };
    let mut buf = [0u8; 8];
    buf[..4].copy_from_slice(&(step as u32).to_ne_bytes());
    buf[4..].copy_from_slice(&errno.to_ne_bytes());
    // SAFETY: write(2) and _exit(2) are async-signal-safe.
    unsafe {
        libc::write(plan.report, buf.as_ptr().cast(), buf.len());
        libc::_exit(127)
    }
}

fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL)
}

fn check(step: Step, result: libc::c_int) -> Result<(), (Step, i32)> {
    if result < 0 {
        return Err((step, errno()));
    }
    Ok(())
}

/// Everything up to the exec; returns only if the exec failed (or a step before it).
fn steps(plan: &Plan<'_>) -> Result<(), (Step, i32)> {
    for (target, fd) in plan.stdio.iter().enumerate() {
        // SAFETY: dup2 of a descriptor the parent opened (above 2) onto 0-2; the copy has
        // no close-on-exec flag.
        check(Step::Stdio, unsafe { libc::dup2(*fd, target as RawFd) })?;
    }
    reset_signals()?;
    // SAFETY: chdir to a NUL-terminated path.
    check(Step::Cwd, unsafe { libc::chdir(plan.cwd.as_ptr()) })?;
    // SAFETY: setsid takes no arguments.
    check(Step::Session, unsafe { libc::setsid() })?;
    for &fd in plan.join {
        // Best-effort: an app never fails to start over its cgroups (the daemon said at
        // spawn which limits it could not put in place).
        let _ = crate::cgroup::join_from_child(fd);
    }
    crate::child_setup::mark_inherited_fds_cloexec();
    crate::child_setup::restore_app_scheduling();
    if let Some(hook) = plan.hook {
        hook().map_err(|e| (Step::Hook, e.raw_os_error().unwrap_or(libc::EINVAL)))?;
    }
    if let Some(credentials) = plan.credentials {
        credentials
            .assume()
            .map_err(|e| (Step::Credentials, e.raw_os_error().unwrap_or(libc::EPERM)))?;
    }
    // SAFETY: execve with NUL-terminated strings and null-terminated arrays that the
    // parent keeps alive (this process has its own copy of them).
    unsafe { libc::execve(plan.program.as_ptr(), plan.argv, plan.envp) };
    Ok(())
}

/// An empty signal mask and `SIGPIPE` back to its default (the daemon ignores it), as
/// `Command` leaves them; other dispositions are what exec makes of them.
fn reset_signals() -> Result<(), (Step, i32)> {
    // SAFETY: sigemptyset/sigprocmask on a local set; signal(2) with SIG_DFL. All are
    // async-signal-safe.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        check(
            Step::Signals,
            libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()),
        )?;
        if libc::signal(libc::SIGPIPE, libc::SIG_DFL) == libc::SIG_ERR {
            return Err((Step::Signals, errno()));
        }
    }
    Ok(())
}
