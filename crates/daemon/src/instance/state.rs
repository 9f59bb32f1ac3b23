//! What one instance task owns, and the one place its status is written.

use super::axm::AxmBridge;
use super::phase::{Effect, Event, Phase};
use super::process::Running;
use super::triggers::Triggers;
use super::versioning::VersioningRead;
use crate::logs::hub::{LogEvent, LogKind};
use crate::logs::relay::RelayTarget;
use crate::settings::DaemonSettings;
use pm2_cluster::primary::Primary;
use pm2_proto::ProcessInfo;
use std::sync::Arc;
use tokio::sync::watch;

/// The task state.
pub(super) struct Instance {
    /// What `pm2 list` shows; `status` always mirrors `phase`.
    pub(super) info: ProcessInfo,
    /// Where the instance is in its life (and its child, when it has one).
    pub(super) phase: Phase<Running>,
    /// `cron_restart` and `--watch`.
    pub(super) triggers: Triggers,
    /// `pm2 trigger` requests waiting for the app's answer.
    pub(super) axm: AxmBridge,
    /// The git metadata being read (`PM2_ENABLE_GIT_PARSING`).
    pub(super) versioning: VersioningRead,
    /// Where the child's output goes.
    pub(super) relay: RelayTarget,
    /// The daemon's settings (kill signal...).
    pub(super) settings: Arc<DaemonSettings>,
    /// The cluster primary that routes connections to workers.
    pub(super) primary: Primary,
    /// The app's `listen` sockets, which every process of it inherits (beyond PM2).
    pub(super) listen: Option<Arc<crate::listen::ListenSet>>,
    /// Its end of the daemon's `NOTIFY_SOCKET` (beyond PM2; see `notify_gate.rs`).
    pub(super) notify: Option<crate::notify::NotifyLink>,
    /// Its process's `watchdog_sec` timer (beyond PM2).
    pub(super) watchdog: crate::notify::Watchdog,
    /// The health check's probing and counts (idle without `health_check`).
    pub(super) health: crate::health::Gate,
    publish: watch::Sender<ProcessInfo>,
}

impl Instance {
    /// A stopped instance; the receiver follows what it publishes.
    pub(super) fn new(
        mut info: ProcessInfo,
        relay: RelayTarget,
        settings: Arc<DaemonSettings>,
        primary: Primary,
    ) -> (Self, watch::Receiver<ProcessInfo>) {
        let phase = Phase::Stopped;
        info.status = phase.status();
        let (publish, state) = watch::channel(info.clone());
        let instance = Instance {
            info,
            phase,
            triggers: Triggers::default(),
            axm: AxmBridge::default(),
            versioning: VersioningRead::default(),
            relay,
            settings,
            primary,
            listen: None,
            notify: None,
            watchdog: Default::default(),
            health: Default::default(),
            publish,
        };
        (instance, state)
    }

    /// Moves the phase on (see [`Phase::next`]) and mirrors its status into `info`: the
    /// only assignment of an instance's status.
    pub(super) fn step(&mut self, event: Event<Running>) -> Vec<Effect<Running>> {
        let phase = std::mem::replace(&mut self.phase, Phase::Stopped);
        let (phase, effects) = phase.next(event);
        self.phase = phase;
        self.info.status = self.phase.status();
        effects
    }

    /// Lets handles see the current state, and moves the registry's revision on (the
    /// dashboard then fetches the whole summary again).
    pub(super) fn publish(&self) {
        self.publish.send_replace(self.info.clone());
        crate::registry::bump_revision();
    }

    /// Lets handles see new custom metrics: the revision stays (they travel with every
    /// reading, `pm2_proto::Reading`, so a dashboard needs no summary for them).
    pub(super) fn publish_metrics(&self) {
        self.publish.send_replace(self.info.clone());
    }

    /// `name:id`, as the log lines name an instance.
    pub(super) fn label(&self) -> String {
        format!("{}:{}", self.info.spec.name, self.info.pm_id)
    }

    /// Tells live readers about a process event (`online`, `exit`, `stop`...).
    pub(super) fn event(&self, what: &str) {
        self.relay
            .hub
            .publish_with(|| self.relay.event(LogKind::Event, what.as_bytes()));
    }

    /// Tells live readers the process exited on its own, and how.
    pub(super) fn exit_event(&self, code: i32, signal: Option<&str>) {
        self.relay.hub.publish_with(|| LogEvent {
            exit: Some(pm2_proto::ExitNote {
                code,
                signal: signal.map(str::to_string),
            }),
            ..self.relay.event(LogKind::Event, b"exit")
        });
    }

    /// The process is gone: its actions and metrics go with it.
    pub(super) fn forget_axm(&mut self) {
        self.axm.forget(&mut self.info);
    }

    /// Starts or stops the file watcher to match the app's `watch` setting.
    pub(super) fn sync_watcher(&mut self) {
        let label = self.label();
        self.triggers.sync_watcher(&self.info.spec, &label);
    }
}

/// Wall-clock milliseconds, as PM2 stores times (the one clock in `pm2-home`).
pub(super) use pm2_home::now_ms;
