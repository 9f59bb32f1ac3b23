//! Frames on a control connection: a 4-byte length, then JSON (see `pm2_proto::frame`).
//! Every reply carries the daemon's version so the CLI can warn about a mismatch.

use super::limits::Limits;
use crate::state::Daemon;
use pm2_proto::{frame, Reply, Response};
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::time::{timeout, timeout_at, Instant};

/// Reads one frame body within the socket's limits; `None` on EOF (or when the client
/// stayed idle past [`Limits::idle`] before beginning a frame).
pub(crate) async fn read_frame(
    stream: &mut UnixStream,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, frame::FrameError> {
    let mut header = [0u8; 4];
    match timeout(limits.idle, stream.read(&mut header[..1])).await {
        Err(_) | Ok(Ok(0)) => return Ok(None),
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(e.into()),
    }
    let deadline = Instant::now() + limits.frame;
    let late = || {
        let why = format!("the request did not arrive within {:?}", limits.frame);
        frame::FrameError::from(io::Error::new(io::ErrorKind::TimedOut, why))
    };
    match timeout_at(deadline, stream.read_exact(&mut header[1..])).await {
        Err(_) => return Err(late()),
        Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Ok(r) => r.map(drop)?,
    }
    let len = frame::body_len(header)?;
    let body = async {
        let _budget = limits.body(len).await;
        read_body(stream, len).await
    };
    timeout_at(deadline, body)
        .await
        .map_err(|_| late())?
        .map(Some)
}

/// Reads a body of `len` bytes, growing the buffer as bytes arrive, so a header alone
/// cannot make the daemon allocate up to the frame cap.
async fn read_body(stream: &mut UnixStream, len: usize) -> Result<Vec<u8>, frame::FrameError> {
    let mut body = Vec::new();
    (&mut *stream)
        .take(len as u64)
        .read_to_end(&mut body)
        .await?;
    if body.len() < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "the client closed the connection {} bytes into a {len}-byte frame",
                body.len()
            ),
        )
        .into());
    }
    Ok(body)
}

/// Writes one reply frame.
pub(crate) async fn send(
    stream: &mut UnixStream,
    daemon: &Daemon,
    response: Response,
) -> io::Result<()> {
    stream.write_all(&reply_bytes(daemon, response)?).await
}

/// Writes one reply frame on the write half of a split stream (streaming requests).
pub(crate) async fn send_half(
    w: &mut tokio::net::unix::WriteHalf<'_>,
    daemon: &Daemon,
    response: Response,
) -> io::Result<()> {
    w.write_all(&reply_bytes(daemon, response)?).await
}

fn reply_bytes(daemon: &Daemon, response: Response) -> io::Result<Vec<u8>> {
    let reply = Reply {
        daemon_version: daemon.settings.version.clone(),
        response,
    };
    frame::encode(&reply).map_err(|e| io::Error::other(e.to_string()))
}
