//! Turns what happens into alerts: the collector's signals (crash, exit, first-seen
//! issue, reload and deploy done) and, once a second, the daemon's table as the poller
//! read it (an instance that became `errored`; cpu or memory over its threshold for the
//! configured time), and the linked hosts' last tables read with it. Every restart storm,
//! threshold and status is per host and instance; the rules themselves are in `rules`.
//! New settings (see `live`) apply between two events.

use super::deliver::Outbox;
use super::live::Watcher;
use super::rules::{Storm, Sustained};
use super::{Alert, Signal};
use crate::state::{State, TableRead};
use pm2_home::plus_alerts::AlertSettings;
use pm2_proto::{ProcessInfo, Status};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the settings' files are checked.
pub const POLL: Duration = Duration::from_secs(1);

/// What the engine remembers of one instance.
struct Watched {
    status: Status,
    cpu: Option<Sustained>,
    memory: Option<Sustained>,
}

impl Watched {
    /// The cpu and memory rules of `settings`, armed afresh.
    fn arm(&mut self, settings: &AlertSettings) {
        let sustained = settings.sustained.as_millis() as u64;
        self.cpu = settings.cpu_percent.map(|l| Sustained::new(l, sustained));
        self.memory = settings
            .memory_bytes
            .map(|l| Sustained::new(l as f64, sustained));
    }
}

/// The engine's state between two events.
struct Engine {
    state: Arc<State>,
    settings: AlertSettings,
    outbox: Outbox,
    storms: HashMap<StormKey, Storm>,
    /// Per host (None: this one), per instance.
    watched: HashMap<Option<String>, HashMap<u32, Watched>>,
    /// The hosts whose table was read once (the first read only notes the statuses).
    seen_once: HashSet<Option<String>>,
}

/// A restart storm is counted per host, app and instance.
type StormKey = (Option<String>, String, Option<u32>);

/// Runs until the collector goes away: signals as they come, the table as the poller
/// reads it (one read a second shared with the history and the browsers), and the
/// settings' files once every [`POLL`].
pub async fn run(state: Arc<State>, mut watcher: Watcher, mut signals: mpsc::Receiver<Signal>) {
    let settings = state
        .alerts
        .lock()
        .map(|c| c.settings.clone())
        .unwrap_or_default();
    let mut engine = Engine {
        outbox: Outbox::start(&state, &settings.urls, settings.format),
        state: Arc::clone(&state),
        settings,
        storms: HashMap::new(),
        watched: HashMap::new(),
        seen_once: HashSet::new(),
    };
    let mut table = state.processes.subscribe();
    let mut files = tokio::time::interval(POLL);
    files.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            signal = signals.recv() => match signal {
                Some(s) => engine.signal(s),
                None => return,
            },
            changed = table.changed() => {
                if changed.is_err() {
                    return;
                }
                let read = table.borrow_and_update().clone();
                if let Some(read) = read {
                    engine.table(&read);
                }
            }
            _ = files.tick() => {
                if watcher.changed() {
                    let new = match state.alerts.lock() {
                        Ok(mut current) => watcher.reload(&mut current),
                        Err(_) => None,
                    };
                    if let Some(new) = new {
                        engine.reconfigure(new);
                    }
                }
            }
        }
    }
}

impl Engine {
    fn signal(&mut self, signal: Signal) {
        for a in on_signal(&self.settings, &mut self.storms, signal) {
            self.outbox.send(&a);
        }
    }

    fn table(&mut self, read: &TableRead) {
        let now = read.at_ms;
        let tables = std::iter::once((None, &read.processes))
            .chain(read.hosts.iter().map(|(h, p)| (Some(h.clone()), p)));
        let mut present = HashSet::new();
        for (host, processes) in tables {
            let seen = self.seen_once.contains(&host);
            let watched = self.watched.entry(host.clone()).or_default();
            let on = TableOf {
                host: host.as_deref(),
                processes,
                now,
                seen_once: seen,
            };
            for a in on_table(&self.settings, watched, &on) {
                self.outbox.send(&a);
            }
            self.seen_once.insert(host.clone());
            present.insert(host);
        }
        // A host offline or gone: seen afresh when it is back.
        self.watched.retain(|h, _| present.contains(h));
        self.seen_once.retain(|h| present.contains(h));
    }

