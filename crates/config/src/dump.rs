//! `dump.pm2` entries (PM2's `pm2_env` objects, written by `pm2 save`, by PM2 itself or by
//! this daemon) turned back into [`AppSpec`]s for `pm2 resurrect`.
//!
//! The reader is lenient about types, as PM2's own files vary between versions (numbers
//! as strings, `args` as a string or an array), and strict about what it cannot do without:
//! a name, a script, a working directory and an interpreter that exists.

use crate::error::DumpError;
use crate::interpreter::find_in_path;
use crate::values::{parse_duration_ms, parse_memory_size};
use pm2_proto::{
    AppSpec, CombinedLog, ExecMode, DEFAULT_MAX_RESTARTS, DEFAULT_MIN_UPTIME_MS, DEFAULT_NAMESPACE,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// One dump entry, resolved.
#[derive(Debug, Clone)]
pub struct DumpedApp {
    /// The app as it will be registered.
    pub spec: AppSpec,
    /// PM2 re-registers stopped apps without starting them.
    pub stopped: bool,
}

fn text(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn flag(v: &Value, k: &str, default: bool) -> bool {
    match v.get(k) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s != "false",
        _ => default,
    }
}

fn number(v: &Value, k: &str) -> Option<u64> {
    match v.get(k)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => parse_duration_ms(k, s).ok(),
        _ => None,
    }
}

fn words(v: &Value, k: &str) -> Vec<String> {
    match v.get(k) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::String(s)) => s.split_whitespace().map(String::from).collect(),
        _ => vec![],
    }
}

/// The app's environment: string, number and boolean values of `env` (objects, such as
/// PM2's per-module entries, are left out).
fn env_of(v: &Value) -> BTreeMap<String, String> {
    let Some(Value::Object(env)) = v.get("env") else {
        return BTreeMap::new();
    };
    env.iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.clone(), s.clone())),
            Value::Number(n) => Some((k.clone(), n.to_string())),
            Value::Bool(b) => Some((k.clone(), b.to_string())),
            _ => None,
        })
        .collect()
}

/// Reads one `pm2_env` object. `path_var` finds the interpreter when the entry names it
/// (`node`) rather than giving a path.
pub fn app_from_dump_entry(v: &Value, path_var: &str) -> Result<DumpedApp, DumpError> {
    let name = text(v, "name").ok_or(DumpError::NoName)?;
    let missing = |key| DumpError::Missing {
        app: name.clone(),
        key,
    };
    let script = text(v, "pm_exec_path").ok_or_else(|| missing("pm_exec_path"))?;
    let cwd = text(v, "pm_cwd").ok_or_else(|| missing("pm_cwd"))?;
    let mut env = env_of(v);
    for k in ["unique_id", "PM2_HOME"] {
        env.remove(k);
    }
    let interpreter = text(v, "exec_interpreter").unwrap_or_else(|| "none".into());
    let search = env.get("PATH").map_or(path_var, String::as_str);
    let interpreter_path = interpreter_path(&name, &interpreter, search)?;
    let exec_mode = match text(v, "exec_mode").as_deref() {
        Some("cluster_mode") | Some("cluster") => ExecMode::Cluster,
        _ => ExecMode::Fork,
    };
    let merge_logs = flag(v, "merge_logs", exec_mode == ExecMode::Fork);
    let mut spec = AppSpec {
        namespace: text(v, "namespace").unwrap_or_else(|| DEFAULT_NAMESPACE.into()),
        script,
        args: words(v, "args"),
        interpreter,
        interpreter_path,
        interpreter_args: words(v, "node_args"),
        cwd,
        exec_mode,
        instances: 1,
        instances_given: !merge_logs,
        env: env.into(),
        merge_logs,
        version: text(v, "version").filter(|s| s != "N/A"),
        node_version: None,
        username: text(v, "username").unwrap_or_default(),
        autostart: true,
        instance_var: crate::values::instance_var(text(v, "instance_var")),
        increment_var: text(v, "increment_var").filter(|s| !s.is_empty()),
        pmx_module: flag(v, "pmx_module", false),
        name,
        ..AppSpec::default()
    };
    set_restart_policy(&mut spec, v);
    set_logs(&mut spec, v);
    set_watch(&mut spec, v);
    let stopped = text(v, "status").as_deref() == Some("stopped");
    Ok(DumpedApp { spec, stopped })
}

/// The interpreter's path, looked up on `search` unless the entry runs its script directly.
fn interpreter_path(
    app: &str,
    interpreter: &str,
    search: &str,
) -> Result<Option<String>, DumpError> {
    if interpreter == "none" {
        return Ok(None);
    }
    let path = find_in_path(interpreter, search).ok_or_else(|| DumpError::InterpreterMissing {
        app: app.to_string(),
        interpreter: interpreter.to_string(),
    })?;
    Ok(Some(path.to_string_lossy().into_owned()))
}

