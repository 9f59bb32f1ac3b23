//! Starting an instance's process: command line, environment, IPC channel, relays, and
//! the bookkeeping of a new child (pid, pid file, whether it must report in).

use super::credentials;
use super::failure::SpawnError;
use super::process::Running;
use super::state::Instance;
use crate::logs::relay;
use crate::logs::sinks::Stream;
use crate::worker_channel::{self, WorkerInfo};
use pm2_cluster::ipc;
use pm2_cluster::primary::SchedPolicy;
use pm2_proto::{pm2json, ExecMode};
use pm2_supervisor::SpawnSpec;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Child;
use tokio::time::Instant;

/// Numbers the processes' cgroups (unique in the daemon's process, with the instance's id).
static NEXT_CGROUP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Variables that hand a child descriptors or the daemon's sockets (a Node IPC channel;
/// systemd's sockets, `NOTIFY_SOCKET` and its watchdog); never inherited from the CLI's
/// environment: only the daemon sets them, for what it passes.
const CHANNEL_VARS: [&str; 9] = [
    "NODE_CHANNEL_FD",
    "NODE_CHANNEL_SERIALIZATION_MODE",
    "NODE_UNIQUE_ID",
    "LISTEN_FDS",
    "LISTEN_PID",
    "LISTEN_FDNAMES",
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
];

impl Instance {
    /// Records `running` as the instance's process: pid, pid file, no exit code. Returns
    /// when to stop waiting for it to report in, if it must (`--wait-ready`, or a cluster
    /// worker with its channel), `None` when it is online at once.
    pub(super) fn take_in(&mut self, running: &Running) -> Option<Instant> {
        self.info.pid = Some(running.pid);
        self.info.exit_code = None;
        // A new process says anew what it is (PM2 empties them on each start).
        self.info.axm_options.clear();
        self.arm_watchdog();
        self.record_containment(running);
        self.write_pid_file(running.pid);
        if self.health_gated() {
            // Readiness is the health check's: launching until it passes.
            self.watch_health(running.pid, super::health_gate::cluster_worker(running));
            return Some(Self::health_launch_deadline());
        }
        let waits = self.info.spec.wait_ready
            || self.waits_for_notify()
            || (self.info.spec.exec_mode == ExecMode::Cluster && running.link.is_some());
        waits.then(|| Instant::now() + self.listen_timeout())
    }

    /// How long to wait for a worker to be ready or listening: the app's `listen_timeout`,
    /// else the daemon's default (`PM2_GRACEFUL_LISTEN_TIMEOUT`, 3000 ms).
    pub(super) fn listen_timeout(&self) -> Duration {
        self.info
            .spec
            .listen_timeout
            .map(Duration::from_millis)
            .unwrap_or(self.settings.listen_timeout)
    }

