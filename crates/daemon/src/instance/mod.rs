//! One instance's supervisor task: it alone owns the child process and its state.
//!
//! Others hold an [`InstanceHandle`]: they read the latest published [`ProcessInfo`] and send
//! [`Control`]s whose reply arrives only after the action took effect, so `start && stop`
//! never races.

mod launch;
mod retire;

use crate::hub::{LogHub, LogKind};
use crate::logs::{LogFiles, RelayTarget};
use crate::worker::{WorkerEvent, WorkerLink};
use crate::DaemonSettings;
use pm2_cluster::primary::Primary;
use pm2_proto::{ExecMode, ProcessInfo, Status};
use pm2_supervisor::{ExitDecision, RestartCounters, RestartPolicy};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Child;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// The result of a control: `Err` carries a message for the user.
pub type Outcome = Result<(), String>;

/// What can be asked of an instance.
pub enum Control {
    /// Stop gracefully; stays registered.
    Stop(oneshot::Sender<Outcome>),
    /// Stop (if running) and start again, optionally with an updated environment.
    Restart(Update, oneshot::Sender<Outcome>),
    /// Zero-downtime replacement in cluster mode (new worker, wait, retire the old one);
    /// a restart otherwise.
    Reload(Update, oneshot::Sender<Outcome>),
    /// Stop gracefully, then end the task.
    Delete(oneshot::Sender<Outcome>),
    /// Zero the restart counters.
    Reset(oneshot::Sender<Outcome>),
    /// Deliver a signal to the running process.
    Signal(nix::sys::signal::Signal, oneshot::Sender<Outcome>),
    /// Run an action the app registered (`pm2 trigger`); the reply is its answer.
    Trigger(Trigger),
}

/// `pm2 trigger <target> <action> [param]`.
pub struct Trigger {
    /// The action's name, as the app registered it.
    pub action: String,
    /// Its parameter, if any.
    pub param: Option<String>,
    /// The app's `axm:reply` data, or why there is none.
    pub reply: oneshot::Sender<Result<serde_json::Value, String>>,
}

/// Changes that close together make one restart (ms).
const WATCH_SETTLE_MS: u64 = 200;

/// What a restart or reload changes first.
#[derive(Debug, Clone, Default)]
pub struct Update {
    /// `restart --watch`: toggle watching (PM2's rule).
    pub toggle_watch: bool,
    /// Variables merged into the app's env (`--update-env`).
    pub env: Option<BTreeMap<String, String>>,
    /// A new definition of the app (ecosystem actions): every option and the env are
    /// replaced; the instance keeps its id, index and files.
    pub spec: Option<Box<pm2_proto::AppSpec>>,
}

/// A cloneable reference to a running instance task.
#[derive(Clone)]
pub struct InstanceHandle {
    ctl: mpsc::Sender<Control>,
    state: watch::Receiver<ProcessInfo>,
    logs: LogFiles,
}

impl InstanceHandle {
    /// The latest published state.
    pub fn info(&self) -> ProcessInfo {
        self.state.borrow().clone()
    }

    /// The instance's open log files (for flush, reopen and rotation).
    pub fn logs(&self) -> &LogFiles {
        &self.logs
    }

    /// Sends a control whose answer travels on its own channel (`Trigger`).
    pub async fn send(&self, ctl: Control) -> Result<(), String> {
        self.ctl
            .send(ctl)
            .await
            .map_err(|_| "process is being removed".to_string())
    }

    /// Reads the latest state without cloning it (the metrics timer's path).
    pub fn peek<R>(&self, f: impl FnOnce(&ProcessInfo) -> R) -> R {
        f(&self.state.borrow())
    }

    /// Sends a control and waits for its outcome.
    pub async fn call(&self, make: impl FnOnce(oneshot::Sender<Outcome>) -> Control) -> Outcome {
        let (tx, rx) = oneshot::channel();
        if self.ctl.send(make(tx)).await.is_err() {
            return Err("process is being removed".into());
        }
        rx.await
            .unwrap_or_else(|_| Err("process is being removed".into()))
    }
}

/// A live child with its output relays and, for Node apps, its IPC channel.
struct Running {
    child: Child,
    pid: u32,
    relays: Vec<tokio::task::JoinHandle<()>>,
    link: Option<WorkerLink>,
}

