//! `install`, `uninstall`, `set`, `unset`, `get`, `conf`: module settings in
//! `module_conf.json`. The only module is the built-in `pm2-logrotate`.

use crate::{client, out};
use anyhow::{bail, Context, Result};
use pm2_home::logrotate::{RotateConfig, LOGROTATE, LOGROTATE_DEFAULTS};
use pm2_home::{module_conf, Pm2Home};
use pm2_proto::Request;
use serde_json::Value;

fn load(home: &Pm2Home) -> Result<Value> {
    home.ensure()
        .with_context(|| format!("cannot create {}", home.root().display()))?;
    Ok(module_conf::load(home)?)
}

/// Validates what rotation would read, then writes and tells a running daemon.
fn store(home: &Pm2Home, conf: &Value) -> Result<()> {
    if module_conf::installed(conf, LOGROTATE) {
        if let Err(invalid) = RotateConfig::from_module_conf(conf) {
            bail!("{}", invalid.problems.join("\n"));
        }
    }
    module_conf::save(home, conf)?;
    if let Some(mut c) = client::connect_existing(home) {
        c.request(Request::ReloadModuleConf)?;
    }
    Ok(())
}

fn check_module(module: &str) -> Result<()> {
    if module != LOGROTATE {
        bail!("module {module} is not available: pm2-rs has {LOGROTATE} built in, and installs no module from npm");
    }
    Ok(())
}

/// `pm2 install pm2-logrotate`: turns built-in rotation on with its default settings.
pub(crate) fn install(home: &Pm2Home, module: &str) -> Result<i32> {
    check_module(module)?;
    let mut conf = load(home)?;
    module_conf::install(&mut conf, module, LOGROTATE_DEFAULTS);
    store(home, &conf)?;
    out::info(&format!("Module {module} enabled (built in)"));
    Ok(0)
}

/// `pm2 uninstall pm2-logrotate`.
pub(crate) fn uninstall(home: &Pm2Home, module: &str) -> Result<i32> {
    check_module(module)?;
    let mut conf = load(home)?;
    if !module_conf::uninstall(&mut conf, module) {
        bail!("module {module} is not installed");
    }
    store(home, &conf)?;
    out::info(&format!("Module {module} disabled"));
    Ok(0)
}

/// `pm2 set <key> <value>`; without arguments prints everything.
pub(crate) fn set(home: &Pm2Home, key: Option<&str>, value: Option<&str>) -> Result<i32> {
    let (Some(key), Some(value)) = (key, value) else {
        return get(home, key);
    };
    let mut conf = load(home)?;
    module_conf::set(&mut conf, key, value);
    store(home, &conf)?;
    out::info(&format!("Module value set: {key} = {value}"));
    Ok(0)
}

/// `pm2 unset <key>`.
pub(crate) fn unset(home: &Pm2Home, key: &str) -> Result<i32> {
    let mut conf = load(home)?;
    if !module_conf::unset(&mut conf, key) {
        bail!("{key} is not set");
    }
    store(home, &conf)?;
    Ok(0)
}

/// `pm2 get [key]`.
pub(crate) fn get(home: &Pm2Home, key: Option<&str>) -> Result<i32> {
    let conf = load(home)?;
    let Some(key) = key else {
        out::line(&serde_json::to_string_pretty(&conf)?)?;
        return Ok(0);
    };
    let value = match key.split_once(':') {
        Some((m, k)) => conf.get(m).and_then(|s| s.get(k)),
        None => conf.get(key),
    };
    match value {
        Some(Value::String(s)) => out::line(s)?,
        Some(v) => out::line(&v.to_string())?,
        None => bail!("{key} is not set"),
    }
    Ok(0)
}
