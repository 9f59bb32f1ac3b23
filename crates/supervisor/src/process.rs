//! Spawning children in their own session and stopping whole process trees.

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use pm2_home::liveness::ExitWatch;
use std::io;
use std::os::fd::OwnedFd;
use std::process::{ExitStatus, Stdio};
use std::str::FromStr;
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::credentials::Credentials;
pub use pm2_home::liveness::alive;

/// Extra setup run in the child between fork and exec (must be async-signal-safe), e.g.
/// installing an IPC channel as fd 3.
pub type PreExec = std::sync::Arc<dyn Fn() -> io::Result<()> + Send + Sync>;

/// A fully resolved command line for one child.
#[derive(Clone)]
pub struct SpawnSpec {
    /// Executable (absolute path).
    pub program: String,
    /// Arguments after the program.
    pub args: Vec<String>,
    /// Working directory.
    pub cwd: String,
    /// The complete environment (nothing else is inherited).
    pub env: Vec<(String, String)>,
    /// Run in the child after the descriptor clean-up, before exec.
    pub pre_exec: Option<PreExec>,
    /// Run the child as this user and group (the caller is root), after `pre_exec`.
    pub credentials: Option<Credentials>,
    /// The `cgroup.procs` of the process's cgroups, open (its v2 cgroup, then the v1
    /// ones that enforce its limits): the child joins them before anything else
    /// (whole-tree tracking and limits, see [`crate::cgroup`], [`crate::limits`]); empty
    /// where cgroups are not used.
    pub cgroup_procs: Vec<std::os::fd::RawFd>,
}

/// Spawns a child with piped stdin/stdout/stderr in a new session (stdin is a pipe, as
/// PM2's, so `pm2 send` and `pm2 attach` can write to it; an app that never reads it only
/// fills the pipe's buffer, and the writer never blocks on it), so that terminal signals aimed
/// at the daemon's group never reach it and the whole tree can be signalled as a group.
/// Every inherited descriptor above stderr is marked close-on-exec first.
pub fn spawn(spec: &SpawnSpec) -> io::Result<Child> {
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    let extra = spec.pre_exec.clone();
    let credentials = spec.credentials.clone();
    let cgroups = spec.cgroup_procs.clone();
    // SAFETY: the closure only calls async-signal-safe functions (setsid, syscall, and the
    // caller's hook, which must be async-signal-safe too).
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() == -1 {
                return Err(io::Error::last_os_error());
            }
            for &fd in &cgroups {
                // Best-effort: an app never fails to start over its cgroups (the daemon
                // said at spawn which limits it could not put in place).
                let _ = crate::cgroup::join_from_child(fd);
            }
            mark_inherited_fds_cloexec();
            restore_app_scheduling();
            if let Some(hook) = &extra {
                hook()?;
            }
            match &credentials {
                Some(c) => c.assume(),
                None => Ok(()),
            }
        });
    }
    // The pipes keep the kernel's default capacity: the daemon's relay grows the pipe of an
    // app that fills it (an idle app's stays small; see the daemon's logs::pipe_size).
    let child = cmd.spawn()?;
    Ok(child)
}

/// Set once the daemon's threads run under `SCHED_BATCH` (see [`prefer_batching`]): its
/// children must get the normal policy back, which fork would not do.
static BATCHING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Switches the calling thread (and the threads it creates afterwards) from `SCHED_OTHER`
/// to `SCHED_BATCH`: same CPU share, but a wake-up no longer preempts the running task.
///
/// Why: when the machine is saturated (a cluster app under load on every core), each event
/// that woke the daemon preempted a worker and cost a context switch each way — two per
/// connection handed over. Batching lets the worker run on and the daemon handle the
/// events that piled up in one go: a third of the switches, half the daemon CPU per
/// connection and more throughput for the app (BENCHMARKS.md). With an idle core nothing
/// changes. A thread started under another policy (chrt, systemd) keeps it. Apps get
/// `SCHED_OTHER` back in [`spawn`].
pub fn prefer_batching() {
    // SAFETY: sched_getscheduler/sched_setscheduler on the calling thread (0) with a valid
    // parameter block; no memory is shared.
    unsafe {
        if libc::sched_getscheduler(0) != libc::SCHED_OTHER {
            return;
        }
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) == 0 {
            BATCHING.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// In the child before exec: the normal policy again when the daemon batches (an app is
/// started as it would be without pm2-rs in between).
fn restore_app_scheduling() {
    if BATCHING.load(std::sync::atomic::Ordering::Relaxed) {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: async-signal-safe syscall on the calling (child) process.
        unsafe {
            libc::sched_setscheduler(0, libc::SCHED_OTHER, &param);
        }
    }
}

/// Marks every fd above 2 close-on-exec (fds the daemon itself inherited included).
/// Failure (an old kernel without close_range) is harmless: Rust opens its own fds CLOEXEC.
fn mark_inherited_fds_cloexec() {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range with CLOEXEC only changes descriptor flags.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        );
    }
}

