//! The daemon's client: one connection to `daemon.sock` per request, as the CLI makes
//! them, the same length-prefixed JSON frames (`pm2-proto::frame`), async.

use pm2_proto::{frame, Envelope, ProcessInfo, Reply, Request, Response};
use std::path::PathBuf;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Where the daemon listens.
#[derive(Debug, Clone)]
pub struct Daemon {
    socket: PathBuf,
}

/// A request whose reply is many frames (logs).
pub struct Stream {
    stream: UnixStream,
}

impl Daemon {
    /// The daemon at `socket`.
    pub fn at(socket: PathBuf) -> Daemon {
        Daemon { socket }
    }

    /// Sends `request` and returns the one reply.
    pub async fn request(&self, request: Request) -> Result<Response, String> {
        let mut stream = self.open(request).await?;
        stream
            .next()
            .await?
            .ok_or_else(|| "the daemon closed the connection".to_string())
    }

    /// Every instance without its environment (`Request::Summary`, readings as of now).
    pub async fn summary(&self) -> Result<Vec<ProcessInfo>, String> {
        match self.request(Request::Summary).await? {
            Response::List { processes } => Ok(processes),
            Response::Error { message } => Err(message),
            other => Err(format!("unexpected reply from the daemon: {other:?}")),
        }
    }

    /// Sends a streaming request; read its frames with [`Stream::next`].
    pub async fn open(&self, request: Request) -> Result<Stream, String> {
        let mut stream = UnixStream::connect(&self.socket).await.map_err(|e| {
            format!(
                "cannot reach the PM2 daemon at {}: {e} (is it running? `pm2 ping`)",
                self.socket.display()
            )
        })?;
        let envelope = Envelope {
            client_version: pm2_proto::VERSION.to_string(),
            // The dashboard reads the first revision's plain `List`.
            protocol: 1,
            request,
        };
        let bytes = frame::encode(&envelope).map_err(|e| e.to_string())?;
        stream
            .write_all(&bytes)
            .await
            .map_err(|e| format!("cannot send to the daemon: {e}"))?;
        Ok(Stream { stream })
    }
}

impl Stream {
    /// The next frame; `None` when the daemon hung up.
    pub async fn next(&mut self) -> Result<Option<Response>, String> {
        let mut header = [0u8; 4];
        match self.stream.read_exact(&mut header).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(format!("cannot read from the daemon: {e}")),
        }
        let len = frame::body_len(header).map_err(|e| e.to_string())?;
        let mut body = vec![0u8; len];
        self.stream
            .read_exact(&mut body)
            .await
            .map_err(|e| format!("cannot read from the daemon: {e}"))?;
        let reply: Reply = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        Ok(Some(reply.response))
    }
}
