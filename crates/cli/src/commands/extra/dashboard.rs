//! `pm2 plus` and `pm2 plus stop`: the self-hosted dashboard as a supervised app named
//! `pm2-plus` (the pm2 binary run as `pm2 __plus`, interpreter none). `pm2 plus` starts it
//! when it does not run (or restarts it when it listens elsewhere than `pm2 set
//! pm2-plus:host|port|tls_cert` now say), waits until it listens, and prints its URL with a
//! one-time login link, and the `pm2 link` command other hosts run to join it (its link
//! secret, `--rotate-link-secret` makes a new one); `pm2 plus stop` deletes the app. The
//! CLI never runs the server.

use super::own_app;
use crate::client::{try_connect, Client};
use crate::commands::connection::{connect, expect};
use crate::out;
use anyhow::{anyhow, bail, Context, Result};
use pm2_home::plus::{Bind, PlusFiles, APP_NAME, LOGIN_TOKEN_TTL_MS, MODE_ARG};
use pm2_home::Pm2Home;
use pm2_proto::{Action, ProcessInfo, Request};
use std::time::{Duration, Instant};

/// How long the dashboard gets to bind its address.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);
/// How often `pm2 plus` looks whether it listens yet.
const LISTEN_POLL: Duration = Duration::from_millis(50);

/// `pm2 plus` (and `pm2 open`, which then opens the login link in a browser): exit 1,
/// starting nothing, when the address is unsafe or the settings bad.
pub(super) fn start(home: &Pm2Home, open_browser: bool, rotate_link_secret: bool) -> Result<i32> {
    let files = PlusFiles::of(home);
    let bind = match Bind::from_conf(home) {
        Ok(b) => b,
        Err(e) => {
            out::error(&e);
            return Ok(1);
        }
    };
    if let Some(why) = bind.refusal(&files) {
        out::error(&why);
        return Ok(1);
    }
    if let Err(e) = pm2_home::plus_alerts::AlertSettings::load(home) {
        out::error(&format!("{e} (alerts: see `pm2 plus` in the README)"));
        return Ok(1);
    }
    let tls = match super::dashboard_tls::check(home)? {
        Ok(tls) => tls,
        Err(e) => {
            out::error(&format!("{e} (TLS: see `pm2 plus` in the README)"));
            return Ok(1);
        }
    };
    let token_path = files.api_token();
    files
        .ensure_api_token()
        .with_context(|| format!("cannot write {}", token_path.display()))?;
    let link_secret = link_secret(&files, rotate_link_secret)?;
    let mut client = connect(home)?;
    let app = ensure_running(home, &mut client, &files, &bind, tls)?;
    let url = wait_listening(&mut client, &files, &app)?;
    let login = files
        .issue_login_token(pm2_home::now_ms())
        .with_context(|| format!("cannot write {}", files.login_token().display()))?;
    let link = format!("{url}/login?token={login}");
    out::info(&format!(
        "PM2 Plus dashboard: {url} (app {APP_NAME}, id {})",
        app.pm_id
    ));
    out::info(&format!(
        "Log in (the link works once, for {} minutes): {link}",
        LOGIN_TOKEN_TTL_MS / 60_000
    ));
    out::info(&format!(
        "API token for scripts (Authorization: Bearer): {}",
        token_path.display()
    ));
    link_line(&link_secret, &url, &bind);
    if open_browser {
        super::opener::open(&link);
    }
    Ok(0)
}

/// The dashboard's link secret (a new one when asked to rotate it).
fn link_secret(files: &PlusFiles, rotate: bool) -> Result<String> {
    use pm2_home::plus_link::{ensure_secret, rotate_secret, secret_file};
    let secret = if rotate {
        rotate_secret(files)
    } else {
        ensure_secret(files)
    };
    secret.with_context(|| format!("cannot write {}", secret_file(files).display()))
}

/// The command another host runs to link to this dashboard.
fn link_line(secret: &str, url: &str, bind: &Bind) {
    let reach = if bind.is_loopback() {
        " (it listens on this machine only: `pm2 set pm2-plus:host` and a password open it)"
    } else {
        ""
    };
    out::info(&format!(
        "Link another host to this dashboard: pm2 link {secret} {url} [name]{reach}"
    ));
}

/// `pm2 plus stop`: deletes the app; exit 0 when it was not running.
pub(super) fn stop(home: &Pm2Home) -> Result<i32> {
    let files = PlusFiles::of(home);
    let running = match try_connect(home)? {
        Some(mut client) => find(&mut client)?.is_some().then_some(client),
        None => None,
    };
    let Some(mut client) = running else {
        out::info("PM2 Plus dashboard is not running: nothing to stop");
        return Ok(0);
    };
    expect(&mut client, action(Action::Delete))?;
    // Neither the address nor a login link outlive the server.
    let _ = std::fs::remove_file(files.listening());
    let _ = std::fs::remove_file(files.login_token());
    out::info("PM2 Plus dashboard stopped");
    Ok(0)
}

/// The dashboard's instance, started (or restarted) when needed.
fn ensure_running(
    home: &Pm2Home,
    client: &mut Client,
    files: &PlusFiles,
    bind: &Bind,
    tls: bool,
) -> Result<ProcessInfo> {
    match find(client)? {
        None => own_app::start(client, home, APP_NAME, MODE_ARG)?,
        Some(app) if !app.status.is_running() || listens_elsewhere(files, bind, tls) => {
            own_app::failed(expect(client, action(Action::Restart))?, APP_NAME)?;
        }
        Some(app) => return Ok(app),
    }
    find(client)?.ok_or_else(|| anyhow!("the daemon did not register {APP_NAME}"))
}

fn action(action: Action) -> Request {
    own_app::action(action, APP_NAME)
}

/// The dashboard's first instance, if registered.
fn find(client: &mut Client) -> Result<Option<ProcessInfo>> {
    own_app::find(client, APP_NAME)
}

/// What `listening.json` says: the pid that wrote it and its URL.
fn listening(files: &PlusFiles) -> Option<(u32, String)> {
    let text = std::fs::read_to_string(files.listening()).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let pid = u32::try_from(v.get("pid")?.as_u64()?).ok()?;
    Some((pid, v.get("url")?.as_str()?.to_string()))
}

/// Whether the running dashboard was started with another address than the settings'.
fn listens_elsewhere(files: &PlusFiles, bind: &Bind, tls: bool) -> bool {
    listening(files).is_some_and(|(_, url)| url != bind.url(tls))
}

/// Waits until the dashboard's current process says it listens; its URL.
fn wait_listening(client: &mut Client, files: &PlusFiles, app: &ProcessInfo) -> Result<String> {
    let deadline = Instant::now() + LISTEN_TIMEOUT;
    loop {
        let pid = find(client)?.and_then(|p| p.pid);
        if let (Some(pid), Some((wrote, url))) = (pid, listening(files)) {
            if pid == wrote {
                return Ok(url);
            }
        }
        if Instant::now() >= deadline {
            bail!(
                "the dashboard did not start listening within {LISTEN_TIMEOUT:?}; its errors are \
                 in {} (`pm2 logs {APP_NAME}`){}",
                app.paths.err,
                last_lines(&app.paths.err)
            );
        }
        std::thread::sleep(LISTEN_POLL);
    }
}

/// The last lines of a log file, indented, for an error message.
fn last_lines(path: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(5).collect();
    lines.iter().rev().map(|l| format!("\n  {l}")).collect()
}