    /// Applies new settings: new queues when the URLs or the body changed (the old ones
    /// finish what they hold), storms and thresholds counted afresh by the new rules.
    fn reconfigure(&mut self, new: AlertSettings) {
        let old = &self.settings;
        if new.urls != old.urls || new.format != old.format {
            self.outbox = Outbox::start(&self.state, &new.urls, new.format);
        }
        if (new.storm_restarts, new.storm_window) != (old.storm_restarts, old.storm_window) {
            self.storms.clear();
        }
        let thresholds = (new.cpu_percent, new.memory_bytes, new.sustained);
        if thresholds != (old.cpu_percent, old.memory_bytes, old.sustained) {
            self.watched
                .values_mut()
                .flat_map(HashMap::values_mut)
                .for_each(|w| w.arm(&new));
        }
        if old.urls.is_empty() && !new.urls.is_empty() {
            // The table may not have been read while alerts were off: what is errored now
            // is no news, as at start; and the poller now reads it every second.
            self.seen_once.clear();
            self.state.table_wanted.notify_one();
        }
        self.settings = new;
    }
}

/// The alerts a signal makes.
pub fn on_signal(
    settings: &AlertSettings,
    storms: &mut HashMap<StormKey, Storm>,
    signal: Signal,
) -> Vec<Alert> {
    let now = pm2_home::now_ms();
    match signal {
        Signal::Crash {
            host,
            app,
            pm_id,
            how,
            message,
        } => vec![Alert {
            event: "crash",
            message: format!("{} {how}: {message}", label(host.as_deref(), &app, pm_id)),
            host,
            detail: json!({ "how": how, "error": message }),
            app,
            pm_id,
            at: now,
        }],
        Signal::Exit {
            host,
            app,
            pm_id,
            at,
        } => storm(settings, storms, (host, app, pm_id), at, now)
            .into_iter()
            .collect(),
        Signal::Done {
            host,
            event,
            data,
            at,
        } => super::done::alert(settings, host, &event, data, at)
            .into_iter()
            .collect(),
        Signal::FirstSeen { issue } => vec![Alert {
            event: "issue_first_seen",
            host: issue["host"].as_str().map(str::to_string),
            app: issue["app"].as_str().unwrap_or_default().to_string(),
            pm_id: issue["pm_id"]
                .as_u64()
                .and_then(|id| u32::try_from(id).ok()),
            message: format!(
                "new issue in {}: {}",
                label(
                    issue["host"].as_str(),
                    issue["app"].as_str().unwrap_or_default(),
                    None
                ),
                issue["message"].as_str().unwrap_or_default()
            ),
            detail: issue,
            at: now,
        }],
    }
}

/// The restart storm alert an exit makes, if it makes one.
fn storm(
    settings: &AlertSettings,
    storms: &mut HashMap<StormKey, Storm>,
    key: StormKey,
    at: u64,
    now: u64,
) -> Option<Alert> {
    let window = settings.storm_window;
    let (host, app, pm_id) = key.clone();
    let storm = storms
        .entry(key)
        .or_insert_with(|| Storm::new(settings.storm_restarts, window.as_millis() as u64));
    if !storm.restart(at) {
        return None;
    }
    Some(Alert {
        event: "restart_storm",
        message: format!(
            "{} restarted {} times within {} s",
            label(host.as_deref(), &app, pm_id),
            storm.count(),
            window.as_secs_f64()
        ),
        detail: json!({"restarts": storm.count(), "window_ms": window.as_millis() as u64}),
        host,
        app,
        pm_id,
        at: now,
    })
}

