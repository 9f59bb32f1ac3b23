//! What the log hub carries: one chunk of an app's output, a daemon line or a process
//! event, with who it comes from.

use std::sync::Arc;

/// What a chunk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    /// App stdout.
    Out,
    /// App stderr.
    Err,
    /// The daemon's own log (`pm2.log`).
    Pm2,
    /// A process event (`online`, `exit`, `stop`...), data is the event name.
    Event,
    /// A message the app sent over IPC (PM2's `process:msg`), data is its JSON.
    Message,
}

/// One published chunk.
#[derive(Debug, Clone)]
pub struct LogEvent {
    /// Instance id (None for daemon lines).
    pub pm_id: Option<u32>,
    /// App name (`PM2` for daemon lines).
    pub name: Arc<str>,
    /// App namespace.
    pub namespace: Arc<str>,
    /// Kind.
    pub kind: LogKind,
    /// The bytes as written.
    pub data: Arc<[u8]>,
    /// When it was read, ms since the epoch.
    pub at: u64,
    /// On an `exit` event: the code and the signal.
    pub exit: Option<pm2_proto::ExitNote>,
}
