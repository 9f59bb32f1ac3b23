//! `scale`: more or fewer instances of one app.

use super::action::apply_to;
use super::start::start;
use crate::instance::Update;
use crate::state::Daemon;
use pm2_proto::{Action, Response, ScaleRequest, StartRequest};

/// Adds instances (copies of the app's first instance, with the lowest free
/// `NODE_APP_INSTANCE` indexes) or deletes the lowest ids first, as PM2 does.
pub(crate) async fn scale(daemon: &Daemon, req: ScaleRequest) -> Response {
    let mut instances: Vec<_> = daemon
        .registry()
        .snapshot()
        .into_iter()
        .filter(|p| p.spec.name == req.name)
        .collect();
    instances.sort_by_key(|p| p.pm_id);
    let Some(first) = instances.first() else {
        return Response::Error {
            message: format!("Process or Namespace {} not found", req.name),
        };
    };
    let current = instances.len() as u32;
    let target = req.change.target(current);
    if target == 0 {
        return Response::Error {
            message: format!("cannot scale {} to 0 instances: use pm2 delete", req.name),
        };
    }
    if target > current {
        let mut spec = first.spec.clone();
        spec.instances = target - current;
        let request = StartRequest {
            apps: vec![spec],
            force: true,
        };
        return start(daemon, request).await;
    }
    let doomed: Vec<u32> = instances
        .iter()
        .take((current - target) as usize)
        .map(|p| p.pm_id)
        .collect();
    Response::Outcomes {
        outcomes: apply_to(daemon, &doomed, Action::Delete, Update::default()).await,
    }
}
