//! `GET /api/history?app=<name>&metric=<cpu|memory|restarts|custom>&range=<1h|24h|7d|90d>`
//! (and `&pm_id=<id>` for one instance, `&after=<t_ms>` for only the points newer than the
//! last one a page holds, `&host=<name>` for a linked host's app, as `/api/logs` takes it):
//! the points `[t_ms, value]` of one chart, read from the finest tier that holds the
//! range, and the metrics recorded for the app.

use super::tiers::{self, RANGES, TIERS};
use crate::body::Body;
use crate::login::query_param;
use crate::reply;
use crate::state::State;
use hyper::{Response, StatusCode};
use serde_json::json;
use std::sync::Arc;

const NO_STORE: &str = "the history store could not be opened (see the pm2-plus app's error log)";
const AFTER: &str = "after must be a time in ms since the epoch (the last point's t)";

/// Answers one history query.
pub async fn get(state: Arc<State>, query: &str) -> Response<Body> {
    let Some(store) = state.history.clone() else {
        return reply::error(StatusCode::SERVICE_UNAVAILABLE, NO_STORE);
    };
    let app = query_param(query, "app").unwrap_or_default();
    if app.is_empty() {
        return reply::error(StatusCode::BAD_REQUEST, "missing app=<name>");
    }
    let Ok(host) = linked_host(&state, query) else {
        return reply::error(StatusCode::NOT_FOUND, "host= names no linked host");
    };
    mark_live(&state, host.as_deref(), &app, query);
    let series = super::record::series_app(host.as_deref(), &app);
    let metric = query_param(query, "metric").unwrap_or_else(|| "cpu".into());
    let range = query_param(query, "range").unwrap_or_else(|| "1h".into());
    let Ok(pm_id) = query_param(query, "pm_id")
        .map(|v| v.parse::<u32>())
        .transpose()
    else {
        return reply::error(StatusCode::BAD_REQUEST, "pm_id must be a number");
    };
    let Ok(after) = query_param(query, "after").map(|v| v.parse()).transpose() else {
        return reply::error(StatusCode::BAD_REQUEST, AFTER);
    };
    let Some((tier, since)) = window(&range, after) else {
        let known = RANGES.join(", ");
        return reply::error(
            StatusCode::BAD_REQUEST,
            &format!("unknown range {range:?}: one of {known}"),
        );
    };
    let read = {
        let (app, metric) = (series, metric.clone());
        tokio::task::spawn_blocking(move || {
            let store = store.lock().map_err(|_| "lock poisoned".to_string())?;
            let points = store
                .points(&app, &metric, pm_id, tier, since)
                .map_err(|e| e.to_string())?;
            let metrics = store.metrics(&app).map_err(|e| e.to_string())?;
            Ok::<_, String>((points, metrics))
        })
        .await
    };
    match read {
        Ok(Ok((points, metrics))) => reply::json(
            StatusCode::OK,
            &json!({
                "app": app,
                "host": host.unwrap_or_else(|| state.host_name.clone()),
                "metric": metric,
                "range": range,
                "step_s": TIERS[tier].width_s,
                "metrics": metrics,
                "points": points,
            }),
        ),
        Ok(Err(e)) => reply::error(StatusCode::INTERNAL_SERVER_ERROR, &format!("history: {e}")),
        Err(e) => reply::error(StatusCode::INTERNAL_SERVER_ERROR, &format!("history: {e}")),
    }
}

/// A query of this host's 1 h chart is a live chart (the page polls it every second):
/// its app's readings are taken fresh while it is polled.
fn mark_live(state: &State, host: Option<&str>, app: &str, query: &str) {
    if host.is_none() && query_param(query, "range").is_none_or(|r| r == "1h") {
        state.live_charts.polled(app);
    }
}

/// The linked host `host=` names (None: absent, or this host's name); an error when no
/// such host is linked.
fn linked_host(state: &State, query: &str) -> Result<Option<String>, ()> {
    let host = query_param(query, "host").filter(|h| !h.is_empty() && *h != state.host_name);
    match host {
        Some(h) if !state.hosts.knows(&h) => Err(()),
        other => Ok(other),
    }
}

/// The tier of `range` and the first second to read: the range's start, or the second
/// after `after` (ms) when that is later. None for an unknown range.
fn window(range: &str, after: Option<u64>) -> Option<(usize, i64)> {
    let now = (pm2_home::now_ms() / 1000) as i64;
    let (tier, since) = tiers::for_range(range, now)?;
    let next = after.map(|ms| i64::try_from(ms / 1000).unwrap_or(i64::MAX - 1) + 1);
    Some((tier, next.map_or(since, |n| since.max(n))))
}
