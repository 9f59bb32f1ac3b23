//! A process that exited on its own: collect what it left, then ask PM2's restart policy
//! (`min_uptime`/`max_restarts` → errored, `restart_delay` and the exponential backoff →
//! waiting restart, `autorestart`/`stop_exit_codes` → stopped).

use super::phase::Exit;
use super::process::{drain, Running};
use super::state::{now_ms, Instance};
use pm2_supervisor::{ExitDecision, RestartCounters, RestartPolicy};
use std::sync::atomic::Ordering;

impl Instance {
    /// Logs the exit, waits for the last output, clears what died with the process.
    pub(super) async fn reap(&mut self, running: Running, exit: Exit) {
        tracing::info!(
            "App [{}] exited with code [{}] via signal [{}]",
            self.label(),
            exit.code,
            exit.signal.unwrap_or("SIGINT")
        );
        self.unroute_notify(running.pid);
        self.note_oom(&running);
        drain(running.relays).await;
        self.exit_event(exit.code, exit.signal);
        self.forget_axm();
        self.info.notify_status = None;
        self.remove_pid_file();
        self.info.pid = None;
        self.info.exit_code = Some(exit.code);
    }

    /// The restart policy's verdict on an exit with `code`; updates the instability
    /// counters it keeps.
    pub(super) fn decide(&mut self, code: i32) -> ExitDecision {
        let mut counters = RestartCounters {
            created_at: self.info.created_at,
            pm_uptime: self.info.pm_uptime,
            unstable_restarts: self.info.unstable_restarts,
            prev_restart_delay: self.info.prev_restart_delay,
        };
        let decision = if self.settings.being_killed.load(Ordering::Relaxed) {
            tracing::info!("App [{}] not restarted: PM2 is being killed", self.label());
            ExitDecision::Stop
        } else {
            self.policy().on_exit(&mut counters, code, now_ms())
        };
        self.info.created_at = counters.created_at;
        self.info.unstable_restarts = counters.unstable_restarts;
        self.info.prev_restart_delay = counters.prev_restart_delay;
        self.log_decision(&decision);
        decision
    }

    fn log_decision(&self, decision: &ExitDecision) {
        match decision {
            ExitDecision::Errored => tracing::info!(
                "Script {} had too many unstable restarts ({}). Stopped. \"errored\"",
                self.info.spec.script,
                self.info.spec.max_restarts
            ),
            ExitDecision::RestartAfter(ms) => {
                tracing::info!("App [{}] will restart in {ms}ms", self.label())
            }
            ExitDecision::Stop | ExitDecision::RestartNow => {}
        }
    }

    fn policy(&self) -> RestartPolicy {
        let s = &self.info.spec;
        RestartPolicy {
            autorestart: s.autorestart,
            stop_exit_codes: s.stop_exit_codes.clone(),
            min_uptime: s.min_uptime,
            max_restarts: s.max_restarts,
            restart_delay: s.restart_delay,
            exp_backoff_restart_delay: s.exp_backoff_restart_delay,
        }
    }
}
