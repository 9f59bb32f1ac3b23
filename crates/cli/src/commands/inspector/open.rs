//! `pm2 inspect <app|id>`: opens each selected instance's inspector and prints where.

use super::super::connection::{connect, expect};
use super::select::{instances, label};
use crate::out;
use anyhow::Result;
use pm2_home::Pm2Home;
use pm2_inspector::{Inspector, Waits};
use pm2_proto::{ProcessInfo, Request, Response, SignalRequest, Target};
use std::path::Path;

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

/// Why an inspector could not be opened, with Node's own words when its error log has
/// them (`Starting inspector on 127.0.0.1:9229 failed: address already in use`), the app
/// of this daemon whose inspector holds that port, and what to do.
pub(super) fn open_failure(
    p: &ProcessInfo,
    e: &pm2_inspector::Error,
    everyone: &[ProcessInfo],
) -> String {
    let mut text = format!("cannot open the inspector of {}: {e}", label(p));
    if let pm2_inspector::Error::NotOpened { .. } = e {
        if let Some(line) = node_says(Path::new(&p.paths.err)) {
            text.push_str(&format!("; Node said: \"{line}\""));
            if let Some(holder) = failed_port(&line).and_then(|port| holder_of(port, p, everyone)) {
                text.push_str(&format!(
                    " (the inspector of {} holds that port)",
                    label(holder)
                ));
            }
        }
        text.push_str(&format!(
            ". Give the app an inspector port of its own: pm2 restart {} \
             --node-args=\"--inspect-port=<port>\"",
            p.spec.name
        ));
    }
    text
}

/// The port of Node's "Starting inspector on 127.0.0.1:9229 failed: ..." line.
fn failed_port(line: &str) -> Option<u16> {
    let addr = line
        .strip_prefix("Starting inspector on ")?
        .split(" failed")
        .next()?;
    addr.rsplit(':').next()?.parse().ok()
}

/// The other running instance of this daemon that listens on `port`, if one does.
fn holder_of<'a>(
    port: u16,
    p: &ProcessInfo,
    everyone: &'a [ProcessInfo],
) -> Option<&'a ProcessInfo> {
    everyone.iter().filter(|q| q.pm_id != p.pm_id).find(|q| {
        q.pid.is_some_and(|pid| {
            pm2_inspector::listeners::listening(pid)
                .is_ok_and(|ls| ls.iter().any(|l| l.addr.port() == port))
        })
    })
}

/// The last "Starting inspector on ... failed" line of the end of an error log.
fn node_says(log: &Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(log).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL)))
        .ok()?;
    let mut tail = Vec::new();
    file.take(LOG_TAIL).read_to_end(&mut tail).ok()?;
    String::from_utf8_lossy(&tail)
        .lines()
        .rev()
        .find_map(|l| Some(l[l.find("Starting inspector on")?..].trim_end().to_string()))
}

/// How much of the end of the error log is read for Node's inspector message.
const LOG_TAIL: u64 = 8192;

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
        "The inspector of {} stays open on {} (loopback only): Node closes it only from \
         the app's own code; restart the app to close it",
        label(p),
        inspector.addr
    )
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

#[cfg(test)]
mod tests {
    use super::failed_port;

    #[test]
    fn the_port_node_could_not_take_is_read_from_its_line() {
        let line = "Starting inspector on 127.0.0.1:9229 failed: address already in use";
        assert_eq!(failed_port(line), Some(9229));
        assert_eq!(
            failed_port("Starting inspector on [::1]:4000 failed: x"),
            Some(4000)
        );
        assert_eq!(
            failed_port("Debugger listening on ws://127.0.0.1:9229/x"),
            None
        );
    }
}
