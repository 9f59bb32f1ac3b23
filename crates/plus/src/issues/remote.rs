//! A linked host's exits and `process:exception`s, as its agent sends them (link message
//! `event`, revision 2, with the app's last lines): read back into the chunk and lines
//! the local collector works on, and handed to [`super::collect::occurred`], so the
//! inbox and the alerts treat them as this host's, with the host named. An `event`
//! without a `pm_id` is the host's daemon's `pm2:reload` / `pm2:deploy`, for the "done"
//! alerts ([`super::collect::daemon_event`]).

use super::collect::{daemon_event, occurred};
use super::recent::Line;
use crate::state::State;
use pm2_proto::LogChunk;
use serde_json::Value;

/// One `event` message from `host`; one that cannot be read is logged and dropped.
pub fn on_event(state: &State, host: &str, message: &Value) {
    let chunk = match serde_json::from_value::<LogChunk>(message.clone()) {
        Ok(c) => c,
        Err(e) => {
            crate::log::error(&format!(
                "host {host}: an event this dashboard cannot read: {e}"
            ));
            return;
        }
    };
    if chunk.pm_id.is_none() {
        return daemon_event(state, Some(host), &chunk);
    }
    occurred(state, Some(host), &chunk, &lines(message));
}

/// The `lines` of a message (`[{"kind", "at", "line"}]`, as `Recent::json` writes them).
fn lines(message: &Value) -> Vec<Line> {
    let Some(list) = message.get("lines").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|l| {
            Some(Line {
                kind: if l.get("kind")?.as_str()? == "err" {
                    "err"
                } else {
                    "out"
                },
                at: l.get("at").and_then(Value::as_u64).unwrap_or(0),
                text: l.get("line")?.as_str()?.to_string(),
            })
        })
        .take(super::recent::LINES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_events_lines_read_back_as_the_collectors() {
        let m = json!({"lines": [
            {"kind": "out", "at": 1, "line": "up"},
            {"kind": "err", "at": 2, "line": "Error: boom"},
            {"kind": "err", "at": 3},
            "junk",
        ]});
        let got = lines(&m);
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[1].kind, got[1].at, got[1].text.as_str()),
            ("err", 2, "Error: boom")
        );
        assert!(lines(&json!({})).is_empty());
    }
}
