//! Serving the control socket: one task per connection, requests answered in order.

use crate::handlers;
use crate::socket::framing::{read_frame, send};
use crate::state::Daemon;
use pm2_proto::{frame, Envelope, Response};
use std::sync::Arc;
use tokio::net::{UnixListener, UnixStream};

/// Accepts connections forever, each served on its own task.
pub(crate) async fn accept_loop(listener: &UnixListener, daemon: &Arc<Daemon>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_connection(stream, Arc::clone(daemon)));
            }
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// Serves requests on one connection until the client hangs up. Malformed input gets an
/// error reply and closes the connection; it never affects the daemon.
async fn serve_connection(mut stream: UnixStream, daemon: Arc<Daemon>) {
    loop {
        let body = match read_frame(&mut stream).await {
            Ok(Some(body)) => body,
            Ok(None) => return,
            Err(e) => {
                let _ = send(&mut stream, &daemon, error(e.to_string())).await;
                return;
            }
        };
        let envelope: Envelope = match serde_json::from_slice(&body) {
            Ok(env) => env,
            Err(e) => {
                let msg = frame::FrameError::from(e).to_string();
                let _ = send(&mut stream, &daemon, error(msg)).await;
                return;
            }
        };
        if let pm2_proto::Request::Logs(req) = envelope.request {
            let _ = handlers::stream_logs(&daemon, req, &mut stream).await;
            return;
        }
        let (response, then_exit) = handlers::dispatch(&daemon, envelope.request).await;
        if send(&mut stream, &daemon, response).await.is_err() {
            return;
        }
        if then_exit {
            daemon.shutdown.notify_one();
            return;
        }
    }
}

fn error(message: String) -> Response {
    Response::Error { message }
}
