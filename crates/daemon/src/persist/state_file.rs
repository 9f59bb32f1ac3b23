//! `daemon-state.json` and `daemon-state.journal`: the daemon's own record of its table,
//! kept while it lives and removed on a clean exit, so that the next daemon knows whether
//! this one crashed and what to start again.
//!
//! The snapshot (`daemon-state.json`: `{"generation", "apps"}`, each app a `dump.pm2`
//! entry with its `pm_id`) is written whole at start and at each compaction; in between,
//! every change is one record appended to the journal and fsync'd before the reply that
//! confirms it (so a change costs the same with 1 app or 1,000, and a SIGKILL right after
//! a reply loses nothing it confirmed). The housekeeping tick compacts once the journal
//! outgrows [`COMPACT_RATIO`] × the snapshot, off the reply path.

use super::journal::{self, Record};
use super::store::StateStore;
use crate::state::Daemon;
use pm2_home::{write_atomic, Pm2Home};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;

/// The journal is compacted into the snapshot once it is this many times the snapshot's
/// size (and at least [`COMPACT_MIN_BYTES`]): replay stays short, compaction stays rare.
pub(crate) const COMPACT_RATIO: u64 = 4;
/// Below this size the journal is never compacted (a few records cost nothing to replay).
pub(crate) const COMPACT_MIN_BYTES: u64 = 256 * 1024;

/// The snapshot as written.
#[derive(Serialize, Deserialize)]
struct Snapshot {
    generation: u64,
    apps: Vec<Value>,
}

/// The snapshot as read: this format, or the plain array of entries daemons before the
/// journal wrote (a daemon of that version may have crashed before an upgrade).
#[derive(Deserialize)]
#[serde(untagged)]
enum SnapshotFile {
    Current(Snapshot),
    Array(Vec<Value>),
}

fn store(daemon: &Daemon) -> std::sync::MutexGuard<'_, StateStore> {
    daemon.state_store.lock().unwrap_or_else(|p| p.into_inner())
}

/// Records what changed since the last record (every mutating request, before its reply,
/// and every housekeeping tick): one fsync'd append, nothing when nothing changed.
pub(crate) fn record_changes(daemon: &Daemon) {
    let mut store = store(daemon);
    if store.journal.is_none() {
        return compact_locked(daemon, &mut store);
    }
    let records = store.tracker.changes(&daemon.registry());
    if records.is_empty() {
        return;
    }
    let mut bytes = Vec::new();
    for record in &records {
        journal::encode(record, &mut bytes);
    }
    let written = match store.journal.as_mut() {
        Some(file) => file.write_all(&bytes).and_then(|()| file.sync_data()),
        None => Ok(()),
    };
    match written {
        Ok(()) => store.journal_bytes += bytes.len() as u64,
        Err(e) => {
            let path = daemon.settings.home.daemon_state_journal();
            tracing::warn!(
                "cannot append to {}: {e}; writing the whole state",
                path.display()
            );
            compact_locked(daemon, &mut store);
        }
    }
}

/// Writes the whole table as a new snapshot and starts an empty journal (at start, before
/// the first reply).
pub(crate) fn compact(daemon: &Daemon) {
    compact_locked(daemon, &mut store(daemon));
}

/// Compacts when the journal has outgrown the snapshot (housekeeping tick).
pub(crate) fn compact_if_due(daemon: &Daemon) {
    let mut store = store(daemon);
    let limit = COMPACT_MIN_BYTES.max(COMPACT_RATIO * store.snapshot_bytes);
    if store.journal.is_some() && store.journal_bytes > limit {
        compact_locked(daemon, &mut store);
    }
}

fn compact_locked(daemon: &Daemon, store: &mut StateStore) {
    let home = &daemon.settings.home;
    let generation = store.generation + 1;
    let apps = store.tracker.record_all(&daemon.registry());
    let snapshot = serde_json::to_vec(&Snapshot { generation, apps }).unwrap_or_default();
    let mut header = Vec::new();
    journal::encode(&Record::Generation(generation), &mut header);
    store.journal = None;
    let path = home.daemon_state();
    // The snapshot first: a crash before the new journal leaves the old one, of another
    // generation, which replay then ignores.
    if let Err(e) = write_atomic(&path, &snapshot) {
        return tracing::warn!("cannot write {}: {e}", path.display());
    }
    let journal_path = home.daemon_state_journal();
    let opened = write_atomic(&journal_path, &header)
        .and_then(|()| std::fs::OpenOptions::new().append(true).open(&journal_path));
    match opened {
        Ok(file) => {
            store.journal = Some(file);
            store.generation = generation;
            store.journal_bytes = header.len() as u64;
            store.snapshot_bytes = snapshot.len() as u64;
        }
        Err(e) => tracing::warn!("cannot write {}: {e}", journal_path.display()),
    }
}

/// The table the previous daemon recorded, in pm_id order (its snapshot with its journal
/// replayed); `None` when it left no state (it exited cleanly). A torn last record is
/// skipped and said so in pm2.log.
pub(crate) fn read_state(home: &Pm2Home) -> Option<Result<Vec<Value>, String>> {
    let path = home.daemon_state();
    let text = std::fs::read(&path).ok()?;
    let snapshot = match serde_json::from_slice::<SnapshotFile>(&text) {
        Ok(SnapshotFile::Current(s)) => s,
        Ok(SnapshotFile::Array(apps)) => return Some(Ok(apps)),
        Err(e) => return Some(Err(format!("{}: {e}", path.display()))),
    };
    let mut apps: BTreeMap<u32, Value> = BTreeMap::new();
    for (i, mut entry) in snapshot.apps.into_iter().enumerate() {
        let id = entry.as_object_mut().and_then(|m| m.remove("pm_id"));
        let id = id.and_then(|v| v.as_u64()).map_or(i as u32, |v| v as u32);
        apps.insert(id, entry);
    }
    replay(home, snapshot.generation, &mut apps);
    Some(Ok(apps.into_values().collect()))
}

/// Applies the journal of `generation` to `apps`.
fn replay(home: &Pm2Home, generation: u64, apps: &mut BTreeMap<u32, Value>) {
    let path = home.daemon_state_journal();
    let Ok(bytes) = std::fs::read(&path) else {
        return;
    };
    let decoded = journal::decode(&bytes);
    if let Some((at, why)) = decoded.torn {
        tracing::warn!(
            "ignoring the end of {} from byte {at} of {}: {why}; the changes before it are restored",
            path.display(),
            bytes.len()
        );
    }
    let mut records = decoded.records.into_iter();
    match records.next() {
        Some(Record::Generation(g)) if g == generation => {}
        _ => {
            return tracing::info!(
                "{} continues another snapshot than {}: not replayed",
                path.display(),
                home.daemon_state().display()
            )
        }
    }
    for record in records {
        match record {
            Record::Put { id, entry } => {
                apps.insert(id, entry);
            }
            Record::Remove(id) => {
                apps.remove(&id);
            }
            Record::Generation(_) => {}
        }
    }
}

/// A clean exit: nothing to recover next time.
pub(crate) fn clear_state(home: &Pm2Home) {
    let _ = std::fs::remove_file(home.daemon_state());
    let _ = std::fs::remove_file(home.daemon_state_journal());
}

#[cfg(test)]
#[path = "state_file_tests.rs"]
mod tests;
