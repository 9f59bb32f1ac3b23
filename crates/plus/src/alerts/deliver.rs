//! Sending alerts: each webhook URL has its own bounded queue and at most
//! [`IN_FLIGHT`] deliveries at once, each tried up to [`ATTEMPTS`] times with an
//! exponential backoff and a deadline per attempt. A slow or dead receiver fills its own
//! queue (then new alerts to it are dropped and logged) and holds nothing else: not the
//! other URLs, not the engine, not the dashboard's requests.

use super::http;
use super::Alert;
use crate::log;
use crate::state::State;
use crate::tls::client::TlsConnector;
use pm2_home::plus_alerts::AlertFormat;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};

/// Alerts waiting per URL.
pub const QUEUE: usize = 100;
/// Deliveries under way per URL.
pub const IN_FLIGHT: usize = 4;
/// Tries per delivery.
pub const ATTEMPTS: u32 = 5;
/// The pause after the first failure; doubled after each next one, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest pause between tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// How long one try may take.
pub const DEADLINE: Duration = Duration::from_secs(5);
/// Outcomes kept for `GET /api/alerts`.
pub const KEPT: usize = 50;

/// The queues, one a URL.
pub struct Outbox {
    queues: Vec<(String, mpsc::Sender<Alert>)>,
}

impl Outbox {
    /// Starts a sender task per URL.
    pub fn start(state: &Arc<State>, urls: &[String], format: AlertFormat) -> Outbox {
        let queues = urls
            .iter()
            .map(|url| {
                let (tx, rx) = mpsc::channel(QUEUE);
                tokio::spawn(sender(Arc::clone(state), url.clone(), format, rx));
                (url.clone(), tx)
            })
            .collect();
        Outbox { queues }
    }

    /// Queues `alert` for every URL; where a queue is full, it is dropped for that URL.
    pub fn send(&self, alert: &Alert) {
        for (url, queue) in &self.queues {
            if queue.try_send(alert.clone()).is_err() {
                log::error(&format!(
                    "alert {} for {} dropped: {} is {QUEUE} alerts behind",
                    alert.event,
                    alert.app,
                    http::shown(url)
                ));
            }
        }
    }
}

async fn sender(
    state: Arc<State>,
    url: String,
    format: AlertFormat,
    mut rx: mpsc::Receiver<Alert>,
) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(alert) = rx.recv().await {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let state = Arc::clone(&state);
        let url = url.clone();
        tokio::spawn(async move {
            deliver(&state, &url, format, &alert).await;
            drop(permit);
        });
    }
}

/// Tries until a 2xx, a refusal that retrying cannot fix (a 4xx but 408 and 429), or
/// [`ATTEMPTS`] tries; records the outcome.
async fn deliver(state: &State, url: &str, format: AlertFormat, alert: &Alert) {
    let body = alert.body(format, &state.host_name);
    let mut pause = FIRST_BACKOFF;
    let mut last = Err(String::new());
    let mut tries = 0;
    for attempt in 1..=ATTEMPTS {
        tries = attempt;
        last = match https_connector(state, url) {
            Ok(tls) => http::post(url, body.clone(), DEADLINE, tls).await,
            Err(e) => Err(e),
        };
        match &last {
            Ok(status) if (200..300).contains(status) => break,
            Ok(status) if (400..500).contains(status) && ![408, 429].contains(status) => break,
            _ if attempt < ATTEMPTS => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_BACKOFF);
            }
            _ => {}
        }
    }
    let ok = matches!(last, Ok(s) if (200..300).contains(&s));
    if !ok {
        log::error(&format!(
            "alert {} for {} not delivered to {} after {tries} tries: {}",
            alert.event,
            alert.app,
            http::shown(url),
            match &last {
                Ok(s) => format!("HTTP {s}"),
                Err(e) => e.clone(),
            }
        ));
    }
    let outcome = json!({
        "url": url, "event": alert.event, "app": alert.app, "host": alert.host, "tries": tries, "ok": ok,
        "status": last.as_ref().ok(), "error": last.as_ref().err(), "at": pm2_home::now_ms(),
    });
    if let Ok(mut kept) = state.deliveries.lock() {
        if kept.len() == KEPT {
            kept.pop_front();
        }
        kept.push_back(outcome);
    }
}

/// The TLS connector an `https://` URL needs (None for `http://`).
fn https_connector<'a>(state: &'a State, url: &str) -> Result<Option<&'a TlsConnector>, String> {
    if url.starts_with("https://") {
        state.webhook_tls().map(Some)
    } else {
        Ok(None)
    }
}
