//! `list`/`jlist` snapshots and target resolution.

use crate::state::Daemon;
use pm2_proto::{Monit, Response, Status, TableRow, Target};

/// Every instance with its latest cpu/memory; without environments unless `with_env`.
pub(crate) fn list(daemon: &Daemon, with_env: bool) -> Response {
    let mut processes = daemon.registry().snapshot();
    for p in &mut processes {
        if !with_env {
            // Dropping this reference: clearing would copy an environment other apps share.
            p.spec.env = Default::default();
        }
        if let Some(monit) = monit(daemon, p.pm_id, p.pid, p.status) {
            p.monit = monit;
        }
    }
    Response::List { processes }
}

/// The table's columns of every instance, read in place (nothing else is copied or
/// encoded: the table costs a few short strings per app). With `kept`, the readings the
/// sampler has (see [`pm2_proto::Request::Table`]).
pub(crate) fn table(daemon: &Daemon, kept: bool) -> Response {
    let mut rows = Vec::with_capacity(daemon.registry().len());
    daemon.registry().for_each(|p| rows.push(TableRow::of(p)));
    for row in &mut rows {
        let reading = match row.pid.filter(|_| row.status.is_running()) {
            Some(pid) if kept => Some(daemon.sampler.kept(row.pm_id, pid)),
            _ => monit(daemon, row.pm_id, row.pid, row.status),
        };
        if let Some(monit) = reading {
            row.monit = monit;
        }
    }
    Response::Table { rows }
}

/// A running instance's cpu/memory as a view shows it (read now when the last reading is
/// older than the sampler's freshness bound).
fn monit(daemon: &Daemon, pm_id: u32, pid: Option<u32>, status: Status) -> Option<Monit> {
    let pid = pid.filter(|_| status.is_running())?;
    Some(daemon.sampler.fresh(pm_id, pid))
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