    /// Whether the app runs on node and so gets the IPC channel.
    fn speaks_node_ipc(&self) -> bool {
        self.info
            .spec
            .interpreter_path
            .as_deref()
            .and_then(|p| Path::new(p).file_name())
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("node"))
    }

    pub(super) fn sched_policy(&self) -> SchedPolicy {
        match self
            .info
            .spec
            .env
            .get("NODE_CLUSTER_SCHED_POLICY")
            .map(String::as_str)
        {
            Some("none") => SchedPolicy::Shared,
            _ => SchedPolicy::RoundRobin,
        }
    }

    /// Spawns a new process for this instance (not yet installed as the running one).
    pub(super) async fn spawn_process(&self) -> Result<Running, SpawnError> {
        let cgroups = self.process_cgroups();
        let mut spec = self.spawn_spec()?;
        spec.cgroup_procs = cgroups.procs_fds();
        self.notify_env(&mut spec);
        let ipc = self.speaks_node_ipc();
        let cluster = ipc && self.info.spec.exec_mode == ExecMode::Cluster;
        let worker_id = worker_channel::next_worker_id();
        let listen_fds = self.listen.as_ref().map(|l| l.raw_fds());
        let channel = if ipc {
            let (parent, child_end) = ipc::channel_pair().map_err(SpawnError::IpcChannel)?;
            spec.env
                .extend(ipc::child_env(cluster.then_some(worker_id)));
            Some((parent, child_end))
        } else {
            None
        };
        let channel_fd = channel.as_ref().map(|(_, child_end)| child_end.as_raw_fd());
        self.hand_over_fds(&mut spec, listen_fds.unwrap_or_default(), channel_fd);
        let mut child = pm2_supervisor::spawn(&spec).map_err(|error| SpawnError::Exec {
            program: spec.program.clone(),
            error,
        })?;
        let pid = child.id().unwrap_or(0);
        // Before the child can have run far: its first datagram must find its instance.
        self.route_notify(pid);
        let relays = self.start_relays(&mut child);
        let stdin = child.stdin.take();
        let link = match channel {
            Some((parent, child_end)) => {
                drop(child_end);
                let who = WorkerInfo {
                    id: worker_id,
                    app: Arc::clone(&self.relay.name),
                    pm_id: self.info.pm_id,
                    namespace: Arc::clone(&self.relay.namespace),
                    cluster: cluster.then(|| self.sched_policy()),
                    held: self.health_gated(),
                };
                let hub = self.relay.hub.clone();
                match worker_channel::attach(parent, who, &self.primary, hub).await {
                    Ok(link) => Some(link),
                    Err(e) => {
                        tracing::warn!("App [{}] IPC channel failed: {e}", self.label());
                        None
                    }
                }
            }
            None => None,
        };
        Ok(Running {
            child,
            pid,
            relays,
            link,
            stdin,
            cgroups,
        })
    }

    /// The cgroups for the process about to be spawned (whole-tree tracking, and the
    /// app's limits where a controller allows; none where the machine gives none). One
    /// per process, not per instance: during an overlapping reload the old process's tree
    /// is stopped while the new one runs, and stopping the old one's cgroup must not reach
    /// the new one.
    fn process_cgroups(&self) -> pm2_supervisor::ProcessCgroups {
        let generation = NEXT_CGROUP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let l = &self.info.spec.limits;
        let limits = pm2_supervisor::Limits {
            memory: l.memory,
            cpu_millis: l.cpu_millis,
            pids: l.pids,
        };
        pm2_supervisor::ProcessCgroups::create(
            &format!("{}-{generation}", self.info.unique_id),
            &limits,
        )
    }

    /// What the child inherits: the app's `listen` sockets at fds 3.. (with the systemd
    /// variables, started through the `__listen-exec` trampoline for `LISTEN_PID`), then
    /// the Node IPC channel (at 3 without sockets, as Node's own `fork` places it).
    fn hand_over_fds(&self, spec: &mut SpawnSpec, listen: Vec<i32>, channel: Option<i32>) {
        let Some(set) = self.listen.as_ref().filter(|_| !listen.is_empty()) else {
            if let Some(raw) = channel {
                spec.pre_exec = Some(Arc::new(move || ipc::install_child_end(raw)));
            }
            return;
        };
        spec.env.extend(set.env());
        if channel.is_some() {
            let at = (3 + listen.len()).to_string();
            spec.env.retain(|(k, _)| k != "NODE_CHANNEL_FD");
            spec.env.push(("NODE_CHANNEL_FD".into(), at));
        }
        let mut fds = listen;
        fds.extend(channel);
        spec.pre_exec = Some(Arc::new(move || crate::listen::place_fds(&fds)));
        trampoline(spec);
    }

    fn start_relays(&self, child: &mut Child) -> Vec<tokio::task::JoinHandle<()>> {
        let mut relays = vec![];
        if let Some(out) = child.stdout.take().and_then(|p| p.into_owned_fd().ok()) {
            relays.push(relay::spawn(out, self.relay.clone(), Stream::Out));
        }
        if let Some(err) = child.stderr.take().and_then(|p| p.into_owned_fd().ok()) {
            relays.push(relay::spawn(err, self.relay.clone(), Stream::Err));
        }
        relays
    }

    pub(super) fn write_pid_file(&self, pid: u32) {
        let path = &self.info.paths.pid;
        if let Err(e) = std::fs::write(path, pid.to_string()) {
            tracing::warn!("App [{}] cannot write pid file: {e}", self.label());
            return;
        }
        // The app's user owns its pid file, as under PM2.
        if let Ok(Some(r)) = credentials::run_as(&self.info.spec) {
            let (uid, gid) = (r.credentials.uid, r.credentials.gid);
            if let Err(e) = std::os::unix::fs::chown(path, Some(uid), Some(gid)) {
                tracing::warn!(
                    "App [{}] cannot give its pid file to uid {uid}: {e}",
                    self.label()
                );
            }
        }
    }

    pub(super) fn remove_pid_file(&self) {
        let _ = std::fs::remove_file(&self.info.paths.pid);
    }

    /// The command line, environment and identity for the child.
    fn spawn_spec(&self) -> Result<SpawnSpec, SpawnError> {
        let s = &self.info.spec;
        let mut env = pm2json::child_env(&self.info);
        env.retain(|(k, _)| {
            !k.is_empty() && !k.contains('=') && !CHANNEL_VARS.contains(&k.as_str())
        });
        let (program, mut args) = match &s.interpreter_path {
            Some(interp) => {
                let mut a = s.interpreter_args.clone();
                if source_maps_on(s) {
                    a.insert(0, ENABLE_SOURCE_MAPS.to_string());
                }
                if self.speaks_node_ipc() && any_inspect_port(s, &env) {
                    a.insert(0, INSPECT_PORT_ANY.to_string());
                }
                a.push(s.script.clone());
                (interp.clone(), a)
            }
            None => (s.script.clone(), vec![]),
        };
        args.extend(s.args.iter().cloned());
        if initialises_its_agent(s, &env) {
            env.push((AGENT_SELF_INIT.to_string(), "true".to_string()));
        }
        let run_as = credentials::run_as(s)?;
        if let Some(r) = &run_as {
            env.retain(|(k, _)| k != "HOME");
            env.push(("HOME".to_string(), r.home.clone()));
        }
        Ok(SpawnSpec {
            program,
            args,
            cwd: s.cwd.clone(),
            env,
            pre_exec: None,
            credentials: run_as.map(|r| r.credentials),
            cgroup_procs: vec![],
        })
    }
}

