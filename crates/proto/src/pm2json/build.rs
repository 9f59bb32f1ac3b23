//! `pm2_env` as an [`Pm2Env`] of references into the instance, in PM2's key order: the one
//! definition of the object that [`super::pm2_env`] makes a map of and
//! [`super::write_jlist`] writes as bytes.

use super::encoded::EncodedEnv;
use super::object::{Object, Pm2Env, Val};
use crate::model::{CombinedLog, ProcessInfo};
use serde_json::{json, Value};

/// The app's `env` object as PM2 stores it: the launch environment plus `PM2_HOME` and
/// `unique_id` (and the `increment_var`), from its encoding when there is one.
fn env_object<'a>(p: &'a ProcessInfo, encoded: Option<&'a EncodedEnv>) -> Object<'a> {
    let mut env = Object::with_capacity(p.spec.env.len() + 3);
    match encoded {
        Some(e) => e.each(|k, raw| env.insert(k, Val::Raw(raw))),
        None => p
            .spec
            .env
            .iter()
            .for_each(|(k, v)| env.insert(k, Val::Str(v))),
    }
    env.insert("PM2_HOME", Val::Str(&p.pm2_home));
    env.insert("unique_id", Val::Str(&p.unique_id));
    if let (Some(var), Some(value)) = (&p.spec.increment_var, p.increment_value) {
        env.put(var, json!(value));
    }
    env
}

/// The pm2_env object as references into `p` (and into the encoding of its environment).
pub(super) fn build<'a>(p: &'a ProcessInfo, encoded: Option<&'a EncodedEnv>) -> Pm2Env<'a> {
    let s = &p.spec;
    let env = env_object(p, encoded);
    let mut m = Object::with_capacity(env.entries().len() + 64);
    m.put("name", json!(s.name));
    m.put("filter_env", json!([]));
    m.put("namespace", json!(s.namespace));
    // PM2 always merges `<name>` (the app's settings, `{}` without any) into the env it
    // shows; an object, so the child never sees it (only the shown copy has it).
    m.insert("env", Val::Env);
    m.put("merge_logs", json!(s.merge_logs));
    m.put("vizion", json!(true));
    m.put("autostart", json!(s.autostart));
    m.put("autorestart", json!(s.autorestart));
    if s.watch && !s.watch_paths.is_empty() {
        m.put("watch", json!(s.watch_paths));
    } else {
        m.put("watch", json!(s.watch));
    }
    m.put("instance_var", json!(s.instance_var));
    m.put("pmx", json!(s.automation));
    m.put("automation", json!(s.automation));
    if s.source_map_support {
        m.put("source_map_support", json!(true));
    }
    if s.disable_source_map_support {
        m.put("disable_source_map_support", json!(true));
    }
    m.put("treekill", json!(s.treekill));
    m.put("username", json!(s.username));
    for (key, account) in [("uid", &s.uid), ("gid", &s.gid)] {
        if let Some(a) = account {
            m.put(
                key,
                a.parse::<u32>().map_or_else(|_| json!(a), |id| json!(id)),
            );
        }
    }
    put_launch(&mut m, p);
    put_optional_config(&mut m, p);
    put_paths_and_instance(&mut m, p);
    for (k, v) in env.entries() {
        if !m.contains(k) {
            m.insert(k, v.clone());
        }
    }
    put_runtime_state(&mut m, p);
    put_own_keys(&mut m, p);
    Pm2Env {
        top: m,
        env,
        name: &s.name,
    }
}

/// What runs and how.
fn put_launch<'a>(m: &mut Object<'a>, p: &'a ProcessInfo) {
    let s = &p.spec;
    m.put("windowsHide", json!(true));
    m.put("kill_retry_time", json!(100));
    m.put("node_args", json!(s.interpreter_args));
    if !s.args.is_empty() {
        m.put("args", json!(s.args));
    }
    m.put("pm_exec_path", json!(s.script));
    m.put("pm_cwd", json!(s.cwd));
    m.put("exec_interpreter", json!(s.interpreter));
    m.put("exec_mode", json!(s.exec_mode.as_str()));
    m.put("instances", json!(s.instances));
}

/// The log and pid paths, then the instance's own variables (`NODE_APP_INSTANCE` or its
/// `instance_var`, and `increment_var`), in PM2's order.
fn put_paths_and_instance<'a>(m: &mut Object<'a>, p: &'a ProcessInfo) {
    let s = &p.spec;
    m.put("pm_out_log_path", json!(p.paths.out));
    m.put("pm_err_log_path", json!(p.paths.err));
    if let Some(c) = &p.paths.combined {
        m.put("pm_log_path", json!(c));
    }
    m.put("pm_pid_path", json!(p.paths.pid));
    m.put("km_link", json!(false));
    m.put("vizion_running", json!(p.vizion_running));
    m.put(&s.instance_var, json!(p.instance_index));
    if let (Some(var), Some(value)) = (&s.increment_var, p.increment_value) {
        m.put("increment_var", json!(var));
        m.put(var, json!(value));
    }
}

