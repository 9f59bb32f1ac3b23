//! The instance's side of `NOTIFY_SOCKET` (beyond PM2; see `crate::notify`): which
//! processes get it, whose messages count, and what they do. `READY=1` from the current
//! process ends `launching` for an app with `notify`, as Node's `ready` does under
//! `--wait-ready` (bounded by `listen_timeout` the same way); `STATUS=` shows in
//! `describe`; `STOPPING=1` is logged; `WATCHDOG=1` re-arms the `watchdog_sec` timer,
//! whose expiry restarts the process.

use super::phase::{Event, Phase};
use super::process::Running;
use super::state::Instance;
use crate::notify::{Note, Notice, NotifyLink};
use pm2_supervisor::SpawnSpec;
use std::time::Duration;

impl Instance {
    /// Whether the app's processes get `NOTIFY_SOCKET`: with `notify`, and with `listen`
    /// (socket-activated apps expect both, as under systemd).
    fn gets_notify_socket(&self) -> bool {
        self.info.spec.notify
            || !self.info.spec.listen.is_empty()
            || self.info.spec.watchdog_ms.is_some()
    }

    /// Whether a new process is `launching` until it sends `READY=1`.
    pub(super) fn waits_for_notify(&self) -> bool {
        self.info.spec.notify && !self.health_gated()
    }

    /// Adds `NOTIFY_SOCKET` to a child's environment when it gets one.
    pub(super) fn notify_env(&self, spec: &mut SpawnSpec) {
        let Some(link) = self.notify.as_ref().filter(|_| self.gets_notify_socket()) else {
            return;
        };
        let uid = spec.credentials.as_ref().map(|c| c.uid);
        spec.env
            .push(("NOTIFY_SOCKET".into(), link.socket_for(uid)));
        if let Some(ms) = self.info.spec.watchdog_ms {
            spec.env
                .push(("WATCHDOG_USEC".into(), (ms * 1000).to_string()));
        }
    }

    /// A new process: its watchdog starts (`watchdog_sec`).
    pub(super) fn arm_watchdog(&mut self) {
        let every = self.info.spec.watchdog_ms.map(Duration::from_millis);
        self.watchdog.arm(every);
    }

    /// The watchdog fired: a process online that sent no `WATCHDOG=1` in time is restarted
    /// as `pm2 restart` does (counted in `restart_time`), with the reason in pm2.log; one
    /// still launching gets another interval (`listen_timeout` governs it).
    pub(super) async fn on_watchdog_due(&mut self) {
        match self.phase {
            Phase::Online { .. } => {}
            Phase::Launching { .. } => return self.watchdog.pet(),
            _ => return self.watchdog.disarm(),
        }
        let ms = self.watchdog.every().unwrap_or_default().as_millis();
        tracing::warn!(
            "App [{}] restarted because it sent no WATCHDOG=1 within watchdog_sec ({ms} ms)",
            self.label()
        );
        self.watchdog.disarm();
        let _ = self.manual_restart(super::control::Update::default()).await;
    }

    /// Messages from process `pid` come to this instance.
    pub(super) fn route_notify(&self, pid: u32) {
        if let Some(link) = self.notify.as_ref().filter(|_| self.gets_notify_socket()) {
            link.route(pid);
        }
    }

    /// Process `pid` is gone.
    pub(super) fn unroute_notify(&self, pid: u32) {
        if let Some(link) = &self.notify {
            link.unroute(pid);
        }
    }

    /// A message from one of this instance's processes: only the current one's count.
    pub(super) async fn on_note(&mut self, note: Note) {
        if self.phase.child().map(|c| c.pid) != Some(note.pid) {
            return;
        }
        self.take_notice(note.notice).await;
    }

    /// What a notice from the current process does.
    async fn take_notice(&mut self, notice: Notice) {
        match notice {
            Notice::Ready => {
                if self.waits_for_notify() && matches!(self.phase, Phase::Launching { .. }) {
                    tracing::info!("App [{}] sent READY=1", self.label());
                    let _ = self.drive(Event::Ready).await;
                }
            }
            Notice::Status(status) => self.set_notify_status(status),
            Notice::Stopping => tracing::info!("App [{}] sent STOPPING=1", self.label()),
            Notice::Watchdog => self.watchdog.pet(),
            Notice::WatchdogUsec(us) => self.watchdog.set_interval(Duration::from_micros(us)),
        }
    }

    fn set_notify_status(&mut self, status: String) {
        if self.info.notify_status.as_deref() != Some(status.as_str()) {
            self.info.notify_status = Some(status);
            self.publish();
        }
    }

    /// A reload's new process: until it sends `READY=1` (its `STATUS=` is kept), it exits
    /// (`Err` with its exit), or `listen_timeout` passes (then it is taken as it is, the
    /// rule for a launch). Messages of the old process meanwhile are still taken.
    pub(super) async fn wait_until_notified(
        &mut self,
        fresh: &mut Running,
    ) -> Result<(), super::failure::ReloadFailure> {
        let Some(mut link) = self.notify.take() else {
            return Ok(());
        };
        let outcome = self.notified_or_timeout(&mut link, fresh).await;
        self.notify = Some(link);
        outcome
    }

    async fn notified_or_timeout(
        &mut self,
        link: &mut NotifyLink,
        fresh: &mut Running,
    ) -> Result<(), super::failure::ReloadFailure> {
        let timeout = self.listen_timeout();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            tokio::select! {
                note = link.next() => {
                    if note.pid != fresh.pid {
                        Box::pin(self.on_note(note)).await;
                    } else if self.fresh_notice(note.notice) {
                        return Ok(());
                    }
                }
                status = fresh.child.wait() => {
                    let code = super::process::exit_of(status).code;
                    return Err(super::failure::ReloadFailure::Exited(code));
                }
                _ = tokio::time::sleep_until(deadline) => {
                    tracing::warn!(
                        "App [{}] new process sent no READY=1 within listen_timeout ({} ms); it takes over",
                        self.label(),
                        timeout.as_millis()
                    );
                    return Ok(());
                }
            }
        }
    }
}

impl Instance {
    /// A notice from a reload's new process; true when it is ready.
    fn fresh_notice(&mut self, notice: Notice) -> bool {
        match notice {
            Notice::Ready => {
                tracing::info!("App [{}] new process sent READY=1", self.label());
                true
            }
            Notice::Status(status) => {
                self.set_notify_status(status);
                false
            }
            _ => false,
        }
    }
}

/// The next message on an instance's link (never, without one).
pub(super) async fn next_note(link: &mut Option<NotifyLink>) -> Note {
    match link {
        Some(link) => link.next().await,
        None => std::future::pending().await,
    }
}
