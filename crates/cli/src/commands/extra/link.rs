//! `pm2 link <secret> <url> [name]`, `pm2 link` (its status) and `pm2 unlink`: this
//! daemon linked to a dashboard on another host. The link is stored in
//! `$PM2_HOME/agent.json5` (PM2 7's file and key names, mode 0600) and served by the agent
//! app `pm2-link` (the pm2 binary as `pm2 __plus-link`), supervised like any app; `pm2
//! link` waits for the agent's first verdict (`plus/link-status.json`): a refused secret
//! or name undoes the link (exit 1), an unreachable dashboard leaves the agent retrying
//! in the background (exit 0, as PM2 does). `pm2 unlink` removes the stored link and
//! deletes the agent (which, seeing the link gone, says goodbye, so the dashboard forgets
//! this host); `pm2 link stop` stops the agent only (the dashboard shows the host offline).
//! An `https://` dashboard is verified against the system's CAs and the optional `--ca
//! <pem>`; a certificate it does not trust is an error (exit 1) naming the fix, while
//! the agent keeps trying (the dashboard's certificate may be fixed there).

use super::own_app;
use crate::client::{try_connect, Client};
use crate::commands::connection::{connect, expect};
use crate::out;
use anyhow::Result;
use pm2_home::plus_link::{local_host_name, status_file, Link, AGENT_APP, AGENT_ARG};
use pm2_home::Pm2Home;
use pm2_proto::{Action, ProcessInfo};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long `pm2 link` waits for the agent's first verdict.
const VERDICT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often it looks.
const POLL: Duration = Duration::from_millis(50);
/// PM2's prefix for its PM2 Plus lines.
const IO_PREFIX: &str = "[PM2 I/O]";

fn say(text: &str) {
    let _ = out::line(&format!("{} {text}", out::paint(IO_PREFIX, "36")));
}

/// `pm2 link [secret|info|delete|stop|kill] [url] [name]`.
pub(super) fn link(
    home: &Pm2Home,
    secret: Option<&str>,
    url: Option<&str>,
    name: Option<&str>,
    ca: Option<&Path>,
) -> Result<i32> {
    match (secret, url) {
        (None, _) | (Some("info"), None) => status(home),
        (Some("delete"), None) => unlink(home),
        (Some("stop" | "kill"), None) => stop(home),
        (Some(secret), Some(url)) => link_to(home, secret, url, name, ca),
        (Some(other), None) => {
            out::error(&format!(
                "`pm2 link {other}` needs the dashboard's URL too: `pm2 link <secret> <url> \
                 [name]` (the command `pm2 plus` prints on the dashboard's host); nothing was done"
            ));
            Ok(1)
        }
    }
}

fn link_to(
    home: &Pm2Home,
    secret: &str,
    url: &str,
    name: Option<&str>,
    ca: Option<&Path>,
) -> Result<i32> {
    let link = match checked(secret, url, name, ca) {
        Ok(l) => l,
        Err(e) => {
            out::error(&format!("{e}; nothing was done (PM2 Plus link)"));
            return Ok(1);
        }
    };
    let mut client = connect(home)?;
    link.save(home)?;
    let _ = std::fs::remove_file(status_file(home));
    match own_app::find(&mut client, AGENT_APP)? {
        None => own_app::start(&mut client, home, AGENT_APP, AGENT_ARG)?,
        Some(_) => own_app::failed(
            expect(&mut client, own_app::action(Action::Restart, AGENT_APP))?,
            AGENT_APP,
        )?,
    }
    report(home, &mut client, &link)
}

/// The link `pm2 link`'s words make, checked (a relative `--ca` is taken from the
/// current directory).
fn checked(secret: &str, url: &str, name: Option<&str>, ca: Option<&Path>) -> Result<Link, String> {
    let host = name.map_or_else(local_host_name, str::to_string);
    let link = Link::new(secret, url, &host)?;
    match ca {
        Some(ca) => {
            let ca = std::env::current_dir().map_or(ca.to_path_buf(), |cwd| cwd.join(ca));
            link.with_ca(&ca)
        }
        None => Ok(link),
    }
}

/// Waits for the agent's first verdict and says it: linked (0), untrusted (1, the agent
/// keeps trying), refused (1, undone), or not reached yet (0, the agent keeps trying).
fn report(home: &Pm2Home, client: &mut Client, link: &Link) -> Result<i32> {
    let agent = own_app::find(client, AGENT_APP)?;
    match verdict(client) {
        Some((state, _)) if state == "connected" => {
            let id = agent.map(|a| a.pm_id.to_string()).unwrap_or_default();
            say(&format!(
                "Linked to {} as {} (agent {AGENT_APP}, id {id})",
                link.url, link.host
            ));
            Ok(0)
        }
        Some((state, why)) if state == "untrusted" => {
            out::error(&format!(
                "the dashboard at {} presented a certificate this host does not trust ({why}): \
                 the agent {AGENT_APP} keeps trying; if the dashboard's certificate is signed by \
                 a private CA, link again with `--ca <ca.pem>`",
                link.url
            ));
            Ok(1)
        }
        Some((state, why)) if state == "refused" => {
            let _ = expect(client, own_app::action(Action::Delete, AGENT_APP));
            let _ = Link::remove(home);
            out::error(&format!(
                "the dashboard at {} refused the link: {why}; nothing is linked",
                link.url
            ));
            Ok(1)
        }
        other => {
            let why = other
                .map(|(_, w)| w)
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| "no answer yet".into());
            out::warn(&format!(
                "cannot reach the dashboard at {} ({why}): the agent {AGENT_APP} keeps trying in \
                 the background (`pm2 link` shows how it goes, `pm2 logs {AGENT_APP}` why)",
                link.url
            ));
            Ok(0)
        }
    }
}

