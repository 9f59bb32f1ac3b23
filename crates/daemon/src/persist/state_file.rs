//! `daemon-state.json`: the daemon's own record of its table, rewritten on every change and
//! removed on a clean exit, so that the next daemon knows whether this one crashed.

use crate::state::Daemon;
use pm2_home::{write_atomic, Pm2Home};
use pm2_proto::pm2json;

/// What identifies a change worth recording: a hash of ids, names and statuses, read in
/// place (this runs every housekeeping tick, so it allocates nothing per app).
pub(crate) fn fingerprint(daemon: &Daemon) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    daemon.registry().for_each(|p| {
        p.pm_id.hash(&mut hasher);
        p.spec.name.hash(&mut hasher);
        p.status.as_str().hash(&mut hasher);
    });
    hasher.finish()
}

/// Rewrites the state file (atomically) with every app, as dump entries.
pub(crate) fn write_state(daemon: &Daemon) {
    let processes = daemon.registry().snapshot();
    let entries: Vec<serde_json::Value> = processes.iter().map(pm2json::dump_entry).collect();
    let path = daemon.settings.home.daemon_state();
    let text = match serde_json::to_vec(&entries) {
        Ok(t) => t,
        Err(e) => return tracing::warn!("cannot encode the daemon state: {e}"),
    };
    if let Err(e) = write_atomic(&path, &text) {
        tracing::warn!("cannot write {}: {e}", path.display());
    }
    *daemon.last_state.lock().unwrap_or_else(|p| p.into_inner()) = fingerprint(daemon);
}

/// Rewrites the state file when the table changed since the last write (housekeeping tick).
pub(crate) fn write_state_if_changed(daemon: &Daemon) {
    let now = fingerprint(daemon);
    let changed = *daemon.last_state.lock().unwrap_or_else(|p| p.into_inner()) != now;
    if changed {
        write_state(daemon);
    }
}

/// A clean exit: nothing to recover next time.
pub(crate) fn clear_state(home: &Pm2Home) {
    let _ = std::fs::remove_file(home.daemon_state());
}
