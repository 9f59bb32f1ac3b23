//! Crash recovery: when the previous daemon of this `PM2_HOME` died without stopping its
//! apps, their pipes and IPC channels died with it. What it left running is stopped, and
//! its apps are started again under this daemon, each exactly once; stopped apps stay
//! stopped.
//!
//! This module only takes over (reads the state file, stops the survivors, says what to
//! start); the caller starts the apps, so recovery does not depend on the request
//! handlers.

use super::state_file::{clear_state, read_state};
use crate::state::Daemon;
use pm2_proto::StartRequest;

/// At start: when the previous daemon left a state file (it did not exit cleanly), stops
/// what it left running and returns its apps to start again, `autostart` off for the ones
/// it had stopped. `None` when there is nothing to recover.
pub(crate) async fn take_over(daemon: &Daemon) -> Option<StartRequest> {
    let home = &daemon.settings.home;
    let entries = match read_state(home)? {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!("ignoring unreadable {e}");
            clear_state(home);
            return None;
        }
    };
    tracing::info!("The previous daemon exited without stopping its apps: recovering");
    stop_survivors(daemon).await;
    let path_var = std::env::var("PATH").unwrap_or_default();
    let mut apps = Vec::new();
    for entry in &entries {
        match pm2_config::dump::app_from_dump_entry(entry, &path_var) {
            Ok(mut app) => {
                app.spec.autostart = !app.stopped;
                apps.push(app.spec);
            }
            Err(e) => tracing::warn!("cannot restore an app: {e}"),
        }
    }
    Some(StartRequest { apps, force: true })
}

/// Stops (SIGINT, then SIGKILL after the default kill timeout) what the previous daemon
/// left running, and says which pids.
async fn stop_survivors(daemon: &Daemon) {
    let pids = pm2_home::orphans::left_running(&daemon.settings.home);
    if pids.is_empty() {
        return;
    }
    tracing::info!(
        "Stopping {} processes left running by the previous daemon (pids {:?}); their apps restart under this daemon",
        pids.len(),
        pids
    );
    let mut tree = Vec::new();
    for pid in &pids {
        tree.extend(pm2_supervisor::signal_tree(
            *pid,
            nix::sys::signal::Signal::SIGINT,
            true,
        ));
    }
    let deadline = tokio::time::Instant::now() + daemon.settings.kill_timeout;
    pm2_supervisor::wait_all_gone(&tree, deadline).await;
    for pid in tree.iter().filter(|p| pm2_supervisor::alive(**p)) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}