/// Parses `SIGINT`, `INT`, `sigint` or a number.
pub fn parse_signal(raw: &str) -> Option<Signal> {
    if let Ok(n) = raw.parse::<i32>() {
        return Signal::try_from(n).ok();
    }
    let upper = raw.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name).ok()
}

/// Every descendant of `root`, deepest first. When `root` has a pm2-rs cgroup, its members
/// are the tree (daemonised grandchildren, re-parented to init, included) and no other
/// process is read; otherwise its tree is walked (see `proc_tree.rs`: only its own
/// processes are read where the kernel lists children).
pub fn descendants(root: i32) -> Vec<i32> {
    match crate::cgroup::process_cgroup_of(root) {
        Some(dir) => cgroup_tree(&dir, root),
        None => tree_below(root),
    }
}

/// The members of `root`'s cgroup but `root`, the newest (highest pid, usually the
/// deepest) first.
fn cgroup_tree(dir: &std::path::Path, root: i32) -> Vec<i32> {
    let mut members: Vec<i32> = crate::cgroup::members(dir)
        .into_iter()
        .filter(|p| *p != root)
        .collect();
    members.sort_unstable_by(|a, b| b.cmp(a));
    members
}

/// `root`'s descendants in the /proc tree, deepest first.
fn tree_below(root: i32) -> Vec<i32> {
    let mut order = crate::proc_tree::tree_of(root);
    order.reverse();
    order
}

/// Sends `sig` to `pid` and, with `tree`, to all its descendants bottom-up. Returns every pid
/// that was signalled, so the caller can watch them all die.
pub fn signal_tree(pid: i32, sig: Signal, tree: bool) -> Vec<i32> {
    let mut targets = if tree { descendants(pid) } else { vec![] };
    targets.push(pid);
    for &p in &targets {
        let _ = kill(Pid::from_raw(p), sig);
    }
    targets
}

/// How to stop one child.
#[derive(Debug, Clone, Copy)]
pub struct StopPlan {
    /// First signal (SIGINT by default, `PM2_KILL_SIGNAL`).
    pub signal: Signal,
    /// Grace period before SIGKILL.
    pub kill_timeout: Duration,
    /// Signal the whole tree, not only the child.
    pub treekill: bool,
}

/// How often survivors of the first signal are checked where no pidfd can be had (PM2's
/// `kill_retry_time`).
const POLL: Duration = Duration::from_millis(100);

/// Stops `child` gracefully: the signal to the tree, then SIGKILL to whatever is left after
/// `kill_timeout`. Returns once the child has been reaped and every signalled descendant is
/// gone (or, for a descendant that survives even SIGKILL, after a second grace period).
pub async fn stop_gracefully(child: &mut Child, plan: StopPlan) -> io::Result<ExitStatus> {
    let Some(pid) = child.id().map(|p| p as i32) else {
        return child.wait().await;
    };
    // Read while the child is alive: after it is reaped its /proc entry is gone.
    let cgroup = plan
        .treekill
        .then(|| crate::cgroup::process_cgroup_of(pid))
        .flatten();
    let mut tree = signal_tree(pid, plan.signal, plan.treekill);
    let deadline = Instant::now() + plan.kill_timeout;
    let status = match tokio::time::timeout_at(deadline, child.wait()).await {
        Ok(status) => Some(status?),
        Err(_) => None,
    };
    if plan.treekill && wait_all_gone(&tree, deadline).await {
        return match status {
            Some(s) => Ok(s),
            None => child.wait().await,
        };
    }
    if status.is_none() && plan.treekill {
        tree.extend(descendants(pid));
    }
    force_kill(pid, &tree, plan.treekill, cgroup.as_deref());
    let status = match status {
        Some(s) => s,
        None => child.wait().await?,
    };
    wait_all_gone(&tree, Instant::now() + plan.kill_timeout).await;
    Ok(status)
}

