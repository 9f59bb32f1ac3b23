//! What can go wrong between the CLI and an app's inspector, each in words that say
//! where and what to do.

use std::net::SocketAddr;

/// An inspector step that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `/proc/<pid>` could not be read (the process exited, or belongs to another user).
    #[error(
        "cannot read the sockets of pid {pid} in /proc ({source}): did the app exit or restart?"
    )]
    Proc {
        /// The process.
        pid: u32,
        /// What procfs said.
        source: procfs::ProcError,
    },
    /// The process is stopped (SIGSTOP, or traced): it can open nothing until continued.
    #[error("pid {pid} is stopped (SIGSTOP or a debugger): it cannot open its inspector until continued (kill -CONT {pid})")]
    Stopped {
        /// The process.
        pid: u32,
    },
    /// The caller's signal could not be sent.
    #[error("cannot send SIGUSR1 to pid {pid}: {reason}")]
    Signal {
        /// The process.
        pid: u32,
        /// Why.
        reason: String,
    },
    /// Node opened no inspector socket after the signal.
    #[error(
        "Node did not open its inspector within {waited_ms} ms of SIGUSR1: its inspector \
         port may be taken by another process (Node then logs \"Starting inspector on ... \
         failed\" to the app's error log), or the app handles SIGUSR1 itself"
    )]
    NotOpened {
        /// How long it waited.
        waited_ms: u64,
    },
    /// Connecting, writing or reading a socket failed.
    #[error("the inspector at {addr}: {source}")]
    Io {
        /// Where.
        addr: SocketAddr,
        /// What the socket said.
        source: std::io::Error,
    },
    /// The HTTP endpoint answered something that is not an inspector's target list.
    #[error("the inspector at {addr} answered {what}")]
    Http {
        /// Where.
        addr: SocketAddr,
        /// What was wrong with the answer.
        what: String,
    },
    /// The websocket failed (handshake, frame, closed by Node).
    #[error("the inspector websocket {url}: {source}")]
    WebSocket {
        /// The `webSocketDebuggerUrl`.
        url: String,
        /// What tungstenite said.
        source: Box<tungstenite::Error>,
    },
    /// A step did not finish before its deadline.
    #[error("the inspector did not answer {what} in time ({secs} s)")]
    Timeout {
        /// The step (`Profiler.stop`, the websocket handshake, ...).
        what: String,
        /// Its time limit.
        secs: u64,
    },
    /// Node answered a protocol call with an error, or with a result of the wrong shape.
    #[error("the inspector refused {method}: {message}")]
    Protocol {
        /// The DevTools method.
        method: String,
        /// Node's message, or what the result lacked.
        message: String,
    },
}
