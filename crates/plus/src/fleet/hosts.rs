//! The linked hosts the dashboard knows: each one's last table and overview, whether its
//! agent is connected, the way to send it an action and wait for the reply, and its live
//! log lines (a broadcast channel the SSE streams subscribe to) with the apps they follow
//! (a watch channel the connection reads, to tell the agent which lines to send).
//!
//! A host whose connection breaks is kept, marked offline, for [`OFFLINE_KEPT`] (its
//! agent may be restarting); one that says `bye` (`pm2 unlink`) is forgotten at once.

use pm2_proto::ProcessInfo;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// How long an offline host stays listed.
pub const OFFLINE_KEPT: u64 = 10 * 60 * 1000;
/// A host seen this recently is live: a second agent with its name is refused.
const LIVE_MS: u64 = 5_000;
/// Log lines buffered per host for its slowest SSE reader.
const LOG_BUFFER: usize = 1024;
/// Actions queued for one host's connection.
const ACTIONS: usize = 64;

/// One linked host.
struct Remote {
    conn: u64,
    online: bool,
    connected_at: u64,
    last_seen: u64,
    peer: String,
    version: String,
    processes: Vec<ProcessInfo>,
    overview: Value,
    actions: Option<mpsc::Sender<Value>>,
    pending: HashMap<u64, oneshot::Sender<Value>>,
    logs: Logs,
    /// `log` messages received on this connection (`/api/hosts`' `log_lines`).
    lines: u64,
}

/// A host's live lines and who follows them, kept across its reconnections.
struct Logs {
    lines: broadcast::Sender<Value>,
    /// Followers per app (an id, a name, or `all`).
    followers: BTreeMap<String, usize>,
    /// The apps followed, for the connection to send as `follow`.
    wanted: watch::Sender<Vec<String>>,
}

impl Logs {
    fn new() -> Logs {
        Logs {
            lines: broadcast::channel(LOG_BUFFER).0,
            followers: BTreeMap::new(),
            wanted: watch::Sender::new(Vec::new()),
        }
    }

    /// The followers changed by `delta` for `app`: the new list goes to the connection
    /// when it differs.
    fn count(&mut self, app: &str, delta: isize) {
        let n = self.followers.entry(app.to_string()).or_default();
        *n = n.saturating_add_signed(delta);
        if *n == 0 {
            self.followers.remove(app);
        }
        let apps: Vec<String> = if self.followers.contains_key("all") {
            vec!["all".to_string()]
        } else {
            self.followers.keys().cloned().collect()
        };
        self.wanted.send_if_modified(|w| {
            let changed = *w != apps;
            *w = apps;
            changed
        });
    }
}

/// Every linked host, by name.
#[derive(Default)]
pub struct Hosts {
    map: Mutex<BTreeMap<String, Remote>>,
    next: AtomicU64,
}

/// A connection [`Hosts::attach`] registered: what it sends the host besides pings.
pub struct Attached {
    /// Its id (a stale connection's messages are ignored).
    pub conn: u64,
    /// The actions routed to the host.
    pub actions: mpsc::Receiver<Value>,
    /// The apps whose log lines someone here follows (sent as `follow`).
    pub wanted: watch::Receiver<Vec<String>>,
}

/// A host's table, as the fleet endpoints and `/metrics` read it.
pub struct Snapshot {
    /// Its name.
    pub host: String,
    /// Whether its agent is connected.
    pub online: bool,
    /// Its last table.
    pub processes: Vec<ProcessInfo>,
}

