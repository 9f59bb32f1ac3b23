//! PM2's restart policy (`God.handleExit`) as data and one pure decision function.

/// How an app wants to be restarted, from its spec.
#[derive(Debug, Clone, PartialEq)]
pub struct RestartPolicy {
    /// Restart after exits at all.
    pub autorestart: bool,
    /// Exit codes that mean "done, do not restart".
    pub stop_exit_codes: Vec<i32>,
    /// Runs shorter than this (ms) are unstable.
    pub min_uptime: u64,
    /// Unstable restarts allowed before `errored`.
    pub max_restarts: u32,
    /// Fixed delay (ms) before restarting; `Some(0)` still goes through `waiting restart`.
    pub restart_delay: Option<u64>,
    /// Exponential backoff base (ms).
    pub exp_backoff_restart_delay: Option<u64>,
}

/// The counters PM2 keeps in pm2_env, which the policy reads and updates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RestartCounters {
    /// When the instance was created or last reset (ms); None after going `errored`.
    pub created_at: Option<u64>,
    /// When the process that just exited started (ms).
    pub pm_uptime: u64,
    /// Exits that happened soon after start, inside the instability window.
    pub unstable_restarts: u32,
    /// Current backoff delay, PM2's `prev_restart_delay`.
    pub prev_restart_delay: Option<u64>,
}

/// What to do after a process exited on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitDecision {
    /// Leave it stopped (autorestart off or a stop exit code).
    Stop,
    /// Too many unstable restarts: mark it errored.
    Errored,
    /// Restart now.
    RestartNow,
    /// Show `waiting restart`, then restart after this many ms.
    RestartAfter(u64),
}

/// Uptime after which the exponential backoff starts over (PM2's `EXP_BACKOFF_RESET_TIMER`).
pub const BACKOFF_RESET_MS: u64 = 30_000;
/// Ceiling of the exponential backoff.
pub const BACKOFF_MAX_MS: u64 = 15_000;

impl RestartPolicy {
    /// Decides what follows an exit with `exit_code` at `now` (ms), updating the counters
    /// exactly as PM2 does: the instability window is `min_uptime * max_restarts` from
    /// creation, and reaching `max_restarts` unstable exits resets the counters and errors.
    pub fn on_exit(&self, c: &mut RestartCounters, exit_code: i32, now: u64) -> ExitDecision {
        let stopping = !self.autorestart || self.stop_exit_codes.contains(&exit_code);
        let created_at = c.created_at.unwrap_or(0);
        let window = self.min_uptime.saturating_mul(self.max_restarts as u64);
        if now.saturating_sub(created_at) < window {
            if now.saturating_sub(c.pm_uptime) < self.min_uptime {
                c.unstable_restarts += 1;
            }
            if c.unstable_restarts >= self.max_restarts {
                c.unstable_restarts = 0;
                c.created_at = None;
                return ExitDecision::Errored;
            }
        }
        if stopping {
            return ExitDecision::Stop;
        }
        self.delay(c, now)
    }

    fn delay(&self, c: &mut RestartCounters, now: u64) -> ExitDecision {
        if let Some(base) = self.exp_backoff_restart_delay {
            if now.saturating_sub(c.pm_uptime) > BACKOFF_RESET_MS {
                c.prev_restart_delay = None;
            }
            let next = match c.prev_restart_delay {
                None | Some(0) => base,
                Some(prev) => ((prev as f64 * 1.5).floor() as u64).min(BACKOFF_MAX_MS),
            };
            c.prev_restart_delay = Some(next);
            return ExitDecision::RestartAfter(next);
        }
        match self.restart_delay {
            Some(d) => ExitDecision::RestartAfter(d),
            None => ExitDecision::RestartNow,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm2_proto::{DEFAULT_MAX_RESTARTS, DEFAULT_MIN_UPTIME_MS};

    fn policy() -> RestartPolicy {
        RestartPolicy {
            autorestart: true,
            stop_exit_codes: vec![],
            min_uptime: DEFAULT_MIN_UPTIME_MS,
            max_restarts: DEFAULT_MAX_RESTARTS,
            restart_delay: None,
            exp_backoff_restart_delay: None,
        }
    }

    #[test]
    fn a_stable_exit_restarts_without_counting() {
        let mut c = RestartCounters {
            created_at: Some(0),
            pm_uptime: 0,
            ..Default::default()
        };
        assert_eq!(policy().on_exit(&mut c, 1, 5000), ExitDecision::RestartNow);
        assert_eq!(c.unstable_restarts, 0);
    }

    #[test]
    fn a_crash_loop_ends_errored_after_max_restarts() {
        let p = policy();
        let mut c = RestartCounters {
            created_at: Some(0),
            ..Default::default()
        };
        let mut now = 0;
        for i in 1..DEFAULT_MAX_RESTARTS {
            now += 10;
            c.pm_uptime = now - 5;
            assert_eq!(p.on_exit(&mut c, 1, now), ExitDecision::RestartNow);
            assert_eq!(c.unstable_restarts, i);
        }
        c.pm_uptime = now;
        assert_eq!(p.on_exit(&mut c, 1, now + 1), ExitDecision::Errored);
        assert_eq!(c.unstable_restarts, 0);
        assert_eq!(c.created_at, None);
    }

    #[test]
    fn stop_exit_codes_and_no_autorestart_stop() {
        let mut p = policy();
        p.stop_exit_codes = vec![0, 3];
        let mut c = RestartCounters::default();
        assert_eq!(p.on_exit(&mut c, 3, 100_000), ExitDecision::Stop);
        assert_eq!(p.on_exit(&mut c, 4, 100_000), ExitDecision::RestartNow);
        p.autorestart = false;
        assert_eq!(p.on_exit(&mut c, 4, 100_000), ExitDecision::Stop);
    }

    #[test]
    fn restart_delay_waits_even_when_zero() {
        let mut p = policy();
        p.restart_delay = Some(0);
        let mut c = RestartCounters::default();
        assert_eq!(p.on_exit(&mut c, 1, 100_000), ExitDecision::RestartAfter(0));
    }

    #[test]
    fn exponential_backoff_grows_by_half_up_to_15s_and_resets() {
        let mut p = policy();
        p.max_restarts = 1000;
        p.exp_backoff_restart_delay = Some(100);
        let mut c = RestartCounters {
            created_at: Some(0),
            ..Default::default()
        };
        let mut seen = vec![];
        let mut now = 100_000_000;
        for _ in 0..12 {
            now += 20;
            c.pm_uptime = now - 10;
            match p.on_exit(&mut c, 1, now) {
                ExitDecision::RestartAfter(d) => seen.push(d),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            seen,
            [100, 150, 225, 337, 505, 757, 1135, 1702, 2553, 3829, 5743, 8614]
        );
        for _ in 0..3 {
            now += 20;
            c.pm_uptime = now - 10;
            p.on_exit(&mut c, 1, now);
        }
        assert_eq!(c.prev_restart_delay, Some(BACKOFF_MAX_MS));
        c.pm_uptime = now;
        assert_eq!(
            p.on_exit(&mut c, 1, now + 31_000),
            ExitDecision::RestartAfter(100)
        );
    }
}
