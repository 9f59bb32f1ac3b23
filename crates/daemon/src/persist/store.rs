//! The state files' writer as the daemon holds it (in `Daemon`, behind a mutex); what it
//! does is in [`super::state_file`].

use super::tracker::Tracker;
use std::fs::File;

/// The state files' writer: what is recorded, and the open journal.
#[derive(Default)]
pub(crate) struct StateStore {
    pub(super) tracker: Tracker,
    /// The journal, open for appending; `None` until the first snapshot, or after a write
    /// failed (the next change then writes a snapshot instead).
    pub(super) journal: Option<File>,
    pub(super) generation: u64,
    pub(super) journal_bytes: u64,
    pub(super) snapshot_bytes: u64,
}