impl Hosts {
    /// Registers a connection from `name`: its id, the receiver of its actions and of the
    /// apps its logs' followers want (marked changed, so the connection sends it first);
    /// an error when a live connection already has the name.
    pub fn attach(&self, name: &str, peer: &str, version: &str) -> Result<Attached, String> {
        let now = pm2_home::now_ms();
        let mut map = self.map.lock().map_err(|_| "poisoned".to_string())?;
        if let Some(r) = map.get(name) {
            if r.online && now.saturating_sub(r.last_seen) < LIVE_MS {
                return Err(format!(
                    "a host named {name:?} is already linked (from {}): give this one another \
                     name, `pm2 link <secret> <url> <name>`",
                    r.peer
                ));
            }
        }
        let conn = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let (tx, rx) = mpsc::channel(ACTIONS);
        let logs = map.remove(name).map_or_else(Logs::new, |r| r.logs);
        let mut wanted = logs.wanted.subscribe();
        wanted.mark_changed();
        map.insert(
            name.to_string(),
            Remote {
                conn,
                online: true,
                connected_at: now,
                last_seen: now,
                peer: peer.into(),
                version: version.into(),
                processes: Vec::new(),
                overview: Value::Null,
                actions: Some(tx),
                pending: HashMap::new(),
                logs,
                lines: 0,
            },
        );
        Ok(Attached {
            conn,
            actions: rx,
            wanted,
        })
    }

    /// Runs `f` on the host when `conn` is still its connection.
    fn with<T>(&self, name: &str, conn: u64, f: impl FnOnce(&mut Remote) -> T) -> Option<T> {
        let mut map = self.map.lock().ok()?;
        let r = map.get_mut(name).filter(|r| r.conn == conn)?;
        r.last_seen = pm2_home::now_ms();
        Some(f(r))
    }

    /// A `state` message: the new table (and overview, when it has one).
    pub fn update(
        &self,
        name: &str,
        conn: u64,
        processes: Vec<ProcessInfo>,
        overview: Option<Value>,
    ) {
        self.with(name, conn, |r| {
            r.processes = processes;
            if let Some(o) = overview {
                r.overview = o;
            }
        });
    }

    /// Any other message: the host is alive.
    pub fn seen(&self, name: &str, conn: u64) {
        self.with(name, conn, |_| ());
    }

    /// A `log` or `missed` message, for the SSE streams (none listening is fine).
    pub fn log(&self, name: &str, conn: u64, event: Value) {
        self.with(name, conn, |r| {
            if crate::link::wire::kind(&event) == "log" {
                r.lines += 1;
            }
            let _ = r.logs.lines.send(event);
        });
    }

    /// A `reply` message: wakes the action waiting for it.
    pub fn reply(&self, name: &str, conn: u64, id: u64, reply: Value) {
        if let Some(Some(waiter)) = self.with(name, conn, |r| r.pending.remove(&id)) {
            let _ = waiter.send(reply);
        }
    }

    /// The connection ended: forgotten after `bye`, else offline (its waiting actions fail).
    pub fn detach(&self, name: &str, conn: u64, bye: bool) {
        let Ok(mut map) = self.map.lock() else { return };
        if map.get(name).is_some_and(|r| r.conn == conn) {
            if bye {
                map.remove(name);
            } else if let Some(r) = map.get_mut(name) {
                r.online = false;
                r.actions = None;
                r.pending.clear();
            }
        }
    }

    /// Sends `action` to the host; the receiver of its reply. An error when the host is
    /// unknown, offline, or has too many actions in flight.
    pub fn send(&self, name: &str, mut action: Value) -> Result<oneshot::Receiver<Value>, String> {
        let mut map = self.map.lock().map_err(|_| "poisoned".to_string())?;
        let r = map
            .get_mut(name)
            .ok_or_else(|| format!("no host {name:?} is linked"))?;
        let tx = r.actions.clone().ok_or_else(|| {
            format!("host {name:?} is offline (its pm2-link agent is not connected)")
        })?;
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        action["id"] = json!(id);
        tx.try_send(action)
            .map_err(|_| format!("host {name:?} has too many actions in flight"))?;
        let (done, wait) = oneshot::channel();
        r.pending.insert(id, done);
        Ok(wait)
    }

    /// The host's live log lines, counting a follower of `app` (an id, a name, or `all`)
    /// until [`Hosts::unfollow`]; `None` for an unknown host.
    pub fn follow(&self, name: &str, app: &str) -> Option<broadcast::Receiver<Value>> {
        let mut map = self.map.lock().ok()?;
        let logs = &mut map.get_mut(name)?.logs;
        logs.count(app, 1);
        Some(logs.lines.subscribe())
    }

