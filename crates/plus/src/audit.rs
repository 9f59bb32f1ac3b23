//! The audit log: one JSON object a line in `PM2_HOME/plus/audit.log` (mode 0600) for
//! every action taken through the dashboard: who, what, on what, when, and how it ended.

use serde_json::{json, Value};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// One entry.
pub struct Entry<'a> {
    /// The host acted on (this machine's name, or a linked host's).
    pub host: &'a str,
    /// The caller (`session ab12cd34 (login link)`, `api token`).
    pub who: String,
    /// The peer address.
    pub remote: String,
    /// The action (`restart`, `scale`, ...).
    pub action: &'a str,
    /// The target as given (an id or a name).
    pub target: &'a str,
    /// Its parameters (`{"instances": "+1"}` for scale).
    pub params: Value,
    /// The ids acted on.
    pub ids: Vec<u32>,
    /// `None` on success, else why not.
    pub error: Option<String>,
}

/// Appends `entry` to the log at `path`; an error when it cannot be written (the caller
/// logs it: an action is never undone for want of an audit line).
pub fn append(path: &Path, entry: &Entry<'_>) -> std::io::Result<()> {
    let line = json!({
        "at": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "host": entry.host,
        "who": entry.who,
        "remote": entry.remote,
        "action": entry.action,
        "target": entry.target,
        "params": entry.params,
        "ids": entry.ids,
        "ok": entry.error.is_none(),
        "error": entry.error,
    });
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    // One write per line, O_APPEND: concurrent actions never interleave within a line.
    file.write_all(format!("{line}\n").as_bytes())
}
