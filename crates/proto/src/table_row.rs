//! [`TableRow`]: what `pm2 list`'s table (and the one printed after `start`, `stop`,
//! `restart`...) shows of an instance, and nothing else, so that printing the table costs
//! the daemon a few short strings per app rather than every app's whole state.

use crate::model::{ExecMode, Monit, ProcessInfo, Status};
use serde::{Deserialize, Serialize};

/// One instance as the table shows it: its columns (id, name, namespace, version, mode,
/// pid, uptime, restarts, status, cpu, mem, user, watching) and whether it is a module
/// (modules get their own table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// `pm_id`.
    pub pm_id: u32,
    /// The app's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its `version` (from package.json), if any.
    pub version: Option<String>,
    /// Fork or cluster.
    pub exec_mode: ExecMode,
    /// OS pid while running.
    pub pid: Option<u32>,
    /// Current status.
    pub status: Status,
    /// When the current (or last) process started, ms since the epoch.
    pub pm_uptime: u64,
    /// PM2's `restart_time`.
    pub restart_time: u32,
    /// CPU and memory, sampled from /proc.
    pub monit: Monit,
    /// The user it runs as.
    pub username: String,
    /// Whether `--watch` is on.
    pub watch: bool,
    /// Whether it is an installed module.
    pub pmx_module: bool,
    /// Whether the app has a `health_check` (beyond PM2: the table then shows its column).
    #[serde(default)]
    pub has_health_check: bool,
    /// The check's latest verdict, for the health column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<crate::HealthInfo>,
}

impl TableRow {
    /// The row of `p`, read in place.
    pub fn of(p: &ProcessInfo) -> TableRow {
        TableRow {
            pm_id: p.pm_id,
            name: p.spec.name.clone(),
            namespace: p.spec.namespace.clone(),
            version: p.spec.version.clone(),
            exec_mode: p.spec.exec_mode,
            pid: p.pid,
            status: p.status,
            pm_uptime: p.pm_uptime,
            restart_time: p.restart_time,
            monit: p.monit,
            username: p.spec.username.clone(),
            watch: p.spec.watch,
            pmx_module: p.spec.pmx_module,
            has_health_check: p.spec.health_check.is_some(),
            health: p.health.clone(),
        }
    }
}
