//! axon-rpc over amp, as PM2's `rpc.sock` speaks it. A request is
//! `[j:{"type":"call","method":M,"args":[…]}, <id>]`; the reply is `[j:BODY, <id>]` with
//! the id echoed byte for byte (the rep side takes the *last* argument as the id, whatever
//! its type). BODY is `{"args":[result]}` on success, `{"error":msg}` on failure.
//! `{"type":"methods"}` asks for the method table (pm2-interface and PM2+ agents build their
//! calls from it).

use crate::arg::Arg;
use crate::frame::{encode_raw, FrameError};
use serde_json::{json, Map, Value};

/// What one request frame asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A method call with its arguments.
    Call {
        /// The method name.
        method: String,
        /// Its arguments (PM2 sends one or two; ids may be numbers or numeric strings).
        args: Vec<Value>,
        /// The id to echo back.
        id: Vec<u8>,
    },
    /// `{"type":"methods"}`: the method table.
    Methods {
        /// The id to echo back.
        id: Vec<u8>,
    },
    /// A request axon-rpc answers with an error body (PM2's words).
    Refused {
        /// The error message.
        error: String,
        /// The id to echo back.
        id: Vec<u8>,
    },
    /// A frame of one argument: the rep side takes it as the id and finds no message, and
    /// PM2 sends no reply at all (observed). Answering nothing is the compatible thing.
    NoReply,
}

impl Incoming {
    /// Reads a request frame (its raw arguments, as [`crate::Decoder`] returns them).
    pub fn parse(frame: &[Vec<u8>]) -> Incoming {
        let [first, .., last] = frame else {
            return Incoming::NoReply;
        };
        let id = last.clone();
        let message = match Arg::decode(first) {
            Ok(Arg::Json(Value::Object(m))) => m,
            _ => return refused(".method required", id),
        };
        if message.get("type").and_then(Value::as_str) == Some("methods") {
            return Incoming::Methods { id };
        }
        let method = match message.get("method") {
            Some(Value::String(m)) if !m.is_empty() => m.clone(),
            Some(Value::Null | Value::Bool(false)) | None => {
                return refused(".method required", id)
            }
            Some(Value::String(_)) => return refused(".method required", id),
            Some(other) => other.to_string(),
        };
        match message.get("args") {
            Some(Value::Array(args)) => Incoming::Call {
                method,
                args: args.clone(),
                id,
            },
            _ => refused(".args required", id),
        }
    }
}

fn refused(error: &str, id: Vec<u8>) -> Incoming {
    Incoming::Refused {
        error: error.to_string(),
        id,
    }
}

/// The error axon-rpc gives for a method the server does not expose.
pub fn no_such_method(method: &str) -> String {
    format!("method \"{method}\" does not exist")
}

/// A success reply carrying `result` (PM2's methods return exactly one).
pub fn reply_ok(id: &[u8], result: Value) -> Result<Vec<u8>, FrameError> {
    reply(id, json!({ "args": [result] }))
}

/// A success reply without a result (`notifyByProcessId`'s `{"args":[]}`).
pub fn reply_empty(id: &[u8]) -> Result<Vec<u8>, FrameError> {
    reply(id, json!({ "args": [] }))
}

/// An error reply: the client calls back with `new Error(msg)`.
pub fn reply_error(id: &[u8], message: &str) -> Result<Vec<u8>, FrameError> {
    reply(id, json!({ "error": message }))
}

/// The method table: each method with the names of its parameters, as axon-rpc describes
/// the functions it exposes.
pub fn reply_methods(id: &[u8], methods: &[(&str, &[&str])]) -> Result<Vec<u8>, FrameError> {
    let table: Map<String, Value> = methods
        .iter()
        .map(|(name, params)| {
            let entry = json!({ "name": name, "params": params });
            (name.to_string(), entry)
        })
        .collect();
    reply(id, json!({ "methods": table }))
}

