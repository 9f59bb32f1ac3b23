//! A process's cgroups and the resource limits they enforce (beyond PM2): its v2 cgroup
//! (whole-tree tracking, [`crate::cgroup`]) and, for each limit, the controller that puts
//! it in place — the v2 one when the v2 hierarchy delegates it to the daemon's subtree
//! (`memory.max`, `cpu.max`, `pids.max`), else the v1 hierarchy of that controller
//! (`cgroup_v1`: `memory.limit_in_bytes` and `memory.memsw.limit_in_bytes`,
//! `cpu.cfs_quota_us`/`cpu.cfs_period_us`, `pids.max`). A limit no hierarchy can take is
//! reported, with why, and the process starts all the same.

use crate::cgroup::InstanceCgroup;
use crate::cgroup_v1::V1Cgroup;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};

/// The CFS period a CPU quota is expressed in (100 ms, the kernel's default).
const CPU_PERIOD_US: u64 = 100_000;

/// The limits of one process (no dependency on the wire types: the daemon maps them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of memory (and swap) the process's cgroup may use.
    pub memory: Option<u64>,
    /// Thousandths of a core of CPU time per period.
    pub cpu_millis: Option<u32>,
    /// Processes and threads.
    pub pids: Option<u64>,
}

/// Which hierarchy enforces a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hierarchy {
    /// The unified hierarchy.
    V2,
    /// The controller's own v1 hierarchy.
    V1,
}

impl Hierarchy {
    /// `cgroup v2`, `cgroup v1`: as `describe` says it.
    pub fn as_str(self) -> &'static str {
        match self {
            Hierarchy::V2 => "cgroup v2",
            Hierarchy::V1 => "cgroup v1",
        }
    }
}

/// What became of one limit: the key, and the hierarchy enforcing it or why none does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enforcement {
    /// `memory_limit`, `cpu_limit`, `pids_limit`.
    pub key: &'static str,
    /// Where it is enforced, or the warning to give.
    pub outcome: Result<Hierarchy, String>,
}

/// One kind of limit: its key, its controller, and the files that set it.
#[derive(Debug, Clone, Copy)]
enum Controller {
    Memory(u64),
    Cpu(u32),
    Pids(u64),
}

impl Controller {
    fn key(self) -> &'static str {
        match self {
            Controller::Memory(_) => "memory_limit",
            Controller::Cpu(_) => "cpu_limit",
            Controller::Pids(_) => "pids_limit",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Controller::Memory(_) => "memory",
            Controller::Cpu(_) => "cpu",
            Controller::Pids(_) => "pids",
        }
    }

    /// Required files first; the optional ones (swap, OOM grouping) after, marked `?`.
    fn v2_files(self) -> Vec<(&'static str, String)> {
        match self {
            Controller::Memory(b) => vec![
                ("memory.max", b.to_string()),
                ("?memory.swap.max", "0".into()),
                ("?memory.oom.group", "1".into()),
            ],
            Controller::Cpu(m) => vec![("cpu.max", format!("{} {CPU_PERIOD_US}", quota(m)))],
            Controller::Pids(n) => vec![("pids.max", n.to_string())],
        }
    }

    fn v1_files(self) -> Vec<(&'static str, String)> {
        match self {
            Controller::Memory(b) => vec![
                ("memory.limit_in_bytes", b.to_string()),
                ("?memory.memsw.limit_in_bytes", b.to_string()),
            ],
            Controller::Cpu(m) => vec![
                ("cpu.cfs_period_us", CPU_PERIOD_US.to_string()),
                ("cpu.cfs_quota_us", quota(m).to_string()),
            ],
            Controller::Pids(n) => vec![("pids.max", n.to_string())],
        }
    }
}

/// The CFS quota (µs per period) of `millis` thousandths of a core.
fn quota(millis: u32) -> u64 {
    u64::from(millis) * CPU_PERIOD_US / 1000
}

/// The cgroups of one process, held for its lifetime (each is removed, when empty, as
/// this is dropped), and what became of its limits.
pub struct ProcessCgroups {
    v2: Option<InstanceCgroup>,
    v1: Vec<V1Cgroup>,
    memory: Option<(Hierarchy, PathBuf)>,
    /// One entry per limit asked for, in key order.
    pub enforcement: Vec<Enforcement>,
}

impl ProcessCgroups {
    /// The cgroups for the process `name` (unique in this daemon) with `limits` in place
    /// where a controller allows it.
    pub fn create(name: &str, limits: &Limits) -> ProcessCgroups {
        let name: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let name = name.as_str();
        let mut made = ProcessCgroups {
            v2: InstanceCgroup::for_instance(name),
            v1: vec![],
            memory: None,
            enforcement: vec![],
        };
        let wanted = [
            limits.memory.map(Controller::Memory),
            limits.cpu_millis.map(Controller::Cpu),
            limits.pids.map(Controller::Pids),
        ];
        for controller in wanted.into_iter().flatten() {
            let outcome = made.enforce(controller, name);
            made.enforcement.push(Enforcement {
                key: controller.key(),
                outcome,
            });
        }
        made
    }

