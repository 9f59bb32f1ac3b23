//! `dump.pm2` entries (PM2's `pm2_env` objects, written by `pm2 save`, by PM2 itself or by
//! this daemon) turned back into [`AppSpec`]s for `pm2 resurrect`.
//!
//! The reader is lenient about types, as PM2's own files vary between versions (numbers
//! as strings, `args` as a string or an array), and strict about what it cannot do without:
//! a name, a script, a working directory and an interpreter that exists.

use crate::interpreter::find_in_path;
use crate::values::{parse_duration_ms, parse_memory_size};
use pm2_proto::{AppSpec, CombinedLog, ExecMode};
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
pub fn app_from_dump_entry(v: &Value, path_var: &str) -> Result<DumpedApp, String> {
    let name = text(v, "name").ok_or("an entry has no name")?;
    let ctx = |what: &str| format!("app {name}: {what}");
    let script = text(v, "pm_exec_path").ok_or_else(|| ctx("no pm_exec_path"))?;
    let cwd = text(v, "pm_cwd").ok_or_else(|| ctx("no pm_cwd"))?;
    let mut env = env_of(v);
    for k in ["unique_id", "PM2_HOME"] {
        env.remove(k);
    }
    let search = env
        .get("PATH")
        .cloned()
        .unwrap_or_else(|| path_var.to_string());
    let interpreter = text(v, "exec_interpreter").unwrap_or_else(|| "none".into());
    let interpreter_path = match interpreter.as_str() {
        "none" => None,
        name => Some(
            find_in_path(name, &search)
                .ok_or_else(|| ctx(&format!("interpreter {name} is not available in PATH")))?
                .to_string_lossy()
                .into_owned(),
        ),
    };
    let exec_mode = match text(v, "exec_mode").as_deref() {
        Some("cluster_mode") | Some("cluster") => ExecMode::Cluster,
        _ => ExecMode::Fork,
    };
    let merge_logs = flag(v, "merge_logs", exec_mode == ExecMode::Fork);
    let spec = AppSpec {
        namespace: text(v, "namespace").unwrap_or_else(|| "default".into()),
        script,
        args: words(v, "args"),
        interpreter,
        interpreter_path,
        interpreter_args: words(v, "node_args"),
        cwd,
        exec_mode,
        instances: 1,
        instances_given: !merge_logs,
        env,
        autorestart: flag(v, "autorestart", true),
        stop_exit_codes: words(v, "stop_exit_codes")
            .iter()
            .filter_map(|c| c.parse().ok())
            .collect(),
        min_uptime: number(v, "min_uptime").unwrap_or(1000),
        max_restarts: number(v, "max_restarts").map(|n| n as u32).unwrap_or(16),
        restart_delay: number(v, "restart_delay"),
        exp_backoff_restart_delay: number(v, "exp_backoff_restart_delay"),
        kill_timeout: number(v, "kill_timeout"),
        treekill: flag(v, "treekill", true),
        merge_logs,
        out_file: text(v, "pm_out_log_path"),
        error_file: text(v, "pm_err_log_path"),
        log_file: match text(v, "pm_log_path") {
            Some(p) => CombinedLog::Path(p),
            None => CombinedLog::None,
        },
        pid_file: text(v, "pm_pid_path"),
        version: text(v, "version").filter(|s| s != "N/A"),
        node_version: None,
        username: text(v, "username").unwrap_or_default(),
        watch: flag(v, "watch", false) || matches!(v.get("watch"), Some(Value::Array(_))),
        watch_paths: match v.get("watch") {
            Some(Value::Array(_)) => words(v, "watch"),
            _ => vec![],
        },
        ignore_watch: words(v, "ignore_watch"),
        watch_delay: number(v, "watch_delay"),
        autostart: true,
        log_date_format: text(v, "log_date_format"),
        log_type: text(v, "log_type").filter(|t| t == "json"),
        disable_logs: flag(v, "disable_logs", false),
        wait_ready: flag(v, "wait_ready", false),
        listen_timeout: number(v, "listen_timeout"),
        shutdown_with_message: flag(v, "shutdown_with_message", false),
        max_memory_restart: match v.get("max_memory_restart") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => parse_memory_size(s),
            _ => None,
        },
        cron_restart: text(v, "cron_restart").filter(|c| c != "0"),
        instance_var: crate::instance_var(text(v, "instance_var")),
        increment_var: text(v, "increment_var").filter(|s| !s.is_empty()),
        name,
    };
    let stopped = text(v, "status").as_deref() == Some("stopped");
    Ok(DumpedApp { spec, stopped })
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
        assert!(err.contains("app x"), "{err}");
    }
}
