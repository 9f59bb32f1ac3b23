//! `pm2 export <systemd|k8s|compose> [file]`: the apps of an ecosystem file, or those this
//! daemon runs, written by `pm2-export` for another engine, printed or into a folder.
//!
//! From a file, an app carries only the env the file gives it (not this shell's, which
//! PM2 would merge in at start). From the daemon, it carries the env it runs with, minus
//! the starting shell's session variables (terminal, ssh, desktop, PM2's own).

use super::caller::context;
use super::connection::expect;
use super::ecosystem::options;
use crate::args::ExportArgs;
use crate::out;
use anyhow::{bail, Context, Result};
use pm2_export::{ExportedFile, Target};
use pm2_home::Pm2Home;
use pm2_proto::{AppSpec, Request, Response};
use std::collections::BTreeMap;
use std::path::Path;

/// Variables of an interactive session, never part of what an app needs elsewhere.
const SESSION_VARS: &[&str] = &[
    "_",
    "PWD",
    "OLDPWD",
    "SHLVL",
    "TERM",
    "COLORTERM",
    "LS_COLORS",
    "DISPLAY",
    "MAIL",
    "SHELL",
    "LOGNAME",
    "USER",
    "HOME",
    "HOSTNAME",
    "LINES",
    "COLUMNS",
    "TMUX",
    "TMUX_PANE",
    "SSH_AUTH_SOCK",
    "SSH_CLIENT",
    "SSH_CONNECTION",
    "SSH_TTY",
    "WINDOWID",
    "LESSOPEN",
    "LESSCLOSE",
    "EDITOR",
    "PAGER",
    "PS1",
    "HISTFILE",
    "HISTSIZE",
];

/// Prefixes of session or PM2 variables, left out likewise.
const SESSION_PREFIXES: &[&str] = &[
    "XDG_", "DBUS_", "PM2_", "GPG_", "TERM_", "VSCODE_", "CARGO_",
];

/// `pm2 export`.
pub(crate) fn export(home: &Pm2Home, args: &ExportArgs) -> Result<i32> {
    let Some(target) = Target::parse(&args.target) else {
        bail!(
            "unknown export target {:?} (systemd, k8s or compose)",
            args.target
        );
    };
    let (apps, source) = match &args.file {
        Some(file) => match from_file(file, args)? {
            Some(apps) => (apps, file.clone()),
            None => return Ok(1),
        },
        None => (from_daemon(home)?, "the apps this daemon runs".to_string()),
    };
    if apps.is_empty() {
        bail!("no app to export (start some, or give an ecosystem file)");
    }
    let files = pm2_export::export(target, &apps, &source);
    match &args.output {
        Some(dir) => write_files(Path::new(dir), &files)?,
        None => print_files(&files)?,
    }
    Ok(0)
}

/// The file's apps with the env it gives them; `None` after printing its errors.
fn from_file(file: &str, args: &ExportArgs) -> Result<Option<Vec<AppSpec>>> {
    let mut ctx = context()?;
    let path = ctx.env.get("PATH").cloned();
    ctx.env = path
        .iter()
        .map(|p| ("PATH".to_string(), p.clone()))
        .collect();
    let opts = options(args.env.as_deref(), args.only.as_deref());
    let eco = match pm2_config::load_ecosystem(file, &opts, &ctx) {
        Ok(eco) => eco,
        Err(errors) => {
            for e in errors {
                out::error(&e.to_string());
            }
            return Ok(None);
        }
    };
    for w in &eco.warnings {
        out::warn(w);
    }
    let mut apps = eco.apps;
    for app in &mut apps {
        if app.env.get("PATH") == path.as_ref() {
            app.env.remove("PATH");
        }
    }
    Ok(Some(apps))
}

/// One spec per app this daemon runs (modules left out), its `instances` the number of
/// instances running now, its env without the session variables.
fn from_daemon(home: &Pm2Home) -> Result<Vec<AppSpec>> {
    let Some(mut client) = crate::client::connect_existing(home) else {
        bail!(
            "no pm2 daemon runs for {}: start the apps, or give an ecosystem file",
            home.root().display()
        );
    };
    let Response::List { processes } = expect(&mut client, Request::List)? else {
        bail!("unexpected reply to the process list");
    };
    let mut apps: BTreeMap<String, AppSpec> = BTreeMap::new();
    for p in processes.into_iter().filter(|p| !p.spec.pmx_module) {
        match apps.get_mut(&p.spec.name) {
            Some(app) => app.instances = app.instances.max(1) + 1,
            None => {
                let mut spec = p.spec;
                spec.instances = 1;
                let name = spec.name.clone();
                spec.env.retain(|k, v| keeps(&name, k, v));
                apps.insert(spec.name.clone(), spec);
            }
        }
    }
    Ok(apps.into_values().collect())
}

/// Whether the exported env keeps `key`: not a session variable, nor the `<name>: "{}"`
/// entry PM2 adds for the app's own (empty) settings.
fn keeps(app: &str, key: &str, value: &str) -> bool {
    let empty_settings = key == app && value == "{}";
    !is_session_var(key) && !empty_settings
}

fn is_session_var(name: &str) -> bool {
    SESSION_VARS.contains(&name) || SESSION_PREFIXES.iter().any(|p| name.starts_with(p))
}

fn write_files(dir: &Path, files: &[ExportedFile]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for file in files {
        let path = dir.join(&file.name);
        pm2_home::write_atomic(&path, file.text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        out::info(&format!("Wrote {}", path.display()));
    }
    Ok(())
}

fn print_files(files: &[ExportedFile]) -> Result<()> {
    let many = files.len() > 1;
    for file in files {
        if many {
            out::line(&format!("# ---- {}", file.name))?;
        }
        out::line(file.text.trim_end())?;
    }
    Ok(())
}
