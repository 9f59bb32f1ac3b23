//! The primary's messages to its workers, as typed structs serialized in the field order
//! Node's own primary uses (node-cluster-ipc.md §3). Node parses them with `JSON.parse`, so
//! the order is for the reader of a trace; the keys and values are what workers rely on.

use crate::listener::Sockname;
use serde::Serialize;
use serde_json::Value;

/// `{"cmd":"NODE_CLUSTER", ...body, "seq":N}`: what Node's `sendHelper` makes of every
/// message; `seq` is the primary's own counter for that worker.
#[derive(Serialize)]
pub(super) struct ClusterMessage<T: Serialize> {
    cmd: &'static str,
    #[serde(flatten)]
    body: T,
    seq: u64,
}

impl<T: Serialize> ClusterMessage<T> {
    pub(super) fn new(body: T, seq: u64) -> Self {
        ClusterMessage {
            cmd: "NODE_CLUSTER",
            body,
            seq,
        }
    }
}

/// The answer to `queryServer`: `errno` is null (round-robin), 0 (shared handle, which
/// rides with this message) or a negative errno; `data` echoes the first worker's (TLS
/// ticket keys, P4); `sockname` is what `server.address()` says in a round-robin worker.
#[derive(Serialize)]
pub(super) struct QueryServerReply<'a> {
    errno: Option<i32>,
    key: &'a str,
    ack: &'a Value,
    data: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    sockname: Option<Sockname>,
}

impl<'a> QueryServerReply<'a> {
    /// The socket cannot be had: the worker emits `'error'` (`listen EADDRINUSE`, ...).
    pub(super) fn failed(errno: i32, key: &'a str, ack: &'a Value) -> Self {
        QueryServerReply {
            errno: Some(errno),
            key,
            ack,
            data: &Value::Null,
            sockname: None,
        }
    }

    /// The primary accepts; connections follow as `newconn`.
    pub(super) fn round_robin(
        key: &'a str,
        ack: &'a Value,
        data: &'a Value,
        sockname: Option<Sockname>,
    ) -> Self {
        QueryServerReply {
            errno: None,
            key,
            ack,
            data,
            sockname,
        }
    }

    /// The bound socket itself is attached: the worker listens on it.
    pub(super) fn shared(key: &'a str, ack: &'a Value, data: &'a Value) -> Self {
        QueryServerReply {
            errno: Some(0),
            key,
            ack,
            data,
            sockname: None,
        }
    }
}

/// `act: newconn`: the attached connection was accepted on the listener `key`.
#[derive(Serialize)]
pub(super) struct NewConn<'a> {
    act: &'static str,
    key: &'a str,
}

impl<'a> NewConn<'a> {
    pub(super) fn new(key: &'a str) -> Self {
        NewConn {
            act: "newconn",
            key,
        }
    }
}

/// `act: disconnect`: close your servers (what `worker.disconnect()` sends).
#[derive(Serialize)]
pub(super) struct Disconnect {
    act: &'static str,
}

impl Disconnect {
    pub(super) fn new() -> Self {
        Disconnect { act: "disconnect" }
    }
}

/// The bare acknowledgement of a worker's request (`exitedAfterDisconnect`), without which
/// the worker never disconnects.
#[derive(Serialize)]
pub(super) struct Ack<'a> {
    ack: &'a Value,
}

impl<'a> Ack<'a> {
    pub(super) fn new(ack: &'a Value) -> Self {
        Ack { ack }
    }
}

#[cfg(test)]
mod tests {
    //! Each reply against the bytes of Node 20's own primary (node-cluster-ipc.md §3).
    use super::*;
    use crate::ipc::{to_line, HandleEnvelope, HandleKind};
    use serde_json::json;

    const KEY: &str = "null:3000:4:undefined:0";

    /// The line of a message sent with a handle attached.
    fn handle_line<T: Serialize>(msg: &T) -> String {
        String::from_utf8(to_line(&HandleEnvelope::new(HandleKind::NetNative, msg))).unwrap()
    }

    fn line<T: Serialize>(body: T, seq: u64) -> String {
        serde_json::to_string(&ClusterMessage::new(body, seq)).unwrap()
    }

