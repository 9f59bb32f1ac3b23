//! Ending processes: stop (signal or `shutdown` message, then SIGKILL after the grace
//! period, whole tree), and the zero-downtime worker replacement of `reload`.

use super::{drain, exit_code, Instance, Outcome, Running};
use crate::worker_channel::WorkerEvent;
use pm2_cluster::handback::Handback;
use pm2_cluster::primary::PrimaryCmd;
use pm2_proto::Status;
use pm2_supervisor::StopPlan;
use std::time::Duration;

/// How a process is asked to leave before the signal.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Farewell {
    /// Straight to the stop signal (PM2's stop of a fork-mode app).
    Signal,
    /// Cluster `disconnect` first, so requests in progress finish: every stop of a cluster
    /// worker (stop, delete, scale down, reload), then the signal after `kill_timeout`.
    Disconnect,
}

/// Longest wait for a draining worker's pending hand-overs to be answered.
const SETTLE_LIMIT: Duration = Duration::from_secs(1);
/// Without a hand-back (kernel refuses `pidfd_getfd`): time for a just-accepted connection's
/// request to arrive before the worker closes its servers (Node's `server.close()` drops
/// connections that have not sent a request yet).
const FIRST_BYTES_GRACE: Duration = Duration::from_millis(100);

impl Instance {
    fn stop_plan(&self) -> StopPlan {
        StopPlan {
            signal: self.settings.kill_signal,
            kill_timeout: Duration::from_millis(self.info.kill_timeout),
            treekill: self.info.spec.treekill,
        }
    }

    /// Graceful stop (signal → kill_timeout → SIGKILL to the tree); idempotent.
    pub(super) async fn stop(&mut self) {
        self.restart_at = None;
        self.ready_by = None;
        let Some(running) = self.running.take() else {
            if matches!(self.info.status, Status::WaitingRestart | Status::Errored) {
                self.set_status(Status::Stopped);
            }
            return;
        };
        self.info.status = Status::Stopping;
        self.publish();
        tracing::info!(
            "Stopping app:{} id:{}",
            self.info.spec.name,
            self.info.pm_id
        );
        let farewell = if running.link.as_ref().is_some_and(|l| l.cluster) {
            Farewell::Disconnect
        } else {
            Farewell::Signal
        };
        let code = self.end_process(running, farewell).await;
        self.event("stop");
        self.forget_axm();
        self.remove_pid_file();
        self.info.exit_code = Some(code);
        self.info.pid = None;
        self.set_status(Status::Stopped);
    }

    /// Ends one process: no new connections, the farewell (`shutdown` message with
    /// `--shutdown-with-message`), the signal, then SIGKILL. Returns PM2's exit code.
    async fn end_process(&self, mut running: Running, farewell: Farewell) -> i32 {
        let grace = Duration::from_millis(self.info.kill_timeout);
        let mut plan = self.stop_plan();
        let mut handback = None;
        if let Some(link) = &running.link {
            let by_message = self.info.spec.shutdown_with_message;
            if link.cluster {
                let gentle = farewell == Farewell::Disconnect;
                handback = self
                    .drain_worker(link.id, running.pid, gentle, by_message)
                    .await;
            }
            if by_message {
                let _ = link.sender.send(serde_json::json!("shutdown"));
            }
            if by_message || (farewell == Farewell::Disconnect && link.cluster) {
                if let Ok(status) = tokio::time::timeout(grace, running.child.wait()).await {
                    return self.finish(running, status).await;
                }
                if by_message {
                    plan.signal = nix::sys::signal::Signal::SIGKILL;
                }
            }
        }
        if let Some(held) = &handback {
            held.abandon_in_use().await;
        }
        let status = pm2_supervisor::stop_gracefully(&mut running.child, plan).await;
        self.finish(running, status).await
    }

