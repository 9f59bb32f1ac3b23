//! One app of a file → [`StartOptions`] → [`resolve_start`], so that a file and the command
//! line behave alike; then what the command line cannot express (env blocks, explicit
//! cluster mode, argument arrays) is applied to the resulting spec.

use super::fields;
use super::reader::AppReader;
use crate::error::ConfigError;
use crate::options::StartOptions;
use crate::resolve::{resolve_start, ResolveContext};
use pm2_proto::{AppSpec, ExecMode};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// What the whole file contributes to each app.
pub(crate) struct FileScope<'a> {
    /// `--env <name>`.
    pub env_name: Option<&'a str>,
    /// `--env-file`s of the command line (absolute), read after the app's own `env_file`.
    pub env_files: &'a [std::path::PathBuf],
    /// `deploy.<name>.env`, already stringified.
    pub deploy_env: BTreeMap<String, String>,
}

/// The name an app is declared with (`name`, or the script's default name; what `--only`
/// matches), and the name it will run under (after `append_env_to_name` and `name_prefix`,
/// as PM2 applies them).
pub(crate) fn app_name(r: &mut AppReader, scope: &FileScope) -> Option<(String, String)> {
    let declared = r.string("name");
    let script = r.string("script");
    if !r.has("script") {
        r.error_at("script", "missing (every app needs a script)");
    }
    let base = match (declared, script) {
        (Some(name), _) => name,
        (None, Some(script)) => default_name(&script),
        (None, None) => return None,
    };
    let mut name = base.clone();
    if let (Some(true), Some(env)) = (r.flag("append_env_to_name"), scope.env_name) {
        name = format!("{name}-{env}");
    }
    if let Some(prefix) = r.string("name_prefix") {
        if !name.contains(&prefix) {
            name = format!("{prefix}:{name}");
        }
    }
    Some((base, name))
}

/// PM2's default name: a command string as a whole, else the basename minus its extension.
fn default_name(script: &str) -> String {
    if script.trim().contains(' ') {
        return script.to_string();
    }
    Path::new(script)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| script.to_string())
}

/// Everything read from the app besides what [`StartOptions`] carries.
struct Extras {
    exec_mode: Option<ExecMode>,
    interpreter_args: Option<Vec<String>>,
    merge_logs: Option<bool>,
    instance_var: Option<String>,
    increment_var: Option<String>,
}

/// Resolves one app; on failure its errors are left in `r.errors`.
pub(crate) fn resolve_app(
    r: &mut AppReader,
    name: String,
    scope: &FileScope,
    ctx: &ResolveContext,
) -> Option<AppSpec> {
    let cwd = app_cwd(r, ctx);
    let (mut opts, extras) = start_options(r, name, cwd.as_deref());
    crate::serve::as_static_server(&mut opts, ctx);
    let file_env = cwd.as_deref().map(|dir| env_files(r, scope, dir));
    let env = app_env(r, scope, ctx, file_env.unwrap_or_default());
    let health = r.get("health_check", super::health::health_check);
    let listen = r.get("listen", super::listen::listen_addresses);
    let notify = r.flag("notify").unwrap_or(false);
    let watchdog = r.get("watchdog_sec", fields::watchdog);
    let limits = pm2_proto::ResourceLimits {
        memory: r.get("memory_limit", crate::limits::memory_value),
        cpu_millis: r.get("cpu_limit", crate::limits::cpu_value),
        pids: r.get("pids_limit", crate::limits::pids_value),
    };
    r.check_unsupported();
    let cwd = cwd?;
    if !r.errors.is_empty() {
        return None;
    }
    let app_ctx = ResolveContext {
        cwd: cwd.into(),
        ..ctx.clone()
    };
    let mut spec = match resolve_start(&opts, &app_ctx) {
        Ok(spec) => spec,
        Err(errors) => {
            for e in errors {
                let (key, msg) = describe(&e);
                r.error_at(key, &msg);
            }
            return None;
        }
    };
    finish(&mut spec, extras, env);
    spec.health_check = health;
    spec.notify = notify;
    spec.watchdog_ms = watchdog;
    spec.limits = limits;
    if let Some(listen) = listen {
        if spec.exec_mode == ExecMode::Cluster {
            r.error_at(
                "listen",
                "is for fork mode (cluster mode shares its ports through the primary): set exec_mode \"fork\"",
            );
            return None;
        }
        spec.listen = listen;
    }
    Some(spec)
}