/// SIGKILL to the child's cgroup (all at once, where `cgroup.kill` exists), its process
/// group and every remembered pid still alive.
fn force_kill(pid: i32, tree: &[i32], treekill: bool, cgroup: Option<&std::path::Path>) {
    if let Some(dir) = cgroup {
        crate::cgroup::kill_all(dir);
    }
    if treekill {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
    for &p in tree.iter().filter(|p| alive(**p)) {
        let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
    }
}

/// Waits until none of `pids` runs or the deadline passes; true when all are gone.
///
/// Each process is watched through a pidfd (readable once it has exited); one refused a
/// pidfd (an old kernel, a seccomp filter) is checked every 100 ms instead.
pub async fn wait_all_gone(pids: &[i32], deadline: Instant) -> bool {
    let mut exits = Vec::new();
    let mut polled = Vec::new();
    for &pid in pids {
        match ExitWatch::open(pid) {
            ExitWatch::Gone => {}
            ExitWatch::Pidfd(fd) => exits.push((pid, fd)),
            ExitWatch::Poll(pid) => polled.push(pid),
        }
    }
    let all_exited = async {
        for (pid, fd) in exits {
            if !exited(fd).await {
                polled.push(pid);
            }
        }
        while polled.iter().any(|p| alive(*p)) {
            tokio::time::sleep(POLL).await;
        }
    };
    tokio::time::timeout_at(deadline, all_exited).await.is_ok()
}

/// Waits for a pidfd to become readable; false when the reactor cannot watch it.
async fn exited(fd: OwnedFd) -> bool {
    // SAFETY: the OwnedFd is a valid descriptor that AsyncFd owns, and nothing else closes
    // or replaces it while it is registered.
    match unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) } {
        Ok(fd) => fd.readable().await.is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_signal_names() {
        assert_eq!(parse_signal("SIGUSR2"), Some(Signal::SIGUSR2));
        assert_eq!(parse_signal("usr1"), Some(Signal::SIGUSR1));
        assert_eq!(parse_signal("9"), Some(Signal::SIGKILL));
        assert_eq!(parse_signal("SIGNOPE"), None);
    }

    fn sh(script: &str) -> SpawnSpec {
        SpawnSpec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            cwd: "/".into(),
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            pre_exec: None,
            credentials: None,
            cgroup_procs: vec![],
        }
    }

    #[tokio::test]
    async fn wait_all_gone_wakes_on_exit_and_honours_the_deadline() {
        let mut child = spawn(&sh("sleep 30")).unwrap();
        let pid = child.id().unwrap() as i32;
        let soon = Instant::now() + Duration::from_millis(50);
        assert!(!wait_all_gone(&[pid], soon).await, "still running");
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        let later = Instant::now() + Duration::from_secs(10);
        assert!(wait_all_gone(&[pid], later).await, "exited");
        child.wait().await.unwrap();
        assert!(wait_all_gone(&[pid, -1, 0], Instant::now()).await, "reaped");
    }

    #[tokio::test]
    async fn a_child_that_ignores_sigint_is_killed_after_the_timeout() {
        use std::os::unix::process::ExitStatusExt;
        let mut child = spawn(&sh("trap '' INT; sleep 30 & wait; sleep 30")).unwrap();
        let pid = child.id().unwrap() as i32;
        // The trap is in place once the shell has started its first sleep.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while descendants(pid).is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the shell never started"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let plan = StopPlan {
            signal: Signal::SIGINT,
            kill_timeout: Duration::from_millis(300),
            treekill: true,
        };
        let status = stop_gracefully(&mut child, plan).await.unwrap();
        assert_eq!(
            status.signal(),
            Some(libc::SIGKILL),
            "SIGINT was ignored: {status:?}"
        );
        assert!(!alive(pid));
    }

    #[tokio::test]
    async fn grandchildren_are_stopped_with_the_tree() {
        let mut child = spawn(&sh("sleep 30 & sleep 30 & wait")).unwrap();
        let pid = child.id().unwrap() as i32;
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut kids = descendants(pid);
        while kids.len() < 2 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
            kids = descendants(pid);
        }
        assert_eq!(kids.len(), 2, "both sleeps started");
        let plan = StopPlan {
            signal: Signal::SIGINT,
            kill_timeout: Duration::from_millis(2000),
            treekill: true,
        };
        stop_gracefully(&mut child, plan).await.unwrap();
        assert!(kids.iter().all(|k| !alive(*k)), "no grandchild survives");
    }
}
