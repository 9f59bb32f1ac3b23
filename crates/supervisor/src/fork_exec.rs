//! Spawning a child with clone3(2), straight into its cgroup v2 (`CLONE_INTO_CGROUP`,
//! Linux 5.7+): the child is a member from its first instruction and nothing is migrated.
//!
//! Why not `std`/tokio's `Command` with a `cgroup.procs` write between fork and exec:
//! that write migrates the child, and a migration takes the kernel's cgroup threadgroup
//! lock for writing, which waits for an RCU grace period — 0.4 ms typically, 13.7 ms
//! measured under load — and `pm2 start` waits for it (BENCHMARKS.md). A clone3 into the
//! cgroup only takes that lock for reading.
//!
//! The child does what `Command` did for it, in the same order, with async-signal-safe
//! calls only (it is a copy of a threaded process): stdio on 0-2, signal mask emptied and
//! `SIGPIPE` back to default, working directory, a new session, the v1 cgroups (and the v2
//! one where clone3 could not place it) joined, inherited descriptors marked close-on-exec,
//! scheduling restored, the caller's hook, the credentials, exec. A failure is written to a
//! close-on-exec pipe (the step and errno) and the child exits 127; the parent reads the
//! pipe, so `spawn` returns only once the exec succeeded or with why it failed, as
//! `Command::spawn` does. Where the kernel has no clone3 (older than 5.3, or a seccomp
//! filter refusing it) the caller falls back to `Command`; where clone3 cannot place the
//! child in the cgroup (older than 5.7), the child joins it by writing `cgroup.procs`.

use crate::child::Child;
use crate::spawn_spec::SpawnSpec;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::raw::c_char;
use std::sync::atomic::{AtomicBool, Ordering};

/// clone3's argument block (`struct clone_args`, include/uapi/linux/sched.h).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// The block up to `tls` (Linux 5.3): what a kernel without `CLONE_INTO_CGROUP` takes.
const CLONE_ARGS_SIZE_VER0: usize = 64;
const CLONE_PIDFD: u64 = 0x1000;
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Cleared once clone3 was refused (ENOSYS, EPERM from a filter): `Command` from then on.
static CLONE3: AtomicBool = AtomicBool::new(true);

/// Spawns `spec` with clone3; `None` when this kernel gives no clone3 (the caller uses
/// `Command` instead).
pub(crate) fn spawn(spec: &SpawnSpec) -> Option<io::Result<Child>> {
    if !CLONE3.load(Ordering::Relaxed) {
        return None;
    }
    let exec = match Exec::new(spec) {
        Ok(exec) => exec,
        Err(e) => return Some(Err(e)),
    };
    match spawn_prepared(spec, &exec) {
        Err(Refused) => {
            CLONE3.store(false, Ordering::Relaxed);
            None
        }
        Ok(result) => Some(result),
    }
}

/// clone3 itself is refused here.
struct Refused;

fn spawn_prepared(spec: &SpawnSpec, exec: &Exec) -> Result<io::Result<Child>, Refused> {
    let pipes = match Pipes::new() {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    if let Some(placement) = &spec.cgroup {
        match clone_child(spec, exec, &pipes, Some(placement.dir)) {
            Ok(cloned) => return Ok(finish(cloned, pipes)),
            Err(e) if refused(&e) => return Err(Refused),
            // A kernel before 5.7, or a cgroup it will not clone into: join instead.
            Err(_) => {}
        }
    }
    match clone_child(spec, exec, &pipes, None) {
        Ok(cloned) => Ok(finish(cloned, pipes)),
        Err(e) if refused(&e) => Err(Refused),
        Err(e) => Ok(Err(io::Error::new(e.kind(), format!("clone3: {e}")))),
    }
}

fn refused(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSYS) | Some(libc::EPERM))
}

/// The child's pid and pidfd, and the read end of its error report.
struct Cloned {
    pid: libc::pid_t,
    pidfd: OwnedFd,
    report: OwnedFd,
}

