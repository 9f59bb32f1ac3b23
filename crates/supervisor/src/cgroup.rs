//! Whole-tree tracking (beyond PM2): each process an instance starts lives, with what it
//! starts, in a cgroup v2 of its own (one per process: an overlapping reload's old and new
//! processes never share one), so a descendant that left the app's process group or
//! daemonised (a double fork re-parents it to init, out of reach of a `/proc` tree walk)
//! is still found, sent the stop signal and killed with the app. Where the machine gives no writable cgroup v2
//! hierarchy (no mount, not root, no delegation) or `PM2_RS_NO_CGROUPS` is set, nothing
//! changes: the tree walk alone is used, as before.
//!
//! Layout: `<cgroup2 mount><the daemon's own cgroup>/pm2-rs-<pid namespace>-<daemon
//! pid>/<instance id>/`. Joining is best-effort: a child that cannot join (its cgroup was
//! removed under it) runs all the same, tracked by the tree walk.
//! No controller is enabled (only membership is used), so the no-internal-process rule
//! does not apply and nothing about resources changes for the apps. A base left by a
//! daemon that died is removed by the next one when empty.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The folder name prefix of a daemon's base cgroup.
pub(crate) const BASE_PREFIX: &str = "pm2-rs-";

/// This process's PID namespace (the inode in `/proc/self/ns/pid`): a base is named by it
/// and the daemon's pid, and only bases of this namespace are swept, since a pid means
/// nothing in another one (a daemon in a container is pid 1 there).
pub(crate) fn pid_namespace() -> String {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|l| {
            let text = l.to_string_lossy().into_owned();
            let inode = text.strip_prefix("pid:[")?.strip_suffix(']')?.to_string();
            Some(inode)
        })
        .unwrap_or_else(|| "0".into())
}

/// This process's base cgroup, made on first use; `None` when cgroups cannot be used.
pub(crate) fn base() -> Option<&'static Path> {
    BASE.get_or_init(make_base).as_deref()
}

static BASE: OnceLock<Option<PathBuf>> = OnceLock::new();

/// The v2 base, if this process made one (never makes it).
pub(crate) fn made_base() -> Option<PathBuf> {
    BASE.get().cloned().flatten()
}

/// `rmdir` of each child folder of `dir`, then of `dir`.
pub(crate) fn remove_with_children(dir: &Path) {
    for child in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if child.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir(child.path());
        }
    }
    let _ = std::fs::remove_dir(dir);
}

fn make_base() -> Option<PathBuf> {
    if turned_off() {
        return None;
    }
    base_under(&cgroup2_mount()?, &own_cgroup()?)
}

/// This daemon's base cgroup below its own cgroup `own` of the hierarchy mounted at
/// `mount` (v2, or one v1 controller's), made if missing, after removing the bases that
/// dead daemons left there.
pub(crate) fn base_under(mount: &Path, own: &str) -> Option<PathBuf> {
    let parent = mount.join(own.trim_start_matches('/'));
    remove_stale_bases(&parent);
    let base = parent.join(format!(
        "{BASE_PREFIX}{}-{}",
        pid_namespace(),
        std::process::id()
    ));
    match std::fs::create_dir(&base) {
        Ok(()) => Some(base),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Some(base),
        Err(_) => None,
    }
}

/// Whether `PM2_RS_NO_CGROUPS` is set (to anything but empty): no cgroup of any kind.
pub(crate) fn turned_off() -> bool {
    std::env::var_os("PM2_RS_NO_CGROUPS").is_some_and(|v| !v.is_empty())
}

/// Where the cgroup v2 hierarchy is mounted (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified`
/// on a hybrid system), read from `/proc/self/mountinfo` once per process (every tree stop
/// asks).
fn cgroup2_mount() -> Option<PathBuf> {
    static MOUNT: OnceLock<Option<PathBuf>> = OnceLock::new();
    MOUNT.get_or_init(read_cgroup2_mount).clone()
}

