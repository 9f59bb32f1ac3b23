//! The built-in `pm2-logrotate`: size checks every `workerInterval`, forced rotation on the
//! `rotateInterval` cron, rename-and-reopen of files the daemon owns, then gzip and retain.

use crate::logs::daemon_log;
use crate::logs::rotation;
use crate::logs::sinks::LogSink;
use crate::state::Daemon;
use pm2_home::logrotate::RotateConfig;
use pm2_home::module_conf;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The active configuration: None while the module is not installed, while the npm
/// pm2-logrotate is (that one rotates then), or while its settings are invalid (logged).
fn load(daemon: &Daemon) -> Option<RotateConfig> {
    let conf = match module_conf::load(&daemon.settings.home) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("log rotation disabled: {e}");
            return None;
        }
    };
    if !module_conf::builtin_logrotate_active(&daemon.settings.home, &conf) {
        return None;
    }
    match RotateConfig::from_module_conf(&conf) {
        Ok(cfg) => Some(cfg),
        Err(invalid) => {
            tracing::warn!("log rotation disabled: {invalid}");
            None
        }
    }
}

/// Runs forever; re-reads the settings whenever the CLI signals a change.
pub(crate) async fn run(daemon: Arc<Daemon>) {
    loop {
        let Some(cfg) = load(&daemon) else {
            daemon.config_changed.notified().await;
            continue;
        };
        let until_cron = next_cron_delay(&cfg);
        tokio::select! {
            _ = tokio::time::sleep(cfg.worker_interval) => rotate(&daemon, &cfg, false).await,
            _ = sleep_opt(until_cron) => rotate(&daemon, &cfg, true).await,
            _ = daemon.config_changed.notified() => {}
        }
    }
}

fn next_cron_delay(cfg: &RotateConfig) -> Option<Duration> {
    let now = chrono::Local::now();
    let next = cfg.rotate_schedule().ok()?.next_after(&now)?;
    (next - now).to_std().ok()
}

async fn sleep_opt(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// Every distinct app log file.
fn app_sinks(daemon: &Daemon) -> Vec<Arc<LogSink>> {
    let registry = daemon.registry();
    let mut sinks: Vec<Arc<LogSink>> = Vec::new();
    for p in registry.snapshot() {
        let Some(handle) = registry.get(p.pm_id) else {
            continue;
        };
        for s in handle.logs().sinks() {
            if !sinks.iter().any(|k| k.path() == s.path()) {
                sinks.push(s);
            }
        }
    }
    sinks
}

/// One pass: by size (`forced == false`, `pm2.log` included) or every non-empty app log
/// (the cron).
pub(crate) async fn rotate(daemon: &Daemon, cfg: &RotateConfig, forced: bool) {
    for sink in app_sinks(daemon) {
        let len = sink.len();
        let due = if forced {
            len > 0
        } else {
            rotation::due_by_size(len, cfg)
        };
        if due {
            let sink = Arc::clone(&sink);
            finish(cfg, Path::new(sink.path()), |to| sink.rotate_to(to)).await;
        }
    }
    let daemon_log = daemon.settings.home.daemon_log();
    let len = std::fs::metadata(&daemon_log).map(|m| m.len()).unwrap_or(0);
    if !forced && rotation::due_by_size(len, cfg) {
        finish(cfg, &daemon_log, daemon_log::rotate_to).await;
    }
}

/// Renames the live file through `rename` (which reopens it), then compresses and prunes off
/// the runtime.
async fn finish(
    cfg: &RotateConfig,
    live: &Path,
    rename: impl FnOnce(&Path) -> std::io::Result<()>,
) {
    let stamp = rotation::date_stamp(cfg, chrono::Utc::now());
    let to = rotation::rotated_path(live, &stamp);
    if let Err(e) = rename(&to) {
        tracing::warn!("cannot rotate {}: {e}", live.display());
        return;
    }
    tracing::info!("rotated {} to {}", live.display(), to.display());
    let (compress, retain, live): (bool, usize, PathBuf) = (cfg.compress, cfg.retain, live.into());
    let work = tokio::task::spawn_blocking(move || {
        if compress {
            rotation::compress(&to)?;
        }
        rotation::prune(&live, retain)
    });
    match work.await {
        Ok(Err(e)) => tracing::warn!("rotation cleanup failed: {e}"),
        Err(e) => tracing::warn!("rotation cleanup failed: {e}"),
        Ok(Ok(_)) => {}
    }
}
