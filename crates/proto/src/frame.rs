//! Length-prefixed JSON frames: a big-endian `u32` length, then that many bytes of JSON.
//!
//! The size cap keeps a confused or hostile peer from making the daemon allocate without bound.

use serde::{de::DeserializeOwned, Serialize};
use std::io::{self, Read, Write};

/// Largest frame either side accepts (a list of thousands of apps fits comfortably).
pub const MAX_FRAME_LEN: usize = 64 * 1024 * 1024;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The socket failed or closed.
    #[error("connection error: {0}")]
    Io(#[from] io::Error),
    /// The peer announced a frame larger than [`MAX_FRAME_LEN`].
    #[error("frame of {0} bytes exceeds the {MAX_FRAME_LEN}-byte limit")]
    TooLarge(usize),
    /// The bytes were not the JSON this side expects (usually a version mismatch).
    #[error(
        "malformed message ({0}); are the pm2 CLI and daemon the same version? run `pm2 update`"
    )]
    Json(#[from] serde_json::Error),
}

/// Serialises `value` into one frame (length prefix included).
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, FrameError> {
    let body = serde_json::to_vec(value)?;
    if body.len() > MAX_FRAME_LEN {
        return Err(FrameError::TooLarge(body.len()));
    }
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Checks a frame header and returns the body length it announces.
pub fn body_len(header: [u8; 4]) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_FRAME_LEN {
        return Err(FrameError::TooLarge(len));
    }
    Ok(len)
}

/// Writes one frame to a blocking writer (the CLI side).
pub fn write_blocking<W: Write, T: Serialize>(w: &mut W, value: &T) -> Result<(), FrameError> {
    w.write_all(&encode(value)?)?;
    w.flush()?;
    Ok(())
}

/// Reads one frame from a blocking reader (the CLI side). `Ok(None)` on a clean EOF.
pub fn read_blocking<R: Read, T: DeserializeOwned>(r: &mut R) -> Result<Option<T>, FrameError> {
    match read_bytes_blocking(r)? {
        Some(body) => Ok(Some(serde_json::from_slice(&body)?)),
        None => Ok(None),
    }
}

/// Reads one frame's body, undecoded, from a blocking reader: for a reader that picks its
/// decoder from the bytes ([`crate::reply::decode_reply`]). `Ok(None)` on a clean EOF.
pub fn read_bytes_blocking<R: Read>(r: &mut R) -> Result<Option<Vec<u8>>, FrameError> {
    let mut header = [0u8; 4];
    match r.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    Ok(Some(read_body(r, body_len(header)?)?))
}

/// Up to this much of an announced frame is allocated before its bytes arrive: a list's
/// reply (400 KB for 100 apps) is then read in a few large reads instead of a growing
/// buffer's many small ones, and a lying header still costs at most this.
const PREALLOCATE_MAX: usize = 1024 * 1024;

/// Reads exactly `len` bytes, growing the buffer past [`PREALLOCATE_MAX`] only as they
/// arrive: the length comes from the peer, and a header alone must not make this side
/// allocate up to [`MAX_FRAME_LEN`].
fn read_body<R: Read>(r: &mut R, len: usize) -> io::Result<Vec<u8>> {
    let mut body = Vec::with_capacity(len.min(PREALLOCATE_MAX));
    r.take(len as u64).read_to_end(&mut body)?;
    if body.len() < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "the peer closed the connection {} bytes into a {len}-byte frame",
                body.len()
            ),
        ));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_a_value() {
        let bytes = encode(&vec!["a", "b"]).unwrap();
        let back: Option<Vec<String>> = read_blocking(&mut bytes.as_slice()).unwrap();
        assert_eq!(back.unwrap(), vec!["a", "b"]);
    }

    #[test]
    fn refuses_oversized_header() {
        let header = ((MAX_FRAME_LEN + 1) as u32).to_be_bytes();
        assert!(matches!(body_len(header), Err(FrameError::TooLarge(_))));
    }

    #[test]
    fn a_header_alone_is_an_error_not_an_allocation() {
        let mut data = (MAX_FRAME_LEN as u32).to_be_bytes().to_vec();
        data.extend_from_slice(b"{}");
        let r: Result<Option<String>, _> = read_blocking(&mut data.as_slice());
        assert!(matches!(r, Err(FrameError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof));
    }

    #[test]
    fn a_frame_larger_than_the_preallocation_is_read_whole() {
        let big = "x".repeat(PREALLOCATE_MAX + 10);
        let bytes = encode(&big).unwrap();
        let back: Option<String> = read_blocking(&mut bytes.as_slice()).unwrap();
        assert_eq!(back.unwrap(), big);
    }

    #[test]
    fn clean_eof_is_none() {
        let r: Option<String> = read_blocking(&mut [].as_slice()).unwrap();
        assert!(r.is_none());
    }
}
