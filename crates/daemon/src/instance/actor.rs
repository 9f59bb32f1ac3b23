//! The instance task: it alone owns the child and the state, and reacts to one thing at a
//! time — the child (exit, worker messages), the phase's deadline, a trigger, a control.

use super::control::{Control, Outcome};
use super::failure::ControlError;
use super::handle::{InstanceHandle, Queued};
use super::notify_gate::next_note;
use super::phase::{Event, Phase};
use super::process::{exit_of, Running};
use super::state::Instance;
use super::triggers::{sleep_until, Fired};
use super::{axm, control};
use crate::listen::ListenSet;
use crate::logs::hub::LogHub;
use crate::logs::relay::RelayTarget;
use crate::logs::sinks::LogFiles;
use crate::notify::NotifyLink;
use crate::settings::DaemonSettings;
use crate::worker_channel::WorkerEvent;
use pm2_cluster::primary::Primary;
use pm2_proto::ProcessInfo;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Starts the task for a new instance writing to `files`. When `launch` is set the first
/// start happens before the returned receiver resolves, so the caller can report spawn
/// errors.
pub fn spawn_instance(
    info: ProcessInfo,
    (files, listen, notify): (LogFiles, Option<Arc<ListenSet>>, Option<NotifyLink>),
    settings: Arc<DaemonSettings>,
    (hub, primary): (LogHub, Primary),
    launch: bool,
) -> (InstanceHandle, oneshot::Receiver<Outcome>) {
    let (ctl_tx, ctl_rx) = mpsc::channel(16);
    let (first_tx, first_rx) = oneshot::channel();
    let relay = RelayTarget {
        files: files.clone(),
        hub,
        pm_id: info.pm_id,
        name: Arc::from(info.spec.name.as_str()),
        namespace: Arc::from(info.spec.namespace.as_str()),
        format: crate::logs::line_format::LineFormat::for_app(&info.spec, info.pm_id),
    };
    let (mut instance, state) = Instance::new(info, relay, settings, primary);
    instance.listen = listen;
    instance.notify = notify;
    tokio::spawn(instance.run(ctl_rx, launch, first_tx));
    (InstanceHandle::new(ctl_tx, state, files), first_rx)
}

/// The status an instance shows before its task first publishes (a new instance is
/// stopped until it is launched).
pub fn status_before_start() -> pm2_proto::Status {
    Phase::<Running>::Stopped.status()
}

/// What the phase was waiting for.
enum Input {
    /// The child exited.
    Exit(std::io::Result<std::process::ExitStatus>),
    /// Its worker reported something.
    Worker(WorkerEvent),
    /// The phase's deadline passed.
    Due,
}

