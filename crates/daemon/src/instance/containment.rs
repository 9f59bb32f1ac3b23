//! The instance's side of its cgroups (beyond PM2): how each new process is tracked and
//! which of the app's limits the kernel enforces (`describe`, `jlist`'s `containment`),
//! a limit that cannot be enforced said once in pm2.log, and a kernel OOM kill under
//! `memory_limit` given as the reason of the restart that follows.

use super::process::Running;
use super::state::Instance;
use pm2_proto::{limits::oom_reason, Containment, LimitState};
use pm2_supervisor::ProcessCgroups;

impl Instance {
    /// Records how the new process `running` is contained; warns in pm2.log of each
    /// limit not enforced, the first time (or when that changes).
    pub(super) fn record_containment(&mut self, running: &Running) {
        let before = self.info.containment.take().unwrap_or_default();
        let now = Containment {
            tracking: tracking_of(&running.cgroups).into(),
            limits: limit_states(&running.cgroups),
            ..before.clone()
        };
        for limit in &now.limits {
            let Some(warning) = &limit.warning else {
                continue;
            };
            if !before.limits.contains(limit) {
                tracing::warn!("App [{}] {warning}; not enforced", self.label());
            }
        }
        self.info.containment = Some(now);
    }

    /// After `running` exited: whether the kernel OOM-killed in its memory cgroup; if so
    /// the reason is logged and kept for `describe`.
    pub(super) fn note_oom(&mut self, running: &Running) {
        let Some(limit) = self.info.spec.limits.memory else {
            return;
        };
        if running.cgroups.oom_kills() == 0 {
            return;
        }
        let reason = oom_reason(limit);
        tracing::warn!("App [{}] {reason}", self.label());
        let containment = self.info.containment.get_or_insert_with(Default::default);
        containment.oom_restarts += 1;
        containment.last_restart = Some(reason);
    }
}

/// `cgroup v2` or `process tree`, as `describe` shows it.
fn tracking_of(cgroups: &ProcessCgroups) -> &'static str {
    if cgroups.tracked() {
        "cgroup v2"
    } else {
        "process tree"
    }
}

fn limit_states(cgroups: &ProcessCgroups) -> Vec<LimitState> {
    cgroups
        .enforcement
        .iter()
        .map(|e| LimitState {
            key: e.key.to_string(),
            enforced_by: e.outcome.as_ref().ok().map(|h| h.as_str().to_string()),
            warning: e.outcome.as_ref().err().cloned(),
        })
        .collect()
}
