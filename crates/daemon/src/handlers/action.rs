//! stop / restart / delete / reset / sendSignal / kill.

use crate::instance::{Control, InstanceHandle, Outcome, Update};
use crate::state::Daemon;
use pm2_proto::{Action, ActionRequest, InstanceOutcome, Response, SignalRequest, Target};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Handles for ids, skipping ids removed meanwhile.
fn handles(daemon: &Daemon, ids: &[u32]) -> Vec<(u32, InstanceHandle)> {
    let registry = daemon.registry();
    ids.iter()
        .filter_map(|id| registry.get(*id).map(|h| (*id, h)))
        .collect()
}

/// Runs `action` on every instance concurrently (stops can each take `kill_timeout`), at
/// most `PM2_CONCURRENT_ACTIONS` at a time when the daemon was given it, and reports
/// outcomes in id order.
pub(crate) async fn apply_to(
    daemon: &Daemon,
    ids: &[u32],
    action: Action,
    base: Update,
) -> Vec<InstanceOutcome> {
    if action == Action::Reload {
        let updates = ids.iter().map(|_| base.clone()).collect();
        return reload_one_by_one(daemon, ids, updates).await;
    }
    let mut set = JoinSet::new();
    let limit = daemon
        .settings
        .concurrent_actions
        .map(|n| Arc::new(Semaphore::new(n)));
    for (id, handle) in handles(daemon, ids) {
        let update = base.clone();
        let limit = limit.clone();
        set.spawn(async move {
            // Held until this instance's action is done; never closed, so always granted.
            let _turn = match &limit {
                Some(s) => s.clone().acquire_owned().await.ok(),
                None => None,
            };
            let outcome: Outcome = match action {
                Action::Stop => handle.call(Control::Stop).await,
                Action::Restart => handle.call(|r| Control::Restart(update, r)).await,
                Action::Reload => handle.call(|r| Control::Reload(update, r)).await,
                Action::Delete => handle.call(Control::Delete).await,
                Action::Reset => handle.call(Control::Reset).await,
            };
            // After the action: a restart may have renamed the app (`--name`).
            let name = handle.info().spec.name;
            InstanceOutcome {
                pm_id: id,
                name,
                error: outcome.err().map(|e| e.to_string()),
            }
        });
    }
    let mut outcomes: Vec<InstanceOutcome> = set.join_all().await;
    if action == Action::Delete {
        let mut registry = daemon.registry();
        for o in &outcomes {
            registry.remove(o.pm_id);
        }
    }
    outcomes.sort_by_key(|o| o.pm_id);
    outcomes
}

/// Reloads instances one after the other, as PM2 does, so an app never has more than one
/// instance in transition and the machine never runs every new worker at once.
pub(crate) async fn reload_one_by_one(
    daemon: &Daemon,
    ids: &[u32],
    updates: Vec<Update>,
) -> Vec<InstanceOutcome> {
    let mut outcomes = Vec::new();
    for ((pm_id, handle), update) in handles(daemon, ids).into_iter().zip(updates) {
        let error = handle
            .call(|r| Control::Reload(update, r))
            .await
            .err()
            .map(|e| e.to_string());
        let name = handle.info().spec.name;
        outcomes.push(InstanceOutcome { pm_id, name, error });
    }
    outcomes
}

/// Resolves targets (all must exist, else nothing happens) and applies the action.
pub(crate) async fn apply(daemon: &Daemon, req: ActionRequest) -> Response {
    let mut ids = match daemon.registry().resolve(&req.targets) {
        Ok(ids) => ids,
        Err(e) => {
            return Response::Error {
                message: e.to_string(),
            }
        }
    };
    if !matches!(req.action, Action::Reset) && req.targets.iter().all(|t| matches!(t, Target::All))
    {
        ids.retain(|id| !is_module(daemon, *id));
    }
    let base = Update {
        env: req.update_env,
        toggle_watch: req.toggle_watch,
        spec: None,
        patch: req.patch,
    };
    let action = req.action;
    let started = std::time::Instant::now();
    let run = |ids: Vec<u32>| {
        let base = base.clone();
        async move { apply_to(daemon, &ids, action, base).await }
    };
    let outcomes = match action {
        // Beyond PM2: several apps restart or reload in `depends_on` order.
        Action::Restart => super::order::in_layers(daemon, &ids, "restarted", run).await,
        Action::Reload => super::order::in_layers(daemon, &ids, "reloaded", run).await,
        _ => run(ids).await,
    };
    if action == Action::Reload {
        super::emit::reload_done(daemon, started, &outcomes);
    }
    Response::Outcomes { outcomes }
}

/// Whether instance `id` is an installed module, which `all` in stop, restart, reload and
/// delete leaves alone, as PM2 does (`pm2 kill` still stops it).
fn is_module(daemon: &Daemon, id: u32) -> bool {
    daemon
        .registry()
        .get(id)
        .is_some_and(|h| h.info().spec.pmx_module)
}

/// `sendSignal`.
pub(crate) async fn signal(daemon: &Daemon, req: SignalRequest) -> Response {
    let Some(sig) = pm2_supervisor::parse_signal(&req.signal) else {
        return Response::Error {
            message: format!("unknown signal {}", req.signal),
        };
    };
    let ids = match daemon.registry().resolve(&req.targets) {
        Ok(ids) => ids,
        Err(e) => {
            return Response::Error {
                message: e.to_string(),
            }
        }
    };
    let mut outcomes = Vec::new();
    for (pm_id, handle) in handles(daemon, &ids) {
        let error = handle
            .call(|r| Control::Signal(sig, r))
            .await
            .err()
            .map(|e| e.to_string());
        let name = handle.info().spec.name;
        outcomes.push(InstanceOutcome { pm_id, name, error });
    }
    Response::Outcomes { outcomes }
}

/// Deletes every instance (gracefully), for `pm2 kill`.
pub(crate) async fn delete_all(daemon: &Daemon) -> Vec<InstanceOutcome> {
    let ids: Vec<u32> = daemon
        .registry()
        .snapshot()
        .iter()
        .map(|p| p.pm_id)
        .collect();
    apply_to(daemon, &ids, Action::Delete, Update::default()).await
}

/// Stops every app on daemon shutdown so that none is left running unmanaged.
pub(crate) async fn stop_everything(daemon: &Daemon) {
    delete_all(daemon).await;
}
