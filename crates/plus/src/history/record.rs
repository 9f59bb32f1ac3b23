//! What one tick records: a sample of cpu, memory and restarts for every instance, and
//! one of each numeric custom metric (`axm_monitor`) it reports, written by the store on
//! the blocking pool (SQLite never stalls the page's requests).

use super::store::{Sample, Store};
use crate::log;
use crate::metrics::numeric;
use pm2_proto::ProcessInfo;
use std::sync::{Arc, Mutex};

/// The samples of one process table: this host's (`host` None), or a linked host's,
/// whose series are kept apart under [`series_app`].
pub fn samples(host: Option<&str>, processes: &[ProcessInfo]) -> Vec<Sample> {
    let mut out = Vec::new();
    for p in processes {
        let running = p.status.is_running();
        let app = series_app(host, &p.spec.name);
        let mut add = |metric: &str, value: f64| {
            out.push(Sample {
                app: app.clone(),
                pm_id: p.pm_id,
                metric: metric.to_string(),
                value,
            });
        };
        add("cpu", if running { p.monit.cpu } else { 0.0 });
        add("memory", if running { p.monit.memory as f64 } else { 0.0 });
        add("restarts", f64::from(p.restart_time));
        if !running {
            continue;
        }
        for (metric, entry) in &p.axm_monitor {
            if matches!(metric.as_str(), "cpu" | "memory" | "restarts") {
                continue;
            }
            if let Some(value) = numeric(entry.get("value").unwrap_or(entry)) {
                add(metric, value);
            }
        }
    }
    out
}

/// The name a series of `app` is stored under: the app's own on this host; on a linked
/// host, the host and the app joined by U+001F (a control character no app or host
/// name holds), so `hostb`'s `api` is not this host's `api` and the tiers, rollups and
/// pruning treat every host's series alike.
pub fn series_app(host: Option<&str>, app: &str) -> String {
    match host {
        Some(h) => format!("{h}\u{1f}{app}"),
        None => app.to_string(),
    }
}

/// Records the table of second `now` (seconds since the epoch); an error is logged and
/// the next tick tries again.
pub async fn tick(store: Arc<Mutex<Store>>, now: i64, samples: Vec<Sample>) {
    let done = tokio::task::spawn_blocking(move || match store.lock() {
        Ok(mut s) => s.tick(now, &samples).map_err(|e| e.to_string()),
        Err(_) => Err("the history store's lock is poisoned".to_string()),
    })
    .await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => log::error(&format!("history: {e}")),
        Err(e) => log::error(&format!("history: {e}")),
    }
}