    /// A follower of `app` on `name` went away.
    pub fn unfollow(&self, name: &str, app: &str) {
        if let Ok(mut map) = self.map.lock() {
            if let Some(r) = map.get_mut(name) {
                r.logs.count(app, -1);
            }
        }
    }

    /// Whether `name` is a linked host (online or not).
    pub fn knows(&self, name: &str) -> bool {
        self.map.lock().is_ok_and(|m| m.contains_key(name))
    }

    /// The hosts as `/api/hosts` lists them (after dropping those offline too long).
    pub fn list(&self) -> Vec<Value> {
        let now = pm2_home::now_ms();
        let Ok(mut map) = self.map.lock() else {
            return Vec::new();
        };
        map.retain(|_, r| r.online || now.saturating_sub(r.last_seen) < OFFLINE_KEPT);
        map.iter()
            .map(|(name, r)| {
                json!({
                    "host": name, "local": false, "online": r.online,
                    "connected_at": r.connected_at, "last_seen": r.last_seen,
                    "peer": r.peer, "version": r.version,
                    "processes": r.processes.len(), "overview": r.overview,
                    "log_lines": r.lines, "following": *r.logs.wanted.borrow(),
                })
            })
            .collect()
    }

    /// The host's overview; `None` for an unknown host.
    pub fn overview(&self, name: &str) -> Option<Value> {
        Some(self.map.lock().ok()?.get(name)?.overview.clone())
    }

    /// Every host's table (one host when `only` names it).
    pub fn snapshots(&self, only: Option<&str>) -> Vec<Snapshot> {
        let Ok(map) = self.map.lock() else {
            return Vec::new();
        };
        map.iter()
            .filter(|(name, _)| only.is_none_or(|o| o == name.as_str()))
            .map(|(name, r)| Snapshot {
                host: name.clone(),
                online: r.online,
                processes: r.processes.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn followers_make_the_list_the_agent_gets_and_it_survives_a_reconnection() {
        let hosts = Hosts::default();
        let Attached {
            conn, mut wanted, ..
        } = hosts.attach("b", "1.2.3.4", "v").unwrap();
        assert!(wanted.has_changed().unwrap(), "sent first");
        assert!(wanted.borrow_and_update().is_empty());
        let _one = hosts.follow("b", "0").unwrap();
        let _two = hosts.follow("b", "0").unwrap();
        let _web = hosts.follow("b", "web").unwrap();
        assert_eq!(*wanted.borrow_and_update(), ["0", "web"]);
        hosts.follow("b", "all").unwrap();
        assert_eq!(*wanted.borrow_and_update(), ["all"]);
        hosts.unfollow("b", "all");
        hosts.unfollow("b", "0");
        assert_eq!(
            *wanted.borrow_and_update(),
            ["0", "web"],
            "one follower of 0 left"
        );
        hosts.detach("b", conn, false);
        let again = hosts.attach("b", "1.2.3.4", "v").unwrap().wanted;
        assert_eq!(
            *again.borrow(),
            ["0", "web"],
            "kept for the next connection"
        );
        assert!(hosts.follow("nohost", "all").is_none());
    }

    #[test]
    fn a_name_is_taken_while_live_and_bye_forgets_the_host() {
        let hosts = Hosts::default();
        let conn = hosts.attach("b", "1.2.3.4", "v").unwrap().conn;
        assert!(hosts.attach("b", "5.6.7.8", "v").is_err());
        hosts.detach("b", conn, false);
        assert_eq!(hosts.list()[0]["online"], false);
        assert!(hosts.send("b", json!({})).is_err(), "offline");
        let again = hosts.attach("b", "1.2.3.4", "v").unwrap().conn;
        hosts.detach("b", conn, true);
        assert!(hosts.knows("b"), "a stale connection's end is ignored");
        hosts.detach("b", again, true);
        assert!(!hosts.knows("b"));
    }
}
