//! `list`/`jlist` snapshots and target resolution.

use crate::state::Daemon;
use pm2_proto::{Monit, Reading, Readings, ReadingsRequest, Response, Status, TableRow, Target};

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

/// Every instance's per-second readings, read in place, and the registry's revision
/// (see [`pm2_proto::readings`]): kept readings, except the ones `req` wants fresh.
pub(crate) fn readings(daemon: &Daemon, req: &ReadingsRequest) -> Response {
    // Read before the states: a change after this moves it again (never a stale summary).
    let revision = crate::registry::revision();
    let mut rows = Vec::with_capacity(daemon.registry().len());
    daemon
        .registry()
        .for_each(|p| rows.push(Reading::of(p, Monit::default(), 0)));
    // /proc is read with no registry lock or state borrow held, as for the table.
    let now_ms = pm2_home::now_ms();
    for row in &mut rows {
        if let Some(pid) = row.pid.filter(|_| row.status.is_running()) {
            let fresh = req.wants_fresh(row.pm_id);
            let (monit, age) = daemon.sampler.reading(row.pm_id, pid, fresh);
            row.monit = monit;
            row.monit_at = now_ms.saturating_sub(u64::try_from(age.as_millis()).unwrap_or(0));
        }
    }
    let summary = (req.since != Some(revision)).then(|| summary_with(daemon, &rows));
    Response::Readings(Readings {
        revision,
        rows,
        summary,
    })
}

/// Every instance without its environment, each with its reading from `rows` (in id
/// order, as the registry; an instance added since has none, the next poll brings it).
fn summary_with(daemon: &Daemon, rows: &[Reading]) -> Vec<pm2_proto::ProcessInfo> {
    let mut processes = daemon.registry().snapshot();
    for p in &mut processes {
        p.spec.env = Default::default();
        if let Ok(i) = rows.binary_search_by_key(&p.pm_id, |r| r.pm_id) {
            p.monit = rows[i].monit;
        }
    }
    processes
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