    /// Stops routing connections to a worker. For a `gentle` farewell, also waits until the
    /// connections already handed to it are accepted (bounded), holds its keep-alive
    /// connections so that those it closes with a request waiting go to another worker
    /// (see `pm2_cluster::handback`), then sends the cluster `disconnect` (unless the app
    /// is told `shutdown` by message instead).
    async fn drain_worker(
        &self,
        worker: u32,
        pid: u32,
        gentle: bool,
        by_message: bool,
    ) -> Option<Handback> {
        let drain = PrimaryCmd::Drain {
            worker,
            disconnect: false,
        };
        self.primary.send(drain).await;
        if !gentle {
            return None;
        }
        let (reply, settled) = tokio::sync::oneshot::channel();
        self.primary
            .send(PrimaryCmd::WhenSettled { worker, reply })
            .await;
        let _ = tokio::time::timeout(SETTLE_LIMIT, settled).await;
        let handback = self.hold_connections(worker, pid).await;
        if handback.is_none() {
            // Without a hand-back, give just-accepted connections a moment to send their
            // request: `server.close()` destroys a connection that has not.
            tokio::time::sleep(FIRST_BYTES_GRACE).await;
        }
        if !by_message {
            let disconnect = PrimaryCmd::Drain {
                worker,
                disconnect: true,
            };
            self.primary.send(disconnect).await;
        }
        handback
    }

    async fn hold_connections(&self, worker: u32, pid: u32) -> Option<Handback> {
        let pid = i32::try_from(pid).ok()?;
        let (reply, held) = tokio::sync::oneshot::channel();
        self.primary
            .send(PrimaryCmd::Hold { worker, pid, reply })
            .await;
        let handback = held.await.ok().flatten()?;
        tracing::debug!(
            "App [{}] retiring worker holds {} connections",
            self.label(),
            handback.held()
        );
        Some(handback)
    }

    async fn finish(
        &self,
        running: Running,
        status: std::io::Result<std::process::ExitStatus>,
    ) -> i32 {
        let (code, signal) = exit_code(status);
        tracing::info!(
            "App [{}] exited with code [{code}] via signal [{}]",
            self.label(),
            signal.unwrap_or("SIGINT")
        );
        drain(running.relays).await;
        code
    }

    /// Reload of a cluster worker: start the new one, wait until it listens (or sends
    /// `ready` with `--wait-ready`), then retire the old one gracefully. A new worker that
    /// dies or never becomes ready is removed and the old one keeps serving.
    pub(super) async fn replace_worker(&mut self) -> Outcome {
        let mut fresh = match self.spawn_process().await {
            Ok(r) => r,
            Err(e) => return Err(format!("reload of {} failed: {e}", self.label())),
        };
        if let Err(why) = self.wait_until_serving(&mut fresh).await {
            tracing::warn!(
                "App [{}] reload failed: {why}; the old worker stays",
                self.label()
            );
            // It may already serve connections: let them finish like any retiring worker.
            self.end_process(fresh, Farewell::Disconnect).await;
            return Err(format!("reload of {} failed: {why}", self.label()));
        }
        tracing::info!("-reload- New worker listening ({})", self.label());
        let old = self.running.take();
        self.info.restart_time += 1;
        self.info.pm_uptime = super::now_ms();
        self.install(fresh);
        self.became_ready("reload");
        if let Some(old) = old {
            tracing::info!(
                "Stopping app:{} id:_old_{}",
                self.info.spec.name,
                self.info.pm_id
            );
            self.end_process(old, Farewell::Disconnect).await;
        }
        if let Some(pid) = self.info.pid {
            self.write_pid_file(pid);
        }
        Ok(())
    }

    /// Waits for `listening` (or `ready` with `--wait-ready`), bounded by `listen_timeout`.
    /// Without `--wait-ready` a worker that is alive but not listening by then is accepted
    /// (it may not be a server), as PM2 does.
    async fn wait_until_serving(&self, fresh: &mut Running) -> Result<(), String> {
        let wait_ready = self.info.spec.wait_ready;
        let timeout = self.listen_timeout();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let event = async {
                match fresh.link.as_mut() {
                    Some(link) => link.events.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                ev = event => match ev {
                    Some(WorkerEvent::Listening) if !wait_ready => return Ok(()),
                    Some(WorkerEvent::Ready) if wait_ready => return Ok(()),
                    Some(WorkerEvent::Closed) | None => {
                        return Err("the new worker closed its channel".into())
                    }
                    Some(_) => continue,
                },
                status = fresh.child.wait() => {
                    let (code, _) = exit_code(status);
                    return Err(format!("the new worker exited with code {code}"));
                }
                _ = tokio::time::sleep_until(deadline) => {
                    return if wait_ready {
                        Err(format!("no 'ready' within {}ms (listen_timeout)", timeout.as_millis()))
                    } else {
                        Ok(())
                    };
                }
            }
        }
    }
}
