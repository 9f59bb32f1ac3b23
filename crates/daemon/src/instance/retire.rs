//! Ending processes: stop (signal or `shutdown` message, then SIGKILL after the grace
//! period, whole tree; a cluster worker is drained and disconnected first), and the waits
//! of a reload's new worker.

use super::failure::ReloadFailure;
use super::process::{drain, exit_of, Running};
use super::state::Instance;
use crate::worker_channel::WorkerEvent;
use pm2_cluster::handback::Handback;
use pm2_cluster::primary::PrimaryCmd;
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

    /// Ends the instance's child for a stop or delete (graceful: signal → kill_timeout →
    /// SIGKILL to the tree) and records how it ended.
    pub(super) async fn stop_child(&mut self, running: Running) {
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
        self.info.notify_status = None;
        self.remove_pid_file();
        self.info.exit_code = Some(code);
        self.info.pid = None;
    }

    /// Ends the worker a reload replaced, letting its connections finish.
    pub(super) async fn retire(&self, old: Running) {
        tracing::info!(
            "Stopping app:{} id:_old_{}",
            self.info.spec.name,
            self.info.pm_id
        );
        self.end_process(old, Farewell::Disconnect).await;
    }

    /// Ends a reload's new worker that did not come up; it may already serve connections,
    /// so they finish like any retiring worker's.
    pub(super) async fn discard(&self, fresh: Running) {
        self.end_process(fresh, Farewell::Disconnect).await;
    }

    /// Ends one process: no new connections, the farewell (`shutdown` message with
    /// `--shutdown-with-message` or the daemon's `PM2_KILL_USE_MESSAGE`; SIGKILL after
    /// `kill_timeout` if the app stays), else the signal, then SIGKILL. Returns PM2's exit
    /// code.
    async fn end_process(&self, mut running: Running, farewell: Farewell) -> i32 {
        let grace = Duration::from_millis(self.info.kill_timeout);
        let mut plan = self.stop_plan();
        let mut handback = None;
        if let Some(link) = &running.link {
            let by_message = self.info.spec.shutdown_with_message || self.settings.kill_use_message;
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
        let exit = exit_of(status);
        self.unroute_notify(running.pid);
        tracing::info!(
            "App [{}] exited with code [{}] via signal [{}]",
            self.label(),
            exit.code,
            exit.signal.unwrap_or("SIGINT")
        );
        drain(running.relays).await;
        exit.code
    }

    /// Waits for `listening` (or `ready` with `--wait-ready`), bounded by `listen_timeout`.
    /// Without `--wait-ready` a worker that is alive but not listening by then is accepted
    /// (it may not be a server), as PM2 does.
    pub(super) async fn wait_until_serving(
        &self,
        fresh: &mut Running,
    ) -> Result<(), ReloadFailure> {
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
                        return Err(ReloadFailure::ChannelClosed)
                    }
                    Some(_) => continue,
                },
                status = fresh.child.wait() => {
                    let code = exit_of(status).code;
                    return Err(ReloadFailure::Exited(code));
                }
                _ = tokio::time::sleep_until(deadline) => {
                    return if wait_ready {
                        Err(ReloadFailure::NoReady(timeout))
                    } else {
                        Ok(())
                    };
                }
            }
        }
    }
}