/// Options PM2 only writes into pm2_env when they were set.
fn put_optional_config(m: &mut Object<'_>, p: &ProcessInfo) {
    let s = &p.spec;
    if let Some(k) = s.kill_timeout {
        m.put("kill_timeout", json!(k));
    }
    if !s.stop_exit_codes.is_empty() {
        m.put("stop_exit_codes", json!(s.stop_exit_codes));
    }
    if let Some(d) = s.restart_delay {
        m.put("restart_delay", json!(d));
    }
    if let Some(d) = s.exp_backoff_restart_delay {
        m.put("exp_backoff_restart_delay", json!(d));
    }
    if s.min_uptime != 1000 {
        m.put("min_uptime", json!(s.min_uptime));
    }
    if s.max_restarts != 16 {
        m.put("max_restarts", json!(s.max_restarts));
    }
    if let Some(f) = &s.log_date_format {
        m.put("log_date_format", json!(f));
    }
    if let Some(t) = &s.log_type {
        m.put("log_type", json!(t));
    }
    let flags = [
        ("disable_logs", s.disable_logs),
        ("wait_ready", s.wait_ready),
    ];
    put_flags(m, &flags);
    if let Some(t) = s.listen_timeout {
        m.put("listen_timeout", json!(t));
    }
    let flags = [
        ("shutdown_with_message", s.shutdown_with_message),
        ("deep_monitoring", s.deep_monitoring),
        ("pmx_module", s.pmx_module),
    ];
    put_flags(m, &flags);
    if !s.ignore_watch.is_empty() {
        m.put("ignore_watch", json!(s.ignore_watch));
    }
    if let Some(d) = s.watch_delay {
        m.put("watch_delay", json!(d));
    }
    if let Some(b) = s.max_memory_restart {
        m.put("max_memory_restart", json!(b));
    }
    if let Some(c) = &s.cron_restart {
        m.put("cron_restart", json!(c));
    }
    if let CombinedLog::Path(_) | CombinedLog::Default = s.log_file {
        m.put("log_file", json!(p.paths.combined));
    }
}

/// `true` for each flag that is set; nothing for the others.
fn put_flags(m: &mut Object<'_>, flags: &[(&'static str, bool)]) {
    for &(key, set) in flags {
        if set {
            m.put(key, json!(true));
        }
    }
}

/// Fields that change as the instance lives.
fn put_runtime_state(m: &mut Object<'_>, p: &ProcessInfo) {
    m.put("unique_id", json!(p.unique_id));
    m.put("status", json!(p.status.as_str()));
    m.put("pm_uptime", json!(p.pm_uptime));
    m.put("axm_actions", json!(p.axm_actions));
    m.put("axm_monitor", Value::Object(p.axm_monitor.clone()));
    m.put("axm_options", Value::Object(p.axm_options.clone()));
    m.put("axm_dynamic", json!({}));
    m.put("created_at", json!(p.created_at));
    m.put("pm_id", json!(p.pm_id));
    m.put("restart_time", json!(p.restart_time));
    m.put("unstable_restarts", json!(p.unstable_restarts));
    if let Some(d) = p.prev_restart_delay {
        m.put("prev_restart_delay", json!(d));
    }
    if let Some(c) = p.exit_code {
        m.put("exit_code", json!(c));
    }
    m.put("version", json!(p.spec.version.as_deref().unwrap_or("N/A")));
    if let Some(v) = &p.versioning {
        m.put("versioning", v.clone());
    }
    m.put("node_version", json!(p.spec.node_version));
    // PM2 adds it to pm2_env on the first `monitor`/`unmonitor`, so it comes last.
    if let Some(monitored) = p.km_monitored {
        m.put("_km_monitored", json!(monitored));
    }
}

/// pm2-rs's own keys (no PM2 key has these names): the health check, the dependencies
/// and the `listen` sockets (kept by `pm2 save`), and the check's state.
fn put_own_keys(m: &mut Object<'_>, p: &ProcessInfo) {
    if let Some(h) = &p.spec.health_check {
        m.put("health_check", json!(h));
    }
    if !p.spec.depends_on.is_empty() {
        m.put("depends_on", json!(p.spec.depends_on));
    }
    if !p.spec.listen.is_empty() {
        m.put("listen", json!(p.spec.listen));
    }
    if p.spec.notify {
        m.put("notify", json!(true));
    }
    if let Some(ms) = p.spec.watchdog_ms {
        m.put("watchdog_ms", json!(ms));
    }
    if let Some(h) = &p.health {
        m.put("health", json!(h));
    }
    if let Some(status) = &p.notify_status {
        m.put("notify_status", json!(status));
    }
    put_limits(m, p);
}

/// The resource limits (kept by `pm2 save`, in the keys' own units: bytes, cores, a
/// count) and how the process is contained.
fn put_limits(m: &mut Object<'_>, p: &ProcessInfo) {
    let limits = &p.spec.limits;
    if let Some(bytes) = limits.memory {
        m.put("memory_limit", json!(bytes));
    }
    if let Some(cores) = limits.cpu_cores() {
        m.put("cpu_limit", json!(cores));
    }
    if let Some(n) = limits.pids {
        m.put("pids_limit", json!(n));
    }
    if let Some(c) = &p.containment {
        m.put("containment", json!(c));
    }
}
