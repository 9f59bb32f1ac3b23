//! Any bytes a peer writes to `rpc.sock` or `pub.sock`, through the frame decoder and the
//! request parser: no panic, no allocation beyond what arrived (the decoder's limit), the
//! same frames however the bytes are split, and every frame decoded re-encodes to exactly
//! the bytes it came from. The fuzz target `axon_frame` and the property tests below call
//! the same function.
//!
//! Compiled for tests and with the `fuzzing` feature only.

use crate::frame::{encode_raw, Decoder, Limits};
use crate::rpc::Incoming;

/// The limit the checks run with: small, so the refusal path is reached too.
const LIMITS: Limits = Limits { max_frame: 4096 };

/// Byte 0 picks where the rest is split (as two reads); the rest is the stream.
pub fn stream(data: &[u8]) {
    let [seed, rest @ ..] = data else {
        return;
    };
    let whole = decode_all(&[rest]);
    let cut = usize::from(*seed).min(rest.len());
    let split = decode_all(&[&rest[..cut], &rest[cut..]]);
    assert_eq!(whole, split, "frames depend on how the bytes were split");
    let mut consumed = 0;
    for frame in &whole.0 {
        let bytes = encode_raw(frame).expect("a decoded frame re-encodes");
        assert_eq!(&rest[consumed..consumed + bytes.len()], &bytes[..]);
        consumed += bytes.len();
        let _ = Incoming::parse(frame);
    }
}

/// Frames read from the pieces in order, and whether the stream ended in an error.
fn decode_all(pieces: &[&[u8]]) -> (Vec<Vec<Vec<u8>>>, bool) {
    let mut decoder = Decoder::new(LIMITS);
    let mut frames = Vec::new();
    for piece in pieces {
        decoder.push(piece);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(_) => return (frames, true),
            }
        }
        // Held back: at most one partial frame (header and arguments within the limit).
        assert!(decoder.pending() <= 1 + 15 * 4 + LIMITS.max_frame + piece.len());
    }
    (frames, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_as_an_axon_stream(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            stream(&data);
        }

        #[test]
        fn frame_shaped_streams(seed in any::<u8>(), argc in 1u8..4, parts in proptest::collection::vec("(j:|s:)?[a-z{}\":,\\[\\]0-9]{0,12}", 1..4)) {
            let mut data = vec![seed, 0x10 | argc];
            for p in parts.iter().take(usize::from(argc)) {
                data.extend_from_slice(&(p.len() as u32).to_be_bytes());
                data.extend_from_slice(p.as_bytes());
            }
            stream(&data);
        }
    }

    /// Every input a fuzz target of this crate ever failed on stays fixed.
    #[test]
    fn fuzz_regressions() {
        pm2_fuzz_regressions::replay(&[("axon_frame", stream as fn(&[u8]))]);
    }
}
