//! The cgroup v1 hierarchies a limit falls back to (beyond PM2): on a hybrid machine the
//! v2 hierarchy has no resource controller, and `memory`, `cpu` and `pids` each have a v1
//! hierarchy of their own. A process with such a limit gets, besides its v2 cgroup, one
//! cgroup in each hierarchy it needs, laid out as the v2 ones are:
//! `<mount><the daemon's cgroup there>/pm2-rs-<pid namespace>-<daemon pid>/<name>/`, joined
//! between fork and exec the same way, removed when the process is gone, and a dead
//! daemon's empty ones swept by the next.

use crate::cgroup::{base_under, turned_off};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// This daemon's base folder in the v1 hierarchy of `controller`, made on first use;
/// `None` when there is no such writable hierarchy (or cgroups are turned off).
pub(crate) fn base(controller: &'static str) -> Option<PathBuf> {
    let mut bases = bases();
    bases
        .entry(controller)
        .or_insert_with(|| make_base(controller))
        .clone()
}

/// The bases made so far (for the daemon's exit).
pub(crate) fn made_bases() -> Vec<PathBuf> {
    bases().values().flatten().cloned().collect()
}

fn bases() -> std::sync::MutexGuard<'static, HashMap<&'static str, Option<PathBuf>>> {
    static BASES: OnceLock<Mutex<HashMap<&'static str, Option<PathBuf>>>> = OnceLock::new();
    let bases = BASES.get_or_init(Default::default);
    // A panic while the map was held leaves it whole (one insert): keep using it.
    bases.lock().unwrap_or_else(|p| p.into_inner())
}

fn make_base(controller: &str) -> Option<PathBuf> {
    if turned_off() {
        return None;
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mount = mount_of(&mountinfo, controller)?;
    let own_cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let own = own_path(&own_cgroups, controller)?;
    base_under(&mount, &own)
}

/// Where the v1 hierarchy holding `controller` is mounted, from `/proc/self/mountinfo`
/// (fstype `cgroup`, the controller among the super options: `rw,cpu,cpuacct`).
fn mount_of(mountinfo: &str, controller: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mut fields = right.split_whitespace();
        let fstype = fields.next()?;
        let options = fields.nth(1)?;
        let mount_point = left.split_whitespace().nth(4)?;
        (fstype == "cgroup" && options.split(',').any(|o| o == controller))
            .then(|| PathBuf::from(mount_point))
    })
}

/// This process's cgroup in the hierarchy of `controller` (`4:memory:/path`,
/// `1:cpu,cpuacct:/path` in `/proc/self/cgroup`).
fn own_path(cgroups: &str, controller: &str) -> Option<String> {
    cgroups.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let _id = parts.next()?;
        let controllers = parts.next()?;
        let path = parts.next()?;
        controllers
            .split(',')
            .any(|c| c == controller)
            .then(|| path.trim().to_string())
    })
}

/// One process's cgroup in one v1 hierarchy: its folder and the open `cgroup.procs` the
/// child writes itself into.
pub(crate) struct V1Cgroup {
    dir: PathBuf,
    procs: File,
}

impl V1Cgroup {
    /// Makes `<base of controller>/<name>` and writes `settings` (file, value) in order;
    /// the error says which file refused what.
    pub(crate) fn create(
        controller: &'static str,
        name: &str,
        settings: &[(&str, String)],
    ) -> Result<V1Cgroup, String> {
        let base = base(controller)
            .ok_or_else(|| format!("no writable cgroup v1 {controller} hierarchy"))?;
        let dir = base.join(name);
        if let Err(e) = std::fs::create_dir(&dir) {
            if e.kind() != io::ErrorKind::AlreadyExists {
                return Err(format!("cannot make {}: {e}", dir.display()));
            }
        }
        let made = V1Cgroup::configure(&dir, settings).and_then(|()| {
            OpenOptions::new()
                .write(true)
                .open(dir.join("cgroup.procs"))
                .map_err(|e| format!("cannot open {}/cgroup.procs: {e}", dir.display()))
        });
        match made {
            Ok(procs) => Ok(V1Cgroup { dir, procs }),
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                Err(e)
            }
        }
    }

    fn configure(dir: &Path, settings: &[(&str, String)]) -> Result<(), String> {
        for (file, value) in settings {
            let path = dir.join(file);
            std::fs::write(&path, value)
                .map_err(|e| format!("cannot write {value} to {}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// The descriptor the child writes `0` to (see [`crate::cgroup::join_from_child`]).
    pub(crate) fn procs_fd(&self) -> RawFd {
        self.procs.as_raw_fd()
    }

    /// The folder, to read its counters.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for V1Cgroup {
    fn drop(&mut self) {
        // Refused while a process is still in it; the next daemon sweeps the base.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchies_are_found_by_their_controller() {
        let mountinfo =
            "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n\
                         35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
                         41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(
            mount_of(mountinfo, "cpu"),
            Some(PathBuf::from("/sys/fs/cgroup/cpu,cpuacct"))
        );
        assert_eq!(
            mount_of(mountinfo, "memory"),
            Some(PathBuf::from("/sys/fs/cgroup/memory"))
        );
        assert_eq!(mount_of(mountinfo, "cpuacct"), mount_of(mountinfo, "cpu"));
        assert_eq!(mount_of(mountinfo, "pids"), None);
    }

    #[test]
    fn the_own_path_is_read_per_hierarchy() {
        let cgroups = "8:pids:/\n4:memory:/a/b\n1:cpu,cpuacct:/c\n0::/\n";
        assert_eq!(own_path(cgroups, "memory").as_deref(), Some("/a/b"));
        assert_eq!(own_path(cgroups, "cpu").as_deref(), Some("/c"));
        assert_eq!(own_path(cgroups, "pids").as_deref(), Some("/"));
        assert_eq!(own_path(cgroups, "blkio"), None);
    }
}
