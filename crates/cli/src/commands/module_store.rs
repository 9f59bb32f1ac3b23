//! Reading and writing `module_conf.json` for the commands: `load`, `store` (validate what
//! the built-in rotation reads, write, tell a running daemon) and the settings an app gets
//! in its env. Shared by the settings commands, `pm2 install` and every start path.

use crate::client;
use anyhow::{bail, Context, Result};
use pm2_home::logrotate::RotateConfig;
use pm2_home::{module_conf, Pm2Home};
use pm2_proto::Request;
use serde_json::Value;
use std::collections::BTreeMap;

/// Reads the file, creating the home first.
pub(super) fn load(home: &Pm2Home) -> Result<Value> {
    home.ensure()
        .with_context(|| format!("cannot create {}", home.root().display()))?;
    Ok(module_conf::load(home)?)
}

/// Validates what the built-in rotation would read, then writes and tells a running daemon.
pub(super) fn store(home: &Pm2Home, conf: &Value) -> Result<()> {
    if module_conf::builtin_logrotate_active(home, conf) {
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

/// The variables app `name` gets from `module_conf.json` on start and on restart by name:
/// its settings and `<name>` holding them as JSON (empty when it has none). An unreadable
/// file gives none, as PM2 reads it.
pub(crate) fn app_env(home: &Pm2Home, name: &str) -> BTreeMap<String, String> {
    module_conf::load(home)
        .ok()
        .and_then(|conf| module_conf::app_settings(&conf, name))
        .unwrap_or_default()
}
