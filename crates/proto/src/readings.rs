//! The per-second readings of every instance ([`crate::Request::Readings`]): what a
//! client that polls the table every second (the dashboard) needs again each second, and
//! the registry's revision, which tells it when it needs the rest again: the reply then
//! carries the summary too ([`Readings::summary`], what [`crate::Request::Summary`] answers).
//! A poll thus costs the daemon about what [`crate::Request::Table`] costs, and reads
//! `/proc` only for the instances the client asks to have fresh.
//!
//! An older daemon answers this request with [`crate::Response::Error`] (an unknown
//! request type); the client then falls back to [`crate::Request::Summary`].

use crate::model::{Monit, ProcessInfo, Status};
use serde::{Deserialize, Serialize};

/// Which readings to take again when they are older than a second; every other running
/// instance shows the reading the sampler kept (its sweep renews those).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadingsRequest {
    /// Every running instance fresh (the dashboard's cpu/memory alerts need it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fresh_all: bool,
    /// These instances fresh (the ones whose live chart a browser has open).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fresh: Vec<u32>,
    /// The revision of the summary the client holds (None: it holds none). When the
    /// registry's revision is another, the reply carries the summary too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
}

impl ReadingsRequest {
    /// Whether instance `pm_id`'s reading must be as of the last second.
    pub fn wants_fresh(&self, pm_id: u32) -> bool {
        self.fresh_all || self.fresh.contains(&pm_id)
    }
}

/// The answer to [`crate::Request::Readings`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Readings {
    /// Changes whenever an instance is added or removed or publishes a new state other
    /// than its custom metrics (status, pid, counters, spec, actions...): a client holding
    /// the [`crate::Request::Summary`] it fetched at revision `r` fetches it again when this
    /// is no longer `r`.
    pub revision: u64,
    /// One per instance, in id order.
    pub rows: Vec<Reading>,
    /// Every instance without its environment, as [`crate::Request::Summary`] answers
    /// but with these readings, when the request's `since` is not `revision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Vec<ProcessInfo>>,
}

/// What changes by the second of one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// `pm_id`.
    pub pm_id: u32,
    /// Current status.
    pub status: Status,
    /// OS pid while running.
    pub pid: Option<u32>,
    /// When the current (or last) process started, ms since the epoch.
    pub pm_uptime: u64,
    /// PM2's `restart_time`.
    pub restart_time: u32,
    /// PM2's `unstable_restarts`.
    pub unstable_restarts: u32,
    /// CPU and memory as the sampler has them (see `monit_at`).
    pub monit: Monit,
    /// When `monit` was read, ms since the epoch (0 for an instance that does not run).
    #[serde(default)]
    pub monit_at: u64,
    /// Custom metrics (`axm_monitor`).
    #[serde(default)]
    pub axm_monitor: serde_json::Map<String, serde_json::Value>,
    /// `_km_monitored`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub km_monitored: Option<bool>,
}

impl Reading {
    /// The reading of `p`, read in place, with `monit` taken at `monit_at`.
    pub fn of(p: &ProcessInfo, monit: Monit, monit_at: u64) -> Reading {
        Reading {
            pm_id: p.pm_id,
            status: p.status,
            pid: p.pid,
            pm_uptime: p.pm_uptime,
            restart_time: p.restart_time,
            unstable_restarts: p.unstable_restarts,
            monit,
            monit_at,
            axm_monitor: p.axm_monitor.clone(),
            km_monitored: p.km_monitored,
        }
    }

    /// Writes this reading into `p` (the same instance as fetched with the summary).
    pub fn apply(&self, p: &mut ProcessInfo) {
        p.status = self.status;
        p.pid = self.pid;
        p.pm_uptime = self.pm_uptime;
        p.restart_time = self.restart_time;
        p.unstable_restarts = self.unstable_restarts;
        p.monit = self.monit;
        p.axm_monitor.clone_from(&self.axm_monitor);
        p.km_monitored = self.km_monitored;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_carries_what_changes_by_the_second_into_the_held_summary() {
        let held = crate::pm2json::samples_tests::samples().remove(0);
        let mut now = held.clone();
        now.status = Status::Errored;
        now.pid = Some(4242);
        now.restart_time += 3;
        now.unstable_restarts += 1;
        now.pm_uptime += 1000;
        now.km_monitored = Some(true);
        now.axm_monitor
            .insert("queue".into(), serde_json::json!({"value": 7}));
        let monit = Monit {
            memory: 123,
            cpu: 4.5,
        };
        let reading = Reading::of(&now, monit, 99);
        let text = serde_json::to_string(&reading).unwrap();
        let back: Reading = serde_json::from_str(&text).unwrap();
        assert_eq!(back, reading);
        let mut mine = held;
        back.apply(&mut mine);
        now.monit = monit;
        assert_eq!(
            serde_json::to_value(&mine).unwrap(),
            serde_json::to_value(&now).unwrap()
        );
    }
}
