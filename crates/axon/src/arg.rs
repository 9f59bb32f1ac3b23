//! One amp argument. The prefix of its bytes gives its type, as `amp-message` decodes it:
//! `j:` and JSON, `s:` and a UTF-8 string, anything else a raw blob.

use serde_json::Value;

/// A decoded argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `j:` + JSON (what PM2 sends for objects, numbers, booleans and `undefined` as `null`).
    Json(Value),
    /// `s:` + a string (request ids, event names).
    Str(String),
    /// Bytes without a known prefix (Node Buffers; PM2 never sends these here).
    Blob(Vec<u8>),
}

/// Why an argument with a known prefix does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// `j:` followed by text that is not JSON.
    #[error("a j: argument is not JSON: {0}")]
    Json(String),
    /// `s:` followed by bytes that are not UTF-8.
    #[error("an s: argument is not UTF-8")]
    Utf8,
}

impl Arg {
    /// Decodes one argument's bytes.
    pub fn decode(bytes: &[u8]) -> Result<Arg, ArgError> {
        match bytes {
            [b'j', b':', json @ ..] => serde_json::from_slice(json)
                .map(Arg::Json)
                .map_err(|e| ArgError::Json(e.to_string())),
            [b's', b':', text @ ..] => std::str::from_utf8(text)
                .map(|s| Arg::Str(s.to_string()))
                .map_err(|_| ArgError::Utf8),
            blob => Ok(Arg::Blob(blob.to_vec())),
        }
    }

    /// The argument's bytes, prefix included.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Arg::Json(value) => prefixed(b"j:", serde_json::to_vec(value).unwrap_or_default()),
            Arg::Str(text) => prefixed(b"s:", text.as_bytes().to_vec()),
            Arg::Blob(bytes) => bytes.clone(),
        }
    }

    /// The JSON value of a `j:` argument.
    pub fn as_json(&self) -> Option<&Value> {
        match self {
            Arg::Json(v) => Some(v),
            _ => None,
        }
    }

    /// The text of an `s:` argument.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Arg::Str(s) => Some(s),
            _ => None,
        }
    }
}

fn prefixed(prefix: &[u8], mut body: Vec<u8>) -> Vec<u8> {
    body.splice(0..0, prefix.iter().copied());
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prefixes_give_the_type() {
        assert_eq!(Arg::decode(b"j:{\"a\":1}"), Ok(Arg::Json(json!({"a": 1}))));
        assert_eq!(Arg::decode(b"s:10676:1"), Ok(Arg::Str("10676:1".into())));
        assert_eq!(Arg::decode(b"xyz"), Ok(Arg::Blob(b"xyz".to_vec())));
        assert_eq!(Arg::decode(b"j"), Ok(Arg::Blob(b"j".to_vec())));
        assert!(matches!(Arg::decode(b"j:{"), Err(ArgError::Json(_))));
        assert_eq!(Arg::decode(b"s:\xff"), Err(ArgError::Utf8));
    }

    #[test]
    fn encoding_round_trips() {
        for arg in [
            Arg::Json(json!({"msg": "pong", "t": "\u{b0}C"})),
            Arg::Str("log:out".into()),
            Arg::Blob(vec![0, 1, 2]),
        ] {
            assert_eq!(Arg::decode(&arg.encode()), Ok(arg));
        }
    }
}
