//! One input through each decoder a peer of the daemon socket can reach, with the invariants
//! that must hold whatever the bytes are. The fuzz targets in `fuzz/` and the property tests
//! below call the same functions, so a crash found by either is a test of both.
//!
//! Compiled for tests and with the `fuzzing` feature only; nothing here is part of the
//! protocol.

use crate::frame::{self, FrameError};
use crate::{Envelope, Reply, ScaleChange, Target};

/// Reads frames from `data` as the CLI reads the daemon's replies (and the daemon a
/// client's requests) until EOF or the first error: no panic, and a frame is only as big as
/// the bytes that really came (an announced length alone must not allocate it).
pub fn frames(data: &[u8]) {
    read_all::<Envelope>(data);
    read_all::<Reply>(data);
}

fn read_all<T: serde::de::DeserializeOwned>(data: &[u8]) {
    let mut rest = data;
    loop {
        let before = rest.len();
        match frame::read_blocking::<_, T>(&mut rest) {
            Ok(Some(_)) => assert!(rest.len() < before, "a frame consumed no bytes"),
            Ok(None) => return,
            Err(FrameError::Io(_) | FrameError::TooLarge(_) | FrameError::Json(_)) => return,
        }
    }
}

/// Parses `data` as a request body (what follows the frame header): no panic, and any
/// request that parses survives the trip back through a frame, since the CLI must be able
/// to send everything the daemon accepts.
pub fn request(data: &[u8]) {
    if let Ok(envelope) = serde_json::from_slice::<Envelope>(data) {
        let bytes = frame::encode(&envelope).expect("a decoded envelope encodes");
        let back = frame::read_blocking::<_, Envelope>(&mut bytes.as_slice());
        assert!(
            matches!(back, Ok(Some(_))),
            "re-encoded envelope unreadable"
        );
    }
    if let Ok(reply) = serde_json::from_slice::<Reply>(data) {
        let bytes = frame::encode(&reply).expect("a decoded reply encodes");
        let back = frame::read_blocking::<_, Reply>(&mut bytes.as_slice());
        assert!(matches!(back, Ok(Some(_))), "re-encoded reply unreadable");
    }
    if let Ok(word) = std::str::from_utf8(data) {
        command_words(word);
    }
}

/// The CLI's parsers of target and scale words: a target always displays back as a word
/// that parses to the same target, and a scale change never overflows.
fn command_words(word: &str) {
    let target = Target::parse(word);
    assert_eq!(Target::parse(&target.display()), target, "{word:?}");
    if let Some(change) = ScaleChange::parse(word) {
        let _ = change.target(u32::MAX);
        let _ = change.target(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut out = (body.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(body);
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_as_frames(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            frames(&data);
        }

        #[test]
        fn any_header_then_short_body(len in any::<u32>(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut data = len.to_be_bytes().to_vec();
            data.extend_from_slice(&body);
            frames(&data);
        }

        #[test]
        fn any_bytes_as_a_request(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            request(&data);
            frames(&framed(&data));
        }

        #[test]
        fn json_shaped_requests(kind in "[a-z_]{0,12}", version in ".{0,8}", extra in "[a-z_\":0-9{}\\[\\],]{0,40}") {
            let body = format!(r#"{{"client_version":"{version}","request":{{"type":"{kind}"{extra}}}}}"#);
            request(body.as_bytes());
            frames(&framed(body.as_bytes()));
        }

        #[test]
        fn any_command_word(word in "\\PC{0,24}") {
            command_words(&word);
        }
    }

    /// Every input a fuzz target of this crate ever failed on stays fixed.
    #[test]
    fn fuzz_regressions() {
        pm2_fuzz_regressions::replay(&[
            ("proto_frame", frames as fn(&[u8])),
            ("proto_request", request),
        ]);
    }
}
