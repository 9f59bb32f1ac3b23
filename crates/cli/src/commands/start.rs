//! `pm2 start`.

use super::actions::{apply, report};
use super::ecosystem;
use super::views::print_table;
use super::{connect, expect};
use crate::args::StartArgs;
use crate::out;
use anyhow::{bail, Context, Result};
use pm2_config::{is_ecosystem_file, resolve_start, ResolveContext, StartOptions};
use pm2_home::Pm2Home;
use pm2_proto::{Action, ApplyMode, Request, ResolveRequest, Response, StartRequest, Target};
use std::path::Path;

fn options(a: &StartArgs, script: &str) -> StartOptions {
    StartOptions {
        script: script.to_string(),
        name: a.name.clone(),
        cwd: a.cwd.clone(),
        namespace: a.namespace.clone(),
        interpreter: a.interpreter.clone(),
        interpreter_args: a.interpreter_args.clone(),
        execute_command: a.execute_command,
        instances: a.instances.clone(),
        args: a.args.clone(),
        no_autorestart: a.no_autorestart,
        stop_exit_codes: a.stop_exit_codes.clone(),
        restart_delay: a.restart_delay.clone(),
        exp_backoff_restart_delay: a.exp_backoff_restart_delay.clone(),
        kill_timeout: a.kill_timeout.clone(),
        max_restarts: a.max_restarts.clone(),
        min_uptime: a.min_uptime.clone(),
        no_treekill: a.no_treekill,
        merge_logs: a.merge_logs,
        output: a.output.clone(),
        error: a.error.clone(),
        log: a.log.clone(),
        pid: a.pid.clone(),
        no_autostart: a.no_autostart,
        time: a.time,
        log_date_format: a.log_date_format.clone(),
        log_type: a.log_type.clone(),
        disable_logs: a.disable_logs,
        wait_ready: a.wait_ready,
        listen_timeout: a.listen_timeout.clone(),
        shutdown_with_message: a.shutdown_with_message,
        max_memory_restart: a.max_memory_restart.clone(),
        cron_restart: a.cron_restart.clone(),
        watch: a.watch.clone(),
        ignore_watch: a
            .ignore_watch
            .iter()
            .flat_map(|s| s.split([',', ' ']))
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        // PM2's CLI takes seconds here ("4" or "4000ms").
        watch_delay: a.watch_delay.as_ref().map(|d| {
            if d.bytes().all(|b| b.is_ascii_digit()) {
                format!("{d}s")
            } else {
                d.clone()
            }
        }),
    }
}

/// The caller's world, for resolving apps.
pub(crate) fn context() -> Result<ResolveContext> {
    Ok(ResolveContext {
        cwd: std::env::current_dir().context("cannot read the current directory")?,
        env: std::env::vars().collect(),
        cpus: std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1),
        username: nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| nix::unistd::getuid().to_string()),
    })
}

/// `pm2 start <script|binary|"cmd"|name|id>`: an existing app named so is restarted,
/// anything else is resolved and started.
pub(crate) fn start(home: &Pm2Home, a: StartArgs) -> Result<i32> {
    let ctx = context()?;
    let script = match &a.script {
        Some(s) => s.clone(),
        None if ctx.cwd.join(DEFAULT_ECOSYSTEM).is_file() => DEFAULT_ECOSYSTEM.to_string(),
        None => bail!("nothing to start: give a script, or create {DEFAULT_ECOSYSTEM} (pm2 init)"),
    };
    if is_ecosystem_file(&script) {
        let opts = ecosystem::options(a.env_name.as_deref(), a.only.as_deref());
        return ecosystem::apply(home, &script, &opts, ApplyMode::Restart);
    }
    let is_file = ctx.cwd.join(&script).exists();
    // Resolve locally first so that bad input changes nothing, not even a daemon start.
    let resolved = resolve_start(&options(&a, &script), &ctx);
    if !is_file {
        if let Some(mut client) = crate::client::connect_existing(home) {
            if names_existing_app(&mut client, &script)? {
                return apply(
                    &mut client,
                    Action::Restart,
                    std::slice::from_ref(&script),
                    super::actions::ActionFlags {
                        update_env: a.update_env,
                        toggle_watch: false,
                    },
                );
            }
        }
    }
    let spec = match resolved {
        Ok(spec) => spec,
        Err(errors) => {
            for e in &errors {
                out::error(&e.to_string());
            }
            return Ok(1);
        }
    };
    let mut client = connect(home)?;
    let plural = if spec.instances == 1 { "" } else { "s" };
    out::info(&format!(
        "Starting {} in {} ({} instance{plural})",
        spec.script,
        spec.exec_mode.as_str(),
        spec.instances
    ));
    let request = Request::Start(StartRequest {
        apps: vec![spec],
        force: a.force,
    });
    let outcomes = match expect(&mut client, request)? {
        Response::Outcomes { outcomes } => outcomes,
        other => bail!("unexpected reply to start: {other:?}"),
    };
    let failed: Vec<_> = outcomes.into_iter().filter(|o| o.error.is_some()).collect();
    let code = report(&failed);
    if code == 0 {
        out::info("Done.");
    }
    print_table(&mut client)?;
    Ok(code)
}

/// What `pm2 start` without arguments starts.
const DEFAULT_ECOSYSTEM: &str = "ecosystem.config.js";

/// Whether `word` names a registered app (id, name or namespace), for `start <name>`.
fn names_existing_app(client: &mut crate::client::Client, word: &str) -> Result<bool> {
    if Path::new(word).is_absolute() {
        return Ok(false);
    }
    let targets = vec![Target::parse(word)];
    Ok(matches!(
        client.request(Request::Resolve(ResolveRequest { targets }))?,
        Response::Ids { ids } if !ids.is_empty()
    ))
}