    #[test]
    fn query_server_round_robin() {
        let sockname = Sockname {
            address: "::".into(),
            family: "IPv6",
            port: 3000,
        };
        let ack = json!(1);
        let reply = QueryServerReply::round_robin(KEY, &ack, &Value::Null, Some(sockname));
        assert_eq!(
            line(reply, 0),
            r#"{"cmd":"NODE_CLUSTER","errno":null,"key":"null:3000:4:undefined:0","ack":1,"data":null,"sockname":{"address":"::","family":"IPv6","port":3000},"seq":0}"#
        );
    }

    #[test]
    fn query_server_round_robin_on_a_unix_socket_has_no_sockname() {
        let key = "/run/app/app.sock:-1:-1:undefined:0";
        let ack = json!(1);
        let reply = QueryServerReply::round_robin(key, &ack, &Value::Null, None);
        assert_eq!(
            line(reply, 0),
            r#"{"cmd":"NODE_CLUSTER","errno":null,"key":"/run/app/app.sock:-1:-1:undefined:0","ack":1,"data":null,"seq":0}"#
        );
    }

    #[test]
    fn query_server_shared_handle() {
        let ack = json!(1);
        let reply = QueryServerReply::shared(KEY, &ack, &Value::Null);
        let msg = ClusterMessage::new(reply, 0);
        let wire = handle_line(&msg);
        assert_eq!(
            wire,
            "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\",\"errno\":0,\"key\":\"null:3000:4:undefined:0\",\"ack\":1,\"data\":null,\"seq\":0}}\n"
        );
    }

    #[test]
    fn query_server_shared_udp_handle() {
        let ack = json!(1);
        let reply = QueryServerReply::shared("0.0.0.0:4000:udp4:-1:0", &ack, &Value::Null);
        let msg = ClusterMessage::new(reply, 0);
        let wire = to_line(&HandleEnvelope::new(HandleKind::DgramNative, &msg));
        assert_eq!(
            String::from_utf8(wire).unwrap(),
            "{\"cmd\":\"NODE_HANDLE\",\"type\":\"dgram.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\",\"errno\":0,\"key\":\"0.0.0.0:4000:udp4:-1:0\",\"ack\":1,\"data\":null,\"seq\":0}}\n"
        );
    }

    #[test]
    fn query_server_echoes_tls_data() {
        let data = json!({"ticketKeys": "ab"});
        let ack = json!(1);
        let reply = QueryServerReply::shared(KEY, &ack, &data);
        assert_eq!(
            line(reply, 0),
            r#"{"cmd":"NODE_CLUSTER","errno":0,"key":"null:3000:4:undefined:0","ack":1,"data":{"ticketKeys":"ab"},"seq":0}"#
        );
    }

    #[test]
    fn query_server_error() {
        let ack = json!(1);
        let reply = QueryServerReply::failed(-98, KEY, &ack);
        assert_eq!(
            line(reply, 0),
            r#"{"cmd":"NODE_CLUSTER","errno":-98,"key":"null:3000:4:undefined:0","ack":1,"data":null,"seq":0}"#
        );
    }

    #[test]
    fn newconn() {
        let msg = ClusterMessage::new(NewConn::new(KEY), 2);
        assert_eq!(
            handle_line(&msg),
            "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\",\"act\":\"newconn\",\"key\":\"null:3000:4:undefined:0\",\"seq\":2}}\n"
        );
    }

    #[test]
    fn disconnect() {
        assert_eq!(
            line(Disconnect::new(), 3876),
            r#"{"cmd":"NODE_CLUSTER","act":"disconnect","seq":3876}"#
        );
    }

    #[test]
    fn exited_after_disconnect_ack() {
        assert_eq!(
            line(Ack::new(&json!(4)), 1),
            r#"{"cmd":"NODE_CLUSTER","ack":4,"seq":1}"#
        );
        // A request without a seq is still answered (ack: null), as before.
        assert_eq!(
            line(Ack::new(&Value::Null), 1),
            r#"{"cmd":"NODE_CLUSTER","ack":null,"seq":1}"#
        );
    }
}
