//! The instance's side of its health check (beyond PM2; see `crate::health`): which process
//! is probed, and what a verdict does to the instance's life. Ready moves `launching` to
//! `online` (the check, not the worker's `online` or `ready`, is then what gates it), a
//! liveness failure restarts the instance as `pm2 restart` does (counted in
//! `restart_time`), with the reason in pm2.log and `describe`.

use super::control::Update;
use super::failure::ReloadFailure;
use super::phase::{Event, Phase};
use super::process::{exit_of, Running};
use super::state::{now_ms, Instance};
use crate::health::{ProbeContext, Report, Tracker, Verdict};
use pm2_cluster::primary::{PrimaryCmd, SchedPolicy};
use pm2_proto::pm2json;
use std::time::Duration;

/// How far off a health-gated launch's own deadline is: never, in practice (readiness, not
/// `listen_timeout`, makes it online; the replies wait `ready_timeout`).
const NO_DEADLINE: Duration = Duration::from_secs(365 * 24 * 3600);

impl Instance {
    /// Whether readiness comes from a health check rather than the worker's messages.
    pub(super) fn health_gated(&self) -> bool {
        self.info.spec.health_check.is_some()
    }

    /// The launch deadline of a health-gated process (see [`NO_DEADLINE`]).
    pub(super) fn health_launch_deadline() -> tokio::time::Instant {
        tokio::time::Instant::now() + NO_DEADLINE
    }

    /// How long a start or reload reply waits for readiness.
    pub(super) fn ready_timeout(&self) -> Option<Duration> {
        let check = self.info.spec.health_check.as_ref()?;
        Some(Duration::from_millis(check.ready_timeout))
    }

    /// Starts probing process `pid` (a cluster `worker` id: probed through the primary),
    /// unless it already is probed or the app has no check.
    pub(super) fn watch_health(&mut self, pid: u32, worker: Option<u32>) {
        let Some(check) = self.info.spec.health_check.clone() else {
            self.health.monitor.stop();
            self.info.health = None;
            return;
        };
        if self.health.monitor.watching() == Some(pid) {
            return;
        }
        self.health.tracker = Tracker::default();
        let round_robin = self.sched_policy() == SchedPolicy::RoundRobin;
        // An exec check runs as the app does: its user, groups and HOME.
        let run_as = super::credentials::run_as(&self.info.spec).ok().flatten();
        let mut env = pm2json::child_env(&self.info);
        if let Some(r) = &run_as {
            env.retain(|(k, _)| k != "HOME");
            env.push(("HOME".to_string(), r.home.clone()));
        }
        let ctx = ProbeContext {
            cwd: self.info.spec.cwd.clone(),
            env,
            worker: worker
                .filter(|_| round_robin)
                .map(|id| (self.primary.clone(), id)),
            run_as: run_as.map(|r| r.credentials),
        };
        self.health.monitor.watch(pid, check, ctx);
        let info = self.info.health.get_or_insert_with(Default::default);
        self.health.tracker.fill(info);
        info.since = Some(now_ms());
    }

    /// The probed process is going away.
    pub(super) fn unwatch_health(&mut self) {
        self.health.monitor.stop();
    }

    /// Counts one result into the instance's health, publishing it only when it changed
    /// (a steady check costs no copy of the instance's state); the verdict.
    fn count_health(&mut self, report: Report) -> Verdict {
        let Some(check) = self.info.spec.health_check.as_ref() else {
            return Verdict::Nothing;
        };
        let verdict = self
            .health
            .tracker
            .record(check, report.result, report.in_grace);
        let info = self.info.health.get_or_insert_with(Default::default);
        let before = (info.status, info.failures, info.last_error.clone());
        self.health.tracker.fill(info);
        if before.0 != info.status {
            info.since = Some(now_ms());
        }
        if before != (info.status, info.failures, info.last_error.clone()) {
            self.publish();
        }
        verdict
    }

    /// One probe's result for the current process.
    pub(super) async fn on_health(&mut self, report: Report) {
        let verdict = self.count_health(report);
        match verdict {
            Verdict::Ready if matches!(self.phase, Phase::Launching { .. }) => {
                tracing::info!("App [{}] passed its health check", self.label());
                let worker = self.phase.child().and_then(cluster_worker);
                self.admit(worker).await;
                let _ = self.drive(Event::Ready).await;
            }
            Verdict::Restart(why) if matches!(self.phase, Phase::Online { .. }) => {
                self.restart_unhealthy(why).await;
            }
            _ => {}
        }
    }

    /// A ready cluster worker gets its share of the connections (see `PrimaryCmd::Attach`).
    pub(super) async fn admit(&self, worker: Option<u32>) {
        if let Some(worker) = worker {
            self.primary.send(PrimaryCmd::Admit { worker }).await;
        }
    }

    /// Liveness: restart, as `pm2 restart` would, and say why.
    async fn restart_unhealthy(&mut self, why: String) {
        tracing::warn!(
            "App [{}] restarted because its health check failed ({why})",
            self.label()
        );
        if let Some(h) = self.info.health.as_mut() {
            h.restarts += 1;
            h.last_restart = Some(why);
        }
        let _ = self.manual_restart(Update::default()).await;
    }

    /// A reload's new process: probed until ready, bounded by `ready_timeout`; its exit
    /// fails the reload (the old process keeps serving either way until this returns).
    pub(super) async fn wait_until_healthy(
        &mut self,
        fresh: &mut Running,
    ) -> Result<(), ReloadFailure> {
        let Some(limit) = self.ready_timeout() else {
            return Ok(());
        };
        self.watch_health(fresh.pid, cluster_worker(fresh));
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            tokio::select! {
                report = self.health.monitor.next() => {
                    let verdict = self.count_health(report);
                    if verdict == Verdict::Ready || self.health.tracker.is_ready() {
                        self.admit(cluster_worker(fresh)).await;
                        return Ok(());
                    }
                }
                status = fresh.child.wait() => {
                    return Err(ReloadFailure::Exited(exit_of(status).code));
                }
                _ = tokio::time::sleep_until(deadline) => {
                    let why = self
                        .info
                        .health
                        .as_ref()
                        .and_then(|h| h.last_error.clone())
                        .unwrap_or_else(|| "no result".into());
                    return Err(ReloadFailure::Unhealthy(limit, why));
                }
            }
        }
    }
}

/// The primary's id for a cluster worker's process (fork-mode processes have none).
pub(super) fn cluster_worker(running: &Running) -> Option<u32> {
    running.link.as_ref().filter(|l| l.cluster).map(|l| l.id)
}
