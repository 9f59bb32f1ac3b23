//! Serving the control socket: one task per connection, requests answered in order.

use super::limits::Limits;
use crate::handlers;
use crate::socket::framing::{read_frame, send};
use crate::state::Daemon;
use pm2_proto::{frame, Envelope, Response};
use std::sync::Arc;
use tokio::net::{UnixListener, UnixStream};

/// Accepts connections forever, each served on its own task, as many at once as the
/// limits allow; one more is told why it is refused.
pub(crate) async fn accept_loop(listener: &UnixListener, daemon: &Arc<Daemon>) {
    let limits = Limits::from_env();
    loop {
        match listener.accept().await {
            Ok((stream, _)) => match limits.connection() {
                Some(place) => {
                    let serve = serve_connection(stream, Arc::clone(daemon), limits.clone());
                    tokio::spawn(async move {
                        serve.await;
                        drop(place);
                    });
                }
                None => {
                    tokio::spawn(refuse(stream, Arc::clone(daemon), limits.max_connections));
                }
            },
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// Tells a connection over the limit why it is closed (without waiting on it for long).
async fn refuse(mut stream: UnixStream, daemon: Arc<Daemon>, max: usize) {
    let message = format!(
        "the daemon serves at most {max} connections at once (PM2_RS_MAX_CONNECTIONS) and \
         all are taken: close some `pm2 logs`/`monit` clients, or retry"
    );
    let reply = send(&mut stream, &daemon, error(message));
    let _ = tokio::time::timeout(REFUSAL_WRITE, reply).await;
}

/// How long a refused client (over the limit, or too slow) gets to take its refusal.
const REFUSAL_WRITE: std::time::Duration = std::time::Duration::from_secs(1);

/// Serves requests on one connection until the client hangs up. Malformed input gets an
/// error reply and closes the connection; it never affects the daemon.
async fn serve_connection(mut stream: UnixStream, daemon: Arc<Daemon>, limits: Limits) {
    loop {
        let body = match read_frame(&mut stream, &limits).await {
            Ok(Some(body)) => body,
            Ok(None) => return,
            Err(e) => {
                let reply = send(&mut stream, &daemon, error(e.to_string()));
                let _ = tokio::time::timeout(REFUSAL_WRITE, reply).await;
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
        let response = pm2_proto::reply::for_protocol(response, envelope.protocol);
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
