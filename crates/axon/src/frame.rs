//! amp frames: byte 0 is `(version << 4) | argc` (version 1, 1 to 15 arguments), then each
//! argument as a big-endian `u32` length and its bytes. There is no overall length: a
//! reader walks the arguments, and one read may hold several frames or part of one.
//!
//! [`Decoder`] keeps what arrived until a frame is complete. It never allocates for a
//! length a peer only declares: a frame larger than [`Limits::max_frame`] is refused as
//! soon as its header says so, so a reader holds at most one frame's worth of bytes.

use crate::arg::Arg;

/// The only amp version there is.
const VERSION: u8 = 1;
/// The most arguments a frame can carry (argc is four bits).
pub const MAX_ARGS: usize = 15;

/// What a peer may make a reader hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes of arguments in one frame.
    pub max_frame: usize,
}

impl Default for Limits {
    /// 16 MiB: PM2's largest messages (a `prepare` or a list carrying the caller's whole
    /// environment twice per app) are tens of kilobytes.
    fn default() -> Self {
        Limits {
            max_frame: 16 << 20,
        }
    }
}

/// Why a stream is not amp; the connection cannot be read further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The first byte's version is not 1.
    #[error("not an amp frame: version {0} (expected 1)")]
    Version(u8),
    /// The first byte says no arguments.
    #[error("an amp frame without arguments")]
    NoArgs,
    /// The arguments would be more bytes than the limit.
    #[error("an amp frame of {declared} bytes or more: at most {limit}")]
    TooLarge {
        /// The bytes declared so far.
        declared: u64,
        /// The limit.
        limit: usize,
    },
    /// More arguments than a frame can carry (when encoding).
    #[error("{0} arguments: an amp frame carries at most {MAX_ARGS}")]
    TooManyArgs(usize),
}

/// The bytes of a frame of `args`.
pub fn encode(args: &[Arg]) -> Result<Vec<u8>, FrameError> {
    encode_raw(&args.iter().map(Arg::encode).collect::<Vec<_>>())
}