/// The app's `env_file` (a path or a list, relative to the app's `cwd`), then the command
/// line's `--env-file`s; a missing or malformed file is an error under `env_file`.
fn env_files(r: &mut AppReader, scope: &FileScope, cwd: &str) -> BTreeMap<String, String> {
    let own = r
        .get("env_file", fields::string_or_list)
        .unwrap_or_default();
    let dir = Path::new(cwd);
    let files: Vec<_> = own
        .iter()
        .map(|f| crate::env_file::env_file_path(dir, f))
        .chain(scope.env_files.iter().cloned())
        .collect();
    match crate::env_file::read_env_files(&files) {
        Ok(vars) => vars,
        Err(e) => {
            r.error_at("env_file", &e.to_string());
            BTreeMap::new()
        }
    }
}

/// `cwd` made absolute against the directory the CLI runs in (PM2's `path.resolve`), and
/// checked; `Some` even when absent (then it is the CLI's own directory).
fn app_cwd(r: &mut AppReader, ctx: &ResolveContext) -> Option<String> {
    let Some(raw) = r.string("cwd") else {
        return (!r.has("cwd")).then(|| ctx.cwd.to_string_lossy().into_owned());
    };
    let path = ctx.cwd.join(&raw);
    if !path.is_dir() {
        let msg = format!("no such directory: {}", path.display());
        r.error_at("cwd", &msg);
        return None;
    }
    Some(path.to_string_lossy().into_owned())
}

fn start_options(r: &mut AppReader, name: String, cwd: Option<&str>) -> (StartOptions, Extras) {
    let exec_mode = r.get("exec_mode", fields::exec_mode);
    let log = r.get("log_file", log_file);
    let log_type = checked_log_type(r);
    let opts = StartOptions {
        script: r.string("script").unwrap_or_default(),
        name: Some(name),
        cwd: cwd.map(String::from),
        namespace: r.string("namespace"),
        uid: r.get("uid", fields::account),
        gid: r.get("gid", fields::account),
        interpreter: r.string("interpreter"),
        interpreter_args: None,
        execute_command: r.flag("execute_command").unwrap_or(false)
            || exec_mode == Some(ExecMode::Fork),
        instances: r.get("instances", fields::instances),
        args: r.get("args", fields::word_list).unwrap_or_default(),
        no_autorestart: r.flag("autorestart") == Some(false),
        stop_exit_codes: r
            .get("stop_exit_codes", fields::exit_codes)
            .unwrap_or_default(),
        restart_delay: r.duration("restart_delay"),
        exp_backoff_restart_delay: r.duration("exp_backoff_restart_delay"),
        kill_timeout: r.duration("kill_timeout"),
        max_restarts: r.get("max_restarts", fields::count).map(|n| n.to_string()),
        min_uptime: r.duration("min_uptime"),
        no_treekill: r.flag("treekill") == Some(false),
        merge_logs: false,
        output: r.string("out_file"),
        error: r.string("error_file"),
        log,
        pid: r.string("pid_file"),
        no_autostart: r.flag("autostart") == Some(false),
        time: r.flag("time").unwrap_or(false),
        log_date_format: r.string("log_date_format"),
        log_type,
        disable_logs: r.flag("disable_logs").unwrap_or(false),
        wait_ready: r.flag("wait_ready").unwrap_or(false),
        listen_timeout: r.duration("listen_timeout"),
        shutdown_with_message: r.flag("shutdown_with_message").unwrap_or(false),
        max_memory_restart: r
            .get("max_memory_restart", fields::size)
            .filter(|b| *b > 0)
            .map(|b| b.to_string()),
        cron_restart: r.get("cron_restart", fields::cron).flatten(),
        watch: r.get("watch", watch).flatten(),
        ignore_watch: r.get("ignore_watch", fields::string_or_list),
        watch_delay: r.duration("watch_delay"),
        ..StartOptions::default()
    };
    let extras = Extras {
        exec_mode,
        interpreter_args: r.get("node_args", fields::word_list),
        merge_logs: r.flag("merge_logs"),
        instance_var: r.get("instance_var", fields::variable_name),
        increment_var: r.get("increment_var", fields::variable_name),
    };
    (opts, extras)
}

/// `log_type`, with anything but `raw` or `json` reported under its own key.
fn checked_log_type(r: &mut AppReader) -> Option<String> {
    let log_type = r.string("log_type");
    if let Some(t) = log_type
        .as_deref()
        .filter(|t| !matches!(*t, "raw" | "json"))
    {
        r.error_at(
            "log_type",
            &format!("expected \"raw\" or \"json\", got {t:?}"),
        );
    }
    log_type
}