/// Clones the child (into the cgroup folder `into`, if given) and runs its side.
fn clone_child(
    spec: &SpawnSpec,
    exec: &Exec,
    pipes: &Pipes,
    into: Option<RawFd>,
) -> io::Result<Cloned> {
    let (report_read, report_write) = pipe_cloexec()?;
    let mut join: Vec<RawFd> = Vec::with_capacity(spec.cgroup_v1_procs.len() + 1);
    if into.is_none() {
        join.extend(spec.cgroup.as_ref().map(|c| c.procs));
    }
    join.extend(&spec.cgroup_v1_procs);
    let argv = exec.argv_ptrs();
    let envp = exec.envp_ptrs();
    let plan = crate::fork_exec_child::Plan {
        stdio: pipes.child_ends(),
        cwd: &exec.cwd,
        program: &exec.program,
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        join: &join,
        hook: spec.pre_exec.as_deref(),
        credentials: spec.credentials.as_ref(),
        report: report_write.as_raw_fd(),
    };
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs {
        flags: CLONE_PIDFD,
        pidfd: std::ptr::addr_of_mut!(pidfd) as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    let size = match into {
        Some(dir) => {
            args.flags |= CLONE_INTO_CGROUP;
            args.cgroup = dir as u64;
            std::mem::size_of::<CloneArgs>()
        }
        None => CLONE_ARGS_SIZE_VER0,
    };
    // SAFETY: clone3 without CLONE_VM duplicates the process like fork; the block and the
    // pidfd slot outlive the call. In the child only `run` runs, which never returns.
    let pid = unsafe { libc::syscall(libc::SYS_clone3, std::ptr::addr_of_mut!(args), size) };
    if pid == 0 {
        // SAFETY: the child of clone3; see `fork_exec_child::run`.
        unsafe { crate::fork_exec_child::run(&plan) }
    }
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    drop(report_write);
    // SAFETY: the kernel wrote a new pidfd into the slot for a successful CLONE_PIDFD.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    Ok(Cloned {
        pid: pid as libc::pid_t,
        pidfd,
        report: report_read,
    })
}

/// Waits for the child's exec (its report pipe closes) or its report of what failed.
fn finish(cloned: Cloned, pipes: Pipes) -> io::Result<Child> {
    let Pipes { parent, child } = pipes;
    drop(child);
    let Cloned { pid, pidfd, report } = cloned;
    match read_report(&report) {
        Ok(None) => Child::from_pidfd(pid as u32, pidfd, parent),
        Ok(Some(error)) | Err(error) => {
            reap(pid);
            Err(error)
        }
    }
}

/// `None` once the exec succeeded, else the child's error (its step and errno).
fn read_report(report: &OwnedFd) -> io::Result<Option<io::Error>> {
    let mut buf = [0u8; 8];
    let n = loop {
        // SAFETY: read into a local buffer of its length.
        let n = unsafe { libc::read(report.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            break n as usize;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(io::Error::new(e.kind(), format!("the child's report: {e}")));
        }
    };
    match n {
        0 => Ok(None),
        8 => {
            let step = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
            let errno = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
            Ok(Some(crate::fork_exec_child::error_of(step, errno)))
        }
        _ => Ok(Some(io::Error::other(
            "the child's error report was cut short",
        ))),
    }
}

/// Reaps a child that failed before or at its exec (it exits at once).
fn reap(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: waitpid on our own child with a valid out-pointer.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
        && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
    {}
}

/// What exec needs, made before the clone (the child must not allocate).
struct Exec {
    program: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    cwd: CString,
}

impl Exec {
    fn new(spec: &SpawnSpec) -> io::Result<Exec> {
        let program = cstring(&resolve(&spec.program, &spec.env))?;
        let mut argv = vec![cstring(&spec.program)?];
        for arg in &spec.args {
            argv.push(cstring(arg)?);
        }
        let envp = spec
            .env
            .iter()
            .map(|(k, v)| cstring(&format!("{k}={v}")))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Exec {
            program,
            argv,
            envp,
            cwd: cstring(&spec.cwd)?,
        })
    }

    fn argv_ptrs(&self) -> Vec<*const c_char> {
        null_terminated(&self.argv)
    }

    fn envp_ptrs(&self) -> Vec<*const c_char> {
        null_terminated(&self.envp)
    }
}

fn null_terminated(strings: &[CString]) -> Vec<*const c_char> {
    let mut ptrs: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    ptrs
}

fn cstring(text: &str) -> io::Result<CString> {
    CString::new(text).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("nul byte found in {text:?}"),
        )
    })
}

/// A program named without a `/` is looked up in the child's `PATH` (as `Command` does
/// with a replaced environment; `/bin:/usr/bin` without one); unchanged when not found, so
/// exec reports it.
fn resolve(program: &str, env: &[(String, String)]) -> String {
    if program.contains('/') || program.is_empty() {
        return program.to_string();
    }
    let path = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map_or("/bin:/usr/bin", |(_, v)| v.as_str());
    path.split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| format!("{dir}/{program}"))
        .find(|candidate| executable(candidate))
        .unwrap_or_else(|| program.to_string())
}

