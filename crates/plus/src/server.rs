//! The listener and one HTTP/1 connection per accepted socket, on a single-threaded
//! runtime (a dashboard for one machine needs no more, and stays small). Once bound, it
//! writes `plus/listening.json` (its pid and URL), which `pm2 plus` waits for.

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
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// A client that has not sent its request headers by then is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Signals from the issue collector waiting for the alert engine.
const SIGNALS: usize = 256;
/// Pause after a failed accept (EMFILE, ...), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

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
    let (alert_settings, alert_error) = match AlertSettings::load(&settings.home) {
        Ok(s) => (s, None),
        Err(e) => {
            log::error(&format!("alerts off: {e}"));
            (AlertSettings::default(), Some(e))
        }
    };
    let issues = Inbox::load(settings.files.dir().join("issues.json"));
    let history = history::open(settings.files.dir());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let rt = match runtime {
        Ok(rt) => rt,
        Err(e) => return log::fatal(&format!("cannot start the runtime: {e}")),
    };
    let (signals, engine) = alert_channel(&alert_settings);
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
        alert_settings,
        alert_error,
        signals,
        deliveries: Mutex::default(),
        host_name: overview::host_name(),
        history,
        hosts: Hosts::default(),
        last_failed_link: Mutex::new(None),
    };
    let state = Arc::new(state);
    rt.block_on(async move {
        if let Some(rx) = engine {
            let settings = state.alert_settings.clone();
            tokio::spawn(alerts::engine::run(Arc::clone(&state), settings, rx));
        }
        tokio::spawn(issues::collect::run(Arc::clone(&state)));
        serve(state).await
    })
}

/// The channel from the issue collector to the alert engine, when alerts are on.
fn alert_channel(
    settings: &AlertSettings,
) -> (
    Option<mpsc::Sender<alerts::Signal>>,
    Option<mpsc::Receiver<alerts::Signal>>,
) {
    if settings.urls.is_empty() {
        return (None, None);
    }
    let (tx, rx) = mpsc::channel(SIGNALS);
    (Some(tx), Some(rx))
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
    let url = bind.url();
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
                tokio::spawn(connection(stream, peer, Arc::clone(&state)));
            }
            Err(e) => {
                log::error(&format!("accept failed: {e}"));
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// Serves the requests of one connection (keep-alive) until the client leaves.
async fn connection(stream: TcpStream, peer: std::net::SocketAddr, state: Arc<State>) {
    let service = service_fn(move |request| {
        let state = Arc::clone(&state);
        async move { Ok::<_, Infallible>(routes::handle(state, request, peer).await) }
    });
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
}
