//! What every request handler shares: the settings, the daemon's client, the sessions,
//! and the facts read once at start.

use crate::alerts::live::Current;
use crate::alerts::Signal;
use crate::auth::Sessions;
use crate::daemon::Daemon;
use crate::fleet::hosts::Hosts;
use crate::history::store::Store;
use crate::issues::store::Inbox;
use crate::live_charts::LiveCharts;
use crate::settings::Settings;
use crate::tls::client::TlsConnector;
use bytes::Bytes;
use pm2_proto::ProcessInfo;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
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
    /// The alert settings in force (read at start, then on each change of their files;
    /// defaults, no URL, when they were invalid at start).
    pub alerts: Mutex<Current>,
    /// Where the collector's signals go (the engine drops them while no URL is set).
    pub signals: mpsc::Sender<Signal>,
    /// The daemon's table as the poller read it this second: the history recorder, the
    /// browsers' table and the alert engine share one read.
    pub processes: watch::Sender<Option<Arc<TableRead>>>,
    /// Verifies `https://` webhook receivers: built at the first delivery to one (the
    /// URLs change while the dashboard runs), from the system roots and
    /// `pm2-plus:webhook_ca`; the error says why it cannot be built.
    pub webhook_tls: OnceLock<Result<TlsConnector, String>>,
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
    /// The apps whose live chart a browser has open: their readings are read fresh.
    pub live_charts: LiveCharts,
}

/// One read of the daemon's table.
#[derive(Debug)]
pub struct TableRead {
    /// When, ms since the epoch.
    pub at_ms: u64,
    /// Every instance, without environments.
    pub processes: Vec<ProcessInfo>,
    /// Each online linked host's last table (its agent sends one a second).
    pub hosts: Vec<(String, Vec<ProcessInfo>)>,
}

impl State {
    /// Hands a signal to the alert engine; dropped (never waited for) when it is behind.
    pub fn alert(&self, signal: Signal) {
        let _ = self.signals.try_send(signal);
    }

    /// The connector of `https://` webhook receivers, built once.
    pub fn webhook_tls(&self) -> Result<&TlsConnector, String> {
        self.webhook_tls
            .get_or_init(|| crate::tls::client::connector(self.settings.tls.webhook_ca.as_ref()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Whether cpu or memory alerts are on (a URL and a threshold set): every reading is
    /// then read fresh each second, as those alerts need.
    pub fn fresh_alerts_on(&self) -> bool {
        self.alerts.lock().is_ok_and(|c| {
            let s = &c.settings;
            !s.urls.is_empty() && (s.cpu_percent.is_some() || s.memory_bytes.is_some())
        })
    }

    /// Whether alerts go anywhere (a URL is set): the table is then read every second.
    pub fn alerts_on(&self) -> bool {
        self.alerts
            .lock()
            .is_ok_and(|c| !c.settings.urls.is_empty())
    }
}
