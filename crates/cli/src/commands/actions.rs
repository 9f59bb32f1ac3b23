//! stop / restart / delete / reset / sendSignal / kill.

use super::connection::{connect, expect};
use super::usage::UsageError;
use super::views::print_table;
use crate::client::{self, Client};
use crate::out;
use anyhow::{bail, Result};
use pm2_home::Pm2Home;
use pm2_proto::{
    Action, ActionRequest, InstanceOutcome, Request, Response, ScaleChange, ScaleRequest,
    SignalRequest, SpecPatch, Target, TriggerRequest,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// Prints `[PM2] [name](id) ✓` lines; returns the exit code (1 if any instance failed).
pub(crate) fn report(outcomes: &[InstanceOutcome]) -> i32 {
    let mut code = 0;
    for o in outcomes {
        match &o.error {
            None => out::info(&format!("[{}]({}) ✓", o.name, o.pm_id)),
            Some(e) => {
                out::error(&format!("[{}]({}) {e}", o.name, o.pm_id));
                code = 1;
            }
        }
    }
    code
}

fn outcomes(response: Response) -> Result<Vec<InstanceOutcome>> {
    match response {
        Response::Outcomes { outcomes } => Ok(outcomes),
        other => bail!("unexpected reply: {other:?}"),
    }
}

fn ids_text(outcomes: &[InstanceOutcome]) -> String {
    let ids: Vec<String> = outcomes.iter().map(|o| o.pm_id.to_string()).collect();
    if ids.is_empty() {
        "[]".into()
    } else {
        format!("[ {} ]", ids.join(", "))
    }
}

/// Options of restart/reload beyond the targets.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActionFlags {
    /// `--update-env`.
    pub update_env: bool,
    /// `--watch` on restart: toggle watching.
    pub toggle_watch: bool,
    /// The start flags given, merged into each app's definition.
    pub patch: SpecPatch,
}

/// Applies an action to targets on an open connection and prints PM2's lines and table.
pub(crate) fn apply(
    home: &Pm2Home,
    client: &mut Client,
    action: Action,
    words: &[String],
    flags: ActionFlags,
) -> Result<i32> {
    let update_env = flags.update_env;
    let code = apply_quietly(home, client, action, words, flags)?;
    if action == Action::Restart && !update_env {
        out::info("Use --update-env to update environment variables");
    }
    print_table(client)?;
    Ok(code)
}

/// Applies an action to targets and prints PM2's per-instance lines, not the table.
pub(crate) fn apply_quietly(
    home: &Pm2Home,
    client: &mut Client,
    action: Action,
    words: &[String],
    flags: ActionFlags,
) -> Result<i32> {
    let targets = super::words::targets(words)?;
    let mut env: Option<BTreeMap<String, String>> =
        flags.update_env.then(|| std::env::vars().collect());
    if let ([Target::Word { word, .. }], Action::Restart | Action::Reload) = (&targets[..], action)
    {
        // PM2 merges an app's settings (`pm2 set <app>.<key>`) when it is restarted by name.
        let settings = super::module_store::app_env(home, word);
        if !settings.is_empty() {
            env.get_or_insert_with(BTreeMap::new).extend(settings);
        }
    }
    let request = Request::Action(ActionRequest {
        action,
        targets,
        update_env: env,
        toggle_watch: flags.toggle_watch,
        patch: Box::new(flags.patch),
    });
    let outcomes = outcomes(expect(client, request)?)?;
    out::info(&format!(
        "Applying action {} on app [{}](ids: {})",
        action.pm2_method(),
        words.join(", "),
        ids_text(&outcomes)
    ));
    Ok(report(&outcomes))
}

/// `pm2 stop|restart|delete|reset <targets...>`.
pub(crate) fn action(
    home: &Pm2Home,
    action: Action,
    words: &[String],
    flags: ActionFlags,
) -> Result<i32> {
    let mut client = connect(home)?;
    apply(home, &mut client, action, words, flags)
}

/// `pm2 sendSignal <signal> <targets...>`.
pub(crate) fn send_signal(home: &Pm2Home, signal: &str, words: &[String]) -> Result<i32> {
    let mut client = connect(home)?;
    let targets = words.iter().map(|w| Target::parse(w)).collect();
    let request = Request::Signal(SignalRequest {
        signal: signal.to_string(),
        targets,
    });
    let outcomes = outcomes(expect(&mut client, request)?)?;
    for o in &outcomes {
        if o.error.is_none() {
            out::info(&format!(
                "successfully sent signal {signal} to process id {}",
                o.pm_id
            ));
        }
    }
    let failed: Vec<_> = outcomes.into_iter().filter(|o| o.error.is_some()).collect();
    Ok(report(&failed))
}

/// `pm2 kill`: stop every app, stop the daemon, and return once it is gone.
pub(crate) fn kill(home: &Pm2Home) -> Result<i32> {
    let Some(mut client) = client::try_connect(home)? else {
        out::info("PM2 daemon is not running");
        super::leftovers::stop_left_running(home)?;
        return Ok(0);
    };
    let daemon_pid = match expect(&mut client, Request::Ping)? {
        Response::Pong { pid, .. } => pid,
        _ => 0,
    };
    let outcomes = outcomes(expect(&mut client, Request::Kill)?)?;
    if !outcomes.is_empty() {
        out::info(&format!(
            "Applying action deleteProcessId on app [all](ids: {})",
            ids_text(&outcomes)
        ));
    }
    let code = report(&outcomes);
    out::info("[v] All Applications Stopped");
    wait_gone(daemon_pid, Duration::from_secs(10));
    out::info("[v] PM2 Daemon Stopped");
    Ok(code)
}

/// Waits until the daemon process has exited (so a following `pm2 start` spawns a new
/// one). A zombie counts as gone: it has released everything and only waits for its reaper.
fn wait_gone(pid: u32, timeout: Duration) {
    pm2_home::liveness::wait_gone(&[pid as i32], timeout);
}

/// `pm2 scale <app> <N|+N|-N>`.
pub(crate) fn scale(home: &Pm2Home, name: &str, count: &str) -> Result<i32> {
    let Some(change) = ScaleChange::parse(count) else {
        let why = format!("invalid instance count {count:?}: expected N, +N or -N");
        return Err(UsageError(why).into());
    };
    let mut client = connect(home)?;
    let request = Request::Scale(ScaleRequest {
        name: name.to_string(),
        change,
    });
    let outcomes = outcomes(expect(&mut client, request)?)?;
    out::info(&format!(
        "Scaling {name}: {} instance(s) changed",
        outcomes.len()
    ));
    let code = report(&outcomes);
    print_table(&mut client)?;
    Ok(code)
}

/// `pm2 trigger <target> <action> [param]`: prints each instance's answer.
pub(crate) fn trigger(
    home: &Pm2Home,
    target: &str,
    action: &str,
    param: Option<&str>,
) -> Result<i32> {
    let mut client = connect(home)?;
    let request = Request::Trigger(TriggerRequest {
        targets: vec![Target::parse(target)],
        action: action.to_string(),
        param: param.map(String::from),
    });
    let Response::TriggerReplies { replies } = expect(&mut client, request)? else {
        bail!("unexpected reply to trigger");
    };
    let mut code = 0;
    for r in replies {
        match (r.value, r.error) {
            (Some(v), _) => out::line(&format!("{}|{}|{action}: {v}", r.pm_id, r.name))?,
            (None, Some(e)) => {
                out::error(&format!("[{}]({}) {e}", r.name, r.pm_id));
                code = 1;
            }
            (None, None) => {}
        }
    }
    Ok(code)
}