/// One host's table, as one read gave it.
struct TableOf<'a> {
    /// None: this host.
    host: Option<&'a str>,
    processes: &'a [ProcessInfo],
    now: u64,
    /// Whether this host's table was read before.
    seen_once: bool,
}

/// The alerts one read of a host's table makes. On the first read (`seen_once` false)
/// the statuses are only noted: an app errored before the dashboard started is no news;
/// an instance that appears later counts as new, so one already errored when first seen
/// (it gave up between two reads) still gets its alert.
fn on_table(
    settings: &AlertSettings,
    watched: &mut HashMap<u32, Watched>,
    table: &TableOf<'_>,
) -> Vec<Alert> {
    let TableOf {
        host,
        processes,
        now,
        seen_once,
    } = *table;
    watched.retain(|id, _| processes.iter().any(|p| p.pm_id == *id));
    let mut alerts = Vec::new();
    for p in processes {
        if p.spec.name == pm2_home::plus::APP_NAME {
            continue;
        }
        let w = watched.entry(p.pm_id).or_insert_with(|| {
            let status = if seen_once {
                Status::Launching
            } else {
                p.status
            };
            let mut w = Watched {
                status,
                cpu: None,
                memory: None,
            };
            w.arm(settings);
            w
        });
        let alert = |event, message, detail| instance_alert(host, p, now, event, message, detail);
        let who = label(host, &p.spec.name, Some(p.pm_id));
        if p.status == Status::Errored && w.status != Status::Errored {
            let m = format!("{who} is errored: too many unstable restarts, not restarted again");
            alerts.push(alert("errored", m, json!({"restarts": p.restart_time})));
        }
        w.status = p.status;
        thresholds(settings, w, (host, p), now, &mut alerts);
    }
    alerts
}

/// cpu and memory against their thresholds.
fn thresholds(
    settings: &AlertSettings,
    w: &mut Watched,
    (host, p): (Option<&str>, &ProcessInfo),
    now: u64,
    alerts: &mut Vec<Alert>,
) {
    let who = label(host, &p.spec.name, Some(p.pm_id));
    let alert = |event, message, detail| instance_alert(host, p, now, event, message, detail);
    let running = p.status.is_running();
    let (cpu, memory) = if running {
        (p.monit.cpu, p.monit.memory)
    } else {
        (0.0, 0)
    };
    if let (Some(rule), Some(limit)) = (w.cpu.as_mut(), settings.cpu_percent) {
        if rule.sample(cpu, now) {
            let m = format!(
                "{who} cpu {cpu:.0}% over {limit}% for {} s",
                settings.sustained.as_secs_f64()
            );
            alerts.push(alert("cpu", m, json!({"cpu": cpu, "limit": limit})));
        }
    }
    if let (Some(rule), Some(limit)) = (w.memory.as_mut(), settings.memory_bytes) {
        if rule.sample(memory as f64, now) {
            let m = format!(
                "{who} memory {memory} bytes over {limit} for {} s",
                settings.sustained.as_secs_f64()
            );
            alerts.push(alert(
                "memory",
                m,
                json!({"memory": memory, "limit": limit}),
            ));
        }
    }
}

fn instance_alert(
    host: Option<&str>,
    p: &ProcessInfo,
    now: u64,
    event: &'static str,
    message: String,
    detail: serde_json::Value,
) -> Alert {
    Alert {
        event,
        host: host.map(str::to_string),
        app: p.spec.name.clone(),
        pm_id: Some(p.pm_id),
        message,
        detail,
        at: now,
    }
}

/// `app (id)`, and ` on <host>` for a linked host's app.
fn label(host: Option<&str>, app: &str, pm_id: Option<u32>) -> String {
    let app = match pm_id {
        Some(id) => format!("{app} ({id})"),
        None => app.to_string(),
    };
    match host {
        Some(h) => format!("{app} on {h}"),
        None => app,
    }
}