/// The next thing the child does (exit, or a worker event) or the phase's deadline.
async fn next_input(phase: &mut Phase<Running>) -> Input {
    let due = phase.deadline();
    let Some(r) = phase.child_mut() else {
        sleep_until(due).await;
        return Input::Due;
    };
    let events = async {
        match r.link.as_mut() {
            Some(link) => match link.events.recv().await {
                Some(ev) => ev,
                None => std::future::pending().await,
            },
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        status = r.child.wait() => Input::Exit(status),
        ev = events => Input::Worker(ev),
        _ = sleep_until(due) => Input::Due,
    }
}

impl Instance {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Queued>,
        launch: bool,
        first: oneshot::Sender<Outcome>,
    ) {
        let first_outcome = if launch {
            let outcome = Box::pin(self.start_fresh()).await;
            Box::pin(self.settle_launch()).await;
            outcome
        } else {
            Ok(())
        };
        let _ = first.send(first_outcome);
        self.triggers.schedule_cron(&self.info.spec);
        self.sync_watcher();
        // The arms' work is boxed: the task's own future stays small (a hundred idle apps
        // then cost the daemon little), and the big state machines of stop/restart/reload
        // exist only while they run.
        loop {
            let watch_delay = self.info.spec.watch_delay;
            tokio::select! {
                input = next_input(&mut self.phase) => Box::pin(self.on_input(input)).await,
                fired = self.triggers.next(watch_delay) => Box::pin(self.on_fired(fired)).await,
                meta = self.versioning.done() => self.on_versioning(meta),
                report = self.health.monitor.next() => Box::pin(self.on_health(report)).await,
                note = next_note(&mut self.notify) => Box::pin(self.on_note(note)).await,
                _ = sleep_until(self.watchdog.due()) => Box::pin(self.on_watchdog_due()).await,
                ctl = rx.recv() => match ctl {
                    Some(ctl) => if Box::pin(self.handle(*ctl)).await { return },
                    None => { Box::pin(self.stop()).await; return }
                },
            }
        }
    }

    /// Applies one control; true when the task must end (delete).
    async fn handle(&mut self, ctl: Control) -> bool {
        match ctl {
            Control::Stop(reply) => {
                self.stop().await;
                // PM2: stopping an app turns its watch off.
                if self.info.spec.watch {
                    self.info.spec.watch = false;
                    self.sync_watcher();
                    self.publish();
                }
                let _ = reply.send(Ok(()));
            }
            Control::Restart(update, reply) => {
                let outcome = self.manual_restart(update).await;
                self.settle_launch().await;
                let _ = reply.send(outcome);
            }
            Control::Reload(update, reply) => {
                let outcome = self.reload(update).await;
                self.settle_launch().await;
                let _ = reply.send(outcome);
            }
            Control::Delete(reply) => {
                self.stop().await;
                let _ = reply.send(Ok(()));
                return true;
            }
            Control::Reset(reply) => {
                self.reset_counters();
                let _ = reply.send(Ok(()));
            }
            Control::Signal(sig, reply) => {
                let _ = reply.send(self.signal(sig));
            }
            Control::Trigger(trigger) => self.trigger(trigger),
            Control::SendLine(line, reply) => {
                let _ = reply.send(self.send_line(&line).await);
            }
            Control::Watch(on, reply) => {
                self.set_watch(on.unwrap_or(!self.info.spec.watch));
                let _ = reply.send(Ok(()));
            }
            Control::Message(message, reply) => {
                let _ = reply.send(self.send_message(message));
            }
            Control::SetMonitored(monitored, reply) => {
                self.info.km_monitored = Some(monitored);
                self.publish();
                let _ = reply.send(Ok(()));
            }
        }
        false
    }

    /// `pm2 reset`: the restart counters (the health check's too) back to 0.
    fn reset_counters(&mut self) {
        self.info.restart_time = 0;
        self.info.unstable_restarts = 0;
        if let Some(h) = self.info.health.as_mut() {
            h.restarts = 0;
        }
        self.publish();
    }

    /// Turns watching on or off (no change, no publish).
    fn set_watch(&mut self, on: bool) {
        if on != self.info.spec.watch {
            self.info.spec.watch = on;
            self.sync_watcher();
            self.publish();
        }
    }

    /// Waits, serving the child's events, while a new instance is `launching`: a cluster
    /// worker before its `online`, a `--wait-ready` app (fork or cluster) before its `ready`,
    /// a `notify` app before its `READY=1`.
    /// The reply to start, restart and reload then comes once it is online, as PM2's does,
    /// and a `list` right after never shows it launching. Bounded by the phase's own
    /// deadline (`listen_timeout`, after which the instance counts as online, as in PM2); an
    /// exit ends the wait too.
    ///
    /// With a health check, the wait is for the check to pass, bounded by its
    /// `ready_timeout`, past which the reply goes and the instance stays `launching`.
    async fn settle_launch(&mut self) {
        let bound = self
            .ready_timeout()
            .map(|t| tokio::time::Instant::now() + t);
        while matches!(self.phase, Phase::Launching { .. }) {
            tokio::select! {
                input = next_input(&mut self.phase) => self.on_input(input).await,
                report = self.health.monitor.next() => Box::pin(self.on_health(report)).await,
                note = next_note(&mut self.notify) => Box::pin(self.on_note(note)).await,
                _ = sleep_until(bound) => return,
            }
        }
    }

    /// The child exited, its worker spoke, or the phase's deadline passed.
    async fn on_input(&mut self, input: Input) {
        match input {
            Input::Exit(status) => {
                let _ = self.drive(Event::Exited(exit_of(status))).await;
            }
            Input::Worker(ev) if axm::is_axm(&ev) => {
                let metrics = matches!(ev, WorkerEvent::Metrics(_));
                if self.axm.on_message(&mut self.info, ev) {
                    // The app may have renamed itself (`axm:option:configuration`): its
                    // log lines and events carry the new name, as after `restart --name`.
                    if *self.relay.name != *self.info.spec.name {
                        self.relay.name = self.info.spec.name.as_str().into();
                    }
                    if metrics {
                        self.publish_metrics();
                    } else {
                        self.publish();
                    }
                }
            }
            Input::Worker(ev) => {
                if self.is_ready_signal(&ev) {
                    let _ = self.drive(Event::Ready).await;
                }
            }
            Input::Due => {
                let _ = self.drive(Event::Due).await;
            }
        }
    }

    /// The git metadata read at online arrived: kept unless the app stopped meanwhile (PM2
    /// cancels it then).
    fn on_versioning(&mut self, meta: serde_json::Value) {
        self.info.vizion_running = false;
        if self.info.status.is_running() {
            self.info.versioning = Some(meta);
        }
        self.publish();
    }

    /// `ready` with `--wait-ready`, the cluster worker's `online` otherwise.
    fn is_ready_signal(&self, ev: &WorkerEvent) -> bool {
        if self.health_gated() {
            return false;
        }
        if self.info.spec.wait_ready {
            *ev == WorkerEvent::Ready
        } else {
            *ev == WorkerEvent::Online
        }
    }

    /// `cron_restart` or a burst of file changes: restart (a stopped app is started).
    async fn on_fired(&mut self, fired: Fired) {
        match fired {
            Fired::Cron => {
                tracing::info!(
                    "App [{}] restarted by cron_restart {:?}",
                    self.label(),
                    self.info.spec.cron_restart.as_deref().unwrap_or_default()
                );
                let _ = self.manual_restart(control::Update::default()).await;
                self.triggers.schedule_cron(&self.info.spec);
            }
            Fired::Watch(path) => {
                tracing::info!(
                    "Change detected on path {} for app {} - restarting",
                    path.display(),
                    self.info.spec.name
                );
                let _ = self.manual_restart(control::Update::default()).await;
            }
        }
    }

    fn signal(&self, sig: nix::sys::signal::Signal) -> Outcome {
        let Some(r) = self.phase.child() else {
            return Err(ControlError::NotRunning {
                label: self.label(),
            });
        };
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(r.pid as i32), sig).map_err(|errno| {
            ControlError::SignalFailed {
                signal: sig,
                label: self.label(),
                errno,
            }
        })
    }

    /// Writes `message` to the running process's IPC channel.
    fn send_message(&self, message: serde_json::Value) -> Result<(), String> {
        let running = self.info.status.is_running();
        let link = self.phase.child().and_then(|r| r.link.as_ref());
        match link {
            Some(link) if running => link.sender.send(message).map_err(|e| e.to_string()),
            Some(_) | None if !running => Err("offline".into()),
            _ => Err("has no IPC channel (not a Node.js app)".into()),
        }
    }

    fn trigger(&mut self, t: control::Trigger) {
        let label = self.label();
        let link = self.phase.child().and_then(|r| r.link.as_ref());
        self.axm.ask(&self.info, link, t, &label);
    }
}
