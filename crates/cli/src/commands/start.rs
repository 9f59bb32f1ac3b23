//! `pm2 start`.

use super::actions::{apply_quietly, report, ActionFlags};
use super::caller::context;
use super::connection::{expect, Session};
use super::ecosystem;
use super::views::print_table;
use crate::args::StartArgs;
use crate::out;
use anyhow::{bail, Result};
use pm2_config::{is_ecosystem_file, resolve_patch, resolve_start, ResolveContext, StartOptions};
use pm2_home::Pm2Home;
use pm2_proto::{
    Action, AppSpec, ApplyMode, Request, ResolveRequest, Response, SpecPatch, StartRequest, Status,
};
use std::path::Path;

/// `pm2 start <script|binary|"cmd"|name|id>...`: each word in turn, as PM2 does, with the
/// same options and `--` arguments: an existing app named so is restarted, anything else is
/// resolved and started. The first word that fails ends the command with its exit code.
pub(crate) fn start(home: &Pm2Home, a: StartArgs) -> Result<i32> {
    let ctx = context()?;
    let scripts = match a.scripts.as_slice() {
        [] if ctx.cwd.join(DEFAULT_ECOSYSTEM).is_file() => vec![DEFAULT_ECOSYSTEM.to_string()],
        [] => bail!("nothing to start: give a script, or create {DEFAULT_ECOSYSTEM} (pm2 init)"),
        words => words.to_vec(),
    };
    // One connection carries every request of the command (is the name taken, start,
    // the table): each connection more cost a connect, an accept and a daemon task.
    let mut session = Session::new(home);
    let mut started = Vec::new();
    for script in &scripts {
        let code = start_one(&mut session, &a, script, &ctx, &mut started)?;
        if code != 0 {
            return Ok(code);
        }
    }
    if !started.is_empty() {
        print_table(session.client()?)?;
    }
    Ok(0)
}

/// The `(name, script)` of each app this command started, in order.
type Started = Vec<(String, String)>;

/// Starts (or restarts) what one word names. Apps it starts are added to `started`; the
/// table is printed by the caller once every word is done.
fn start_one(
    session: &mut Session,
    a: &StartArgs,
    script: &str,
    ctx: &ResolveContext,
    started: &mut Started,
) -> Result<i32> {
    if is_ecosystem_file(script) {
        let mut opts = ecosystem::options(a.env_name.as_deref(), a.only.as_deref());
        opts.env_files = a.options.env_file.iter().map(|f| ctx.cwd.join(f)).collect();
        return ecosystem::apply(session.home(), script, &opts, ApplyMode::Restart);
    }
    let is_file = ctx.cwd.join(script).exists();
    let options = StartOptions {
        script: script.to_string(),
        ..a.options.clone()
    };
    // Resolve locally first so that bad input changes nothing, not even a daemon start.
    let resolved = resolve_start(&options, ctx);
    let patch = match resolve_patch(&options, ctx) {
        Ok(patch) => patch,
        Err(errors) => return Ok(print_errors(&errors)),
    };
    if !is_file {
        if let Some(code) = restart_existing(session, script, &options, &patch)? {
            return Ok(code);
        }
    }
    let spec = match resolved {
        Ok(spec) => spec,
        Err(errors) => return Ok(print_errors(&errors)),
    };
    // PM2 restarts, with the new options, an app that runs this script under this name
    // but is not running; it refuses the start only while that app runs.
    if !options.force && stopped_same_app(session, &spec)? {
        let home = session.home();
        return restart_with(home, session.client()?, &spec.name, &options, patch);
    }
    // PM2 refuses a start only when an app runs the same script under the same name, so a
    // second script given the same `--name` in this command is started too.
    let same_name_other_script = started
        .iter()
        .any(|(name, path)| *name == spec.name && *path != spec.script);
    let force = options.force || same_name_other_script;
    started.push((spec.name.clone(), spec.script.clone()));
    start_spec_on(session, spec, force)
}

/// Prints every resolution error; the exit code.
fn print_errors(errors: &[pm2_config::ConfigError]) -> i32 {
    for e in errors {
        out::error(&e.to_string());
    }
    1
}

