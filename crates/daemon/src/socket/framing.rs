//! Frames on a control connection: a 4-byte length, then JSON (see `pm2_proto::frame`).
//! Every reply carries the daemon's version so the CLI can warn about a mismatch.

use crate::state::Daemon;
use pm2_proto::{frame, Reply, Response};
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Reads one frame body; `None` on EOF.
pub(crate) async fn read_frame(
    stream: &mut UnixStream,
) -> Result<Option<Vec<u8>>, frame::FrameError> {
    let mut header = [0u8; 4];
    match stream.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    // The length comes from the peer: grow the buffer as bytes arrive, so a header alone
    // cannot make the daemon allocate up to the frame cap.
    let len = frame::body_len(header)?;
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
    Ok(Some(body))
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
