//! What a start runs: the script or command, its interpreter, and fork or cluster mode.

use super::context::ResolveContext;
use crate::error::ConfigError;
use crate::interpreter::{find_in_path, Interpreter};
use crate::options::StartOptions;
use pm2_proto::ExecMode;
use std::path::{Path, PathBuf};

/// The runnable thing a start names.
pub(super) struct Program {
    /// The file to execute (the script, or the shell for a command string).
    pub script: PathBuf,
    /// Arguments that come with the program itself (`-c <command>` for a command string).
    pub args: Vec<String>,
    /// The app name when none is given.
    pub default_name: String,
    /// The interpreter PM2 would pick for it.
    pub interpreter: Interpreter,
}

/// Finds what to run: a file (relative to the CLI's cwd), a command on PATH, or a command
/// string with spaces that runs through `bash -c` (PM2's rule).
pub(super) fn locate_program(
    opts: &StartOptions,
    ctx: &ResolveContext,
) -> Result<Program, ConfigError> {
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
        return command_string(raw, ctx);
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
    Err(ConfigError::ScriptNotFound(ctx.cwd.join(raw)))
}

/// A command string runs through `bash -c` (or `sh -c` without bash), named as typed.
fn command_string(raw: &str, ctx: &ResolveContext) -> Result<Program, ConfigError> {
    let shell = find_in_path("bash", ctx.path_var())
        .or_else(|| find_in_path("sh", ctx.path_var()))
        .ok_or_else(|| ConfigError::InterpreterMissing("bash".into()))?;
    Ok(Program {
        script: shell,
        args: vec!["-c".into(), raw.to_string()],
        default_name: raw.to_string(),
        interpreter: Interpreter::None,
    })
}

/// Picks the interpreter (`--interpreter` wins) and checks it exists on PATH.
pub(super) fn choose_interpreter(
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

/// PM2's `determineExecMode`: cluster when instances were asked for and the interpreter is
/// node (or bun), unless `-x` forces fork.
pub(super) fn exec_mode_for(
    interpreter: &Interpreter,
    instances_given: bool,
    force_fork: bool,
) -> ExecMode {
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

/// The `version` of the nearest package.json above the script (PM2 shows it in `list`).
pub fn package_version(script: &Path) -> Option<String> {
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
