//! Resolution of [`StartOptions`] into an [`AppSpec`] in the caller's context.

mod context;
mod flags;
mod patch;
mod program;

pub use context::ResolveContext;
pub use patch::resolve_patch;

use crate::error::ConfigError;
use crate::interpreter::Interpreter;
use crate::options::StartOptions;
use flags::{keep, Flags};
use pm2_proto::{AppSpec, CombinedLog, DEFAULT_MAX_RESTARTS, DEFAULT_MIN_UPTIME_MS};
pub use program::package_version;
use program::{choose_interpreter, exec_mode_for, locate_program, Program};
use std::path::Path;

/// Turns start options into a spec, collecting every invalid value rather than the first.
pub fn resolve_start(
    opts: &StartOptions,
    ctx: &ResolveContext,
) -> Result<AppSpec, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let program = keep(locate_program(opts, ctx), &mut errors);
    let interpreter = program
        .as_ref()
        .and_then(|p| keep(choose_interpreter(opts, p, ctx), &mut errors));
    let flags = Flags::parse(opts, ctx, &mut errors);
    let file_env = keep(env_files(opts, ctx, program.as_ref()), &mut errors);
    match (program, interpreter, file_env) {
        (Some(program), Some(interpreter), Some(file_env)) if errors.is_empty() => {
            let mut spec = assemble(opts, ctx, program, interpreter, flags);
            // Over the CLI's environment: the file is what the user asked for.
            spec.env.extend(file_env);
            Ok(spec)
        }
        _ => Err(errors),
    }
}

/// `--env-file`s, relative to the CLI's directory, read in order.
fn env_files(
    opts: &StartOptions,
    ctx: &ResolveContext,
    program: Option<&Program>,
) -> Result<std::collections::BTreeMap<String, String>, ConfigError> {
    let files: Vec<_> = opts
        .env_file
        .iter()
        .map(|f| crate::env_file::env_file_path(&ctx.cwd, f))
        .collect();
    crate::env_file::read_env_files(&files).map_err(|error| ConfigError::EnvFile {
        app: opts
            .name
            .clone()
            .or_else(|| program.map(|p| p.default_name.clone()))
            .unwrap_or_else(|| opts.script.clone()),
        error,
    })
}

