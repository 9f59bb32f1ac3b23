//! `rpc.sock`: one task per connection. Requests are read as they come (clients pipeline)
//! and each is answered on its own task, so a slow one (a reload) never holds up the
//! others; replies go out in completion order, as PM2's do. What one connection may hold is
//! bounded: requests in flight, and the decoder's frame size. A malformed stream closes
//! that connection only.

use super::accept::accept_each;
use super::calls;
use crate::state::Daemon;
use pm2_axon::rpc::Incoming;
use pm2_axon::{Decoder, Limits};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, Semaphore};

/// Connections served at once; one more is closed at once (a Node client then retries).
const MAX_CONNECTIONS: usize = 512;
/// Requests of one connection being answered at once; past it the connection is not read
/// until one is done (the client's writes then wait in the socket).
const IN_FLIGHT: usize = 64;

/// Accepts connections until the daemon exits.
pub(crate) async fn accept_loop(listener: UnixListener, daemon: Arc<Daemon>) {
    accept_each(listener, MAX_CONNECTIONS, "rpc.sock", |stream| {
        serve_connection(stream, Arc::clone(&daemon))
    })
    .await;
}

/// Reads requests until the client hangs up or sends what is not amp.
async fn serve_connection(stream: UnixStream, daemon: Arc<Daemon>) {
    let peer = stream.peer_cred().ok().and_then(|c| c.pid());
    let (mut reader, mut writer) = stream.into_split();
    let (replies, mut outgoing) = mpsc::channel::<Vec<u8>>(IN_FLIGHT);
    let write = tokio::spawn(async move {
        while let Some(frame) = outgoing.recv().await {
            if writer.write_all(&frame).await.is_err() {
                return;
            }
        }
    });
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut decoder = Decoder::new(Limits::default());
    let mut buf = vec![0u8; 64 * 1024];
    'read: loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        decoder.push(&buf[..n]);
        loop {
            let frame = match decoder.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("rpc.sock: closing a connection: {e}");
                    break 'read;
                }
            };
            let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else {
                break 'read;
            };
            let (daemon, replies) = (Arc::clone(&daemon), replies.clone());
            tokio::spawn(async move {
                let request = Incoming::parse(&frame);
                if let Some(reply) = calls::answer(&daemon, request, peer).await {
                    let _ = replies.send(reply).await;
                }
                drop(permit);
            });
        }
    }
    // Replies still being computed go out before the writer ends (it ends with the last
    // sender), unless the client is gone.
    drop(replies);
    let _ = write.await;
}