fn reply(id: &[u8], body: Value) -> Result<Vec<u8>, FrameError> {
    encode_raw(&[Arg::Json(body).encode(), id.to_vec()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::tests::{hex, PING, PONG};
    use crate::frame::Decoder;

    fn frame_of(args: &[Arg]) -> Vec<Vec<u8>> {
        args.iter().map(Arg::encode).collect()
    }

    fn id() -> Arg {
        Arg::Str("py:0".into())
    }

    #[test]
    fn the_captured_ping_is_a_call_and_its_reply_is_byte_for_byte() {
        let mut d = Decoder::default();
        d.push(&hex(PING));
        let frame = d.next_frame().expect("amp").expect("frame");
        let Incoming::Call { method, args, id } = Incoming::parse(&frame) else {
            panic!("not a call");
        };
        assert_eq!((method.as_str(), args), ("ping", vec![json!({})]));
        assert_eq!(reply_ok(&id, json!({"msg": "pong"})), Ok(hex(PONG)));
    }

    #[test]
    fn the_captured_error_reply_is_byte_for_byte() {
        let id = Arg::Str("21232:1".into()).encode();
        let reply = reply_error(&id, &no_such_method("noSuchMethod")).expect("encode");
        assert_eq!(reply.len(), 70);
        let want = "{\"error\":\"method \\\"noSuchMethod\\\" does not exist\"}";
        assert_eq!(&reply[5..7], b"j:");
        assert_eq!(&reply[7..7 + want.len()], want.as_bytes());
    }

    #[test]
    fn malformed_requests_get_axon_rpcs_words() {
        let cases = [
            (json!({"type": "call", "args": []}), ".method required"),
            (
                json!({"type": "call", "method": "", "args": []}),
                ".method required",
            ),
            (json!({"type": "call", "method": "ping"}), ".args required"),
            (
                json!({"type": "call", "method": "ping", "args": {}}),
                ".args required",
            ),
            (json!(42), ".method required"),
            (json!(null), ".method required"),
        ];
        for (message, error) in cases {
            let parsed = Incoming::parse(&frame_of(&[Arg::Json(message.clone()), id()]));
            assert_eq!(
                parsed,
                Incoming::Refused {
                    error: error.into(),
                    id: id().encode()
                },
                "{message}"
            );
        }
        let blob = Incoming::parse(&[b"not json".to_vec(), id().encode()]);
        assert!(matches!(blob, Incoming::Refused { .. }));
    }

    #[test]
    fn one_argument_gets_no_reply_and_methods_is_introspection() {
        let call = Arg::Json(json!({"type": "call", "method": "ping", "args": [{}]}));
        assert_eq!(Incoming::parse(&frame_of(&[call])), Incoming::NoReply);
        let methods = Incoming::parse(&frame_of(&[Arg::Json(json!({"type": "methods"})), id()]));
        assert_eq!(methods, Incoming::Methods { id: id().encode() });
        let reply = reply_methods(&id().encode(), &[("ping", &["opts", "fn"])]).expect("encode");
        let mut d = Decoder::default();
        d.push(&reply);
        let frame = d.next_frame().expect("amp").expect("frame");
        assert_eq!(
            Arg::decode(&frame[0]),
            Ok(Arg::Json(
                json!({"methods": {"ping": {"name": "ping", "params": ["opts", "fn"]}}})
            ))
        );
    }

    #[test]
    fn the_last_argument_is_the_id_whatever_its_type() {
        let call = Arg::Json(json!({"type": "call", "method": "getVersion", "args": [{}]}));
        let odd_id = Arg::Json(json!(7));
        let Incoming::Call { id, .. } =
            Incoming::parse(&frame_of(&[call, Arg::Str("x".into()), odd_id.clone()]))
        else {
            panic!("not a call");
        };
        assert_eq!(id, odd_id.encode());
        let empty = reply_empty(&id).expect("encode");
        assert_eq!(&empty[5..18], b"j:{\"args\":[]}");
    }
}
