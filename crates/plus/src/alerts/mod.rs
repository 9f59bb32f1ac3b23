//! Alerts: webhooks (a JSON POST, or Slack's `{"text": ...}`) when an app crashes, ends
//! errored, restarts N times in M seconds, stays over a cpu or memory threshold, shows
//! an issue for the first time, or when a reload or a deploy finished (`done`). `rules` holds the pure state machines (storm, sustained
//! threshold), `engine` turns the collector's signals and a poll of the table into
//! alerts, `deliver` sends them (bounded queue, bounded retries with backoff, never in
//! anyone's way) with the small HTTP/1 client in `http`; `live` re-reads the settings
//! when their files change, so `pm2 set pm2-plus:alert_*` needs no restart.

pub mod deliver;
pub mod done;
pub mod engine;
pub mod http;
pub mod live;
pub mod rules;

use pm2_home::plus_alerts::AlertFormat;
use serde_json::{json, Value};

/// What the issue collector tells the engine.
#[derive(Debug, Clone)]
pub enum Signal {
    /// An instance crashed (non-zero exit or a signal).
    Crash {
        /// The linked host it ran on (None: this one).
        host: Option<String>,
        /// App name.
        app: String,
        /// Instance.
        pm_id: Option<u32>,
        /// `exited with code 1`, `killed by SIGKILL`.
        how: String,
        /// The error it printed, or `how`.
        message: String,
    },
    /// An instance exited on its own (the daemon then restarts it): counts for storms.
    Exit {
        /// The linked host it ran on (None: this one).
        host: Option<String>,
        /// App name.
        app: String,
        /// Instance.
        pm_id: Option<u32>,
        /// When.
        at: u64,
    },
    /// A new group in the issues inbox.
    FirstSeen {
        /// The issue as the API shows it.
        issue: Value,
    },
    /// A daemon-level event of [`done::EVENTS`] (a reload or a deploy finished).
    Done {
        /// The linked host whose daemon published it (None: this one).
        host: Option<String>,
        /// `pm2:reload`, `pm2:deploy`.
        event: String,
        /// Its payload.
        data: Value,
        /// When the daemon published it.
        at: u64,
    },
}

/// One alert, whatever fired it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// `crash`, `errored`, `restart_storm`, `cpu`, `memory`, `issue_first_seen`, `reload`,
    /// `deploy`.
    pub event: &'static str,
    /// The linked host the app runs on (None: this one): the body's `host`.
    pub host: Option<String>,
    /// App name.
    pub app: String,
    /// Instance, when one.
    pub pm_id: Option<u32>,
    /// One line for a human.
    pub message: String,
    /// What else the receiver may want (the issue, the threshold...).
    pub detail: Value,
    /// When, ms since the epoch.
    pub at: u64,
}

impl Alert {
    /// The POST body in `format`; `local` names this host (the app's, unless it runs on
    /// a linked one).
    pub fn body(&self, format: AlertFormat, local: &str) -> String {
        let host = self.host.as_deref().unwrap_or(local);
        match format {
            AlertFormat::Json => json!({
                "event": self.event, "app": self.app, "pm_id": self.pm_id,
                "message": self.message, "detail": self.detail, "at": self.at, "host": host,
                "source": "pm2-plus",
            })
            .to_string(),
            AlertFormat::Slack => json!({
                "text": format!("[pm2-plus on {host}] {}: {}", self.event, self.message)
            })
            .to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_json_or_slacks_text() {
        let a = Alert {
            event: "crash",
            host: None,
            app: "api".into(),
            pm_id: Some(3),
            message: "api (3) exited with code 1".into(),
            detail: json!({"exit_code": 1}),
            at: 5,
        };
        let v: Value = serde_json::from_str(&a.body(AlertFormat::Json, "h")).unwrap();
        assert_eq!(
            (v["event"].as_str(), v["pm_id"].as_u64()),
            (Some("crash"), Some(3))
        );
        assert_eq!(v["detail"]["exit_code"], 1);
        let s: Value = serde_json::from_str(&a.body(AlertFormat::Slack, "h")).unwrap();
        assert_eq!(
            s,
            json!({"text": "[pm2-plus on h] crash: api (3) exited with code 1"})
        );
        let remote = Alert {
            host: Some("hostb".into()),
            ..a
        };
        let v: Value = serde_json::from_str(&remote.body(AlertFormat::Json, "h")).unwrap();
        assert_eq!(v["host"], "hostb", "a linked host's app names its host");
    }
}