/// The variable that makes `@pm2/io` 2.x initialise itself when it is loaded (its transport
/// over IPC, metrics every second, actions), as PM2's agent initialises it in every Node
/// app. See [`initialises_its_agent`].
const AGENT_SELF_INIT: &str = "PMX_FORCE_UPDATE";

/// Whether a module (`pm2 install`) gets [`AGENT_SELF_INIT`]. PM2 loads its own `@pm2/io`
/// into every Node app and publishes it under `Symbol.for('@pm2/io')`, so a module's
/// bundled `@pm2/io` 2.x (pm2-server-monit's) finds that initialised agent and its metrics
/// flow. pm2-rs injects no code; with the variable the module's own copy initialises
/// itself, which is what PM2's injection amounts to for it (`@pm2/io` 5+ always does, and
/// `pmx` ignores the variable). Modules only: an ordinary app that calls `io.init()`
/// itself must not be initialised twice. Off with `--no-automation` (PM2's `pmx: false`)
/// or when the app's env sets the variable.
fn initialises_its_agent(s: &pm2_proto::AppSpec, env: &[(String, String)]) -> bool {
    s.pmx_module
        && s.automation
        && s.interpreter == "node"
        && !env.iter().any(|(k, _)| k == AGENT_SELF_INIT)
}

/// Runs `spec`'s program through `pm2 __listen-exec` (this executable), which sets
/// `LISTEN_PID` to the pid it then execs the program in.
fn trampoline(spec: &mut SpawnSpec) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let program = std::mem::replace(&mut spec.program, exe.to_string_lossy().into_owned());
    spec.args.insert(0, program);
    spec.args.insert(0, "__listen-exec".to_string());
}

/// Node's own switch for source-mapped stack traces.
const ENABLE_SOURCE_MAPS: &str = "--enable-source-maps";

/// PM2 turns source maps on in every Node app unless `--disable-source-map-support`;
/// pm2-rs asks Node itself to, rather than injecting code into the app.
fn source_maps_on(s: &pm2_proto::AppSpec) -> bool {
    s.interpreter == "node"
        && !s.disable_source_map_support
        && !s.interpreter_args.iter().any(|a| a == ENABLE_SOURCE_MAPS)
}

/// Where a cluster instance opens its inspector when it receives SIGUSR1 (`pm2 inspect`,
/// `profile:*`): a free port, so every instance can be inspected at once (with Node's
/// default they would all want 9229, and only the first would get it). It opens nothing
/// by itself; `pm2 inspect` reads the port from the instance's sockets.
///
/// Cluster instances only: they are Node cluster workers, which cannot fork cluster
/// workers of their own. A fork-mode app may be a cluster primary itself, and Node gives
/// its workers the primary's port plus one: port 1 for a primary on port 0, and each
/// worker then exits at start ("must be 0 or in range 1024 to 65535", Node 20). Fork-mode
/// apps keep Node's default, as under PM2.
const INSPECT_PORT_ANY: &str = "--inspect-port=0";

/// Cluster instances (of a Node interpreter: the caller checks) get [`INSPECT_PORT_ANY`]
/// unless their node args or `NODE_OPTIONS` already choose an inspector port or open the
/// inspector (theirs wins).
fn any_inspect_port(s: &pm2_proto::AppSpec, env: &[(String, String)]) -> bool {
    let chooses = |text: &str| text.contains("--inspect") || text.contains("--debug-port");
    s.exec_mode == ExecMode::Cluster
        && !s.interpreter_args.iter().any(|a| chooses(a))
        && !env.iter().any(|(k, v)| k == "NODE_OPTIONS" && chooses(v))
}
