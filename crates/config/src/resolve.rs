//! Resolution of [`StartOptions`] into an [`AppSpec`] in the caller's context.

use crate::interpreter::{find_in_path, Interpreter};
use crate::options::StartOptions;
use crate::values::{parse_duration_ms, parse_instances};
use crate::ConfigError;
use pm2_proto::{AppSpec, CombinedLog, ExecMode};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What resolution needs to know about the caller.
#[derive(Debug, Clone)]
pub struct ResolveContext {
    /// The directory the CLI runs in.
    pub cwd: PathBuf,
    /// The CLI's environment (the app inherits it).
    pub env: BTreeMap<String, String>,
    /// CPUs available, for `-i max`.
    pub cpus: u32,
    /// The invoking user's name.
    pub username: String,
}

impl ResolveContext {
    fn path_var(&self) -> &str {
        self.env.get("PATH").map(String::as_str).unwrap_or("")
    }

    fn absolute(&self, p: &str) -> String {
        if p == "NULL" || p == "/dev/null" {
            return "/dev/null".into();
        }
        let path = Path::new(p);
        if path.is_absolute() {
            p.to_string()
        } else {
            self.cwd.join(path).to_string_lossy().into_owned()
        }
    }
}

/// The runnable thing a start names.
struct Program {
    script: PathBuf,
    args: Vec<String>,
    default_name: String,
    interpreter: Interpreter,
}

