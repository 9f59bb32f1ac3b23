//! The listener and one HTTP/1 connection per accepted socket, on a single-threaded
//! runtime (a static server for one directory needs no more, and stays small).

use crate::handler;
use crate::log;
use crate::settings::Settings;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// A client that has not sent its request headers by then is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after a failed accept (EMFILE, ...), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Binds and serves forever; returns 1 if the runtime or the listener cannot be had.
pub fn run(settings: Settings) -> i32 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(rt) => rt.block_on(serve(Arc::new(settings))),
        Err(e) => log::fatal(&format!("cannot start the runtime: {e}")),
    }
}

async fn serve(settings: Arc<Settings>) -> i32 {
    let (host, port) = (settings.host.as_str(), settings.port);
    let listener = match TcpListener::bind((host, port)).await {
        Ok(l) => l,
        Err(e) => return log::fatal(&format!("cannot listen on {host}:{port}: {e}")),
    };
    log::say(&format!(
        "Exposing {} directory on {host}:{port}",
        settings.shown_path.display()
    ));
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(connection(stream, Arc::clone(&settings)));
            }
            Err(e) => {
                log::error(&format!("accept failed: {e}"));
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// Serves the requests of one connection (keep-alive) until the client leaves.
async fn connection(stream: TcpStream, settings: Arc<Settings>) {
    let service = service_fn(move |request| {
        let settings = Arc::clone(&settings);
        async move { Ok::<_, Infallible>(handler::handle(&settings, request).await) }
    });
    // A client that goes away mid-answer is not an error worth a log line.
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
