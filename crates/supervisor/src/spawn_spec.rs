//! What one child is started from: its command line, environment, identity and cgroups,
//! resolved by the caller (the daemon) before the spawn.

use crate::credentials::Credentials;
use std::io;
use std::os::fd::RawFd;

/// Extra setup run in the child between fork and exec (must be async-signal-safe), e.g.
/// installing an IPC channel as fd 3.
pub type PreExec = std::sync::Arc<dyn Fn() -> io::Result<()> + Send + Sync>;

/// A process's cgroup v2, open: the folder (`O_PATH`), which clone3 places the child in,
/// and its `cgroup.procs`, which the child writes itself into where clone3 cannot.
#[derive(Clone, Copy, Debug)]
pub struct CgroupPlacement {
    /// The cgroup's folder.
    pub dir: RawFd,
    /// Its `cgroup.procs`, open for writing.
    pub procs: RawFd,
}

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
    /// The process's v2 cgroup (whole-tree tracking, see [`crate::cgroup`]): the child is
    /// in it from its first instruction; `None` where cgroups are not used.
    pub cgroup: Option<CgroupPlacement>,
    /// The `cgroup.procs` of the v1 cgroups that enforce its limits ([`crate::limits`]),
    /// open: the child joins them before its exec.
    pub cgroup_v1_procs: Vec<RawFd>,
}