/// Turns start options into a spec, collecting every invalid value rather than the first.
pub fn resolve_start(
    opts: &StartOptions,
    ctx: &ResolveContext,
) -> Result<AppSpec, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let program = match locate_program(opts, ctx) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let interpreter = program
        .as_ref()
        .map(|p| choose_interpreter(opts, p, ctx))
        .transpose()
        .unwrap_or_else(|e| {
            errors.push(e);
            None
        });
    let mut collect = |r: Result<Option<u64>, ConfigError>| {
        r.unwrap_or_else(|e| {
            errors.push(e);
            None
        })
    };
    let duration = |flag: &str, v: &Option<String>| {
        v.as_deref().map(|s| parse_duration_ms(flag, s)).transpose()
    };
    let restart_delay = collect(duration("--restart-delay", &opts.restart_delay));
    let exp_backoff = collect(duration(
        "--exp-backoff-restart-delay",
        &opts.exp_backoff_restart_delay,
    ));
    let kill_timeout = collect(duration("--kill-timeout", &opts.kill_timeout));
    let min_uptime = collect(duration("--min-uptime", &opts.min_uptime));
    let listen_timeout = collect(duration("--listen-timeout", &opts.listen_timeout));
    let watch_delay = collect(duration("--watch-delay", &opts.watch_delay));
    let max_restarts = parse_u32("--max-restarts", &opts.max_restarts).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let stop_exit_codes = parse_exit_codes(&opts.stop_exit_codes).unwrap_or_else(|e| {
        errors.push(e);
        vec![]
    });
    let instances = match opts.instances.as_deref().map(parse_instances).transpose() {
        Ok(i) => i,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let cwd = opts
        .cwd
        .as_deref()
        .map(|c| ctx.absolute(c))
        .unwrap_or_else(|| ctx.cwd.to_string_lossy().into_owned());
    if !Path::new(&cwd).is_dir() {
        errors.push(ConfigError::InvalidValue {
            flag: "--cwd".into(),
            value: cwd.clone(),
            why: "no such directory".into(),
        });
    }
    let max_memory_restart = match opts.max_memory_restart.as_deref() {
        None => None,
        Some(raw) => match crate::values::parse_memory_size(raw) {
            Some(bytes) => Some(bytes),
            None => {
                errors.push(ConfigError::InvalidValue {
                    flag: "--max-memory-restart".into(),
                    value: raw.into(),
                    why: "expected bytes, or a whole number with K, M or G (e.g. 200M)".into(),
                });
                None
            }
        },
    };
    let cron_restart = match opts.cron_restart.as_deref().map(crate::values::parse_cron) {
        None | Some(Ok(None)) => None,
        Some(Ok(Some(c))) => Some(c),
        Some(Err(why)) => {
            errors.push(ConfigError::InvalidValue {
                flag: "--cron-restart".into(),
                value: opts.cron_restart.clone().unwrap_or_default(),
                why,
            });
            None
        }
    };
    let log_type = match opts.log_type.as_deref() {
        None | Some("raw") => None,
        Some("json") => Some("json".to_string()),
        Some(other) => {
            errors.push(ConfigError::InvalidValue {
                flag: "--log-type".into(),
                value: other.into(),
                why: "expected raw or json".into(),
            });
            None
        }
    };
    let (Some(program), Some(interpreter), true) = (program, interpreter, errors.is_empty()) else {
        return Err(errors);
    };
    let mut env = ctx.env.clone();
    if interpreter.0.name().starts_with("python") {
        env.insert("PYTHONUNBUFFERED".into(), "1".into());
    }
    let instances_given = instances.is_some();
    let watch_paths = opts
        .watch
        .iter()
        .flatten()
        .map(|p| absolute_in(&cwd, p))
        .collect();
    let exec_mode = exec_mode_for(&interpreter.0, instances_given, opts.execute_command);
    Ok(AppSpec {
        name: opts.name.clone().unwrap_or(program.default_name),
        namespace: opts.namespace.clone().unwrap_or_else(|| "default".into()),
        version: package_version(&program.script),
        script: program.script.to_string_lossy().into_owned(),
        args: program.args.into_iter().chain(opts.args.clone()).collect(),
        interpreter: interpreter.0.name().to_string(),
        interpreter_path: interpreter.1,
        interpreter_args: opts
            .interpreter_args
            .as_deref()
            .map(|a| a.split_whitespace().map(String::from).collect())
            .unwrap_or_default(),
        cwd,
        exec_mode,
        instances: instances.map(|i| i.resolve(ctx.cpus)).unwrap_or(1),
        instances_given,
        env,
        autorestart: !opts.no_autorestart,
        stop_exit_codes,
        min_uptime: min_uptime.unwrap_or(1000),
        max_restarts: max_restarts.unwrap_or(16),
        restart_delay,
        exp_backoff_restart_delay: exp_backoff,
        kill_timeout,
        treekill: !opts.no_treekill,
        merge_logs: opts.merge_logs || !instances_given,
        out_file: opts.output.as_deref().map(|p| ctx.absolute(p)),
        error_file: opts.error.as_deref().map(|p| ctx.absolute(p)),
        log_file: match &opts.log {
            None => CombinedLog::None,
            Some(None) => CombinedLog::Default,
            Some(Some(p)) => CombinedLog::Path(ctx.absolute(p)),
        },
        pid_file: opts.pid.as_deref().map(|p| ctx.absolute(p)),
        node_version: None,
        username: ctx.username.clone(),
        watch: opts.watch.is_some(),
        watch_paths,
        ignore_watch: opts.ignore_watch.clone(),
        watch_delay,
        autostart: !opts.no_autostart,
        log_date_format: opts
            .log_date_format
            .clone()
            .or_else(|| opts.time.then(|| "YYYY-MM-DDTHH:mm:ss".to_string())),
        log_type,
        disable_logs: opts.disable_logs,
        wait_ready: opts.wait_ready,
        listen_timeout,
        shutdown_with_message: opts.shutdown_with_message,
        max_memory_restart,
        cron_restart,
        instance_var: crate::instance_var(None),
        increment_var: None,
    })
}

/// `p` made absolute against the app's working directory.
fn absolute_in(cwd: &str, p: &str) -> String {
    if Path::new(p).is_absolute() {
        p.to_string()
    } else {
        Path::new(cwd).join(p).to_string_lossy().into_owned()
    }
}