/// `--interpreter-args` as words (none when absent).
fn words(raw: Option<&str>) -> Vec<String> {
    raw.map(|a| a.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

/// The spec of a start whose every value is valid.
fn assemble(
    opts: &StartOptions,
    ctx: &ResolveContext,
    program: Program,
    (interpreter, interpreter_path): (Interpreter, Option<String>),
    flags: Flags,
) -> AppSpec {
    let mut env = ctx.env.clone();
    if interpreter.name().starts_with("python") {
        env.insert("PYTHONUNBUFFERED".into(), "1".into());
    }
    let instances_given = flags.instances.is_some();
    let mut spec = AppSpec {
        name: opts.name.clone().unwrap_or(program.default_name),
        namespace: opts
            .namespace
            .clone()
            .unwrap_or_else(|| pm2_proto::DEFAULT_NAMESPACE.into()),
        version: package_version(&program.script),
        script: program.script.to_string_lossy().into_owned(),
        args: program.args.into_iter().chain(opts.args.clone()).collect(),
        interpreter: interpreter.name().to_string(),
        interpreter_path,
        interpreter_args: words(opts.interpreter_args.as_deref()),
        exec_mode: exec_mode_for(&interpreter, instances_given, opts.execute_command),
        instances: flags.instances.map(|i| i.resolve(ctx.cpus)).unwrap_or(1),
        instances_given,
        env: env.into(),
        autorestart: !opts.no_autorestart,
        stop_exit_codes: flags.stop_exit_codes.clone(),
        min_uptime: flags.min_uptime.unwrap_or(DEFAULT_MIN_UPTIME_MS),
        max_restarts: flags.max_restarts.unwrap_or(DEFAULT_MAX_RESTARTS),
        restart_delay: flags.restart_delay,
        exp_backoff_restart_delay: flags.exp_backoff_restart_delay,
        kill_timeout: flags.kill_timeout,
        treekill: !opts.no_treekill,
        username: ctx.username.clone(),
        uid: opts.uid.clone(),
        gid: opts.gid.clone(),
        autostart: !opts.no_autostart,
        wait_ready: opts.wait_ready,
        listen_timeout: flags.listen_timeout,
        shutdown_with_message: opts.shutdown_with_message,
        max_memory_restart: flags.max_memory_restart,
        limits: flags.limits,
        cron_restart: flags.cron_restart.clone(),
        instance_var: crate::values::instance_var(None),
        automation: !opts.no_automation,
        source_map_support: opts.source_map_support,
        disable_source_map_support: opts.disable_source_map_support,
        deep_monitoring: ctx.deep_monitoring(),
        ..AppSpec::default()
    };
    set_logs(&mut spec, opts, ctx, &flags);
    set_watch(&mut spec, opts, flags);
    spec
}

/// Where the output goes and how its lines look.
fn set_logs(spec: &mut AppSpec, opts: &StartOptions, ctx: &ResolveContext, flags: &Flags) {
    spec.merge_logs = opts.merge_logs || !spec.instances_given;
    spec.out_file = opts.output.as_deref().map(|p| ctx.absolute(p));
    spec.error_file = opts.error.as_deref().map(|p| ctx.absolute(p));
    spec.log_file = match &opts.log {
        None => CombinedLog::None,
        Some(None) => CombinedLog::Default,
        Some(Some(p)) => CombinedLog::Path(ctx.absolute(p)),
    };
    spec.pid_file = opts.pid.as_deref().map(|p| ctx.absolute(p));
    spec.log_date_format = opts
        .log_date_format
        .clone()
        .or_else(|| opts.time.then(|| "YYYY-MM-DDTHH:mm:ss".to_string()));
    spec.log_type = flags.log_type.clone();
    spec.disable_logs = opts.disable_logs;
}

/// What is watched, and in which working directory.
fn set_watch(spec: &mut AppSpec, opts: &StartOptions, flags: Flags) {
    spec.watch = opts.watch.is_some();
    spec.watch_paths = opts
        .watch
        .iter()
        .flatten()
        .map(|p| absolute_in(&flags.cwd, p))
        .collect();
    spec.ignore_watch = opts.ignore_watch.clone().unwrap_or_default();
    spec.watch_delay = flags.watch_delay;
    spec.cwd = flags.cwd;
}

/// `p` made absolute against the app's working directory.
fn absolute_in(cwd: &str, p: &str) -> String {
    if Path::new(p).is_absolute() {
        p.to_string()
    } else {
        Path::new(cwd).join(p).to_string_lossy().into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn ctx(dir: &Path) -> ResolveContext {
        ResolveContext {
            cwd: dir.to_path_buf(),
            env: [(
                "PATH".to_string(),
                std::env::var("PATH").unwrap_or_default(),
            )]
            .into(),
            cpus: 2,
            username: "u".into(),
            pm2_exe: "/usr/bin/pm2".into(),
        }
    }

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pm2cfg-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_script_gets_its_stem_as_name_and_node() {
        let d = tmpdir("stem");
        std::fs::write(d.join("api.server.js"), "").unwrap();
        let opts = StartOptions {
            script: "api.server.js".into(),
            ..Default::default()
        };
        let spec = resolve_start(&opts, &ctx(&d)).unwrap();
        assert_eq!(spec.name, "api.server");
        assert_eq!(spec.interpreter, "node");
        assert!(spec.merge_logs);
    }

    #[test]
    fn a_command_string_runs_through_bash() {
        let d = tmpdir("cmd");
        let opts = StartOptions {
            script: "sleep 100".into(),
            ..Default::default()
        };
        let spec = resolve_start(&opts, &ctx(&d)).unwrap();
        assert_eq!(spec.name, "sleep 100");
        assert_eq!(spec.args, vec!["-c", "sleep 100"]);
        assert_eq!(spec.interpreter, "none");
    }

    #[test]
    fn missing_script_and_bad_values_are_all_reported() {
        let d = tmpdir("bad");
        let opts = StartOptions {
            script: "nope.js".into(),
            kill_timeout: Some("10X".into()),
            ..Default::default()
        };
        let errs = resolve_start(&opts, &ctx(&d)).unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(matches!(errs[0], ConfigError::ScriptNotFound(_)));
    }

    #[test]
    fn missing_interpreter_is_refused() {
        let d = tmpdir("interp");
        std::fs::write(d.join("a.js"), "").unwrap();
        let opts = StartOptions {
            script: "a.js".into(),
            interpreter: Some("no-such-interpreter-xyz".into()),
            ..Default::default()
        };
        let errs = resolve_start(&opts, &ctx(&d)).unwrap_err();
        assert!(matches!(errs[0], ConfigError::InterpreterMissing(_)));
    }

    #[test]
    fn instances_switch_off_merged_logs() {
        let d = tmpdir("inst");
        std::fs::write(d.join("w.sh"), "").unwrap();
        let opts = StartOptions {
            script: "w.sh".into(),
            instances: Some("max".into()),
            ..Default::default()
        };
        let spec = resolve_start(&opts, &ctx(&d)).unwrap();
        assert_eq!(spec.instances, 2);
        assert!(!spec.merge_logs);
    }
}
