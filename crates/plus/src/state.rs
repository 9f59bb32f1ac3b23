//! What every request handler shares: the settings, the daemon's client, the sessions,
//! and the facts read once at start.

use crate::auth::Sessions;
use crate::daemon::Daemon;
use crate::settings::Settings;
use bytes::Bytes;
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::{watch, Notify};

/// The dashboard's state.
pub struct State {
    /// Read at start.
    pub settings: Settings,
    /// The daemon.
    pub daemon: Daemon,
    /// Logged-in browsers.
    pub sessions: Mutex<Sessions>,
    /// What scripts send as `Authorization: Bearer`.
    pub api_token: String,
    /// `node --version` (None without Node), read once.
    pub node_version: Option<String>,
    /// The last failed password login: the next is refused for a second after it.
    pub last_failed_login: Mutex<Option<Instant>>,
    /// The latest process table event, which every `/api/events` stream reads.
    pub table: watch::Sender<Option<Bytes>>,
    /// Wakes the table's poller when the first browser subscribes.
    pub table_wanted: Notify,
}
