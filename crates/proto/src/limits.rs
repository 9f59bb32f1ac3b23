//! Resource limits (beyond PM2): what an app's `memory_limit`, `cpu_limit` and `pids_limit`
//! ask the kernel to enforce through the process's cgroups, and what the daemon could
//! actually do about them on this machine (shown in `describe` and `jlist`).
//!
//! PM2 has only `max_memory_restart`, a restart after the fact; these are pm2-rs's own and
//! ride in [`crate::AppSpec`] and [`crate::ProcessInfo`] as optional fields, so an app
//! without them is exactly what it was before.

use serde::{Deserialize, Serialize};

/// An app's hard limits, each enforced by the kernel in the process's own cgroup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceLimits {
    /// `memory_limit`, bytes: past it the kernel reclaims, then OOM-kills inside the cgroup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// `cpu_limit`, in thousandths of a core (`0.5` or `"50%"` is 500): a CFS quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_millis: Option<u32>,
    /// `pids_limit`: at most this many processes and threads; a fork past it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids: Option<u64>,
}

impl ResourceLimits {
    /// Whether no limit is set (the spec then leaves the field out).
    pub fn is_empty(&self) -> bool {
        *self == ResourceLimits::default()
    }

    /// `cpu_limit` in cores, as the user writes it (`0.5`).
    pub fn cpu_cores(&self) -> Option<f64> {
        self.cpu_millis.map(|m| f64::from(m) / 1000.0)
    }
}

/// How the daemon finds and stops a process's whole tree, and how its limits fare: what
/// `describe` shows under "tracking" and the limit rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Containment {
    /// `cgroup v2` when the process has its own cgroup, `process tree` when stops walk
    /// `/proc` (no writable cgroup v2 hierarchy, or `PM2_RS_NO_CGROUPS`).
    pub tracking: String,
    /// One entry per limit the app sets, in key order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<LimitState>,
    /// Restarts that followed a kernel OOM kill under `memory_limit`.
    #[serde(default)]
    pub oom_restarts: u32,
    /// The last such restart's reason (`OOM: memory_limit 52428800 reached`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restart: Option<String>,
}

/// One limit of one process: enforced by which hierarchy, or why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitState {
    /// The key (`memory_limit`, `cpu_limit`, `pids_limit`).
    pub key: String,
    /// `cgroup v2` or `cgroup v1` when the kernel enforces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforced_by: Option<String>,
    /// Why it is not enforced (the warning `pm2 start` printed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// The restart reason of a process the kernel OOM-killed in its memory cgroup.
pub fn oom_reason(limit: u64) -> String {
    format!("OOM: memory_limit {limit} reached")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_without_limits_serialises_none() {
        assert!(ResourceLimits::default().is_empty());
        let some = ResourceLimits {
            cpu_millis: Some(500),
            ..Default::default()
        };
        assert_eq!(some.cpu_cores(), Some(0.5));
        assert_eq!(
            serde_json::to_string(&some).unwrap(),
            r#"{"cpu_millis":500}"#
        );
    }
}
