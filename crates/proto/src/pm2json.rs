//! PM2's JSON shapes, built from [`ProcessInfo`]: the `jlist` element, `pm2_env`, and the
//! environment a child process receives.
//!
//! Key order follows what PM2 7 prints (`serde_json` keeps insertion order here), because
//! scripts and dashboards diff and grep this output.

use crate::model::{CombinedLog, ProcessInfo};
use serde_json::{json, Map, Value};

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

/// The app's `env` object as PM2 stores it: the launch environment plus `PM2_HOME` and
/// `unique_id`.
fn env_object(p: &ProcessInfo) -> Map<String, Value> {
    let mut env: Map<String, Value> = p
        .spec
        .env
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    env.insert("PM2_HOME".into(), json!(p.pm2_home));
    env.insert("unique_id".into(), json!(p.unique_id));
    if let (Some(var), Some(value)) = (&p.spec.increment_var, p.increment_value) {
        env.insert(var.clone(), json!(value));
    }
    env
}

/// The env pm2_env shows: PM2 always merges `<name>` (the app's settings, `{}` without
/// any) into it; an object, so the child never sees it (only the shown copy has it).
fn shown_env(name: &str, env: &Map<String, Value>) -> Map<String, Value> {
    let mut shown = env.clone();
    shown.entry(name.to_string()).or_insert_with(|| json!({}));
    shown
}

/// The pm2_env object, in PM2's key order.
pub fn pm2_env(p: &ProcessInfo) -> Map<String, Value> {
    let s = &p.spec;
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    let env = env_object(p);
    put("name", json!(s.name));
    put("filter_env", json!([]));
    put("namespace", json!(s.namespace));
    put("env", Value::Object(shown_env(&s.name, &env)));
    put("merge_logs", json!(s.merge_logs));
    put("vizion", json!(true));
    put("autostart", json!(s.autostart));
    put("autorestart", json!(s.autorestart));
    if s.watch && !s.watch_paths.is_empty() {
        put("watch", json!(s.watch_paths));
    } else {
        put("watch", json!(s.watch));
    }
    put("instance_var", json!(s.instance_var));
    put("pmx", json!(s.automation));
    put("automation", json!(s.automation));
    if s.source_map_support {
        put("source_map_support", json!(true));
    }
    if s.disable_source_map_support {
        put("disable_source_map_support", json!(true));
    }
    put("treekill", json!(s.treekill));
    put("username", json!(s.username));
    for (key, account) in [("uid", &s.uid), ("gid", &s.gid)] {
        if let Some(a) = account {
            put(
                key,
                a.parse::<u32>().map_or_else(|_| json!(a), |id| json!(id)),
            );
        }
    }
    put("windowsHide", json!(true));
    put("kill_retry_time", json!(100));
    put("node_args", json!(s.interpreter_args));
    if !s.args.is_empty() {
        put("args", json!(s.args));
    }
    put("pm_exec_path", json!(s.script));
    put("pm_cwd", json!(s.cwd));
    put("exec_interpreter", json!(s.interpreter));
    put("exec_mode", json!(s.exec_mode.as_str()));
    put("instances", json!(s.instances));
    put_optional_config(&mut m, p);
    put_paths_and_instance(&mut m, p);
    for (k, v) in env {
        if !m.contains_key(&k) {
            m.insert(k, v);
        }
    }
    put_runtime_state(&mut m, p);
    m
}

/// The log and pid paths, then the instance's own variables (`NODE_APP_INSTANCE` or its
/// `instance_var`, and `increment_var`), in PM2's order.
fn put_paths_and_instance(m: &mut Map<String, Value>, p: &ProcessInfo) {
    let s = &p.spec;
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("pm_out_log_path", json!(p.paths.out));
    put("pm_err_log_path", json!(p.paths.err));
    if let Some(c) = &p.paths.combined {
        put("pm_log_path", json!(c));
    }
    put("pm_pid_path", json!(p.paths.pid));
    put("km_link", json!(false));
    put("vizion_running", json!(p.vizion_running));
    put(&s.instance_var, json!(p.instance_index));
    if let (Some(var), Some(value)) = (&s.increment_var, p.increment_value) {
        put("increment_var", json!(var));
        put(var, json!(value));
    }
}

