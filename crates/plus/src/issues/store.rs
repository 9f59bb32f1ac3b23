//! The inbox: issues grouped by host, app and normalised message, bounded (the group seen
//! longest ago goes first), kept in `PM2_HOME/plus/issues.json` (mode 0600, replaced
//! atomically) so it survives a restart of the dashboard.

use super::normalise::{group_id, normalise};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Groups kept; past it, the one seen longest ago is dropped.
pub const MAX_GROUPS: usize = 500;
/// Stack text kept per issue.
const MAX_STACK: usize = 8 * 1024;
/// Message text kept per issue.
const MAX_MESSAGE: usize = 1024;

/// One occurrence, as the collector saw it.
#[derive(Debug, Clone, Default)]
pub struct Occurrence {
    /// `crash` or `exception`.
    pub kind: &'static str,
    /// The linked host it happened on (None: this one).
    pub host: Option<String>,
    /// The app's name.
    pub app: String,
    /// The instance.
    pub pm_id: Option<u32>,
    /// What went wrong.
    pub message: String,
    /// The stack, when there is one.
    pub stack: Option<String>,
    /// Extra facts (exit code, signal, the error's name).
    pub detail: Value,
    /// The app's log lines just before it.
    pub logs: Vec<Value>,
    /// When, ms since the epoch.
    pub at: u64,
}

/// The grouped issues.
#[derive(Debug)]
pub struct Inbox {
    groups: HashMap<String, Value>,
    file: PathBuf,
}

/// What recording an occurrence did.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    /// A new group (the "first seen" alert).
    New(String),
    /// An existing group, counted again.
    Again(String),
}

impl Inbox {
    /// The inbox stored at `file` (empty when there is none; a damaged file is set aside
    /// as `<file>.bad` and the inbox starts empty, so one bad write never stops it).
    pub fn load(file: PathBuf) -> Inbox {
        let groups = match std::fs::read(&file) {
            Ok(bytes) => match serde_json::from_slice::<Vec<Value>>(&bytes) {
                Ok(list) => list
                    .into_iter()
                    .filter_map(|v| Some((v.get("id")?.as_str()?.to_string(), v)))
                    .collect(),
                Err(e) => {
                    crate::log::error(&format!("{}: {e}; starting empty", file.display()));
                    let _ = std::fs::rename(&file, file.with_extension("json.bad"));
                    HashMap::new()
                }
            },
            Err(_) => HashMap::new(),
        };
        Inbox { groups, file }
    }

    /// An empty inbox that is never written (unit tests).
    #[cfg(test)]
    pub fn in_memory() -> Inbox {
        Inbox {
            groups: HashMap::new(),
            file: PathBuf::new(),
        }
    }

    /// Counts `o` in its group (creating it, reopening it when it was resolved).
    pub fn record(&mut self, o: Occurrence) -> Recorded {
        let normalised = normalise(&o.message);
        // A linked host's app is not this host's app of the same name.
        let id = match &o.host {
            Some(h) => group_id(&format!("{h}\u{1f}{}", o.app), &normalised),
            None => group_id(&o.app, &normalised),
        };
        let stack = o.stack.map(|s| cut(&s, MAX_STACK));
        let message = cut(&o.message, MAX_MESSAGE);
        if let Some(g) = self.groups.get_mut(&id) {
            g["count"] = json!(g["count"].as_u64().unwrap_or(0) + 1);
            g["last_seen"] = json!(o.at);
            g["message"] = json!(message);
            g["stack"] = json!(stack);
            g["detail"] = o.detail;
            g["logs"] = json!(o.logs);
            g["pm_id"] = json!(o.pm_id);
            g["resolved"] = json!(false);
            return Recorded::Again(id);
        }
        if self.groups.len() >= MAX_GROUPS {
            self.drop_oldest();
        }
        let group = json!({
            "id": id, "host": o.host, "app": o.app, "kind": o.kind, "message": message,
            "normalised": cut(&normalised, MAX_MESSAGE), "stack": stack, "detail": o.detail,
            "logs": o.logs, "pm_id": o.pm_id, "count": 1, "first_seen": o.at,
            "last_seen": o.at, "resolved": false,
        });
        self.groups.insert(id.clone(), group);
        Recorded::New(id)
    }

    /// Marks an issue resolved (it reopens when it happens again); false when unknown.
    pub fn resolve(&mut self, id: &str) -> bool {
        match self.groups.get_mut(id) {
            Some(g) => {
                g["resolved"] = json!(true);
                true
            }
            None => false,
        }
    }

    /// One group.
    pub fn get(&self, id: &str) -> Option<&Value> {
        self.groups.get(id)
    }

    /// Every group, the one seen last first.
    pub fn list(&self) -> Vec<Value> {
        let mut all: Vec<Value> = self.groups.values().cloned().collect();
        all.sort_by_key(|g| std::cmp::Reverse(g["last_seen"].as_u64().unwrap_or(0)));
        all
    }

    /// Writes the inbox (0600, atomically); an error is logged, the inbox kept in memory.
    pub fn save(&self, files: &pm2_home::plus::PlusFiles) {
        if self.file == Path::new("") {
            return;
        }
        let text = Value::Array(self.list()).to_string();
        if let Err(e) = files.write_secret(&self.file, text.as_bytes()) {
            crate::log::error(&format!("cannot write {}: {e}", self.file.display()));
        }
    }

    fn drop_oldest(&mut self) {
        let oldest = self
            .groups
            .iter()
            .min_by_key(|(_, g)| g["last_seen"].as_u64().unwrap_or(0))
            .map(|(id, _)| id.clone());
        if let Some(id) = oldest {
            self.groups.remove(&id);
        }
    }
}

/// At most `max` bytes of `s`, cut on a character boundary.
fn cut(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crash(app: &str, message: &str, at: u64) -> Occurrence {
        Occurrence {
            kind: "crash",
            app: app.into(),
            message: message.into(),
            at,
            ..Occurrence::default()
        }
    }

    #[test]
    fn occurrences_group_by_app_and_normalised_message() {
        let mut inbox = Inbox::in_memory();
        let Recorded::New(id) = inbox.record(crash("api", "boom 1", 10)) else {
            panic!("first is new")
        };
        assert_eq!(
            inbox.record(crash("api", "boom 2", 20)),
            Recorded::Again(id.clone())
        );
        assert!(matches!(
            inbox.record(crash("web", "boom 3", 30)),
            Recorded::New(_)
        ));
        let g = inbox.get(&id).unwrap();
        assert_eq!(
            (g["count"].as_u64(), g["first_seen"].as_u64()),
            (Some(2), Some(10))
        );
        assert_eq!(
            (g["last_seen"].as_u64(), g["message"].as_str()),
            (Some(20), Some("boom 2"))
        );
        assert!(inbox.resolve(&id));
        assert_eq!(inbox.get(&id).unwrap()["resolved"], true);
        inbox.record(crash("api", "boom 9", 40));
        assert_eq!(inbox.get(&id).unwrap()["resolved"], false, "reopened");
        assert!(!inbox.resolve("nope"));
        assert_eq!(inbox.list()[0]["last_seen"], 40);
    }

    #[test]
    fn the_inbox_is_bounded_and_drops_the_group_seen_longest_ago() {
        let mut inbox = Inbox::in_memory();
        for i in 0..MAX_GROUPS as u64 + 1 {
            inbox.record(crash(&format!("app{i}"), "x", 100 + i));
        }
        assert_eq!(inbox.list().len(), MAX_GROUPS);
        assert!(
            inbox.list().iter().all(|g| g["first_seen"] != 100),
            "the oldest went"
        );
    }
}
