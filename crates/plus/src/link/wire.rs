//! The link's messages, both ways, after the HTTP/1.1 upgrade of `GET /api/link` to
//! `pm2-link/2` (or `pm2-link/1`, an older agent, which sends no `event`): one JSON object
//! a line (JSON has no raw newline), each with a `t` tag. A side ignores a tag it does
//! not know, so a revision may add messages; one that changes a message's meaning must
//! take a new protocol name.
//!
//! | from | `t` | fields |
//! |---|---|---|
//! | agent | `state` | `processes` (the daemon's summary), `overview` (every few seconds) |
//! | agent | `log` | `pm_id`, `name`, `kind`, `at`, `data` (a line an app printed) |
//! | agent (2) | `event` | `pm_id`, `name`, `kind` (`event`: `data` is `exit`, with `exit` = `{code, signal}`; `message`: `data` is a `process:exception`'s JSON), `at`, `lines` (the app's last lines: `kind`, `at`, `line`) |
//! | agent | `missed` | `lines`, `where` (lines dropped: the daemon's hub or the agent's queue) |
//! | agent | `reply` | `id`, `status`, `body`, `ids` (an action's outcome) |
//! | agent | `bye` | (unlinked: the dashboard forgets the host) |
//! | dashboard | `action` | `id`, `target`, `action`, `params`, `who` |
//! | dashboard | `ping` | (every few seconds, so a dead link is seen from both ends) |
//! | dashboard (2) | `follow` | `apps` (ids, names or `all`; empty: none): send `log` lines of these apps only |
//!
//! Revision 2 also carries, as an `event` without a `pm_id`, the agent's daemon's
//! `pm2:reload` and `pm2:deploy` events (`kind` `message`, `data` the event's JSON, no
//! `lines`), which an older dashboard drops. A dashboard that sends `follow` says so in
//! its upgrade answer ([`LOGS_HEADER`]: `on-demand`); the agent then sends no `log`
//! line until it is asked for some.

use bytes::Bytes;
use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// The upgrade answer's header by which a dashboard says it sends `follow` (value
/// [`ON_DEMAND`]).
pub const LOGS_HEADER: &str = "x-pm2-link-logs";
/// [`LOGS_HEADER`]'s value.
pub const ON_DEMAND: &str = "on-demand";

/// One message as it goes on the wire.
pub fn encode(message: &Value) -> Bytes {
    let mut text = message.to_string();
    text.push('\n');
    Bytes::from(text)
}

/// The next message; `Ok(None)` at the end of the stream; an error for a line longer
/// than `max` bytes, one that is not a JSON object, or a read error.
pub async fn read<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<Option<Value>, String> {
    let mut line = Vec::new();
    let n = reader
        .take(max as u64 + 1)
        .read_until(b'\n', &mut line)
        .await
        .map_err(|e| e.to_string())?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(if n > max {
            format!("a message longer than {max} bytes")
        } else {
            "the stream ended inside a message".into()
        });
    }
    match serde_json::from_slice::<Value>(&line) {
        Ok(v) if v.is_object() => Ok(Some(v)),
        Ok(_) => Err("a message that is not a JSON object".into()),
        Err(e) => Err(format!("a message that is not JSON: {e}")),
    }
}

/// The tag of a message (`""` when it has none).
pub fn kind(message: &Value) -> &str {
    message.get("t").and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_are_lines_and_long_ones_are_refused() {
        let mut wire = Vec::new();
        wire.extend_from_slice(&encode(&serde_json::json!({"t": "ping"})));
        wire.extend_from_slice(&encode(&serde_json::json!({"t": "log", "data": "a\nb"})));
        let mut r = tokio::io::BufReader::new(&wire[..]);
        assert_eq!(kind(&read(&mut r, 100).await.unwrap().unwrap()), "ping");
        let log = read(&mut r, 100).await.unwrap().unwrap();
        assert_eq!(log["data"], "a\nb");
        assert_eq!(read(&mut r, 100).await.unwrap(), None);
        let long = encode(&serde_json::json!({"t": "x".repeat(200)}));
        let mut r = tokio::io::BufReader::new(&long[..]);
        assert!(read(&mut r, 100).await.is_err());
        let mut r = tokio::io::BufReader::new(&b"[1]\n"[..]);
        assert!(read(&mut r, 100).await.is_err());
    }
}
