//! The facts of Node's IPC wire that both ends agree on: what a handle is called, how a
//! message is classified, how many handles may be unacknowledged, and the `NODE_HANDLE`
//! envelope (node-cluster-ipc.md §2, §4, §5).

use serde::Serialize;
use serde_json::Value;

/// Handles sent and not yet ACKed, at most, on one channel; the primary's round-robin
/// window of connections per worker is the same number, so a worker's window always fits
/// in its channel. Node allows one; a small window is safe on Linux (study §5).
pub const HANDLES_IN_FLIGHT: usize = 8;

/// Node's `MAX_HANDLE_RETRANSMISSIONS`: a NACKed handle is sent again this often.
pub const MAX_HANDLE_RETRANSMISSIONS: u32 = 3;

/// What a handle is, for the NODE_HANDLE `type` field: net.Native (TCP/unix stream) or dgram.Native (UDP).
///
/// Cluster workers expect exactly these raw-handle types (study §4, P3).
/// Only TCP, Unix-stream and UDP sockets may be sent; any other fd type makes
/// the Node child abort (P2), and they must be `O_NONBLOCK` (P1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleKind {
    /// A TCP or Unix stream socket (listening or connected): `"net.Native"`.
    NetNative,
    /// A UDP socket: `"dgram.Native"`.
    DgramNative,
}

impl HandleKind {
    /// The wire value of the `type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            HandleKind::NetNative => "net.Native",
            HandleKind::DgramNative => "dgram.Native",
        }
    }
}

/// A message from the child.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// `{"cmd":"NODE_CLUSTER",...}` messages (online, queryServer, listening, close, exitedAfterDisconnect, accepted replies).
    Cluster(Value),
    /// Any non-internal message (`process.send(x)`): the JSON value x as sent.
    User(Value),
    /// The channel closed (EOF or error): no more messages.
    Closed,
}

/// `{"cmd":"NODE_HANDLE","type":<kind>,"msg":<msg>}`: the line an fd rides with.
#[derive(Serialize)]
pub(crate) struct HandleEnvelope<'a, T: Serialize> {
    cmd: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    msg: &'a T,
}

impl<'a, T: Serialize> HandleEnvelope<'a, T> {
    pub(crate) fn new(kind: HandleKind, msg: &'a T) -> Self {
        HandleEnvelope {
            cmd: "NODE_HANDLE",
            kind: kind.as_str(),
            msg,
        }
    }
}

/// `JSON.stringify(msg) + "\n"`. Only used with `serde_json::Value` and the crate's own
/// reply structs (strings, numbers, Values), which always serialize.
pub(crate) fn to_line(msg: &impl Serialize) -> Vec<u8> {
    let mut line = serde_json::to_vec(msg).expect("Values and reply structs always serialize");
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_is_what_node_reads() {
        let inner = serde_json::json!({"cmd": "NODE_CLUSTER", "act": "newconn", "seq": 2});
        let line = to_line(&HandleEnvelope::new(HandleKind::NetNative, &inner));
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\",\"act\":\"newconn\",\"seq\":2}}\n"
        );
    }
}
