//! `pm2 kill` when no daemon answers: a daemon that was killed (SIGKILL, OOM) leaves its
//! apps running with nobody to stop them. They are found as the next daemon's crash
//! recovery finds them (by the `PM2_HOME` in their environment) and stopped the way a
//! daemon stops them: SIGINT to each app's process group, SIGKILL after the kill timeout.

use crate::out;
use anyhow::{anyhow, Context, Result};
use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use pm2_home::Pm2Home;
use std::time::Duration;

/// PM2's default grace period before SIGKILL (`PM2_KILL_TIMEOUT` overrides it).
const DEFAULT_KILL_TIMEOUT: Duration = Duration::from_millis(1600);

/// Stops what a dead daemon of `home` left running and forgets its table, so no later
/// daemon starts those apps again. Holds the spawn lock meanwhile: no daemon can start in
/// this home halfway through. Returns how many processes were stopped.
pub(crate) fn stop_left_running(home: &Pm2Home) -> Result<usize> {
    let Some(_lock) = spawn_lock(home)? else {
        return Ok(0);
    };
    let pids = pm2_home::orphans::left_running(home);
    if !pids.is_empty() {
        out::info(&format!(
            "Stopping {} processes left running by a daemon that died (pids {})",
            pids.len(),
            pids.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        stop(&pids, kill_timeout());
    }
    remove_if_present(&home.daemon_state())?;
    remove_if_present(&home.daemon_state_journal())?;
    Ok(pids.len())
}

/// The spawn lock of `home`, or None when the home does not exist (nothing to stop).
fn spawn_lock(home: &Pm2Home) -> Result<Option<Flock<std::fs::File>>> {
    if !home.root().is_dir() {
        return Ok(None);
    }
    let path = home.spawn_lock();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let lock = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| anyhow!("cannot lock {}: {e}", path.display()))?;
    Ok(Some(lock))
}

/// SIGINT to each process and its group, then SIGKILL to what is left after `grace`.
fn stop(pids: &[i32], grace: Duration) {
    signal_all(pids, Signal::SIGINT);
    if !pm2_home::liveness::wait_gone(pids, grace) {
        signal_all(pids, Signal::SIGKILL);
        pm2_home::liveness::wait_gone(pids, grace);
    }
}

fn signal_all(pids: &[i32], signal: Signal) {
    for pid in pids.iter().filter(|p| **p > 1) {
        // An app leads its own process group (the daemon spawns it in a new session); a
        // process of its tree that is not a leader is still signalled by its own pid.
        let _ = kill(Pid::from_raw(-*pid), signal);
        let _ = kill(Pid::from_raw(*pid), signal);
    }
}

fn kill_timeout() -> Duration {
    std::env::var("PM2_KILL_TIMEOUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_KILL_TIMEOUT)
}

fn remove_if_present(path: &std::path::Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}
