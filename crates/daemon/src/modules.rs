//! Installed modules at boot. PM2 leaves starting them to the Node client that spawned its
//! daemon (`connect` → `launchAll`); with a daemon of ours no Node client does, so the
//! daemon starts, itself, every module `module_conf.json` lists under `module-db-v2` (the
//! built-in pm2-logrotate aside), as `pm2 install` started it: the package's script from
//! its folder, with the daemon's environment, the module's settings and `PM2_HOME`.

use crate::handlers;
use crate::state::Daemon;
use pm2_home::module_conf;
use pm2_proto::{Response, StartRequest};
use std::collections::BTreeMap;

/// Starts each installed module that is not registered yet (a crash recovery may have
/// brought it back already); one that cannot start is logged and the others still start.
pub(crate) async fn start_installed(daemon: &Daemon) {
    let home = &daemon.settings.home;
    let conf = match module_conf::load(home) {
        Ok(conf) => conf,
        Err(e) => {
            tracing::warn!("installed modules not started: {e}");
            return;
        }
    };
    let path_var = std::env::var("PATH").unwrap_or_default();
    let uid = nix::unistd::getuid();
    let username = nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name);
    for name in module_conf::npm_modules(&conf) {
        if daemon.registry().has_name(&name) {
            continue;
        }
        let mut env: BTreeMap<String, String> = std::env::vars().collect();
        env.extend(module_conf::app_settings(&conf, &name).unwrap_or_default());
        let folder = home.module_package(&name);
        let spec = match pm2_config::module_app(&folder, env, home.root(), &path_var, &username) {
            Ok(spec) => spec,
            Err(e) => {
                tracing::warn!("module {name} not started: {e}");
                continue;
            }
        };
        let request = StartRequest {
            apps: vec![spec],
            force: false,
        };
        match handlers::start_apps(daemon, request).await {
            Response::Outcomes { outcomes } if outcomes.iter().all(|o| o.error.is_none()) => {
                tracing::info!("Module {name} started");
            }
            Response::Outcomes { outcomes } => {
                for e in outcomes.iter().filter_map(|o| o.error.as_deref()) {
                    tracing::warn!("module {name} did not start: {e}");
                }
            }
            Response::Error { message } => tracing::warn!("module {name} not started: {message}"),
            _ => {}
        }
    }
}