/// The bytes of a frame of already encoded arguments.
pub fn encode_raw(args: &[Vec<u8>]) -> Result<Vec<u8>, FrameError> {
    if args.is_empty() {
        return Err(FrameError::NoArgs);
    }
    if args.len() > MAX_ARGS {
        return Err(FrameError::TooManyArgs(args.len()));
    }
    let size = 1 + args.iter().map(|a| 4 + a.len()).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    // argc ≤ 15 was checked: it fits the low four bits.
    out.push((VERSION << 4) | args.len() as u8);
    for arg in args {
        let len = u32::try_from(arg.len()).map_err(|_| FrameError::TooLarge {
            declared: arg.len() as u64,
            limit: u32::MAX as usize,
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(arg);
    }
    Ok(out)
}

/// Reads frames out of a byte stream fed in pieces.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    limits: Limits,
}

impl Decoder {
    /// A decoder with these limits.
    pub fn new(limits: Limits) -> Decoder {
        Decoder {
            buf: Vec::new(),
            limits,
        }
    }

    /// Adds bytes read from the stream. Take the frames out with [`Decoder::next_frame`]
    /// after each read: the buffer then never holds more than one partial frame.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received and not yet returned as a frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame's arguments (raw bytes), `None` until one is complete.
    /// After an error the stream is out of step for good: close the connection.
    pub fn next_frame(&mut self) -> Result<Option<Vec<Vec<u8>>>, FrameError> {
        let Some(bounds) = self.complete_frame()? else {
            return Ok(None);
        };
        let args = bounds
            .iter()
            .map(|&(start, len)| self.buf[start..start + len].to_vec())
            .collect();
        let end = bounds.last().map_or(1, |&(start, len)| start + len);
        self.buf.drain(..end);
        Ok(Some(args))
    }

    /// Where each argument of the frame at the buffer's start lies, once all are there.
    fn complete_frame(&self) -> Result<Option<Vec<(usize, usize)>>, FrameError> {
        let Some(&head) = self.buf.first() else {
            return Ok(None);
        };
        if head >> 4 != VERSION {
            return Err(FrameError::Version(head >> 4));
        }
        let argc = usize::from(head & 0x0f);
        if argc == 0 {
            return Err(FrameError::NoArgs);
        }
        let mut bounds = Vec::with_capacity(argc);
        let mut at = 1;
        let mut declared: u64 = 0;
        for _ in 0..argc {
            let Some(len) = self.buf.get(at..at + 4) else {
                return Ok(None);
            };
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
            declared += u64::from(len);
            if declared > self.limits.max_frame as u64 {
                return Err(FrameError::TooLarge {
                    declared,
                    limit: self.limits.max_frame,
                });
            }
            let len = len as usize;
            bounds.push((at + 4, len));
            at += 4 + len;
        }
        Ok((self.buf.len() >= at).then_some(bounds))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// `pm2.ping()` from pid 10676, as captured (the study's §2.2).
    pub(crate) const PING: &str = "12 0000002d 6a3a7b2274797065223a2263616c6c222c226d6574686f64223a2270696e67222c2261726773223a5b7b7d5d7d 00000009 733a31303637363a31";
    /// Its reply.
    pub(crate) const PONG: &str = "12 0000001b 6a3a7b2261726773223a5b7b226d7367223a22706f6e67227d5d7d 00000009 733a31303637363a31";

    pub(crate) fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("0"), 16).unwrap_or(0))
            .collect()
    }

    #[test]
    fn the_captured_ping_decodes_and_its_reply_encodes_byte_for_byte() {
        let mut d = Decoder::default();
        d.push(&hex(PING));
        let frame = d.next_frame().expect("amp").expect("a frame");
        assert_eq!(frame.len(), 2);
        assert_eq!(
            Arg::decode(&frame[0]),
            Ok(Arg::Json(
                json!({"type": "call", "method": "ping", "args": [{}]})
            ))
        );
        assert_eq!(Arg::decode(&frame[1]), Ok(Arg::Str("10676:1".into())));
        assert_eq!(d.pending(), 0);
        let reply = encode(&[
            Arg::Json(json!({"args": [{"msg": "pong"}]})),
            Arg::Str("10676:1".into()),
        ]);
        assert_eq!(reply, Ok(hex(PONG)));
        assert_eq!(hex(PONG).len(), 45);
    }

    #[test]
    fn frames_split_anywhere_or_sent_together_come_out_the_same() {
        let two = [hex(PING), hex(PONG)].concat();
        for cut in 0..=two.len() {
            let mut d = Decoder::default();
            let mut frames = Vec::new();
            for piece in [&two[..cut], &two[cut..]] {
                d.push(piece);
                while let Some(f) = d.next_frame().expect("amp") {
                    frames.push(f);
                }
            }
            assert_eq!(frames.len(), 2, "cut at {cut}");
            assert_eq!(d.pending(), 0);
        }
    }

    #[test]
    fn a_declared_length_past_the_limit_is_refused_before_its_bytes_arrive() {
        let mut d = Decoder::new(Limits { max_frame: 1024 });
        d.push(&[0x12, 0, 0, 0, 10]);
        assert_eq!(d.next_frame(), Ok(None));
        let mut d = Decoder::new(Limits { max_frame: 1024 });
        d.push(&[0x11, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            d.next_frame(),
            Err(FrameError::TooLarge {
                declared: u64::from(u32::MAX),
                limit: 1024
            })
        );
        // Two arguments within the limit each, past it together.
        let mut d = Decoder::new(Limits { max_frame: 1024 });
        d.push(&[0x12, 0, 0, 2, 0x58]);
        d.push(&[b'x'; 600]);
        assert_eq!(d.next_frame(), Ok(None));
        d.push(&[0, 0, 2, 0x58]);
        assert_eq!(
            d.next_frame(),
            Err(FrameError::TooLarge {
                declared: 1200,
                limit: 1024
            })
        );
    }

    #[test]
    fn what_is_not_amp_is_named() {
        for (bytes, err) in [
            (vec![0x22, 0, 0, 0, 0], FrameError::Version(2)),
            (b"GET / HTTP/1.1\r\n".to_vec(), FrameError::Version(4)),
            (vec![0x10], FrameError::NoArgs),
        ] {
            let mut d = Decoder::default();
            d.push(&bytes);
            assert_eq!(d.next_frame(), Err(err));
        }
        assert_eq!(encode(&[]), Err(FrameError::NoArgs));
        let many = vec![Arg::Str(String::new()); 16];
        assert_eq!(encode(&many), Err(FrameError::TooManyArgs(16)));
    }
}