/// `log_file`: a path, `true` for the default combined log, `false` for none.
fn log_file(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Bool(true) => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(format!(
            "expected a path or true, got {}",
            fields::show(other)
        )),
    }
}

/// `watch`: `true` (the app's folder), a path, or a list of paths; `false` is off.
fn watch(v: &Value) -> Result<Option<Vec<String>>, String> {
    match v {
        Value::Bool(true) => Ok(Some(vec![])),
        Value::Bool(false) => Ok(None),
        other => fields::string_or_list(other).map(Some),
    }
}

/// PM2's env for an ecosystem app: the CLI's environment (minus `filter_env`), then the
/// env files (pm2-rs's `env_file`), `deploy.<env>.env`, `env`, `env_<env>`, and `PORT`
/// from `port`; last wins.
fn app_env(
    r: &mut AppReader,
    scope: &FileScope,
    ctx: &ResolveContext,
    file_env: BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut env = match r.get("filter_env", filter_env) {
        Some(Filter::All) => BTreeMap::new(),
        Some(Filter::Containing(words)) => ctx
            .env
            .iter()
            .filter(|(k, _)| !words.iter().any(|w| k.contains(w.as_str())))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        _ => ctx.env.clone(),
    };
    env.extend(file_env);
    env.extend(scope.deploy_env.clone());
    env.extend(r.get("env", fields::env_block).unwrap_or_default());
    if let Some(name) = scope.env_name {
        match r.env_blocks.get(name).copied() {
            Some(block) => match fields::env_object(block) {
                Ok(vars) => env.extend(vars),
                Err(msg) => r.errors.push(format!("{}.env_{name}: {msg}", r.prefix)),
            },
            None => r.warnings.push(format!(
                "{}: no env_{name} block for --env {name}; using env only",
                r.prefix
            )),
        }
    }
    for (name, block) in r.env_blocks.clone() {
        if Some(name.as_str()) != scope.env_name {
            if let Err(msg) = fields::env_object(block) {
                r.errors.push(format!("{}.env_{name}: {msg}", r.prefix));
            }
        }
    }
    if let Some(port) = r.get("port", port) {
        env.insert("PORT".into(), port);
    }
    env
}

enum Filter {
    All,
    Containing(Vec<String>),
}

fn filter_env(v: &Value) -> Result<Filter, String> {
    match v {
        Value::Bool(true) => Ok(Filter::All),
        Value::Bool(false) => Ok(Filter::Containing(vec![])),
        other => fields::string_or_list(other)
            .map(Filter::Containing)
            .map_err(|_| {
                format!(
                    "expected true, a string or an array of strings, got {}",
                    fields::show(other)
                )
            }),
    }
}

fn port(v: &Value) -> Result<String, String> {
    fields::count(v)
        .ok()
        .filter(|p| *p <= 65535)
        .map(|p| p.to_string())
        .ok_or_else(|| format!("expected a port number, got {}", fields::show(v)))
}

/// The key a resolution error belongs to, and its message.
fn describe(e: &ConfigError) -> (&'static str, String) {
    match e {
        ConfigError::ScriptNotFound(_) => ("script", e.to_string()),
        ConfigError::InterpreterMissing(_) => ("interpreter", e.to_string()),
        ConfigError::CwdNotFound(path) => {
            let value = path.display().to_string();
            ("cwd", format!("{value:?}: no such directory"))
        }
        ConfigError::EnvFile { error, .. } => ("env_file", error.to_string()),
        ConfigError::InvalidValue { flag, value, why } => {
            let key = match flag.as_str() {
                "--log-type" => "log_type",
                "--instances" => "instances",
                _ => "script",
            };
            (key, format!("{value:?}: {why}"))
        }
    }
}

/// What the command line cannot say: env blocks, argument arrays, explicit cluster mode.
fn finish(spec: &mut AppSpec, extras: Extras, mut env: BTreeMap<String, String>) {
    if spec.interpreter.starts_with("python") {
        env.insert("PYTHONUNBUFFERED".into(), "1".into());
    }
    spec.env = env.into();
    if let Some(args) = extras.interpreter_args {
        spec.interpreter_args = args;
    }
    if extras.exec_mode == Some(ExecMode::Cluster) {
        spec.exec_mode = ExecMode::Cluster;
    }
    spec.instance_var = crate::values::instance_var(extras.instance_var);
    spec.increment_var = extras.increment_var;
    // PM2's `verifyConfs`: merged logs by default only for a fork app without `instances`.
    spec.merge_logs = extras
        .merge_logs
        .unwrap_or(spec.exec_mode != ExecMode::Cluster && !spec.instances_given);
}