    fn enforce(&mut self, c: Controller, name: &str) -> Result<Hierarchy, String> {
        if crate::cgroup::turned_off() {
            return Err(format!(
                "{} needs the {} controller, not available here: cgroups are turned off (PM2_RS_NO_CGROUPS)",
                c.key(),
                c.name()
            ));
        }
        let v2_refusal = match self.v2.as_ref().map(|v2| in_v2(v2.path(), c)) {
            Some(Ok(())) => return Ok(self.placed(c, Hierarchy::V2, None)),
            Some(Err(why)) => why,
            None => "no writable cgroup v2 hierarchy".into(),
        };
        let files = c.v1_files();
        match V1Cgroup::create(c.name(), name, &required(&files)) {
            Ok(v1) => {
                optional(v1.dir(), &files);
                let dir = v1.dir().to_path_buf();
                self.v1.push(v1);
                Ok(self.placed(c, Hierarchy::V1, Some(dir)))
            }
            Err(v1_refusal) => Err(format!(
                "{} needs the {} controller, not available here: {v2_refusal}; {v1_refusal}",
                c.key(),
                c.name()
            )),
        }
    }

    fn placed(&mut self, c: Controller, how: Hierarchy, v1_dir: Option<PathBuf>) -> Hierarchy {
        if let Controller::Memory(_) = c {
            let dir = v1_dir.or_else(|| self.v2.as_ref().map(|v2| v2.path().to_path_buf()));
            self.memory = dir.map(|d| (how, d));
        }
        how
    }

    /// The `cgroup.procs` descriptors the child writes itself into, the v2 one first.
    pub fn procs_fds(&self) -> Vec<RawFd> {
        let v2 = self.v2.as_ref().map(InstanceCgroup::procs_fd);
        v2.into_iter()
            .chain(self.v1.iter().map(V1Cgroup::procs_fd))
            .collect()
    }

    /// Whether the process has a v2 cgroup of its own (whole-tree tracking), or is found
    /// by the `/proc` tree walk.
    pub fn tracked(&self) -> bool {
        self.v2.is_some()
    }

    /// How many processes the kernel OOM-killed in the memory cgroup enforcing
    /// `memory_limit` (`oom_kill` in v2's `memory.events`, in v1's `memory.oom_control`);
    /// 0 without one. Read on exit: the cgroup is this process's alone.
    pub fn oom_kills(&self) -> u64 {
        let Some((how, dir)) = &self.memory else {
            return 0;
        };
        let file = match how {
            Hierarchy::V2 => "memory.events",
            Hierarchy::V1 => "memory.oom_control",
        };
        std::fs::read_to_string(dir.join(file))
            .ok()
            .and_then(|text| counter(&text, "oom_kill"))
            .unwrap_or(0)
    }
}

/// This daemon's base cgroups in every hierarchy, as it exits (its apps stopped): each
/// process cgroup left empty, then the bases themselves, so a clean exit leaves nothing
/// for the next daemon to sweep. A cgroup still holding a process is refused and stays.
pub fn remove_own_bases() {
    let v2 = crate::cgroup::made_base();
    for base in v2.into_iter().chain(crate::cgroup_v1::made_bases()) {
        crate::cgroup::remove_with_children(&base);
    }
}

/// Puts limit `c` on the v2 cgroup at `dir`: the controller must be available to the
/// daemon's base (delegated by its parent), is enabled for the base's children, then set.
fn in_v2(dir: &Path, c: Controller) -> Result<(), String> {
    let base = dir.parent().ok_or("no base")?;
    let listed = |file: &str| {
        std::fs::read_to_string(base.join(file))
            .unwrap_or_default()
            .split_whitespace()
            .any(|name| name == c.name())
    };
    if !listed("cgroup.subtree_control") {
        if !listed("cgroup.controllers") {
            return Err(format!(
                "the cgroup v2 hierarchy does not delegate {} to {}",
                c.name(),
                base.display()
            ));
        }
        std::fs::write(
            base.join("cgroup.subtree_control"),
            format!("+{}", c.name()),
        )
        .map_err(|e| format!("cannot enable {} in cgroup v2: {e}", c.name()))?;
    }
    let files = c.v2_files();
    for (file, value) in required(&files) {
        let path = dir.join(file);
        std::fs::write(&path, &value)
            .map_err(|e| format!("cannot write {value} to {}: {e}", path.display()))?;
    }
    optional(dir, &files);
    Ok(())
}

/// The settings that must take.
fn required(files: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    files
        .iter()
        .filter(|(f, _)| !f.starts_with('?'))
        .cloned()
        .collect()
}

/// Writes the settings marked optional (a kernel without swap accounting has no
/// `memsw`/`swap.max` file: the memory limit still holds).
fn optional(dir: &Path, files: &[(&'static str, String)]) {
    for (file, value) in files {
        if let Some(file) = file.strip_prefix('?') {
            let _ = std::fs::write(dir.join(file), value);
        }
    }
}

/// The value of `key` in a flat-keyed cgroup file (`oom_kill 3`).
fn counter(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpu_limit_is_a_quota_of_the_period() {
        assert_eq!(quota(200), 20_000);
        assert_eq!(quota(1500), 150_000);
        let files = Controller::Cpu(500).v2_files();
        assert_eq!(files, vec![("cpu.max", "50000 100000".to_string())]);
    }

    #[test]
    fn counters_are_read_by_key() {
        let oom_control = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n";
        assert_eq!(counter(oom_control, "oom_kill"), Some(2));
        assert_eq!(counter("low 0\noom 1\n", "oom_kill"), None);
    }

    #[test]
    fn optional_files_are_kept_apart() {
        let files = Controller::Memory(1 << 20).v1_files();
        assert_eq!(
            required(&files),
            vec![("memory.limit_in_bytes", "1048576".to_string())]
        );
    }
}
