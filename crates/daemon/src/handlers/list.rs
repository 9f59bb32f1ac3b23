//! `list`/`jlist` snapshots and target resolution.

use crate::state::Daemon;
use pm2_proto::{Response, TableRow, Target};

/// Every instance with its latest cpu/memory; without environments unless `with_env`.
pub(crate) fn list(daemon: &Daemon, with_env: bool) -> Response {
    let mut processes = daemon.registry().snapshot();
    for p in &mut processes {
        if !with_env {
            // Dropping this reference: clearing would copy an environment other apps share.
            p.spec.env = Default::default();
        }
        if let (Some(pid), true) = (p.pid, p.status.is_running()) {
            p.monit = daemon
                .sampler
                .latest(p.pm_id)
                .unwrap_or_else(|| daemon.sampler.sample(pid));
        }
    }
    Response::List { processes }
}

/// The table's columns of every instance, read in place (nothing else is copied or
/// encoded: the table costs a few short strings per app).
pub(crate) fn table(daemon: &Daemon) -> Response {
    let mut rows = Vec::with_capacity(daemon.registry().len());
    daemon.registry().for_each(|p| rows.push(TableRow::of(p)));
    for row in &mut rows {
        if let (Some(pid), true) = (row.pid, row.status.is_running()) {
            row.monit = daemon
                .sampler
                .latest(row.pm_id)
                .unwrap_or_else(|| daemon.sampler.sample(pid));
        }
    }
    Response::Table { rows }
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
