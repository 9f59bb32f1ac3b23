//! `install`, `uninstall`, `set`, `multiset`, `unset`, `get`, `conf`: module and app
//! settings in `module_conf.json`. `pm2 install pm2-logrotate` turns on the built-in
//! rotation; any other name, `pm2-logrotate@<version>`, a folder or a tarball is an npm
//! module (`npm_module.rs`). Any app's settings (`pm2 set api.port 3000`) reach its
//! environment.

use super::module_store::{app_env, load, store};
use crate::{client, out};
use anyhow::{bail, Result};
use pm2_home::logrotate::{LOGROTATE, LOGROTATE_DEFAULTS};
use pm2_home::plus_alerts::{self, AlertSettings};
use pm2_home::{module_conf, Pm2Home};
use pm2_proto::{Action, ActionRequest, Request, ResolveRequest, Response, Target};
use serde_json::Value;
use std::collections::BTreeMap;

/// Whether `module` names the built-in pm2-logrotate: the bare name, with no version, and
/// no npm pm2-logrotate installed (then the npm one is what `uninstall` removes).
fn is_builtin(home: &Pm2Home, module: &str) -> bool {
    module == LOGROTATE
        && !home
            .module_package(LOGROTATE)
            .join("package.json")
            .is_file()
}

/// `pm2 install <module>`: `pm2-logrotate` turns built-in rotation on with its default
/// settings; anything else is installed from npm.
pub(crate) fn install(home: &Pm2Home, module: &str) -> Result<i32> {
    if !is_builtin(home, module) {
        return super::npm_module::install(home, module);
    }
    let mut conf = load(home)?;
    module_conf::install(&mut conf, module, LOGROTATE_DEFAULTS);
    store(home, &conf)?;
    out::info(&format!("Module {module} enabled (built in)"));
    Ok(0)
}

/// `pm2 uninstall <module>`: the built-in pm2-logrotate, else an npm module.
pub(crate) fn uninstall(home: &Pm2Home, module: &str) -> Result<i32> {
    if !is_builtin(home, module) {
        if !super::npm_module::is_installed(home, module)? {
            bail!("module {module} is not installed (pm2 conf lists the installed ones)");
        }
        return super::npm_module::uninstall(home, module);
    }
    let mut conf = load(home)?;
    if !module_conf::uninstall(&mut conf, module) {
        bail!("module {module} is not installed");
    }
    store(home, &conf)?;
    out::info(&format!("Module {module} disabled"));
    Ok(0)
}

/// `pm2 set <key> <value>`; without arguments prints everything. A key of two levels or
/// more (`app.port`) names an app by its first part: a registered app of that name is
/// restarted with its environment updated and its settings in it, as PM2 does.
pub(crate) fn set(home: &Pm2Home, key: Option<&str>, value: Option<&str>) -> Result<i32> {
    let (Some(key), Some(value)) = (key, value) else {
        return get(home, key);
    };
    let mut conf = load(home)?;
    module_conf::set(&mut conf, key, value);
    store(home, &conf)?;
    out::info(&format!("Module value set: {key} = {value}"));
    restart_app_of(home, key)?;
    Ok(0)
}

/// `pm2 multiset "k1 v1 k2 v2"`: each pair as `set` (a key without a value is removed, as
/// PM2's set of `undefined` does); the app of the first key is restarted once.
pub(crate) fn multiset(home: &Pm2Home, serial: &str) -> Result<i32> {
    let words = serial_words(serial);
    let mut conf = load(home)?;
    for pair in words.chunks(2) {
        match pair {
            [key, value] => module_conf::set(&mut conf, key, value),
            [key] => module_conf::unset(&mut conf, key),
            _ => {}
        }
    }
    store(home, &conf)?;
    for pair in words.chunks(2) {
        out::info(&format!("Module value set: {}", pair.join(" = ")));
    }
    if let Some(first) = words.first() {
        restart_app_of(home, first)?;
    }
    Ok(0)
}

/// PM2's split of a multiset string: runs of non-spaces, where `"..."` (quotes kept) may
/// hold spaces.
fn serial_words(serial: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in serial.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                word.push(c);
            }
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// After `set app.key`: restarts the apps named `app` (if a daemon runs and has one) with
/// the CLI's environment and the app's settings. Like PM2, no such app is no error.
fn restart_app_of(home: &Pm2Home, key: &str) -> Result<()> {
    let parts = module_conf::split_key(key);
    let [app, setting, ..] = parts.as_slice() else {
        return Ok(());
    };
    if plus_alerts::is_live_key(key) {
        // The dashboard re-reads its alert settings when the file changes: a restart
        // would only cost it its live streams and its alert state.
        let check = AlertSettings::default().apply(setting, &module_conf_value(home, key));
        match check {
            Ok(()) => out::info(&format!("{app} applies {key} without a restart")),
            Err(e) => out::warn(&format!("{e}: a running {app} keeps its alert settings")),
        }
        return Ok(());
    }
    let Some(mut client) = client::connect_existing(home) else {
        return Ok(());
    };
    let targets = vec![Target::Name(app.clone())];
    let found = matches!(
        client.request(Request::Resolve(ResolveRequest { targets: targets.clone() }))?,
        Response::Ids { ids } if !ids.is_empty()
    );
    if !found {
        return Ok(());
    }
    let mut env: BTreeMap<String, String> = std::env::vars().collect();
    env.extend(app_env(home, app));
    let request = Request::Action(ActionRequest {
        action: Action::Restart,
        targets,
        update_env: Some(env),
        toggle_watch: false,
        patch: Box::default(),
    });
    match client.request(request)? {
        Response::Outcomes { outcomes } if outcomes.iter().all(|o| o.error.is_none()) => {
            out::info(&format!("Module {app} restarted"));
        }
        Response::Outcomes { outcomes } => {
            for o in outcomes.iter().filter(|o| o.error.is_some()) {
                out::error(&format!(
                    "[{}]({}) {}",
                    o.name,
                    o.pm_id,
                    o.error.as_deref().unwrap_or("")
                ));
            }
        }
        Response::Error { message } => out::error(&message),
        other => bail!("unexpected reply to a restart: {other:?}"),
    }
    Ok(())
}

/// The text `key` holds now in `module_conf.json` (empty when absent).
fn module_conf_value(home: &Pm2Home, key: &str) -> String {
    let conf = module_conf::load(home).unwrap_or_default();
    match module_conf::get(&conf, key) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// `pm2 unset <key>`: an absent key is no error; `all` removes every setting.
pub(crate) fn unset(home: &Pm2Home, key: &str) -> Result<i32> {
    let mut conf = load(home)?;
    module_conf::unset(&mut conf, key);
    store(home, &conf)?;
    out::info(&format!("Module value unset: {key}"));
    Ok(0)
}

/// `pm2 get [key]`.
pub(crate) fn get(home: &Pm2Home, key: Option<&str>) -> Result<i32> {
    let conf = load(home)?;
    let Some(key) = key.filter(|k| *k != "all") else {
        out::line(&serde_json::to_string_pretty(&conf)?)?;
        return Ok(0);
    };
    match module_conf::get(&conf, key) {
        Some(Value::String(s)) => out::line(s)?,
        Some(v) => out::line(&v.to_string())?,
        None => bail!("{key} is not set"),
    }
    Ok(0)
}
