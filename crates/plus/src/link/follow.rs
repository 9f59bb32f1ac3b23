//! Which apps' log lines the agent sends: the dashboard says (link message `follow`, with
//! `apps`: ids, names, or `all`; empty for none) whenever a browser or API client starts
//! or stops following this host's logs, so an unwatched host sends no `log` message. A
//! dashboard that announces this in its upgrade answer ([`super::wire::LOGS_HEADER`])
//! starts each connection with nothing followed; an older one never sends `follow`, and
//! gets every line as before. The lines before an exit or an exception travel in its
//! `event` whatever is followed.

use serde_json::Value;
use std::sync::{Arc, Mutex, PoisonError};

/// What the dashboard follows, shared by the log reader and the connection.
#[derive(Clone, Default)]
pub struct Follow(Arc<Mutex<Wanted>>);

#[derive(Default)]
enum Wanted {
    /// Every line (a dashboard from before `follow`).
    #[default]
    Everything,
    /// These apps' lines (ids or names; `all` for every app).
    Only(Vec<String>),
}

impl Follow {
    /// A new connection: nothing followed yet when the dashboard sends `follow`, else
    /// every line.
    pub fn start(&self, on_demand: bool) {
        *self.lock() = if on_demand {
            Wanted::Only(Vec::new())
        } else {
            Wanted::Everything
        };
    }

    /// A `follow` message: its `apps` (a message without a list follows nothing).
    pub fn set(&self, message: &Value) {
        let apps = message
            .get("apps")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        *self.lock() = Wanted::Only(apps);
    }

    /// Whether a line of app `name` (instance `pm_id`) goes out.
    pub fn wants(&self, name: &str, pm_id: Option<u32>) -> bool {
        match &*self.lock() {
            Wanted::Everything => true,
            Wanted::Only(apps) => apps
                .iter()
                .any(|a| a == "all" || a == name || pm_id.is_some_and(|id| a == &id.to_string())),
        }
    }

    /// Whether any line goes out (a `missed` report is worth sending).
    pub fn any(&self) -> bool {
        match &*self.lock() {
            Wanted::Everything => true,
            Wanted::Only(apps) => !apps.is_empty(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Wanted> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_older_dashboard_gets_everything_a_newer_one_what_it_follows() {
        let f = Follow::default();
        assert!(f.wants("api", Some(0)), "before any word: everything");
        f.start(true);
        assert!(
            !f.wants("api", Some(0)) && !f.any(),
            "on demand: nothing yet"
        );
        f.set(&json!({"t": "follow", "apps": ["3", "web"]}));
        assert!(f.wants("api", Some(3)) && f.wants("web", Some(1)));
        assert!(!f.wants("api", Some(0)));
        f.set(&json!({"t": "follow", "apps": ["all"]}));
        assert!(f.wants("api", Some(0)) && f.any());
        f.set(&json!({"t": "follow", "apps": []}));
        assert!(!f.any());
        f.start(false);
        assert!(f.wants("x", None), "a connection to an older dashboard");
    }
}
