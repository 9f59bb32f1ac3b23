//! `list`/`jlist` snapshots and target resolution.

use crate::state::Daemon;
use pm2_proto::{Response, Target};

/// Every instance with its latest cpu/memory; without environments unless `with_env`.
pub(crate) fn list(daemon: &Daemon, with_env: bool) -> Response {
    let mut processes = daemon.registry().snapshot();
    for p in &mut processes {
        if !with_env {
            p.spec.env.clear();
        }
        if let (Some(pid), true) = (p.pid, p.status.is_running()) {
            p.monit = daemon.sampler.fresh(p.pm_id, pid);
        }
    }
    Response::List { processes }
}

/// Ids for targets, or an error naming the unknown target.
pub(crate) fn resolve(daemon: &Daemon, targets: &[Target]) -> Response {
    match daemon.registry().resolve(targets) {
        Ok(ids) => Response::Ids { ids },
        Err(e) => Response::Error {
            message: e.to_string(),
        },
    }
}
