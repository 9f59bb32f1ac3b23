//! One `pm2 deploy` run: read the target, do the local part once, build the script, run
//! it on every host in parallel, print the summary. Returns how it ended: the exit code
//! (0, or 1 when the config is bad, a local step failed, or any host failed), the hosts
//! and the failures, which the CLI hands to a dashboard.

use crate::config::{read_target, Target};
use crate::fleet;
use crate::host::{self, Outcome};
use crate::local;
use crate::script::{self, ScriptInput};
use crate::ssh;
use crate::verbs::Verb;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A parsed `pm2 deploy <file> <env> <action>`.
pub struct Request<'a> {
    /// The whole ecosystem file as read.
    pub config: &'a Value,
    /// The file as the user typed it (messages, the default post-deploy).
    pub file: &'a str,
    /// The environment's name.
    pub env: &'a str,
    /// The action.
    pub verb: Verb,
    /// `--force`: skip the local-changes check.
    pub force: bool,
    /// `--parallel N` (0: all hosts at once).
    pub parallel: usize,
    /// The local working directory (local checks and hooks run here).
    pub cwd: PathBuf,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The exit code.
    pub code: i32,
    /// The environment's hosts (none when its config could not be read).
    pub hosts: Vec<String>,
    /// Each host that failed, with why.
    pub failed: Vec<(String, String)>,
    /// Why no host was run, when none was.
    pub error: Option<String>,
}

impl Finished {
    fn refused(hosts: Vec<String>, why: String) -> Finished {
        Finished {
            code: 1,
            hosts,
            failed: Vec::new(),
            error: Some(why),
        }
    }
}

/// Runs the request; prints as it goes; returns how it ended.
pub fn run(req: &Request) -> Finished {
    let target = match read_target(req.config, req.env, req.file) {
        Ok(t) => t,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("Deploy failed: nothing was run");
            return Finished::refused(Vec::new(), errors.join("; "));
        }
    };
    for w in &target.warnings {
        eprintln!("warning: {w}");
    }
    if let Err(e) = local_part(req, &target) {
        eprintln!("\n  {e}\n");
        eprintln!("Deploy failed: no host was contacted");
        return Finished::refused(target.hosts.clone(), e);
    }
    let pre_setup_file = match pre_setup_file(&req.verb, &target, &req.cwd) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{e}");
            return Finished::refused(target.hosts.clone(), e);
        }
    };
    run_hosts(req, &target, pre_setup_file.as_deref())
}

/// The remote part: the script on every host, the summary, how it ended.
fn run_hosts(req: &Request, target: &Target, pre_setup_file: Option<&str>) -> Finished {
    let marker = marker();
    let script = script::build(&ScriptInput {
        target,
        verb: &req.verb,
        pre_setup_file,
        marker: &marker,
    });
    out(&format!("--> Deploying to {} environment\n", req.env));
    let width = target
        .hosts
        .iter()
        .map(|h| h.chars().count())
        .max()
        .unwrap_or(0);
    let reports = fleet::run_all(&target.hosts, req.parallel, |host| {
        let prefix = format!("{host:<width$} | ");
        host::run(
            host,
            ssh::command(target, host),
            script.clone(),
            &prefix,
            &marker,
        )
    });
    out(&format!("\n{}", fleet::summary(&reports)));
    let failed: Vec<(String, String)> = reports
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Ok => None,
            Outcome::Failed(why) => Some((r.host.clone(), why.clone())),
        })
        .collect();
    let code = if failed.is_empty() {
        out("--> Success\n");
        0
    } else {
        eprintln!(
            "Deploy failed on {} of {} host(s)",
            failed.len(),
            reports.len()
        );
        1
    };
    Finished {
        code,
        hosts: target.hosts.clone(),
        failed,
        error: None,
    }
}

/// Writes to stdout; a closed stdout (`| head`) must not stop a deploy half-way.
fn out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// The local-changes check (unless `--force` or a revert, as PM2) and `pre-deploy-local`,
/// once, before any host is contacted.
fn local_part(req: &Request, target: &Target) -> Result<(), String> {
    if !req.verb.deploys() {
        return Ok(());
    }
    if !req.force && !matches!(req.verb, Verb::Revert(_)) {
        local::check_committed(&req.cwd)?;
    }
    if let Some(hook) = &target.hooks.pre_deploy_local {
        local::pre_deploy_local(hook, &req.cwd)?;
    }
    Ok(())
}

/// PM2's rule: a `pre-setup` whose first word names a local file sends that file.
fn pre_setup_file(verb: &Verb, target: &Target, cwd: &Path) -> Result<Option<String>, String> {
    let Some(hook) = target
        .hooks
        .pre_setup
        .as_deref()
        .filter(|_| *verb == Verb::Setup)
    else {
        return Ok(None);
    };
    let Some(first) = hook.split_whitespace().next() else {
        return Ok(None);
    };
    let path = cwd.join(first);
    if !path.is_file() {
        return Ok(None);
    }
    std::fs::read_to_string(&path).map(Some).map_err(|e| {
        format!(
            "pre-setup: cannot read the local script {}: {e}",
            path.display()
        )
    })
}

/// The prefix of the script's own lines: fixed text and a per-run nonce, so app output
/// does not look like one by accident.
fn marker() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(now.as_nanos());
    }
    format!("@@pm2-deploy-{:016x}", h.finish())
}