/// The agent's state and why, once its current process has tried (`None`: no verdict in time).
fn verdict(client: &mut Client) -> Option<(String, String)> {
    let deadline = Instant::now() + VERDICT_TIMEOUT;
    loop {
        let pid = own_app::find(client, AGENT_APP)
            .ok()
            .flatten()
            .and_then(|a| a.pid);
        let home = Pm2Home::from_env();
        if let (Some(pid), Some(s)) = (pid, read_status(&home)) {
            let state = s["state"].as_str().unwrap_or("").to_string();
            if s["pid"].as_u64() == Some(u64::from(pid)) && state != "connecting" {
                return Some((state, s["error"].as_str().unwrap_or("").to_string()));
            }
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

fn read_status(home: &Pm2Home) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(status_file(home)).ok()?).ok()
}

/// `pm2 link` / `pm2 link info`: the stored link and how its agent is doing; exit 1 when
/// nothing is linked (as PM2 7's `pm2 link` without a key).
fn status(home: &Pm2Home) -> Result<i32> {
    let link = match Link::load(home) {
        Ok(Some(l)) => l,
        Ok(None) => {
            say(
                "Not linked to a dashboard: `pm2 link <secret> <dashboard-url> [name]` links this \
                 daemon (`pm2 plus` on the dashboard's host prints the command)",
            );
            return Ok(1);
        }
        Err(e) => {
            out::error(&e);
            return Ok(1);
        }
    };
    let agent = match try_connect(home)? {
        Some(mut client) => own_app::find(&mut client, AGENT_APP)?,
        None => None,
    };
    say(&format!("Linked to {} as {}", link.url, link.host));
    let _ = out::line(&format!(
        "  agent: {}",
        describe(agent.as_ref(), read_status(home))
    ));
    Ok(0)
}

/// The agent's line: its app status and its connection.
fn describe(agent: Option<&ProcessInfo>, status: Option<Value>) -> String {
    let Some(agent) = agent else {
        return format!("{AGENT_APP} is not running (`pm2 link <secret> <url>` starts it again)");
    };
    let mut text = format!("{AGENT_APP} (id {}) {}", agent.pm_id, agent.status.as_str());
    if let Some(s) = status.filter(|s| s["pid"].as_u64() == agent.pid.map(u64::from)) {
        text.push_str(&format!(", {}", s["state"].as_str().unwrap_or("?")));
        if let Some(e) = s["error"].as_str() {
            text.push_str(&format!(": {e}"));
        }
    }
    text
}

/// `pm2 unlink` / `pm2 link delete`: the agent deleted, the link removed.
pub(super) fn unlink(home: &Pm2Home) -> Result<i32> {
    let link = Link::load(home).ok().flatten();
    // First the stored link: the agent, seeing it gone as it stops, says goodbye.
    let removed = Link::remove(home)?;
    let mut deleted = false;
    if let Some(mut client) = try_connect(home)? {
        if own_app::find(&mut client, AGENT_APP)?.is_some() {
            expect(&mut client, own_app::action(Action::Delete, AGENT_APP))?;
            deleted = true;
        }
    }
    let _ = std::fs::remove_file(status_file(home));
    match (link, removed || deleted) {
        (Some(l), _) => say(&format!(
            "Unlinked from {} ({} is gone from it)",
            l.url, l.host
        )),
        (None, true) => say("Unlinked"),
        (None, false) => say("Not linked to a dashboard: nothing to undo"),
    }
    Ok(0)
}

/// `pm2 link stop|kill`: the agent stopped, the link kept (`pm2 link <secret> <url>` or
/// `pm2 restart pm2-link` starts it again).
fn stop(home: &Pm2Home) -> Result<i32> {
    let Some(mut client) = try_connect(home)? else {
        say("The agent is not running");
        return Ok(0);
    };
    if own_app::find(&mut client, AGENT_APP)?.is_none() {
        say("The agent is not running");
        return Ok(0);
    }
    expect(&mut client, own_app::action(Action::Stop, AGENT_APP))?;
    say(&format!(
        "Agent {AGENT_APP} stopped (the link is kept: `pm2 restart {AGENT_APP}` resumes it)"
    ));
    Ok(0)
}
