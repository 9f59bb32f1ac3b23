//! Threshold counting, as data: what a run of probe results means for an instance.
//!
//! Before the instance is ready, `success_threshold` passes in a row make it ready, and
//! failures only keep it waiting (it is `launching`, and the reason shows). Once ready,
//! `failure_threshold` failures in a row ask for a restart when `liveness` is on. Failures
//! inside the `start_period` grace count for nothing.

use pm2_proto::{HealthCheck, HealthInfo, HealthStatus};

/// What one result means for the instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing changes in its life (the health fields may have).
    Nothing,
    /// It just became ready.
    Ready,
    /// It failed `failure_threshold` times in a row after being ready: restart it, for
    /// this reason.
    Restart(String),
}

/// The counters of one process's checks.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tracker {
    passes: u32,
    failures: u32,
    ready: bool,
    last_error: Option<String>,
}

impl Tracker {
    /// Whether the process has passed its readiness.
    pub(crate) fn is_ready(&self) -> bool {
        self.ready
    }

    /// Counts one probe result; `in_grace` is true inside the start period.
    pub(crate) fn record(
        &mut self,
        check: &HealthCheck,
        result: Result<(), String>,
        in_grace: bool,
    ) -> Verdict {
        match result {
            Ok(()) => {
                self.failures = 0;
                self.last_error = None;
                self.passes = self.passes.saturating_add(1);
                if !self.ready && self.passes >= check.success_threshold {
                    self.ready = true;
                    return Verdict::Ready;
                }
                Verdict::Nothing
            }
            Err(why) => {
                self.passes = 0;
                self.last_error = Some(why.clone());
                if in_grace {
                    return Verdict::Nothing;
                }
                self.failures = self.failures.saturating_add(1);
                if self.ready && check.liveness && self.failures >= check.failure_threshold {
                    let n = self.failures;
                    self.failures = 0;
                    return Verdict::Restart(format!(
                        "health check failed {n} time{} in a row: {why}",
                        if n == 1 { "" } else { "s" }
                    ));
                }
                Verdict::Nothing
            }
        }
    }

    /// The health as `jlist` shows it (`restarts` and the last restart are kept by the
    /// caller across processes).
    pub(crate) fn fill(&self, info: &mut HealthInfo) {
        info.status = if self.last_error.is_some() && (self.failures > 0 || !self.ready) {
            HealthStatus::Unhealthy
        } else if self.ready {
            HealthStatus::Healthy
        } else {
            HealthStatus::Starting
        };
        info.failures = self.failures;
        info.last_error = self.last_error.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm2_proto::Probe;

    fn check(success: u32, failure: u32) -> HealthCheck {
        let mut c = HealthCheck::new(Probe::Tcp {
            host: "127.0.0.1".into(),
            port: 1,
        });
        c.success_threshold = success;
        c.failure_threshold = failure;
        c
    }

    fn fail() -> Result<(), String> {
        Err("refused".into())
    }

    #[test]
    fn ready_after_success_threshold_passes_in_a_row() {
        let c = check(2, 3);
        let mut t = Tracker::default();
        assert_eq!(t.record(&c, Ok(()), false), Verdict::Nothing);
        assert_eq!(t.record(&c, fail(), false), Verdict::Nothing);
        assert_eq!(t.record(&c, Ok(()), false), Verdict::Nothing);
        assert!(!t.is_ready());
        assert_eq!(t.record(&c, Ok(()), false), Verdict::Ready);
        assert!(t.is_ready());
        assert_eq!(t.record(&c, Ok(()), false), Verdict::Nothing);
    }

    #[test]
    fn failures_before_ready_never_restart() {
        let c = check(1, 2);
        let mut t = Tracker::default();
        for _ in 0..10 {
            assert_eq!(t.record(&c, fail(), false), Verdict::Nothing);
        }
        let mut info = HealthInfo::default();
        t.fill(&mut info);
        assert_eq!(info.status, HealthStatus::Unhealthy);
        assert_eq!(info.last_error.as_deref(), Some("refused"));
    }

    #[test]
    fn failure_threshold_in_a_row_restarts_once_ready() {
        let c = check(1, 3);
        let mut t = Tracker::default();
        assert_eq!(t.record(&c, Ok(()), false), Verdict::Ready);
        assert_eq!(t.record(&c, fail(), false), Verdict::Nothing);
        assert_eq!(t.record(&c, fail(), false), Verdict::Nothing);
        // A pass in between starts the count again.
        assert_eq!(t.record(&c, Ok(()), false), Verdict::Nothing);
        assert_eq!(t.record(&c, fail(), false), Verdict::Nothing);
        assert_eq!(t.record(&c, fail(), false), Verdict::Nothing);
        let Verdict::Restart(why) = t.record(&c, fail(), false) else {
            panic!("third failure in a row restarts");
        };
        assert_eq!(why, "health check failed 3 times in a row: refused");
    }

    #[test]
    fn grace_and_readiness_only_checks_do_not_count() {
        let mut c = check(1, 1);
        let mut t = Tracker::default();
        assert_eq!(t.record(&c, Ok(()), false), Verdict::Ready);
        assert_eq!(t.record(&c, fail(), true), Verdict::Nothing);
        c.liveness = false;
        assert_eq!(t.record(&c, fail(), false), Verdict::Nothing);
        let mut info = HealthInfo::default();
        t.fill(&mut info);
        assert_eq!((info.status, info.failures), (HealthStatus::Unhealthy, 1));
    }
}
