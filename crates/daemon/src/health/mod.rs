//! Health checks (beyond PM2): an app's `health_check` probed on the daemon's own tokio
//! runtime, one small task per running instance (no thread per check, no shell unless the
//! user wrote the `exec` command as a string).
//!
//! - `tracker.rs`: the pure threshold counting (readiness, liveness), unit-tested;
//! - `probe.rs`: one probe (HTTP GET over a raw TCP connection, TCP connect, exec);
//! - `monitor.rs`: the task that probes every `interval` and reports to the instance.
//!
//! The instance task (`instance/health_gate.rs`) turns the verdicts into its life: ready
//! moves `launching` to `online`, a liveness failure restarts it.

mod monitor;
mod probe;
mod tracker;

pub(crate) use monitor::{Monitor, Report};
pub(crate) use probe::ProbeContext;
pub(crate) use tracker::{Tracker, Verdict};

/// An instance's probing of its current process and what the results add up to.
#[derive(Default)]
pub(crate) struct Gate {
    /// The probing task.
    pub(crate) monitor: Monitor,
    /// The counting of its results.
    pub(crate) tracker: Tracker,
}
