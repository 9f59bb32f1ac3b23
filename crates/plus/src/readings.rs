//! The per-second table read, cheap for the daemon: each second the poller asks for every
//! instance's readings (`Request::Readings`: status, pid, counters, cpu/memory, custom
//! metrics) and the registry's revision, and gets the whole summary (specs, actions...)
//! only when the revision moved since the one it holds.
//!
//! Which readings are fresh (taken again when older than a second) and which are the
//! daemon sampler's kept ones (renewed by its 30 s sweep, or every second for an app with
//! a memory limit): fresh for every app while cpu or memory alert thresholds are set (they
//! need 1 s readings), and for the apps whose live chart a browser has open (the page's
//! `/api/history?range=1h` polling marks them, `live_charts`); kept for the rest. So a
//! dashboard nobody looks at closely does not make the daemon read 100 apps' `/proc`
//! every second.
//!
//! A daemon from before `Readings` answers it with an error: the poller then reads
//! `Request::Summary`, as before (all readings fresh).

use crate::state::State;
use pm2_proto::{ProcessInfo, Reading, ReadingsRequest, Request, Response};

/// What the poller holds between reads: the last summary and its revision.
#[derive(Default)]
pub struct Held {
    revision: Option<u64>,
    processes: Vec<ProcessInfo>,
}

/// One read: every instance (as the summary has it, with this second's readings), and
/// when each one's cpu/memory reading was taken (ms since the epoch, by index; 0 for one
/// that does not run).
pub struct Read {
    /// The instances, in id order.
    pub processes: Vec<ProcessInfo>,
    /// When each reading was taken.
    pub monit_at: Vec<u64>,
}

/// Reads the table from the daemon (see the module's doc).
pub async fn read(state: &State, held: &mut Held) -> Result<Read, String> {
    let req = ReadingsRequest {
        fresh_all: state.fresh_alerts_on(),
        fresh: fresh_ids(&held.processes, &state.live_charts.open()),
        since: held.revision,
    };
    match state.daemon.request(Request::Readings(req)).await? {
        Response::Readings(r) => {
            if let Some(summary) = r.summary {
                held.processes = summary;
            }
            held.revision = apply(&mut held.processes, &r.rows).then_some(r.revision);
            let monit_at = r.rows.iter().map(|r| r.monit_at).collect();
            Ok(Read {
                processes: held.processes.clone(),
                monit_at,
            })
        }
        // An older daemon: the whole summary, fresh, as before.
        Response::Error { .. } => summary(state).await,
        other => Err(format!("unexpected reply from the daemon: {other:?}")),
    }
}

/// The pre-`Readings` read.
async fn summary(state: &State) -> Result<Read, String> {
    let processes = state.daemon.summary().await?;
    let monit_at = crate::table::read_now(&processes, pm2_home::now_ms());
    Ok(Read {
        processes,
        monit_at,
    })
}

/// The pm_ids of the instances of `apps`.
fn fresh_ids(processes: &[ProcessInfo], apps: &[String]) -> Vec<u32> {
    if apps.is_empty() {
        return Vec::new();
    }
    processes
        .iter()
        .filter(|p| apps.contains(&p.spec.name))
        .map(|p| p.pm_id)
        .collect()
}

/// Writes `rows` into the held instances; false when they are not the same instances
/// (the next read then asks for the summary again).
fn apply(processes: &mut [ProcessInfo], rows: &[Reading]) -> bool {
    if processes.len() != rows.len() {
        return false;
    }
    let mut same = true;
    for (p, r) in processes.iter_mut().zip(rows) {
        if p.pm_id == r.pm_id {
            r.apply(p);
        } else {
            same = false;
        }
    }
    same
}