/// The task state.
struct Instance {
    info: ProcessInfo,
    running: Option<Running>,
    restart_at: Option<Instant>,
    /// While `launching`: when to give up waiting for `online`/`ready` and call it online
    /// anyway (PM2's `listen_timeout`).
    ready_by: Option<Instant>,
    relay: RelayTarget,
    publish: watch::Sender<ProcessInfo>,
    settings: Arc<DaemonSettings>,
    primary: Primary,
    /// Next `cron_restart` time; kept while stopped (PM2 restarts a stopped app on cron).
    cron_at: Option<Instant>,
    /// Triggers waiting for the app's `axm:reply`, by action name.
    pending_triggers: Vec<(String, oneshot::Sender<Result<serde_json::Value, String>>)>,
    /// File watcher while `--watch` is on.
    watcher: Option<crate::watch::AppWatcher>,
    /// When the restart for the current burst of file changes is due, and what changed.
    watch_fire: Option<(Instant, std::path::PathBuf)>,
}

/// Starts the task for a new instance writing to `files`. When `launch` is set the first
/// start happens before the returned receiver resolves, so the caller can report spawn
/// errors.
pub fn spawn_instance(
    info: ProcessInfo,
    files: LogFiles,
    settings: Arc<DaemonSettings>,
    (hub, primary): (LogHub, Primary),
    launch: bool,
) -> (InstanceHandle, oneshot::Receiver<Outcome>) {
    let (ctl_tx, ctl_rx) = mpsc::channel(16);
    let (publish, state) = watch::channel(info.clone());
    let (first_tx, first_rx) = oneshot::channel();
    let relay = RelayTarget {
        files: files.clone(),
        hub,
        pm_id: info.pm_id,
        name: Arc::from(info.spec.name.as_str()),
        namespace: Arc::from(info.spec.namespace.as_str()),
        format: crate::line_format::LineFormat::for_app(&info.spec, info.pm_id),
    };
    let instance = Instance {
        info,
        running: None,
        restart_at: None,
        ready_by: None,
        relay,
        publish,
        settings,
        primary,
        cron_at: None,
        pending_triggers: Vec::new(),
        watcher: None,
        watch_fire: None,
    };
    tokio::spawn(instance.run(ctl_rx, launch, first_tx));
    let handle = InstanceHandle {
        ctl: ctl_tx,
        state,
        logs: files,
    };
    (handle, first_rx)
}

use pm2_home::now_ms;

