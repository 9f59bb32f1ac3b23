//! The asked-for ways to stop and start again: stop, start, restart, and `reload`, whose
//! overlapping form (cluster mode; fork mode with `listen`) replaces the process without
//! downtime.

use super::control::{Outcome, Update};
use super::failure::{ControlError, ReloadFailure};
use super::phase::Event;
use super::process::Running;
use super::state::{now_ms, Instance};
use pm2_proto::ExecMode;

impl Instance {
    /// Graceful stop; idempotent (a waiting or errored app just becomes stopped).
    pub(super) async fn stop(&mut self) {
        let _ = self.drive(Event::Stop).await;
    }

    /// PM2's `resetState` then a start: a manual start forgets past instability.
    pub(super) async fn start_fresh(&mut self) -> Outcome {
        self.info.created_at = Some(now_ms());
        self.info.unstable_restarts = 0;
        self.info.prev_restart_delay = None;
        self.drive(Event::Start).await
    }

    /// Stop (if running), apply the update, start; counts a restart when it was running.
    pub(super) async fn manual_restart(&mut self, update: Update) -> Outcome {
        let was_running = self.phase.child().is_some();
        self.stop().await;
        self.apply_update(update);
        if was_running {
            self.info.restart_time += 1;
        }
        self.start_fresh().await
    }

    /// `pm2 reload`: in cluster mode, and for a fork-mode app with `listen` sockets (beyond
    /// PM2: both processes hold them, the kernel hands connections to either), a new
    /// process takes over before the old one leaves; other apps (and a stopped app) are
    /// restarted, as PM2 does.
    pub(super) async fn reload(&mut self, update: Update) -> Outcome {
        let cluster = self.info.spec.exec_mode == ExecMode::Cluster;
        let overlaps = cluster || self.listen.is_some();
        if !overlaps || self.phase.child().is_none() {
            return self.manual_restart(update).await;
        }
        self.apply_update(update);
        self.replace_worker().await
    }

    /// A reload that did not take, named for the user.
    fn reload_failed(&self, reason: ReloadFailure) -> ControlError {
        ControlError::ReloadFailed {
            label: self.label(),
            reason,
        }
    }

    /// Reload by overlap: start the new process, wait until it can take over (see
    /// [`Self::wait_until_taking_over`]), then retire the old one gracefully. A new worker that
    /// dies or never becomes ready is removed and the old one keeps serving.
    async fn replace_worker(&mut self) -> Outcome {
        let mut fresh = match self.spawn_process().await {
            Ok(r) => r,
            Err(e) => return Err(self.reload_failed(e.into())),
        };
        let serving = self.wait_until_taking_over(&mut fresh).await;
        if let Err(why) = serving {
            // The old worker is probed again (a reload that fails changes nothing).
            let old = self
                .phase
                .child()
                .map(|c| (c.pid, super::health_gate::cluster_worker(c)));
            if let Some((pid, worker)) = old {
                self.watch_health(pid, worker);
            }
            tracing::warn!(
                "App [{}] reload failed: {why}; the old worker stays",
                self.label()
            );
            self.discard(fresh).await;
            return Err(self.reload_failed(why));
        }
        tracing::info!("-reload- New worker listening ({})", self.label());
        self.info.restart_time += 1;
        self.info.pm_uptime = now_ms();
        let waits = self.take_in(&fresh).is_some();
        self.drive(Event::Replaced {
            child: fresh,
            waits,
        })
        .await?;
        if let Some(pid) = self.info.pid {
            self.write_pid_file(pid);
        }
        Ok(())
    }

    /// Waits until a reload's new process can take over: a cluster worker (or a
    /// `--wait-ready` fork app with its channel) listening or `ready`, a `notify` app's
    /// `READY=1`, then the health check's readiness, each bounded.
    async fn wait_until_taking_over(&mut self, fresh: &mut Running) -> Result<(), ReloadFailure> {
        let cluster = self.info.spec.exec_mode == ExecMode::Cluster;
        if cluster || (self.info.spec.wait_ready && fresh.link.is_some()) {
            self.wait_until_serving(fresh).await?;
        } else if self.waits_for_notify() {
            self.wait_until_notified(fresh).await?;
        }
        self.wait_until_healthy(fresh).await
    }

    /// Takes a new env or definition into account for the next process.
    pub(super) fn apply_update(&mut self, update: Update) {
        if let Some(spec) = update.spec {
            let name = std::mem::take(&mut self.info.spec.name);
            self.info.spec = *spec;
            self.info.spec.name = name;
            if let Some(k) = self.info.spec.kill_timeout {
                self.info.kill_timeout = k;
            }
            self.relay.format =
                crate::logs::line_format::LineFormat::for_app(&self.info.spec, self.info.pm_id);
        }
        if !update.patch.is_empty() {
            update.patch.apply(&mut self.info.spec);
            self.info.kill_timeout = self
                .info
                .spec
                .kill_timeout
                .unwrap_or(self.settings.kill_timeout.as_millis() as u64);
            self.relay.format =
                crate::logs::line_format::LineFormat::for_app(&self.info.spec, self.info.pm_id);
            self.relay.name = self.info.spec.name.as_str().into();
            self.relay.namespace = self.info.spec.namespace.as_str().into();
        }
        if let Some(env) = update.env {
            self.info.spec.env.extend(env);
        }
        if update.toggle_watch {
            self.info.spec.watch = !self.info.spec.watch;
        }
        self.triggers.schedule_cron(&self.info.spec);
        self.sync_watcher();
        self.publish();
    }
}
