//! `save`, `resurrect`, `cleardump`.

use super::actions::report;
use super::connection::{connect, expect};
use super::views::{fetch_list, print_table};
use crate::out;
use anyhow::{bail, Context, Result};
use pm2_config::dump::{app_from_dump_entry, DumpedApp};
use pm2_home::Pm2Home;
use pm2_proto::{DumpPaths, Request, Response, StartRequest};
use std::path::{Path, PathBuf};

/// `pm2 save [--force]`.
pub(crate) fn save(home: &Pm2Home, force: bool) -> Result<i32> {
    let mut client = connect(home)?;
    out::info("Saving current process list...");
    let to = Some(dump_paths(home));
    match expect(&mut client, Request::Save { force, to })? {
        Response::Saved { path, .. } => {
            out::info(&format!("Successfully saved in {path}"));
            Ok(0)
        }
        other => bail!("unexpected reply to save: {other:?}"),
    }
}

/// Where this shell's environment puts the dump: the daemon writes there, so this shell's
/// `resurrect` reads what its `save` wrote (PM2 saves from the CLI).
fn dump_paths(home: &Pm2Home) -> DumpPaths {
    DumpPaths {
        dump: home.dump().to_string_lossy().into_owned(),
        backup: home.dump_backup().to_string_lossy().into_owned(),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// Reads a dump: a JSON array of pm2_env objects.
fn read_entries(path: &Path) -> Result<Vec<serde_json::Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Array(entries)) => Ok(entries),
        Ok(_) => Err(format!("{}: not a list of apps", path.display())),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The dump's entries, falling back to the backup when it is broken (the broken file is kept
/// aside, never deleted, so nothing is lost).
fn load_dump(home: &Pm2Home) -> Result<Vec<serde_json::Value>> {
    let path = home.dump();
    let bak = home.dump_backup();
    if !path.exists() && !bak.exists() {
        bail!("no dump file at {}: run `pm2 save` first", path.display());
    }
    match read_entries(&path) {
        Ok(entries) => Ok(entries),
        Err(why) => {
            if path.exists() {
                let stamp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let aside = with_suffix(&path, &format!(".broken-{stamp}"));
                let _ = std::fs::rename(&path, &aside);
                out::warn(&format!(
                    "{why}; kept it as {} and using {}",
                    aside.display(),
                    bak.display()
                ));
            }
            read_entries(&bak).map_err(|e| anyhow::anyhow!("no usable dump: {e}"))
        }
    }
}

/// `pm2 resurrect`: every app of the dump whose name does not run yet; stopped ones are
/// registered stopped. Entries that cannot be used are reported and skipped.
pub(crate) fn resurrect(home: &Pm2Home) -> Result<i32> {
    let entries = load_dump(home)?;
    out::info(&format!("Resurrecting from {}", home.dump().display()));
    let path_var = std::env::var("PATH").unwrap_or_default();
    let mut apps: Vec<DumpedApp> = Vec::new();
    let mut code = 0;
    for entry in &entries {
        match app_from_dump_entry(entry, &path_var) {
            Ok(app) => apps.push(app),
            Err(e) => {
                out::error(&e.to_string());
                code = 1;
            }
        }
    }
    let mut client = connect(home)?;
    let running: Vec<String> = fetch_list(&mut client)?
        .into_iter()
        .map(|p| p.spec.name)
        .collect();
    let specs: Vec<_> = apps
        .into_iter()
        .filter(|a| !running.contains(&a.spec.name))
        .map(|mut a| {
            a.spec.autostart = !a.stopped;
            a.spec
        })
        .collect();
    if !specs.is_empty() {
        // Apps with `depends_on` (pm2-rs's) come back after what they depend on.
        let send = |client: &mut crate::client::Client, apps| {
            let request = Request::Start(StartRequest { apps, force: true });
            let Response::Outcomes { outcomes } = expect(client, request)? else {
                bail!("unexpected reply to resurrect");
            };
            Ok(outcomes)
        };
        let (outcomes, left_out) = if specs.iter().any(|s| !s.depends_on.is_empty()) {
            super::depends::in_order(&mut client, specs, send)?
        } else {
            (send(&mut client, specs)?, 0)
        };
        let failed: Vec<_> = outcomes.into_iter().filter(|o| o.error.is_some()).collect();
        code = code.max(report(&failed)).max(i32::from(left_out > 0));
    }
    print_table(&mut client)?;
    Ok(code)
}

/// `pm2 cleardump`: an empty list, written atomically.
pub(crate) fn cleardump(home: &Pm2Home) -> Result<i32> {
    let path = home.dump();
    home.ensure().context("cannot create PM2_HOME")?;
    pm2_home::write_atomic(&path, b"[]")
        .with_context(|| format!("cannot write {}", path.display()))?;
    out::info(&format!("Dump file {} cleared", path.display()));
    Ok(0)
}

/// `pm2 update`: save the list, stop the old daemon (and its apps, gracefully), start a
/// daemon from this binary and resurrect; ids and names come back in dump order.
pub(crate) fn update(home: &Pm2Home) -> Result<i32> {
    out::info("Updating the in-memory daemon...");
    if let Some(mut client) = crate::client::connect_existing(home) {
        let to = Some(dump_paths(home));
        match client.request(Request::Save { force: true, to })? {
            Response::Saved { path, count } => out::info(&format!("Saved {count} apps to {path}")),
            Response::Error { message } => bail!("cannot save the list before updating: {message}"),
            _ => {}
        }
        super::actions::kill(home)?;
    }
    let code = resurrect(home)?;
    out::info(&format!(
        ">>>>>>>>>> PM2 updated (daemon {})",
        pm2_proto::VERSION
    ));
    Ok(code)
}
