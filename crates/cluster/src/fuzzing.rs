//! One input through the decoders a Node child reaches over its IPC channel (fd 3), with
//! the invariants that must hold whatever the child writes. The fuzz targets in `fuzz/` and
//! the property tests below call the same functions.
//!
//! Compiled for tests and with the `fuzzing` feature only.

use crate::ipc::{
    internal_cmd, route, to_line, Control, HandleEnvelope, HandleKind, Incoming, LineSplitter,
};
use crate::listener::Endpoint;
use serde_json::Value;

/// Feeds `data` to the line reader as a child's writes would arrive. The first byte picks
/// where the stream is cut into reads; the rest is the stream. Every way of cutting it must
/// give the same messages, what waits for its `\n` is only the tail after the last one,
/// and each message is routed by Node's rules (a `queryServer` is read as an endpoint).
pub fn ipc_stream(data: &[u8]) {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let whole = split_all(&[stream]);
    let cut = split_all(&cuts(stream, seed));
    assert_eq!(whole.0, cut.0, "messages depend on read boundaries");
    let tail = stream.len()
        - stream
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
    assert_eq!(whole.1, tail, "pending bytes are not the unterminated tail");
    assert_eq!(cut.1, tail, "pending bytes are not the unterminated tail");
    for message in whole.0 {
        check_route(message);
    }
}

/// Every `Value` the reader decodes, wrapped as the `NODE_HANDLE` line the primary sends
/// with an fd, reads back as one line that is ACKed and delivers the inner message.
pub fn handle_envelope(data: &[u8]) {
    let mut splitter = LineSplitter::default();
    splitter.push(data);
    splitter.push(b"\n");
    for inner in splitter.take_messages() {
        for kind in [HandleKind::NetNative, HandleKind::DgramNative] {
            let line = to_line(&HandleEnvelope::new(kind, &inner));
            let mut back = LineSplitter::default();
            back.push(&line);
            let mut messages = back.take_messages();
            assert_eq!(messages.len(), 1, "an envelope is exactly one line");
            assert_eq!(back.pending(), 0);
            let envelope = messages.remove(0);
            assert_eq!(envelope["type"], kind.as_str());
            let routed = route(envelope);
            assert!(matches!(routed.control, Some(Control::ReplyAck)));
            match routed.deliver {
                Some(Incoming::User(v) | Incoming::Cluster(v)) => assert_eq!(v, inner),
                Some(Incoming::Closed) => panic!("a line cannot close the channel"),
                None => assert!(internal_cmd(&inner).is_some_and(|c| c != "NODE_CLUSTER")),
            }
        }
    }
}

/// The messages and the pending byte count after pushing `reads` one by one.
fn split_all(reads: &[&[u8]]) -> (Vec<Value>, usize) {
    let mut splitter = LineSplitter::default();
    let mut messages = Vec::new();
    for read in reads {
        splitter.push(read);
        messages.extend(splitter.take_messages());
    }
    (messages, splitter.pending())
}

/// `stream` cut into reads of 1 to 64 bytes, sizes drawn from `seed`.
fn cuts(stream: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut state = u32::from(seed) | 1;
    let mut rest = stream;
    let mut reads = Vec::new();
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let size = ((state >> 16) % 64 + 1) as usize;
        let (read, tail) = rest.split_at(size.min(rest.len()));
        reads.push(read);
        rest = tail;
    }
    reads
}

/// Node's classification holds for what is delivered, and a `queryServer` either names an
/// endpoint or is refused with a negative errno.
fn check_route(message: Value) {
    let routed = route(message);
    match routed.deliver {
        Some(Incoming::User(v)) => assert_eq!(internal_cmd(&v), None),
        Some(Incoming::Cluster(v)) => {
            assert_eq!(internal_cmd(&v), Some("NODE_CLUSTER"));
            if v.get("act").and_then(Value::as_str) == Some("queryServer") {
                check_endpoint(&v);
            }
        }
        Some(Incoming::Closed) => panic!("a line cannot close the channel"),
        None => {}
    }
}

fn check_endpoint(query: &Value) {
    match Endpoint::from_query(query) {
        Ok(Endpoint::Tcp { family, .. } | Endpoint::Udp { family, .. }) => {
            assert!(family == 4 || family == 6)
        }
        Ok(Endpoint::Unix(_)) => assert!(query["address"].is_string()),
        Err(errno) => assert!(errno.0 < 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Lines that look like what Node sends: internal and user messages, queryServer shapes.
    fn node_line() -> impl Strategy<Value = String> {
        let cmd = prop_oneof![
            Just("NODE_CLUSTER"),
            Just("NODE_HANDLE"),
            Just("NODE_HANDLE_ACK"),
            Just("NODE_HANDLE_NACK"),
            Just("NODE_"),
            Just("x"),
        ];
        let address_type = prop_oneof![
            Just("4".to_string()),
            Just("6".to_string()),
            Just("-1".to_string()),
            Just("\"udp4\"".to_string()),
            Just("null".to_string()),
            "-?[0-9]{1,12}",
        ];
        (cmd, address_type, "-?[0-9]{1,8}", "[a-z:./0-9]{0,12}").prop_map(|(cmd, at, port, addr)| {
            format!(
                r#"{{"cmd":"{cmd}","act":"queryServer","addressType":{at},"port":{port},"address":"{addr}","msg":{{"cmd":"{cmd}","act":"queryServer","port":{port}}}}}"#
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_as_an_ipc_stream(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            ipc_stream(&data);
        }

        #[test]
        fn node_shaped_lines(seed in any::<u8>(), lines in proptest::collection::vec(node_line(), 0..8)) {
            let mut data = vec![seed];
            for line in lines {
                data.extend_from_slice(line.as_bytes());
                data.push(b'\n');
            }
            ipc_stream(&data);
        }

        #[test]
        fn any_json_in_a_handle_envelope(line in node_line()) {
            handle_envelope(line.as_bytes());
        }

        #[test]
        fn any_number_in_a_handle_envelope(f in any::<f64>(), i in any::<i64>()) {
            handle_envelope(format!("{f:e}\n{f}\n{i}").as_bytes());
        }

        #[test]
        fn any_bytes_in_a_handle_envelope(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            handle_envelope(&data);
        }
    }

    /// Every input a fuzz target of this crate ever failed on stays fixed.
    #[test]
    fn fuzz_regressions() {
        pm2_fuzz_regressions::replay(&[
            ("cluster_ipc", ipc_stream as fn(&[u8])),
            ("cluster_handle", handle_envelope),
        ]);
    }
}
