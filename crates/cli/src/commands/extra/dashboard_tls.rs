//! `pm2 plus`'s check of the TLS settings before it starts anything: a half setting (a
//! certificate without its key) is refused here, and the files themselves (readable, PEM,
//! a key that is the certificate's, a usable webhook CA) by running this binary as `pm2
//! __plus --check`, the dashboard's own loading code, so the CLI links no TLS library and
//! the two can never disagree about what is valid.

use anyhow::{Context, Result};
use pm2_home::plus::MODE_ARG;
use pm2_home::plus_tls::TlsSettings;
use pm2_home::Pm2Home;
use std::process::{Command, Stdio};

/// The argument `pm2 __plus` takes to only check its settings (`pm2_plus::CHECK_ARG`).
const CHECK_ARG: &str = "--check";
/// The prefix of the dashboard's fatal errors, dropped when the CLI repeats one.
const FATAL_PREFIX: &str = "pm2 plus: ";

/// Whether the dashboard will serve HTTPS; `Err(message)` when a TLS setting is bad (the
/// message names the setting and its file).
pub(super) fn check(home: &Pm2Home) -> Result<std::result::Result<bool, String>> {
    let tls = match TlsSettings::from_conf(home) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    if tls.server.is_none() && tls.webhook_ca.is_none() {
        return Ok(Ok(false));
    }
    let exe = std::env::current_exe().context("cannot find the pm2 executable")?;
    let out = Command::new(&exe)
        .args([MODE_ARG, CHECK_ARG])
        .env("PM2_HOME", home.root())
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {} {MODE_ARG} {CHECK_ARG}", exe.display()))?;
    if out.status.success() {
        return Ok(Ok(tls.server.is_some()));
    }
    let text = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.strip_prefix(FATAL_PREFIX).unwrap_or(l))
        .filter(|l| !l.trim().is_empty())
        .collect();
    Ok(Err(if lines.is_empty() {
        format!("the TLS settings were refused ({})", out.status)
    } else {
        lines.join("\n")
    }))
}
