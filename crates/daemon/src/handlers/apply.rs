//! Ecosystem actions: start what does not run, restart or reload what does, each with the
//! file's new definition (PM2 semantics: a file always updates options and env).

use super::action::reload_one_by_one;
use super::start::start;
use crate::instance::{Control, Update};
use crate::state::Daemon;
use pm2_proto::{ApplyMode, ApplyRequest, InstanceOutcome, Response, StartRequest};

/// Applies every app of the request, in file order.
pub(crate) async fn apply(daemon: &Daemon, req: ApplyRequest) -> Response {
    let started = std::time::Instant::now();
    let mut outcomes = Vec::new();
    let mut reloaded = Vec::new();
    let mut missing = Vec::new();
    for spec in req.apps {
        let ids: Vec<u32> = daemon
            .registry()
            .snapshot()
            .iter()
            .filter(|p| p.spec.name == spec.name)
            .map(|p| p.pm_id)
            .collect();
        if ids.is_empty() {
            missing.push(spec);
            continue;
        }
        let updates = ids
            .iter()
            .map(|_| Update {
                spec: Some(Box::new(spec.clone())),
                ..Update::default()
            })
            .collect();
        match req.running {
            ApplyMode::Reload => reloaded.extend(reload_one_by_one(daemon, &ids, updates).await),
            ApplyMode::Restart => outcomes.extend(restart_each(daemon, &ids, updates).await),
        }
    }
    super::emit::reload_done(daemon, started, &reloaded);
    outcomes.extend(reloaded);
    if !missing.is_empty() {
        let request = StartRequest {
            apps: missing,
            force: false,
        };
        match start(daemon, request).await {
            Response::Outcomes { outcomes: started } => outcomes.extend(started),
            error => return error,
        }
    }
    Response::Outcomes { outcomes }
}

async fn restart_each(daemon: &Daemon, ids: &[u32], updates: Vec<Update>) -> Vec<InstanceOutcome> {
    let mut outcomes = Vec::new();
    for (id, update) in ids.iter().zip(updates) {
        let Some(handle) = daemon.registry().get(*id) else {
            continue;
        };
        let error = handle
            .call(|r| Control::Restart(update, r))
            .await
            .err()
            .map(|e| e.to_string());
        outcomes.push(InstanceOutcome {
            pm_id: *id,
            name: handle.info().spec.name,
            error,
        });
    }
    outcomes
}
