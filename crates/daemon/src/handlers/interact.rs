//! `pm2 send` (a line for an app's stdin) and `pm2 monitor|unmonitor` (the dashboard's
//! `_km_monitored` flag).

use crate::instance::{Control, StdinError};
use crate::state::Daemon;
use pm2_proto::{InstanceOutcome, MonitorRequest, Response, SendLineRequest};
use tokio::sync::oneshot;

/// Writes the line to the instance's stdin; unknown, stopped and cluster instances are
/// refused with PM2's words.
pub(crate) async fn send_line(daemon: &Daemon, req: SendLineRequest) -> Response {
    let error = |message: String| Response::Error { message };
    let Some(handle) = daemon.registry().get(req.pm_id) else {
        return error(format!("Process with ID <{}> unknown.", req.pm_id));
    };
    let (tx, rx) = oneshot::channel();
    if handle.send(Control::SendLine(req.line, tx)).await.is_err() {
        return error(StdinError::Offline(req.pm_id).to_string());
    }
    match rx.await {
        Ok(Ok(())) => Response::Outcomes {
            outcomes: vec![InstanceOutcome {
                pm_id: req.pm_id,
                name: handle.info().spec.name,
                error: None,
            }],
        },
        Ok(Err(e)) => error(e.to_string()),
        Err(_) => error(StdinError::Offline(req.pm_id).to_string()),
    }
}

/// Sets `_km_monitored` on every instance the targets name (all must resolve, or nothing
/// changes).
pub(crate) async fn monitor(daemon: &Daemon, req: MonitorRequest) -> Response {
    let ids = match daemon.registry().resolve(&req.targets) {
        Ok(ids) => ids,
        Err(e) => {
            return Response::Error {
                message: e.to_string(),
            }
        }
    };
    let mut outcomes = Vec::new();
    for id in ids {
        let Some(handle) = daemon.registry().get(id) else {
            continue;
        };
        let error = handle
            .call(|r| Control::SetMonitored(req.monitored, r))
            .await
            .err()
            .map(|e| e.to_string());
        let name = handle.info().spec.name;
        outcomes.push(InstanceOutcome {
            pm_id: id,
            name,
            error,
        });
    }
    Response::Outcomes { outcomes }
}
