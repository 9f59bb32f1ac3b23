//! PM2's JSON shapes, built from [`ProcessInfo`]: the `jlist` element, `pm2_env`, and the
//! environment a child process receives.
//!
//! Key order follows what PM2 7 prints (`serde_json` keeps insertion order here), because
//! scripts and dashboards diff and grep this output. `pm2_env` is built once as an
//! `object::Pm2Env` of references into the instance; [`pm2_env`] turns it into a map,
//! [`write_jlist`] writes it straight to bytes (every environment shared by several
//! instances encoded once), with the same bytes as `serde_json` gives for [`jlist`].

mod build;
mod encoded;
mod object;
mod writer;

use crate::model::ProcessInfo;
use serde_json::{json, Map, Value};
pub use writer::write_jlist;

/// One element of `pm2 jlist`: `{pid, name, pm2_env, pm_id, monit}`.
pub fn jlist_entry(p: &ProcessInfo) -> Value {
    let running = p.status.is_running();
    let monit = if running { p.monit } else { Default::default() };
    let mut out = Map::new();
    out.insert("pid".into(), json!(p.pid.filter(|_| running).unwrap_or(0)));
    out.insert("name".into(), json!(p.spec.name));
    out.insert("pm2_env".into(), Value::Object(pm2_env(p)));
    out.insert("pm_id".into(), json!(p.pm_id));
    out.insert(
        "monit".into(),
        json!({"memory": monit.memory, "cpu": monit.cpu}),
    );
    Value::Object(out)
}

/// The whole `jlist` array.
pub fn jlist(processes: &[ProcessInfo]) -> Value {
    Value::Array(processes.iter().map(jlist_entry).collect())
}

/// The pm2_env object, in PM2's key order.
pub fn pm2_env(p: &ProcessInfo) -> Map<String, Value> {
    build::build(p, None).to_map()
}

/// One `dump.pm2` entry: the pm2_env object without what belongs to this daemon's
/// table (`pm_id`, `instances`, `prev_restart_delay`), as `pm2 save` writes it.
pub fn dump_entry(p: &ProcessInfo) -> Value {
    let mut env = pm2_env(p);
    // `containment` is this process's state (how it was contained), not the app's.
    for k in ["pm_id", "instances", "prev_restart_delay", "containment"] {
        env.remove(k);
    }
    Value::Object(env)
}

/// The environment a fork-mode child sees: every primitive pm2_env field as a string, as
/// PM2 passes pm2_env to `spawn` (objects, arrays and nulls are left out).
pub fn child_env(p: &ProcessInfo) -> Vec<(String, String)> {
    pm2_env(p)
        .into_iter()
        .filter_map(|(k, v)| primitive_to_string(&v).map(|s| (k, s)))
        .collect()
}

fn primitive_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod samples_tests;

#[cfg(test)]
mod golden_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn sample() -> ProcessInfo {
        ProcessInfo {
            pm_id: 0,
            spec: AppSpec {
                name: "echo".into(),
                script: "/srv/app/echo.js".into(),
                interpreter: "node".into(),
                interpreter_path: Some("/usr/bin/node".into()),
                cwd: "/srv/app".into(),
                env: [("PATH".to_string(), "/bin".to_string())].into(),
                username: "deploy".into(),
                ..AppSpec::default()
            },
            status: Status::Online,
            pid: Some(42),
            pm_uptime: 1,
            created_at: Some(1),
            restart_time: 0,
            unstable_restarts: 0,
            exit_code: None,
            prev_restart_delay: None,
            instance_index: 0,
            increment_value: None,
            unique_id: "u".into(),
            paths: InstancePaths {
                out: "/h/logs/echo-out.log".into(),
                err: "/h/logs/echo-error.log".into(),
                combined: None,
                pid: "/h/pids/echo-0.pid".into(),
            },
            kill_timeout: 1600,
            monit: Monit {
                memory: 10,
                cpu: 1.5,
            },
            pm2_home: "/h".into(),
            axm_monitor: Default::default(),
            axm_actions: Vec::new(),
            axm_options: Default::default(),
            km_monitored: None,
            versioning: None,
            vizion_running: false,
            health: None,
            notify_status: None,
            containment: None,
        }
    }

    #[test]
    fn jlist_keys_follow_pm2_order() {
        let v = jlist_entry(&sample());
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["pid", "name", "pm2_env", "pm_id", "monit"]);
        let env = v["pm2_env"].as_object().unwrap();
        let keys: Vec<_> = env.keys().map(String::as_str).collect();
        assert_eq!(&keys[..4], ["name", "filter_env", "namespace", "env"]);
        assert_eq!(env["PATH"], "/bin");
        assert_eq!(env["status"], "online");
        assert_eq!(env["version"], "N/A");
        assert_eq!(*keys.last().unwrap(), "node_version");
    }

    #[test]
    fn stopped_process_reports_zero_pid_and_monit() {
        let mut p = sample();
        p.status = Status::Stopped;
        let v = jlist_entry(&p);
        assert_eq!(v["pid"], 0);
        assert_eq!(v["monit"]["memory"], 0);
    }

    #[test]
    fn child_env_has_pm2_variables_as_strings() {
        let env: std::collections::HashMap<_, _> = child_env(&sample()).into_iter().collect();
        assert_eq!(env["pm_id"], "0");
        assert_eq!(env["name"], "echo");
        assert_eq!(env["NODE_APP_INSTANCE"], "0");
        assert_eq!(env["autorestart"], "true");
        assert_eq!(env["PM2_HOME"], "/h");
        assert!(!env.contains_key("env"));
    }
}
