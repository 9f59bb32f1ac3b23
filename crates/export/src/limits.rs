//! The resource limits an exported app keeps (beyond PM2's `max_memory_restart`, which the
//! targets already map to a memory limit): `memory_limit` wins over it when both are set
//! (the hard limit is the smaller promise), `cpu_limit` and `pids_limit` where the target
//! has them.

use pm2_proto::AppSpec;
use serde_json::{json, Map, Value};

/// The memory limit in bytes a target enforces: `memory_limit`, else `max_memory_restart`.
pub(crate) fn memory(app: &AppSpec) -> Option<u64> {
    app.limits.memory.or(app.max_memory_restart)
}

/// Kubernetes' `resources.limits`: memory in bytes, CPU in millicores (`200m`).
pub(crate) fn kubernetes(app: &AppSpec) -> Option<Value> {
    let mut limits = Map::new();
    if let Some(bytes) = memory(app) {
        limits.insert("memory".into(), json!(bytes.to_string()));
    }
    if let Some(millis) = app.limits.cpu_millis {
        limits.insert("cpu".into(), json!(format!("{millis}m")));
    }
    (!limits.is_empty()).then(|| json!({ "limits": limits }))
}

/// Compose's `deploy.resources.limits`: memory in bytes, `cpus` as a decimal string,
/// `pids` as a number.
pub(crate) fn compose(app: &AppSpec) -> Option<Value> {
    let mut limits = Map::new();
    if let Some(bytes) = memory(app) {
        limits.insert("memory".into(), json!(bytes.to_string()));
    }
    if let Some(cores) = app.limits.cpu_cores() {
        limits.insert("cpus".into(), json!(cores.to_string()));
    }
    if let Some(n) = app.limits.pids {
        limits.insert("pids".into(), json!(n));
    }
    (!limits.is_empty()).then(|| json!({ "limits": limits }))
}

/// systemd's `CPUQuota=` (percent of one CPU) and `TasksMax=` lines.
pub(crate) fn systemd_lines(app: &AppSpec) -> Vec<String> {
    let mut lines = vec![];
    if let Some(millis) = app.limits.cpu_millis {
        lines.push(format!("CPUQuota={}%", f64::from(millis) / 10.0));
    }
    if let Some(n) = app.limits.pids {
        lines.push(format!("TasksMax={n}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm2_proto::ResourceLimits;

    fn limited() -> AppSpec {
        AppSpec {
            max_memory_restart: Some(300 << 20),
            limits: ResourceLimits {
                memory: Some(50 << 20),
                cpu_millis: Some(250),
                pids: Some(5),
            },
            ..AppSpec::default()
        }
    }

    #[test]
    fn every_target_gets_the_limits_it_has() {
        let app = limited();
        assert_eq!(memory(&app), Some(50 << 20));
        assert_eq!(
            kubernetes(&app),
            Some(json!({"limits": {"memory": "52428800", "cpu": "250m"}}))
        );
        assert_eq!(
            compose(&app),
            Some(json!({"limits": {"memory": "52428800", "cpus": "0.25", "pids": 5}}))
        );
        assert_eq!(systemd_lines(&app), vec!["CPUQuota=25%", "TasksMax=5"]);
        assert_eq!(kubernetes(&AppSpec::default()), None);
    }
}
