//! `pm2 inspect <app|id>`: opens each selected instance's inspector and prints where.

use super::super::connection::{connect, expect};
use super::failure::open_failure;
use super::select::{instances, label};
use crate::out;
use anyhow::Result;
use pm2_home::Pm2Home;
use pm2_inspector::{Inspector, Waits};
use pm2_proto::{ProcessInfo, Request, Response, SignalRequest, Target};

/// Opens the inspector of every instance `word` names; exit 1 if any could not be.
pub(super) fn inspect(home: &Pm2Home, word: &str) -> Result<i32> {
    let selection = instances(home, word)?;
    let mut failed = selection.refused;
    for (p, pid) in &selection.ready {
        match open(home, p, *pid) {
            Ok(inspector) => print_urls(p, *pid, &inspector)?,
            Err(e) => {
                out::error(&open_failure(p, &e, &selection.everyone));
                failed = true;
            }
        }
    }
    Ok(i32::from(failed))
}

/// The open inspector of instance `p` (running as `pid`), opened if it was not.
pub(super) fn open(
    home: &Pm2Home,
    p: &ProcessInfo,
    pid: u32,
) -> Result<Inspector, pm2_inspector::Error> {
    pm2_inspector::activate(pid, || sigusr1(home, p.pm_id), Waits::default())
}

/// Asks the daemon to send SIGUSR1 to instance `pm_id` (its process, not its tree: a
/// child Node process would open an inspector of its own).
fn sigusr1(home: &Pm2Home, pm_id: u32) -> Result<(), String> {
    let request = Request::Signal(SignalRequest {
        signal: "SIGUSR1".to_string(),
        targets: vec![Target::Id(pm_id)],
    });
    let reply = connect(home)
        .and_then(|mut client| expect(&mut client, request))
        .map_err(|e| format!("{e:#}"))?;
    match reply {
        Response::Outcomes { outcomes } => match outcomes.into_iter().find_map(|o| o.error) {
            Some(error) => Err(error),
            None => Ok(()),
        },
        other => Err(format!("unexpected reply to sendSignal: {other:?}")),
    }
}

/// The inspector's place, for the lines that tell the user it stays open.
pub(super) fn still_open_note(p: &ProcessInfo, inspector: &Inspector) -> String {
    format!(
        "The inspector of {} stays open on {} ({}): Node closes it only from the app's own \
         code; restart the app to close it",
        label(p),
        inspector.bound,
        reach(inspector)
    )
}

/// Who can reach it: loopback only, unless the app's own flags bound it wider.
fn reach(inspector: &Inspector) -> &'static str {
    if inspector.bound.ip().is_loopback() {
        "loopback only"
    } else {
        "bound by the app's own flags, reachable from other hosts"
    }
}

fn print_urls(p: &ProcessInfo, pid: u32, inspector: &Inspector) -> Result<()> {
    let how = if inspector.was_open {
        "was already open"
    } else {
        "is open"
    };
    out::info(&format!(
        "Inspect enabled on {} (id {}, pid {pid}): its inspector {how} on {}, loopback only, \
         until the app restarts",
        p.spec.name, p.pm_id, inspector.addr
    ));
    out::line(&format!(
        "{} ({}) webSocketDebuggerUrl: {}",
        p.spec.name, p.pm_id, inspector.target.web_socket_debugger_url
    ))?;
    out::line(&format!(
        "{} ({}) devtools: {}",
        p.spec.name, p.pm_id, inspector.target.devtools_frontend_url
    ))?;
    Ok(())
}