/// PM2's `determineExecMode`: cluster when instances were asked for and the interpreter is
/// node (or bun), unless `-x` forces fork.
fn exec_mode_for(interpreter: &Interpreter, instances_given: bool, force_fork: bool) -> ExecMode {
    let node_like = match interpreter {
        Interpreter::Named(n) => {
            let base = Path::new(n)
                .file_name()
                .and_then(|b| b.to_str())
                .unwrap_or(n);
            base.ends_with("node") || base.ends_with("bun")
        }
        Interpreter::None => false,
    };
    if instances_given && node_like && !force_fork {
        ExecMode::Cluster
    } else {
        ExecMode::Fork
    }
}

/// Finds what to run: a file (relative to the CLI's cwd), a command on PATH, or a command
/// string with spaces that runs through `bash -c` (PM2's rule).
fn locate_program(opts: &StartOptions, ctx: &ResolveContext) -> Result<Program, ConfigError> {
    let raw = opts.script.as_str();
    let candidate = ctx.cwd.join(raw);
    if candidate.is_file() {
        let script = std::fs::canonicalize(&candidate).unwrap_or(candidate);
        let default_name = script
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| raw.to_string());
        let interpreter = Interpreter::for_script(&script, ctx.path_var());
        return Ok(Program {
            script,
            args: vec![],
            default_name,
            interpreter,
        });
    }
    if raw.trim().contains(' ') {
        let shell = find_in_path("bash", ctx.path_var())
            .or_else(|| find_in_path("sh", ctx.path_var()))
            .ok_or_else(|| ConfigError::InterpreterMissing("bash".into()))?;
        return Ok(Program {
            script: shell,
            args: vec!["-c".into(), raw.to_string()],
            default_name: raw.to_string(),
            interpreter: Interpreter::None,
        });
    }
    if !raw.is_empty() && !raw.contains('/') {
        if let Some(bin) = find_in_path(raw, ctx.path_var()) {
            return Ok(Program {
                script: bin,
                args: vec![],
                default_name: raw.to_string(),
                interpreter: Interpreter::None,
            });
        }
    }
    Err(ConfigError::ScriptNotFound(
        ctx.cwd.join(raw).to_string_lossy().into_owned(),
    ))
}

/// Picks the interpreter (`--interpreter` wins) and checks it exists on PATH.
fn choose_interpreter(
    opts: &StartOptions,
    program: &Program,
    ctx: &ResolveContext,
) -> Result<(Interpreter, Option<String>), ConfigError> {
    let interpreter = match opts.interpreter.as_deref() {
        Some("none") => Interpreter::None,
        Some(name) => Interpreter::Named(name.to_string()),
        None => program.interpreter.clone(),
    };
    match &interpreter {
        Interpreter::None => Ok((interpreter, None)),
        Interpreter::Named(name) => {
            let path = find_in_path(name, ctx.path_var())
                .ok_or_else(|| ConfigError::InterpreterMissing(name.clone()))?;
            Ok((
                interpreter.clone(),
                Some(path.to_string_lossy().into_owned()),
            ))
        }
    }
}

fn parse_u32(flag: &str, raw: &Option<String>) -> Result<Option<u32>, ConfigError> {
    raw.as_deref()
        .map(|v| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| ConfigError::InvalidValue {
                    flag: flag.into(),
                    value: v.into(),
                    why: "expected a non-negative whole number".into(),
                })
        })
        .transpose()
}

fn parse_exit_codes(raw: &[String]) -> Result<Vec<i32>, ConfigError> {
    raw.iter()
        .flat_map(|r| r.split([',', ' ']).filter(|s| !s.is_empty()))
        .map(|v| {
            v.parse::<i32>().map_err(|_| ConfigError::InvalidValue {
                flag: "--stop-exit-codes".into(),
                value: v.into(),
                why: "expected exit codes (numbers)".into(),
            })
        })
        .collect()
}

/// The `version` of the nearest package.json above the script (PM2 shows it in `list`).
fn package_version(script: &Path) -> Option<String> {
    let mut dir = script.parent();
    while let Some(d) = dir {
        let manifest = d.join("package.json");
        if let Ok(text) = std::fs::read_to_string(&manifest) {
            let json: serde_json::Value = serde_json::from_str(&text).ok()?;
            return json.get("version")?.as_str().map(String::from);
        }
        dir = d.parent();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

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
