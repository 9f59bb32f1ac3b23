//! `pm2 module:generate [name]`: a sample module in a new folder of the current one, as
//! PM2 7 makes one, but written from the binary rather than cloned from GitHub through a
//! shell (PM2 pastes the name into `git clone …; sed …` command strings): package.json with
//! PM2's module fields (`config` defaults, `apps`), an `app.js` that reads its settings,
//! exposes a metric and an action through `@pm2/io`, then `npm install` of that one
//! dependency. The folder is ready for `pm2 install .`.

use crate::out;
use anyhow::{bail, Context, Result};
use serde_json::json;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

/// The sample's entry point.
const APP_JS: &str = include_str!("module_sample/app.js");

/// The `@pm2/io` range the sample depends on (its API as the sample uses it).
const PM2_IO_RANGE: &str = "^6.1.0";

/// `pm2 module:generate [name]`: asks for the name on a terminal when it is not given.
pub(crate) fn generate(name: Option<&str>) -> Result<i32> {
    let name = match name {
        Some(n) => n.to_string(),
        None => ask_name()?,
    };
    check_name(&name)?;
    let folder = std::env::current_dir()
        .context("cannot read the current folder")?
        .join(&name);
    write_files(&folder, &name)?;
    out::info("[Module] Getting the module's dependency (@pm2/io)");
    let installed = super::npm::install_dependencies(&folder);
    out::info(&format!(
        "[Module] Module sample created in folder: {}",
        folder.display()
    ));
    if let Err(e) = &installed {
        out::error(&format!(
            "[Module] {e:#}: run npm install in {} before starting it",
            folder.display()
        ));
    }
    print_next_steps(&name);
    Ok(if installed.is_ok() { 0 } else { 1 })
}

/// Reads the module's name from the terminal (PM2 asks too); not on a terminal, the
/// name must be given.
fn ask_name() -> Result<String> {
    if !std::io::stdin().is_terminal() {
        bail!("give the module's name: pm2 module:generate <name>");
    }
    print!("Module name: ");
    std::io::stdout().flush().ok();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the module's name")?;
    Ok(line.trim().to_string())
}

/// A new folder's name and an npm package name at once: lowercase letters, digits, `-`,
/// `_` and `.`, not starting with `.` or `_`.
fn check_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 214
        && !name.starts_with(['.', '_'])
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
    if !valid {
        bail!("{name:?} cannot name a module: use lowercase letters, digits, '-', '_' or '.' (an npm package name), e.g. my-module");
    }
    Ok(())
}

/// Creates `folder` (which must not exist) with package.json, app.js and README.md.
fn write_files(folder: &Path, name: &str) -> Result<()> {
    std::fs::create_dir(folder).with_context(|| {
        format!(
            "cannot create {} (a module folder must be new)",
            folder.display()
        )
    })?;
    let package = json!({
        "name": name,
        "version": "1.0.0",
        "description": "A PM2 module",
        "main": "app.js",
        "dependencies": { "@pm2/io": PM2_IO_RANGE },
        "config": { "greeting": "hello", "interval_ms": 1000 },
        "apps": [{ "script": "app.js", "merge_logs": true, "max_memory_restart": "200M" }],
        "license": "MIT"
    });
    let mut text = serde_json::to_string_pretty(&package).context("package.json")?;
    text.push('\n');
    let write = |file: &str, body: &str| {
        let path = folder.join(file);
        std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))
    };
    write("package.json", &text)?;
    write("app.js", APP_JS)?;
    write("README.md", &readme(name))
}

fn readme(name: &str) -> String {
    format!(
        "# {name}\n\nA PM2 module. Settings are package.json `config`, changed with\n\
         `pm2 set {name}:greeting bonjour`.\n\n```sh\npm2 install .      # from this folder, restarted on every edit\n\
         pm2 logs {name}\npm2 trigger {name} greet\npm2 uninstall {name}\n```\n"
    )
}

fn print_next_steps(name: &str) {
    for line in [
        String::new(),
        "Start module in development mode:".to_string(),
        format!("$ cd {name}/"),
        "$ pm2 install . ".to_string(),
        String::new(),
        "Module Log: ".to_string(),
        format!("$ pm2 logs {name}"),
        String::new(),
        "Uninstall module: ".to_string(),
        format!("$ pm2 uninstall {name}"),
        String::new(),
        "Force restart: ".to_string(),
        format!("$ pm2 restart {name}"),
    ] {
        out::info(&line);
    }
}
