//! What every request handler shares: the settings, the daemon's client, the sessions,
//! and the facts read once at start.

use crate::alerts::Signal;
use crate::auth::Sessions;
use crate::daemon::Daemon;
use crate::fleet::hosts::Hosts;
use crate::history::store::Store;
use crate::issues::store::Inbox;
use crate::settings::Settings;
use bytes::Bytes;
use pm2_home::plus_alerts::AlertSettings;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, watch, Notify};

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
    /// The issues inbox.
    pub issues: Mutex<Inbox>,
    /// The alert settings read at start (defaults, no URL, when they were invalid).
    pub alert_settings: AlertSettings,
    /// Why the alert settings were refused, if they were.
    pub alert_error: Option<String>,
    /// Where the collector's signals go, when alerts are on.
    pub signals: Option<mpsc::Sender<Signal>>,
    /// The last alert deliveries, for `GET /api/alerts`.
    pub deliveries: Mutex<VecDeque<Value>>,
    /// This machine's name, in every alert.
    pub host_name: String,
    /// The history charts' store (None when it could not be opened: the dashboard runs
    /// on without charts).
    pub history: Option<Arc<Mutex<Store>>>,
    /// The linked hosts (`pm2 link`).
    pub hosts: Hosts,
    /// The last wrong link secret: every link attempt is refused for a second after it.
    pub last_failed_link: Mutex<Option<Instant>>,
}

impl State {
    /// Hands a signal to the alert engine; dropped (never waited for) when it is behind.
    pub fn alert(&self, signal: Signal) {
        if let Some(tx) = &self.signals {
            let _ = tx.try_send(signal);
        }
    }
}