/// The next file change the watcher reports, or never.
async fn next_change(watcher: &mut Option<crate::watch::AppWatcher>) -> std::path::PathBuf {
    match watcher.as_mut() {
        Some(w) => match w.changes.recv().await {
            Some(p) => p,
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

/// Sleeps until the scheduled restart, or forever when none is scheduled.
async fn wait_restart(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// What the running process did.
enum RunEvent {
    /// It exited.
    Exit(std::io::Result<std::process::ExitStatus>),
    /// Its worker reported something.
    Worker(WorkerEvent),
}

/// The next thing the running process does (exit, or a worker event), or never.
async fn next_run_event(running: &mut Option<Running>) -> RunEvent {
    let Some(r) = running.as_mut() else {
        return std::future::pending().await;
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
        status = r.child.wait() => RunEvent::Exit(status),
        ev = events => RunEvent::Worker(ev),
    }
}

impl Instance {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Control>,
        launch: bool,
        first: oneshot::Sender<Outcome>,
    ) {
        let first_outcome = if launch {
            Box::pin(self.start_fresh()).await
        } else {
            Ok(())
        };
        let _ = first.send(first_outcome);
        self.schedule_cron();
        self.sync_watcher();
        // The arms' work is boxed: the task's own future stays small (a hundred idle apps
        // then cost the daemon little), and the big state machines of stop/restart/reload
        // exist only while they run.
        loop {
            tokio::select! {
                ev = next_run_event(&mut self.running) => match ev {
                    RunEvent::Exit(status) => Box::pin(self.on_exit(status)).await,
                    RunEvent::Worker(ev) => self.on_worker_event(ev),
                },
                _ = wait_restart(self.restart_at) => Box::pin(self.auto_restart()).await,
                _ = wait_restart(self.ready_by) => self.became_ready("listen timeout"),
                _ = wait_restart(self.cron_at) => Box::pin(self.cron_restart()).await,
                path = next_change(&mut self.watcher) => self.file_changed(path),
                _ = wait_restart(self.watch_fire.as_ref().map(|f| f.0)) => {
                    Box::pin(self.watch_restart()).await
                }
                ctl = rx.recv() => match ctl {
                    Some(ctl) => if Box::pin(self.handle(ctl)).await { return },
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
                let _ = reply.send(self.manual_restart(update).await);
            }
            Control::Reload(update, reply) => {
                let _ = reply.send(self.reload(update).await);
            }
            Control::Delete(reply) => {
                self.stop().await;
                let _ = reply.send(Ok(()));
                return true;
            }
            Control::Reset(reply) => {
                self.info.restart_time = 0;
                self.info.unstable_restarts = 0;
                self.publish();
                let _ = reply.send(Ok(()));
            }
            Control::Signal(sig, reply) => {
                let _ = reply.send(self.signal(sig));
            }
            Control::Trigger(trigger) => self.trigger(trigger),
        }
        false
    }

    fn publish(&self) {
        self.publish.send_replace(self.info.clone());
    }

    fn set_status(&mut self, status: Status) {
        self.info.status = status;
        self.publish();
    }

    fn label(&self) -> String {
        format!("{}:{}", self.info.spec.name, self.info.pm_id)
    }

    fn signal(&self, sig: nix::sys::signal::Signal) -> Outcome {
        let Some(r) = &self.running else {
            return Err(format!("process {} is not running", self.label()));
        };
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(r.pid as i32), sig)
            .map_err(|e| format!("could not send {sig} to {}: {e}", self.label()))
    }

    /// PM2's `resetState` then a start: a manual start forgets past instability.
    async fn start_fresh(&mut self) -> Outcome {
        self.info.created_at = Some(now_ms());
        self.info.unstable_restarts = 0;
        self.info.prev_restart_delay = None;
        self.restart_at = None;
        self.launch().await
    }

    async fn manual_restart(&mut self, update: Update) -> Outcome {
        let was_running = self.info.status.is_running() && self.running.is_some();
        self.stop().await;
        self.apply_update(update);
        if was_running {
            self.info.restart_time += 1;
        }
        self.start_fresh().await
    }

    async fn auto_restart(&mut self) {
        self.restart_at = None;
        self.info.restart_time += 1;
        let _ = self.launch().await;
    }

    /// `pm2 reload`: in cluster mode a new worker takes over before the old one leaves;
    /// other apps (and a stopped cluster app) are restarted, as PM2 does.
    async fn reload(&mut self, update: Update) -> Outcome {
        let cluster = self.info.spec.exec_mode == ExecMode::Cluster;
        if !cluster || self.running.is_none() || !self.info.status.is_running() {
            return self.manual_restart(update).await;
        }
        self.apply_update(update);
        self.replace_worker().await
    }

    /// Starts or stops the file watcher to match `spec.watch`.
    fn sync_watcher(&mut self) {
        if !self.info.spec.watch {
            self.watcher = None;
            self.watch_fire = None;
            return;
        }
        if self.watcher.is_some() {
            return;
        }
        let s = &self.info.spec;
        let roots = if s.watch_paths.is_empty() {
            vec![std::path::PathBuf::from(&s.cwd)]
        } else {
            s.watch_paths.iter().map(std::path::PathBuf::from).collect()
        };
        let spec = crate::watch::WatchSpec {
            roots,
            ignore: s.ignore_watch.clone(),
        };
        match crate::watch::start(spec) {
            Ok(w) => self.watcher = Some(w),
            Err(e) => tracing::warn!("App [{}] cannot watch files: {e}", self.label()),
        }
    }

    /// A watched file changed: restart once the burst is over (`watch_delay`, at least a
    /// short settle time so a save that touches several files restarts once).
    fn file_changed(&mut self, path: std::path::PathBuf) {
        if self.watch_fire.is_none() {
            let delay = self.info.spec.watch_delay.unwrap_or(0).max(WATCH_SETTLE_MS);
            let at = Instant::now() + Duration::from_millis(delay);
            self.watch_fire = Some((at, path));
        }
    }

    async fn watch_restart(&mut self) {
        let Some((_, path)) = self.watch_fire.take() else {
            return;
        };
        tracing::info!(
            "Change detected on path {} for app {} - restarting",
            path.display(),
            self.info.spec.name
        );
        let _ = self.manual_restart(Update::default()).await;
        // Changes made while restarting (the app's own start-up writes) start a new burst.
        self.watch_fire = None;
    }

    /// Computes the next `cron_restart` time (none without a pattern).
    fn schedule_cron(&mut self) {
        self.cron_at = self.info.spec.cron_restart.as_deref().and_then(|pattern| {
            let cron = croner::Cron::new(pattern)
                .with_seconds_optional()
                .parse()
                .ok()?;
            let now = chrono::Local::now();
            let next = cron.find_next_occurrence(&now, false).ok()?;
            Some(Instant::now() + (next - now).to_std().ok()?)
        });
    }

    /// The cron fired: restart (a stopped app is started), then schedule the next one.
    async fn cron_restart(&mut self) {
        tracing::info!(
            "App [{}] restarted by cron_restart {:?}",
            self.label(),
            self.info.spec.cron_restart.as_deref().unwrap_or_default()
        );
        let _ = self.manual_restart(Update::default()).await;
        self.schedule_cron();
    }

    /// PM2 clears an app's actions and metrics when its process exits; pending triggers
    /// will get no reply.
    pub(super) fn forget_axm(&mut self) {
        self.info.axm_actions.clear();
        self.info.axm_monitor.clear();
        for (action, reply) in self.pending_triggers.drain(..) {
            let _ = reply.send(Err(format!("the process exited before answering {action}")));
        }
    }

    /// Takes a new env or definition into account for the next process.
    fn apply_update(&mut self, update: Update) {
        if let Some(spec) = update.spec {
            let name = std::mem::take(&mut self.info.spec.name);
            self.info.spec = *spec;
            self.info.spec.name = name;
            if let Some(k) = self.info.spec.kill_timeout {
                self.info.kill_timeout = k;
            }
            self.relay.format =
                crate::line_format::LineFormat::for_app(&self.info.spec, self.info.pm_id);
        }
        if let Some(env) = update.env {
            self.info.spec.env.extend(env);
        }
        if update.toggle_watch {
            self.info.spec.watch = !self.info.spec.watch;
        }
        self.schedule_cron();
        self.sync_watcher();
        self.publish();
    }

    /// Sends an action to the app (PM2's `msgProcess`): the bare name, or `{msg, opts}`
    /// with a parameter. The reply arrives later as `axm:reply`.
    fn trigger(&mut self, t: Trigger) {
        let known = self
            .info
            .axm_actions
            .iter()
            .any(|a| a.get("action_name").and_then(|n| n.as_str()) == Some(t.action.as_str()));
        let link = self.running.as_ref().and_then(|r| r.link.as_ref());
        let (true, Some(link)) = (known, link) else {
            let _ = t.reply.send(Err(format!(
                "action {} not found for {}",
                t.action,
                self.label()
            )));
            return;
        };
        let msg = match &t.param {
            Some(p) => serde_json::json!({"msg": t.action, "opts": p}),
            None => serde_json::json!(t.action),
        };
        if let Err(e) = link.sender.send(msg) {
            let _ = t
                .reply
                .send(Err(format!("cannot reach {}: {e:?}", self.label())));
            return;
        }
        self.pending_triggers.push((t.action, t.reply));
    }

    /// Custom metrics, actions and replies the app reports over IPC (`@pm2/io`'s protocol).
    fn on_axm(&mut self, ev: WorkerEvent) {
        match ev {
            WorkerEvent::Metrics(serde_json::Value::Object(m)) => {
                self.info.axm_monitor.extend(m);
                self.publish();
            }
            WorkerEvent::Action(a) => {
                let name = a.get("action_name").cloned();
                let known = self
                    .info
                    .axm_actions
                    .iter()
                    .any(|x| x.get("action_name") == name.as_ref());
                if name.is_some() && !known {
                    self.info.axm_actions.push(a);
                    self.publish();
                }
            }
            WorkerEvent::Reply(r) => {
                let name = r
                    .get("action_name")
                    .and_then(|n| n.as_str())
                    .map(String::from);
                if let Some(i) = self
                    .pending_triggers
                    .iter()
                    .position(|(a, _)| Some(a) == name.as_ref())
                {
                    let (_, reply) = self.pending_triggers.swap_remove(i);
                    let _ = reply.send(Ok(r.get("return").cloned().unwrap_or(r)));
                }
            }
            _ => {}
        }
    }

    /// A readiness signal (or a metric, action or reply) from the worker.
    fn on_worker_event(&mut self, ev: WorkerEvent) {
        if matches!(
            ev,
            WorkerEvent::Metrics(_) | WorkerEvent::Action(_) | WorkerEvent::Reply(_)
        ) {
            return self.on_axm(ev);
        }
        if self.info.status != Status::Launching {
            return;
        }
        let ready = if self.info.spec.wait_ready {
            ev == WorkerEvent::Ready
        } else {
            ev == WorkerEvent::Online
        };
        if ready {
            self.became_ready("ready");
        }
    }

    /// `launching` → `online`.
    fn became_ready(&mut self, why: &str) {
        self.ready_by = None;
        if self.info.status == Status::Launching && self.running.is_some() {
            tracing::info!("App [{}] online ({why})", self.label());
            self.set_status(Status::Online);
            self.event("online");
        }
    }

    /// Tells live readers about a process event (`online`, `exit`, `stop`...).
    fn event(&self, what: &str) {
        self.relay
            .hub
            .publish_with(|| self.relay.event(LogKind::Event, what.as_bytes()));
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

    /// The process exited on its own: apply PM2's restart policy.
    async fn on_exit(&mut self, status: std::io::Result<std::process::ExitStatus>) {
        let Some(running) = self.running.take() else {
            return;
        };
        self.ready_by = None;
        let (code, signal) = exit_code(status);
        tracing::info!(
            "App [{}] exited with code [{code}] via signal [{}]",
            self.label(),
            signal.unwrap_or("SIGINT")
        );
        drain(running.relays).await;
        self.event("exit");
        self.forget_axm();
        self.remove_pid_file();
        self.info.pid = None;
        self.info.exit_code = Some(code);
        let mut counters = RestartCounters {
            created_at: self.info.created_at,
            pm_uptime: self.info.pm_uptime,
            unstable_restarts: self.info.unstable_restarts,
            prev_restart_delay: self.info.prev_restart_delay,
        };
        let decision = self.policy().on_exit(&mut counters, code, now_ms());
        self.info.created_at = counters.created_at;
        self.info.unstable_restarts = counters.unstable_restarts;
        self.info.prev_restart_delay = counters.prev_restart_delay;
        self.apply_decision(decision).await;
    }

    async fn apply_decision(&mut self, decision: ExitDecision) {
        match decision {
            ExitDecision::Stop => self.info.status = Status::Stopped,
            ExitDecision::Errored => {
                self.info.status = Status::Errored;
                tracing::info!(
                    "Script {} had too many unstable restarts ({}). Stopped. \"errored\"",
                    self.info.spec.script,
                    self.info.spec.max_restarts
                );
            }
            ExitDecision::RestartNow => {
                self.publish();
                return self.auto_restart().await;
            }
            ExitDecision::RestartAfter(ms) => {
                self.info.status = Status::WaitingRestart;
                self.restart_at = Some(Instant::now() + Duration::from_millis(ms));
                tracing::info!("App [{}] will restart in {ms}ms", self.label());
            }
        }
        self.publish();
    }
}

/// Waits (bounded) for the output relays to reach EOF, so the last lines are on disk before
/// a stop is reported. A grandchild that keeps the pipe open cannot hold the daemon up.
async fn drain(relays: Vec<tokio::task::JoinHandle<()>>) {
    for relay in relays {
        let _ = tokio::time::timeout(Duration::from_secs(2), relay).await;
    }
}

/// PM2 reports `code || 0` and the signal name separately.
fn exit_code(status: std::io::Result<std::process::ExitStatus>) -> (i32, Option<&'static str>) {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => (c, None),
            (None, Some(sig)) => (
                0,
                nix::sys::signal::Signal::try_from(sig)
                    .ok()
                    .map(|s| s.as_str()),
            ),
            _ => (0, None),
        },
        Err(_) => (1, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn signals_report_code_zero_like_pm2() {
        let killed = std::process::ExitStatus::from_raw(9);
        assert_eq!(exit_code(Ok(killed)), (0, Some("SIGKILL")));
        let exited = std::process::ExitStatus::from_raw(3 << 8);
        assert_eq!(exit_code(Ok(exited)), (3, None));
    }
}