/// `pm2 start <name|id>` of a registered app restarts it with the options given; `None`
/// when no app is named so (or no daemon runs).
fn restart_existing(
    session: &mut Session,
    word: &str,
    options: &StartOptions,
    patch: &SpecPatch,
) -> Result<Option<i32>> {
    let home = session.home();
    let Some(client) = session.existing() else {
        return Ok(None);
    };
    if !names_existing_app(client, word)? {
        return Ok(None);
    }
    restart_with(home, client, word, options, patch.clone()).map(Some)
}

/// Whether the app that runs `spec`'s script under its name exists and is stopped,
/// stopping or errored (PM2 looks at the last such instance).
fn stopped_same_app(session: &mut Session, spec: &AppSpec) -> Result<bool> {
    let Some(client) = session.existing() else {
        return Ok(false);
    };
    // Most starts are of a new name: asking for that name alone spares the daemon and the
    // CLI the whole table (which grows with the number of apps).
    let targets = vec![pm2_proto::Target::Name(spec.name.clone())];
    let named = matches!(
        client.request(Request::Resolve(ResolveRequest { targets }))?,
        Response::Ids { ids } if !ids.is_empty()
    );
    if !named {
        return Ok(false);
    }
    let processes = match expect(client, Request::Summary)? {
        Response::List { processes } => processes,
        other => bail!("unexpected reply to list: {other:?}"),
    };
    let last = processes
        .iter()
        .rev()
        .find(|p| p.spec.name == spec.name && p.spec.script == spec.script);
    Ok(last.is_some_and(|p| {
        matches!(
            p.status,
            Status::Stopped | Status::Stopping | Status::Errored
        )
    }))
}

/// Restarts what `word` names with the start's options, as PM2's `start` does for an app
/// that exists, and says so.
fn restart_with(
    home: &Pm2Home,
    client: &mut crate::client::Client,
    word: &str,
    options: &StartOptions,
    patch: SpecPatch,
) -> Result<i32> {
    let flags = ActionFlags {
        update_env: options.update_env,
        toggle_watch: false,
        patch,
    };
    let code = apply_quietly(home, client, Action::Restart, &[word.to_string()], flags)?;
    if code == 0 {
        out::info("Process successfully started");
    }
    print_table(client)?;
    Ok(code)
}

/// Sends one resolved app to the daemon, with its settings from `module_conf.json` in its
/// env (PM2's `getModuleConf`) and its files placed as the CLI's environment says, and
/// prints the outcome.
pub(super) fn start_spec(home: &Pm2Home, spec: AppSpec, force: bool) -> Result<i32> {
    start_spec_on(&mut Session::new(home), spec, force)
}

/// [`start_spec`] over the command's connection.
fn start_spec_on(session: &mut Session, mut spec: AppSpec, force: bool) -> Result<i32> {
    let home = session.home();
    spec.env
        .extend(super::module_store::app_env(home, &spec.name));
    super::placement::place_files(&mut spec, home);
    let client = session.client()?;
    let plural = if spec.instances == 1 { "" } else { "s" };
    out::info(&format!(
        "Starting {} in {} ({} instance{plural})",
        spec.script,
        spec.exec_mode.as_str(),
        spec.instances
    ));
    let limited = !spec.limits.is_empty();
    let request = Request::Start(StartRequest {
        apps: vec![spec],
        force,
    });
    let outcomes = match expect(client, request)? {
        Response::Outcomes { outcomes } => outcomes,
        other => bail!("unexpected reply to start: {other:?}"),
    };
    if limited {
        super::limit_warnings::print(client, &outcomes)?;
    }
    let failed: Vec<_> = outcomes.into_iter().filter(|o| o.error.is_some()).collect();
    let code = report(&failed);
    if code == 0 {
        out::info("Done.");
    } else {
        print_table(client)?;
    }
    Ok(code)
}

/// What `pm2 start` without arguments starts.
const DEFAULT_ECOSYSTEM: &str = "ecosystem.config.js";

/// Whether `word` names a registered app (name, namespace or id), for `start <name>`.
fn names_existing_app(client: &mut crate::client::Client, word: &str) -> Result<bool> {
    if Path::new(word).is_absolute() {
        return Ok(false);
    }
    let targets = super::words::targets(&[word.to_string()])?;
    Ok(matches!(
        client.request(Request::Resolve(ResolveRequest { targets }))?,
        Response::Ids { ids } if !ids.is_empty()
    ))
}