fn executable(path: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The three stdio pipes: the parent's ends (stdin's write end, stdout's and stderr's
/// read ends) and the child's, all close-on-exec and above 2.
struct Pipes {
    parent: [OwnedFd; 3],
    child: [OwnedFd; 3],
}

impl Pipes {
    fn new() -> io::Result<Pipes> {
        let (stdin_read, stdin_write) = pipe_cloexec()?;
        let (stdout_read, stdout_write) = pipe_cloexec()?;
        let (stderr_read, stderr_write) = pipe_cloexec()?;
        Ok(Pipes {
            parent: [stdin_write, stdout_read, stderr_read],
            child: [stdin_read, stdout_write, stderr_write],
        })
    }

    fn child_ends(&self) -> [RawFd; 3] {
        [0, 1, 2].map(|i| self.child[i].as_raw_fd())
    }
}

/// A close-on-exec pipe whose ends are both above 2 (so that placing the child's ends on
/// 0-2 never overwrites another of them).
fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("pipe2: {e}")));
    }
    // SAFETY: both are new descriptors owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((above_stdio(read)?, above_stdio(write)?))
}

fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // SAFETY: fcntl duplicating a descriptor we own.
    let high = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
    if high < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(high) })
}

#[cfg(test)]
mod tests {
    use crate::spawn_spec::SpawnSpec;
    use std::os::unix::process::ExitStatusExt;
    use tokio::io::AsyncWriteExt;

    fn sh(script: &str) -> SpawnSpec {
        SpawnSpec {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
            cwd: "/tmp".into(),
            env: vec![
                ("PATH".into(), "/usr/bin:/bin".into()),
                ("ONLY".into(), "this".into()),
            ],
            pre_exec: None,
            credentials: None,
            cgroup: None,
            cgroup_v1_procs: vec![],
        }
    }

    fn spawn(spec: &SpawnSpec) -> std::io::Result<crate::child::Child> {
        super::spawn(spec).expect("clone3 on this kernel")
    }

    fn read_all(fd: std::os::fd::OwnedFd) -> String {
        use std::io::Read;
        let mut text = String::new();
        let _ = std::fs::File::from(fd).read_to_string(&mut text);
        text
    }

    #[tokio::test]
    async fn the_child_gets_its_args_env_cwd_session_and_stdin() {
        let script = "read line; echo \"$line $ONLY $(pwd) $(env | wc -l)\"; \
                      test $$ = $(cut -d' ' -f6 /proc/$$/stat) && echo leader; exit 3";
        let mut child = spawn(&sh(script)).expect("spawn");
        assert!(child.id().is_some());
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"hello\n").await.expect("write stdin");
        drop(stdin);
        let out = read_all(child.stdout.take().expect("stdout"));
        let status = child.wait().await.expect("wait");
        assert_eq!(status.code(), Some(3));
        // PWD, SHLVL and _ come from sh itself; PATH and ONLY from the spec.
        assert!(out.starts_with("hello this /tmp "), "{out:?}");
        assert!(out.contains("leader"), "its own session: {out:?}");
        assert_eq!(child.id(), None, "reaped");
        assert_eq!(child.wait().await.expect("again").code(), Some(3));
    }

    #[tokio::test]
    async fn a_signal_death_and_a_cancelled_wait_are_read_right() {
        let mut child = spawn(&sh("sleep 30")).expect("spawn");
        let pid = child.id().expect("pid") as i32;
        let early = tokio::time::timeout(std::time::Duration::from_millis(30), child.wait());
        assert!(early.await.is_err(), "still running");
        // SAFETY: kill(2) of our own child.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let status = child.wait().await.expect("wait");
        assert_eq!(status.signal(), Some(libc::SIGTERM));
    }

    #[tokio::test]
    async fn an_exec_that_fails_is_the_spawns_error_with_the_os_errno() {
        let mut spec = sh("");
        spec.program = "/nonexistent/program".into();
        let err = spawn(&spec).err().expect("an error");
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT), "{err}");
        spec.program = "no-such-program-anywhere".into();
        let err = spawn(&spec).err().expect("an error");
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT), "{err}");
        let mut spec = sh("true");
        spec.cwd = "/nonexistent/dir".into();
        let err = spawn(&spec).err().expect("an error");
        assert!(err.to_string().contains("working directory"), "{err}");
    }

    #[tokio::test]
    async fn a_failing_hook_is_reported_and_a_dropped_child_is_reaped() {
        let mut spec = sh("true");
        spec.pre_exec = Some(std::sync::Arc::new(|| {
            Err(std::io::Error::from_raw_os_error(libc::EBADF))
        }));
        let err = spawn(&spec).err().expect("an error");
        assert!(err.to_string().contains("descriptors"), "{err}");
        let child = spawn(&sh("exit 0")).expect("spawn");
        let pid = child.id().expect("pid") as i32;
        drop(child);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        // Gone from /proc once reaped (a zombie keeps its entry).
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            assert!(std::time::Instant::now() < deadline, "never reaped");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}