/// When the app restarts, and how it is stopped.
fn set_restart_policy(spec: &mut AppSpec, v: &Value) {
    spec.autorestart = flag(v, "autorestart", true);
    spec.stop_exit_codes = words(v, "stop_exit_codes")
        .iter()
        .filter_map(|c| c.parse().ok())
        .collect();
    spec.min_uptime = number(v, "min_uptime").unwrap_or(DEFAULT_MIN_UPTIME_MS);
    spec.max_restarts = number(v, "max_restarts").map_or(DEFAULT_MAX_RESTARTS, |n| n as u32);
    spec.restart_delay = number(v, "restart_delay");
    spec.exp_backoff_restart_delay = number(v, "exp_backoff_restart_delay");
    spec.kill_timeout = number(v, "kill_timeout");
    spec.treekill = flag(v, "treekill", true);
    spec.wait_ready = flag(v, "wait_ready", false);
    spec.listen_timeout = number(v, "listen_timeout");
    spec.shutdown_with_message = flag(v, "shutdown_with_message", false);
    spec.max_memory_restart = match v.get("max_memory_restart") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => parse_memory_size(s),
        _ => None,
    };
    spec.cron_restart = text(v, "cron_restart").filter(|c| c != "0");
    // pm2-rs's own key, as `pm2 save` wrote it (a dump from PM2 has none).
    spec.health_check = v
        .get("health_check")
        .and_then(|h| serde_json::from_value(h.clone()).ok());
    spec.depends_on = v
        .get("depends_on")
        .and_then(|d| serde_json::from_value(d.clone()).ok())
        .unwrap_or_default();
    spec.listen = v
        .get("listen")
        .and_then(|l| crate::ecosystem::listen_addresses(l).ok())
        .unwrap_or_default();
    spec.notify = v.get("notify").and_then(Value::as_bool).unwrap_or(false);
    spec.watchdog_ms = v
        .get("watchdog_ms")
        .and_then(Value::as_u64)
        .filter(|ms| *ms > 0);
    spec.limits = crate::limits::from_dump(v);
}

/// Where the output goes and how its lines look.
fn set_logs(spec: &mut AppSpec, v: &Value) {
    spec.out_file = text(v, "pm_out_log_path");
    spec.error_file = text(v, "pm_err_log_path");
    spec.log_file = match text(v, "pm_log_path") {
        Some(p) => CombinedLog::Path(p),
        None => CombinedLog::None,
    };
    spec.pid_file = text(v, "pm_pid_path");
    spec.log_date_format = text(v, "log_date_format");
    spec.log_type = text(v, "log_type").filter(|t| t == "json");
    spec.disable_logs = flag(v, "disable_logs", false);
}

/// What is watched.
fn set_watch(spec: &mut AppSpec, v: &Value) {
    spec.watch = flag(v, "watch", false) || matches!(v.get("watch"), Some(Value::Array(_)));
    spec.watch_paths = match v.get("watch") {
        Some(Value::Array(_)) => words(v, "watch"),
        _ => vec![],
    };
    spec.ignore_watch = words(v, "ignore_watch");
    spec.watch_delay = number(v, "watch_delay");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_pm2_written_entry() {
        let entry = json!({
            "name": "echo", "namespace": "default", "pm_exec_path": "/bin/sleep",
            "pm_cwd": "/tmp", "exec_interpreter": "none", "exec_mode": "fork_mode",
            "args": ["100"], "node_args": [], "autorestart": true, "merge_logs": true,
            "env": {"PATH": "/usr/bin:/bin", "echo": {}, "N": 3},
            "pm_out_log_path": "/h/logs/echo-out.log", "pm_err_log_path": "/h/logs/echo-error.log",
            "pm_pid_path": "/h/pids/echo-0.pid", "status": "stopped", "kill_timeout": 1600,
            "max_memory_restart": 104857600, "version": "N/A"
        });
        let app = app_from_dump_entry(&entry, "/usr/bin:/bin").unwrap();
        assert!(app.stopped);
        assert_eq!(app.spec.name, "echo");
        assert_eq!(app.spec.args, vec!["100"]);
        assert_eq!(app.spec.env.get("N").map(String::as_str), Some("3"));
        assert!(!app.spec.env.contains_key("echo"));
        assert_eq!(app.spec.max_memory_restart, Some(100 << 20));
        assert_eq!(app.spec.kill_timeout, Some(1600));
        assert_eq!(app.spec.version, None);
    }

    #[test]
    fn a_missing_interpreter_is_an_error_naming_the_app() {
        let entry = json!({"name": "x", "pm_exec_path": "/a.rb", "pm_cwd": "/",
            "exec_interpreter": "no-such-ruby-xyz"});
        let err = app_from_dump_entry(&entry, "/usr/bin").unwrap_err();
        assert!(err.to_string().contains("app x"), "{err}");
    }
}