fn read_cgroup2_mount() -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let fstype = right.split_whitespace().next()?;
        let mount_point = left.split_whitespace().nth(4)?;
        (fstype == "cgroup2").then(|| PathBuf::from(mount_point))
    })
}

/// This process's cgroup v2 path (`0::<path>` in `/proc/self/cgroup`).
fn own_cgroup() -> Option<String> {
    cgroup_of("self")
}

fn cgroup_of(pid: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| p.trim().to_string())
}

/// Removes the bases of daemons that no longer run (only empty ones: `rmdir` refuses the
/// others, whose processes the new daemon's recovery deals with).
pub(crate) fn remove_stale_bases(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let ours = format!("{BASE_PREFIX}{}-", pid_namespace());
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(ours.as_str())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if pid as u32 != std::process::id() && !pm2_home::liveness::alive(pid) {
            remove_with_children(&entry.path());
        }
    }
}

/// One instance's cgroup: its processes, and the descriptor a new child writes itself into.
pub struct InstanceCgroup {
    dir: PathBuf,
    procs: File,
}

impl InstanceCgroup {
    /// The cgroup for the instance `id` (unique in this process), made if missing; `None`
    /// when cgroups cannot be used here.
    pub fn for_instance(id: &str) -> Option<InstanceCgroup> {
        let name: String = id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let dir = base()?.join(name);
        if let Err(e) = std::fs::create_dir(&dir) {
            if e.kind() != io::ErrorKind::AlreadyExists {
                return None;
            }
        }
        let procs = OpenOptions::new()
            .write(true)
            .open(dir.join("cgroup.procs"))
            .ok()?;
        Some(InstanceCgroup { dir, procs })
    }

    /// The descriptor a child writes `0` to, between fork and exec, to join (see
    /// [`join_from_child`]).
    pub fn procs_fd(&self) -> RawFd {
        self.procs.as_raw_fd()
    }

    /// The folder, for messages.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for InstanceCgroup {
    fn drop(&mut self) {
        // Refused while a process is still in it; the next daemon sweeps the base.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// In a child between fork and exec: moves the calling process into the cgroup whose
/// `cgroup.procs` is open as `fd` (only `write` is called, which is async-signal-safe).
pub fn join_from_child(fd: RawFd) -> io::Result<()> {
    // SAFETY: write(2) of two bytes from a static buffer to an inherited descriptor.
    let n = unsafe { libc::write(fd, b"0\n".as_ptr().cast(), 2) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The pm2-rs process cgroup (v2) that `pid` belongs to, if it is in one: its folder. Read
/// before a stop, while `pid` still has a `/proc` entry.
pub fn process_cgroup_of(pid: i32) -> Option<PathBuf> {
    let mount = cgroup2_mount()?;
    let path = cgroup_of(&pid.to_string())?;
    // Not the daemon's own cgroup (a daemon that is itself an app of another): stopping
    // one app must never reach the daemon and its other apps.
    if !path.split('/').any(|part| part.starts_with(BASE_PREFIX))
        || Some(&path) == own_cgroup().as_ref()
    {
        return None;
    }
    Some(mount.join(path.trim_start_matches('/')))
}

/// Every process in the cgroup at `dir` (its `cgroup.procs`): the whole tree of the
/// process it was made for, found without reading every `/proc/<pid>/stat` on the machine.
pub fn members(dir: &Path) -> Vec<i32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse::<i32>().ok())
        .collect()
}

/// SIGKILL to every process in the cgroup at `dir` at once, through `cgroup.kill` (cgroup
/// v2, Linux 5.14+; no race with a process forking meanwhile); false where the kernel has
/// no `cgroup.kill`, so the caller kills pid by pid.
pub fn kill_all(dir: &Path) -> bool {
    std::fs::write(dir.join("cgroup.kill"), b"1").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v2_mount_is_found_in_mountinfo() {
        // Every Linux this runs on has one; the test only checks the parse.
        if let Some(mount) = cgroup2_mount() {
            assert!(mount.is_absolute());
        }
    }
}