/// Options PM2 only writes into pm2_env when they were set.
fn put_optional_config(m: &mut Map<String, Value>, p: &ProcessInfo) {
    let s = &p.spec;
    if let Some(k) = s.kill_timeout {
        m.insert("kill_timeout".into(), json!(k));
    }
    if !s.stop_exit_codes.is_empty() {
        m.insert("stop_exit_codes".into(), json!(s.stop_exit_codes));
    }
    if let Some(d) = s.restart_delay {
        m.insert("restart_delay".into(), json!(d));
    }
    if let Some(d) = s.exp_backoff_restart_delay {
        m.insert("exp_backoff_restart_delay".into(), json!(d));
    }
    if s.min_uptime != 1000 {
        m.insert("min_uptime".into(), json!(s.min_uptime));
    }
    if s.max_restarts != 16 {
        m.insert("max_restarts".into(), json!(s.max_restarts));
    }
    if let Some(f) = &s.log_date_format {
        m.insert("log_date_format".into(), json!(f));
    }
    if let Some(t) = &s.log_type {
        m.insert("log_type".into(), json!(t));
    }
    if s.disable_logs {
        m.insert("disable_logs".into(), json!(true));
    }
    if s.wait_ready {
        m.insert("wait_ready".into(), json!(true));
    }
    if let Some(t) = s.listen_timeout {
        m.insert("listen_timeout".into(), json!(t));
    }
    if s.shutdown_with_message {
        m.insert("shutdown_with_message".into(), json!(true));
    }
    if s.deep_monitoring {
        m.insert("deep_monitoring".into(), json!(true));
    }
    if s.pmx_module {
        m.insert("pmx_module".into(), json!(true));
    }
    if !s.ignore_watch.is_empty() {
        m.insert("ignore_watch".into(), json!(s.ignore_watch));
    }
    if let Some(d) = s.watch_delay {
        m.insert("watch_delay".into(), json!(d));
    }
    if let Some(b) = s.max_memory_restart {
        m.insert("max_memory_restart".into(), json!(b));
    }
    if let Some(c) = &s.cron_restart {
        m.insert("cron_restart".into(), json!(c));
    }
    if let CombinedLog::Path(_) | CombinedLog::Default = s.log_file {
        m.insert("log_file".into(), json!(p.paths.combined));
    }
}

/// Fields that change as the instance lives.
fn put_runtime_state(m: &mut Map<String, Value>, p: &ProcessInfo) {
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("unique_id", json!(p.unique_id));
    put("status", json!(p.status.as_str()));
    put("pm_uptime", json!(p.pm_uptime));
    put("axm_actions", json!(p.axm_actions));
    put("axm_monitor", Value::Object(p.axm_monitor.clone()));
    put("axm_options", Value::Object(p.axm_options.clone()));
    put("axm_dynamic", json!({}));
    put("created_at", json!(p.created_at));
    put("pm_id", json!(p.pm_id));
    put("restart_time", json!(p.restart_time));
    put("unstable_restarts", json!(p.unstable_restarts));
    if let Some(d) = p.prev_restart_delay {
        put("prev_restart_delay", json!(d));
    }
    if let Some(c) = p.exit_code {
        put("exit_code", json!(c));
    }
    put("version", json!(p.spec.version.as_deref().unwrap_or("N/A")));
    if let Some(v) = &p.versioning {
        put("versioning", v.clone());
    }
    put("node_version", json!(p.spec.node_version));
    // PM2 adds it to pm2_env on the first `monitor`/`unmonitor`, so it comes last.
    if let Some(monitored) = p.km_monitored {
        put("_km_monitored", json!(monitored));
    }
    // pm2-rs's own keys (no PM2 key has these names): the health check, the dependencies
    // and the `listen` sockets (kept by `pm2 save`), and the check's state.
    if let Some(h) = &p.spec.health_check {
        put("health_check", json!(h));
    }
    if !p.spec.depends_on.is_empty() {
        put("depends_on", json!(p.spec.depends_on));
    }
    if !p.spec.listen.is_empty() {
        put("listen", json!(p.spec.listen));
    }
    if p.spec.notify {
        put("notify", json!(true));
    }
    if let Some(ms) = p.spec.watchdog_ms {
        put("watchdog_ms", json!(ms));
    }
    put_limits(&mut put, p);
    if let Some(h) = &p.health {
        put("health", json!(h));
    }
    if let Some(status) = &p.notify_status {
        put("notify_status", json!(status));
    }
}

/// The resource limits (kept by `pm2 save`, in the keys' own units: bytes, cores, a
/// count) and how the process is contained.
fn put_limits(put: &mut impl FnMut(&str, Value), p: &ProcessInfo) {
    let limits = &p.spec.limits;
    if let Some(bytes) = limits.memory {
        put("memory_limit", json!(bytes));
    }
    if let Some(cores) = limits.cpu_cores() {
        put("cpu_limit", json!(cores));
    }
    if let Some(n) = limits.pids {
        put("pids_limit", json!(n));
    }
    if let Some(c) = &p.containment {
        put("containment", json!(c));
    }
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
