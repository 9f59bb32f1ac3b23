//! The listener and one HTTP/1 connection per accepted socket, on a single-threaded
//! runtime (a dashboard for one machine needs no more, and stays small). Once bound, it
//! writes `plus/listening.json` (its pid and URL), which `pm2 plus` waits for. With a
//! certificate (`pm2-plus:tls_cert|tls_key`) it serves HTTPS only: each connection's task
//! shakes hands under the header timeout first, so a failed handshake, a client that
//! says nothing, or plain HTTP sent to the port (answered 400, saying to use https://)
//! ends that connection only.

use crate::alerts::live::Current;
use crate::daemon::Daemon;
use crate::fleet::hosts::Hosts;
use crate::issues::store::Inbox;
use crate::settings::Settings;
use crate::state::State;
use crate::{alerts, events, history, issues, log, overview, routes};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use pm2_home::plus_alerts::AlertSettings;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// A client that has not sent its request headers by then is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Signals from the issue collector waiting for the alert engine.
const SIGNALS: usize = 256;
/// Pause after a failed accept (EMFILE, ...), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// The first byte of a TLS record carrying a handshake (a ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;
/// What HTTPS responses add: browsers then use https:// for this host for a year.
const HSTS: &str = "max-age=31536000";

/// Binds and serves forever; returns 1 if it cannot.
pub fn run(settings: Settings) -> i32 {
    let api_token = match settings.files.ensure_api_token() {
        Ok(t) => t,
        Err(e) => {
            let path = settings.files.api_token();
            return log::fatal(&format!(
                "cannot create the API token {}: {e}",
                path.display()
            ));
        }
    };
    // Noted before the first read: a change made while it reads is seen on the next tick.
    let watcher = alerts::live::Watcher::new(settings.home.clone());
    let alert_current = alert_current(&settings);
    let issues = Inbox::load(settings.files.dir().join("issues.json"));
    let history = history::open(settings.files.dir());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let rt = match runtime {
        Ok(rt) => rt,
        Err(e) => return log::fatal(&format!("cannot start the runtime: {e}")),
    };
    let (signals, engine) = tokio::sync::mpsc::channel(SIGNALS);
    let state = State {
        daemon: Daemon::at(settings.home.socket()),
        settings,
        sessions: Mutex::default(),
        api_token,
        node_version: overview::node_version(),
        last_failed_login: Mutex::new(None),
        table: tokio::sync::watch::Sender::new(None),
        table_wanted: tokio::sync::Notify::new(),
        issues: Mutex::new(issues),
        alerts: Mutex::new(alert_current),
        signals,
        processes: tokio::sync::watch::Sender::new(None),
        webhook_tls: std::sync::OnceLock::new(),
        deliveries: Mutex::default(),
        host_name: overview::host_name(),
        history,
        hosts: Hosts::default(),
        last_failed_link: Mutex::new(None),
        live_charts: Default::default(),
    };
    let state = Arc::new(state);
    rt.block_on(async move {
        tokio::spawn(alerts::engine::run(Arc::clone(&state), watcher, engine));
        tokio::spawn(issues::collect::run(Arc::clone(&state)));
        serve(state).await
    })
}

/// The alert settings at start (defaults, no URL, and why, when they are invalid).
fn alert_current(settings: &Settings) -> Current {
    match AlertSettings::load(&settings.home) {
        Ok(settings) => Current {
            settings,
            error: None,
        },
        Err(e) => {
            log::error(&format!("alerts off: {e}"));
            Current {
                settings: AlertSettings::default(),
                error: Some(e),
            }
        }
    }
}

async fn serve(state: Arc<State>) -> i32 {
    let bind = &state.settings.bind;
    let listener = match TcpListener::bind((bind.host.as_str(), bind.port)).await {
        Ok(l) => l,
        Err(e) => {
            return log::fatal(&format!(
            "cannot listen on {}:{}: {e} (choose another port with `pm2 set pm2-plus:port <port>`)",
            bind.host, bind.port
        ))
        }
    };
    let url = state.settings.url();
    let listening = serde_json::json!({"pid": std::process::id(), "url": url}).to_string();
    let path = state.settings.files.listening();
    if let Err(e) = pm2_home::write_atomic(&path, listening.as_bytes()) {
        log::error(&format!("cannot write {}: {e}", path.display()));
    }
    log::say(&format!("PM2 Plus dashboard listening on {url}"));
    tokio::spawn(events::poll_table(Arc::clone(&state)));
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let state = Arc::clone(&state);
                match state.settings.acceptor.as_ref().map(|a| a.current()) {
                    None => tokio::spawn(connection(stream, peer, state, false)),
                    Some(tls) => tokio::spawn(tls_connection(tls, stream, peer, state)),
                };
            }
            Err(e) => {
                log::error(&format!("accept failed: {e}"));
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// Shakes hands (within [`HEADER_TIMEOUT`]), then serves the connection's requests; a
/// client that is not speaking TLS gets a plain-text 400 naming the https:// URL.
async fn tls_connection(
    tls: TlsAcceptor,
    stream: TcpStream,
    peer: std::net::SocketAddr,
    state: Arc<State>,
) {
    let handshake = async {
        let mut first = [0u8; 1];
        if stream.peek(&mut first).await.ok()? == 0 {
            return None;
        }
        if first[0] != TLS_HANDSHAKE {
            refuse_plaintext(stream, &state.settings.url()).await;
            return None;
        }
        tls.accept(stream).await.ok()
    };
    let Ok(Some(stream)) = tokio::time::timeout(HEADER_TIMEOUT, handshake).await else {
        return;
    };
    let stream = tokio_rustls::TlsStream::Server(stream);
    connection(stream, peer, state, true).await;
}

/// Answers a plain HTTP request sent to the HTTPS port, then closes.
async fn refuse_plaintext(mut stream: TcpStream, url: &str) {
    let text = format!("This PM2 Plus dashboard serves HTTPS only: open {url}\n");
    let reply = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Serves the requests of one connection (keep-alive) until the client leaves; over TLS,
/// every response carries `Strict-Transport-Security`.
async fn connection<S>(stream: S, peer: std::net::SocketAddr, state: Arc<State>, tls: bool)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let state = Arc::clone(&state);
        async move {
            let mut response = routes::handle(state, request, peer).await;
            if tls {
                response.headers_mut().insert(
                    hyper::header::STRICT_TRANSPORT_SECURITY,
                    hyper::header::HeaderValue::from_static(HSTS),
                );
            }
            Ok::<_, Infallible>(response)
        }
    });
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
}
