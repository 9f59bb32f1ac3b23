//! The data both sides agree on: what an app is ([`AppSpec`]) and what an instance looks like
//! right now ([`ProcessInfo`]).

use serde::{Deserialize, Serialize};

/// PM2's process statuses; the serialized form is the string PM2 shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Spawned, not yet reported ready.
    #[serde(rename = "launching")]
    Launching,
    /// Running.
    #[serde(rename = "online")]
    Online,
    /// A graceful stop is in progress.
    #[serde(rename = "stopping")]
    Stopping,
    /// Not running, by request or because it exited without a restart.
    #[serde(rename = "stopped")]
    Stopped,
    /// Gave up: too many unstable restarts, or could not be spawned.
    #[serde(rename = "errored")]
    Errored,
    /// Exited; a restart is scheduled after `restart_delay` or the backoff delay.
    #[serde(rename = "waiting restart")]
    WaitingRestart,
}

impl Status {
    /// The name PM2 prints for this status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Launching => "launching",
            Status::Online => "online",
            Status::Stopping => "stopping",
            Status::Stopped => "stopped",
            Status::Errored => "errored",
            Status::WaitingRestart => "waiting restart",
        }
    }

    /// Whether an instance in this status has (or is about to have) a live process.
    pub fn is_running(self) -> bool {
        matches!(self, Status::Launching | Status::Online)
    }
}

/// Fork (one process per instance, any executable) or cluster (Node workers sharing ports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ExecMode {
    /// PM2's `fork_mode`.
    #[default]
    #[serde(rename = "fork_mode")]
    Fork,
    /// PM2's `cluster_mode`.
    #[serde(rename = "cluster_mode")]
    Cluster,
}

impl ExecMode {
    /// PM2's pm2_env spelling (`fork_mode`/`cluster_mode`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExecMode::Fork => "fork_mode",
            ExecMode::Cluster => "cluster_mode",
        }
    }

    /// The short form shown in `pm2 list` (`fork`/`cluster`).
    pub fn short(self) -> &'static str {
        match self {
            ExecMode::Fork => "fork",
            ExecMode::Cluster => "cluster",
        }
    }
}

/// Where the combined log goes: PM2's `-l/--log [path]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum CombinedLog {
    /// No combined file (PM2's default).
    #[default]
    None,
    /// `-l` without a value: `logs/<name>.log`.
    Default,
    /// `-l <path>`, already absolute.
    Path(String),
}

/// One app as the user declared it, fully resolved by the CLI (absolute paths, interpreter
/// chosen, instance count computed), so the daemon never depends on the CLI's cwd or PATH.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSpec {
    /// App name (PM2: script basename without extension unless `--name`).
    pub name: String,
    /// Namespace (`default` unless `--namespace`).
    pub namespace: String,
    /// Absolute path of the script or binary (`pm_exec_path`).
    pub script: String,
    /// Arguments after `--`.
    pub args: Vec<String>,
    /// PM2's `exec_interpreter`: `node`, `bash`, `python3`, ... or `none` to exec the script.
    pub interpreter: String,
    /// Resolved absolute path of the interpreter (None for `none`).
    pub interpreter_path: Option<String>,
    /// `--interpreter-args` / `--node-args`.
    pub interpreter_args: Vec<String>,
    /// Working directory (`pm_cwd`).
    pub cwd: String,
    /// Fork or cluster.
    pub exec_mode: ExecMode,
    /// How many instances to run (already resolved from `max`, `0`, `-1`...).
    pub instances: u32,
    /// Whether `-i`/`instances` was given at all: PM2 then writes per-id log files.
    pub instances_given: bool,
    /// The environment the app runs with: the CLI's environment with the app's env over it
    /// (shared with the apps that have the same one, copied when changed).
    pub env: crate::SharedEnv,
    /// Restart when the process exits (unless stopped or the code is in `stop_exit_codes`).
    pub autorestart: bool,
    /// Exit codes that mean "do not restart".
    pub stop_exit_codes: Vec<i32>,
    /// A run shorter than this counts as unstable (ms).
    pub min_uptime: u64,
    /// Unstable restarts tolerated before the app goes `errored`.
    pub max_restarts: u32,
    /// Fixed delay before a restart (ms); `Some(0)` still shows `waiting restart`.
    pub restart_delay: Option<u64>,
    /// Exponential backoff start value (ms).
    pub exp_backoff_restart_delay: Option<u64>,
    /// Grace period between the stop signal and SIGKILL (ms); None uses the daemon default.
    pub kill_timeout: Option<u64>,
    /// Signal the whole process tree on stop (`--no-treekill` turns it off).
    pub treekill: bool,
    /// One log file for all instances instead of per-id files.
    pub merge_logs: bool,
    /// `-o` path, absolute, or `/dev/null`.
    pub out_file: Option<String>,
    /// `-e` path, absolute, or `/dev/null`.
    pub error_file: Option<String>,
    /// `-l` combined log.
    pub log_file: CombinedLog,
    /// `-p` pid file path, absolute.
    pub pid_file: Option<String>,
    /// The app's `version` from the nearest package.json, if any.
    pub version: Option<String>,
    /// Node version for Node apps, as reported by the interpreter (filled later by IPC).
    pub node_version: Option<String>,
    /// Unix user that started it (PM2's `username`).
    pub username: String,
    /// `uid`/`user`: run the app as this user (a name or a number); the daemon must be root.
    #[serde(default)]
    pub uid: Option<String>,
    /// `gid`: run it with this group (a name or a number) instead of the user's own.
    #[serde(default)]
    pub gid: Option<String>,
    /// Restart when watched files change (`--watch`).
    pub watch: bool,
    /// What to watch (absolute); empty watches `cwd`.
    #[serde(default)]
    pub watch_paths: Vec<String>,
    /// Patterns not to watch, besides dotfiles and `node_modules`.
    #[serde(default)]
    pub ignore_watch: Vec<String>,
    /// Wait this long (ms) after a change before restarting.
    #[serde(default)]
    pub watch_delay: Option<u64>,
    /// Start it at all (`--no-autostart` registers it stopped).
    pub autostart: bool,
    /// dayjs format prefixed to every log line (`--time` sets `YYYY-MM-DDTHH:mm:ss`).
    #[serde(default)]
    pub log_date_format: Option<String>,
    /// `json` writes PM2's JSON line objects instead of raw output.
    #[serde(default)]
    pub log_type: Option<String>,
    /// `--disable-logs`: output goes nowhere.
    #[serde(default)]
    pub disable_logs: bool,
    /// `--wait-ready`: online only once the app calls `process.send('ready')`.
    #[serde(default)]
    pub wait_ready: bool,
    /// `--listen-timeout`: how long a start or reload waits for `ready`/`listening` (ms).
    #[serde(default)]
    pub listen_timeout: Option<u64>,
    /// `--shutdown-with-message`: stop by sending `'shutdown'` over IPC instead of a signal.
    #[serde(default)]
    pub shutdown_with_message: bool,
    /// Restart (reload in cluster mode) when RSS exceeds this many bytes.
    #[serde(default)]
    pub max_memory_restart: Option<u64>,
    /// Restart on this cron pattern (5 or 6 fields).
    #[serde(default)]
    pub cron_restart: Option<String>,
    /// The variable that carries the instance index (`instance_var`; PM2's default
    /// `NODE_APP_INSTANCE`), for apps that already use that name for something else.
    #[serde(default = "default_instance_var")]
    pub instance_var: String,
    /// `increment_var`: a variable whose value (from the app's env, else 0) goes up by one
    /// for each further instance, e.g. one `PORT` per instance.
    #[serde(default)]
    pub increment_var: Option<String>,
    /// PM2's `automation` (`--no-automation` turns it and `pmx` off): pm2-rs injects no
    /// agent either way, the key is kept for tools that read it.
    #[serde(default = "yes")]
    pub automation: bool,
    /// `--source-map-support`: PM2's key for forcing source maps (on by default anyway).
    #[serde(default)]
    pub source_map_support: bool,
    /// `--disable-source-map-support`: Node apps run without `--enable-source-maps`.
    #[serde(default)]
    pub disable_source_map_support: bool,
    /// PM2's `deep_monitoring`, set by `PM2_DEEP_MONITORING` in the CLI's environment on
    /// start and restart: kept for the tools that read it (pm2-rs injects no tracing).
    #[serde(default)]
    pub deep_monitoring: bool,
    /// PM2's `pmx_module`: the app is an installed module (`pm2 install`), so `list` shows
    /// it in its own table, `all` in stop/restart/delete skips it and `save` leaves it out.
    #[serde(default)]
    pub pmx_module: bool,
    /// `health_check` (beyond PM2): readiness gates `online`, liveness restarts; `None`
    /// keeps PM2's behaviour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<crate::HealthCheck>,
    /// `depends_on` (beyond PM2): apps of the same file started (and waited for) first,
    /// stopped after it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<crate::Dependency>,
    /// `listen` (beyond PM2): sockets the daemon binds for the app and hands to every
    /// process of it as systemd does (`LISTEN_FDS`, fds from 3), so the port stays open
    /// across restarts. Canonical forms: `<ip>:<port>`, `[<ipv6>]:<port>`, `unix:<path>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listen: Vec<String>,
    /// `notify` (beyond PM2): the app tells the daemon it is ready as systemd's `sd_notify`
    /// does (`READY=1` on `NOTIFY_SOCKET`); it stays `launching` until then, bounded by
    /// `listen_timeout`, as `--wait-ready` waits for Node's `process.send('ready')`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notify: bool,
    /// `watchdog_sec` (beyond PM2), in ms: a running process that sends no `WATCHDOG=1` on
    /// `NOTIFY_SOCKET` for this long is restarted, as systemd's `WatchdogSec=` does. The
    /// child gets it as `WATCHDOG_USEC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watchdog_ms: Option<u64>,
    /// `memory_limit`, `cpu_limit`, `pids_limit` (beyond PM2): hard limits the kernel
    /// enforces in the process's cgroups, where a controller exists.
    #[serde(default, skip_serializing_if = "crate::ResourceLimits::is_empty")]
    pub limits: crate::ResourceLimits,
}

fn yes() -> bool {
    true
}

/// PM2's `min_uptime` when an app sets none: a run shorter than a second is unstable.
pub const DEFAULT_MIN_UPTIME_MS: u64 = 1000;

/// A present key is `Some`, even when it is `null` (serde would make `null` a `None`).
fn present_value<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// PM2's `max_restarts` when an app sets none: unstable restarts before `errored`.
pub const DEFAULT_MAX_RESTARTS: u32 = 16;

/// PM2's namespace for apps that name none.
pub const DEFAULT_NAMESPACE: &str = "default";

/// PM2's variable for the instance index (`instance_var` when an app sets none).
pub const DEFAULT_INSTANCE_VAR: &str = "NODE_APP_INSTANCE";

fn default_instance_var() -> String {
    DEFAULT_INSTANCE_VAR.into()
}

impl Default for AppSpec {
    /// PM2's defaults for everything an app does not set (`default` namespace, one fork
    /// instance run directly, autorestart, `min_uptime` 1000 ms, `max_restarts` 16, tree
    /// kill, merged logs): the base that resolvers and tests fill in.
    fn default() -> AppSpec {
        AppSpec {
            name: String::new(),
            namespace: DEFAULT_NAMESPACE.into(),
            script: String::new(),
            args: vec![],
            interpreter: "none".into(),
            interpreter_path: None,
            interpreter_args: vec![],
            cwd: String::new(),
            exec_mode: ExecMode::Fork,
            instances: 1,
            instances_given: false,
            env: Default::default(),
            autorestart: true,
            stop_exit_codes: vec![],
            min_uptime: DEFAULT_MIN_UPTIME_MS,
            max_restarts: DEFAULT_MAX_RESTARTS,
            restart_delay: None,
            exp_backoff_restart_delay: None,
            kill_timeout: None,
            treekill: true,
            merge_logs: true,
            out_file: None,
            error_file: None,
            log_file: CombinedLog::None,
            pid_file: None,
            version: None,
            node_version: None,
            username: String::new(),
            uid: None,
            gid: None,
            watch: false,
            watch_paths: vec![],
            ignore_watch: vec![],
            watch_delay: None,
            autostart: true,
            log_date_format: None,
            log_type: None,
            disable_logs: false,
            wait_ready: false,
            listen_timeout: None,
            shutdown_with_message: false,
            max_memory_restart: None,
            cron_restart: None,
            instance_var: default_instance_var(),
            increment_var: None,
            automation: true,
            source_map_support: false,
            disable_source_map_support: false,
            deep_monitoring: false,
            pmx_module: false,
            health_check: None,
            depends_on: vec![],
            listen: vec![],
            notify: false,
            watchdog_ms: None,
            limits: crate::ResourceLimits::default(),
        }
    }
}

/// Resource usage PM2 shows as `monit`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Monit {
    /// Resident set size in bytes.
    pub memory: u64,
    /// CPU usage in percent of one core, rounded to 0.1.
    pub cpu: f64,
}

/// Files an instance writes to, resolved when it is first created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstancePaths {
    /// `pm_out_log_path`.
    pub out: String,
    /// `pm_err_log_path`.
    pub err: String,
    /// `pm_log_path` (combined), if any.
    pub combined: Option<String>,
    /// `pm_pid_path`.
    pub pid: String,
}

/// One instance as the daemon sees it at the moment of the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessInfo {
    /// PM2's `pm_id`.
    pub pm_id: u32,
    /// The app this instance runs.
    pub spec: AppSpec,
    /// Current status.
    pub status: Status,
    /// OS pid while running.
    pub pid: Option<u32>,
    /// When the current (or last) process started, ms since the epoch.
    pub pm_uptime: u64,
    /// When the instance was created or last reset, ms since the epoch (PM2 nulls it on errored).
    pub created_at: Option<u64>,
    /// PM2's `restart_time`.
    pub restart_time: u32,
    /// PM2's `unstable_restarts`.
    pub unstable_restarts: u32,
    /// Exit code of the last process, if it exited.
    pub exit_code: Option<i32>,
    /// Current exponential backoff delay (ms), PM2's `prev_restart_delay`.
    pub prev_restart_delay: Option<u64>,
    /// `NODE_APP_INSTANCE`: the lowest index free among instances of the same name.
    pub instance_index: u32,
    /// This instance's value of the app's `increment_var`, if it has one.
    #[serde(default)]
    pub increment_value: Option<i64>,
    /// Stable unique id (uuid v4), PM2's `unique_id`.
    pub unique_id: String,
    /// Log and pid file paths.
    pub paths: InstancePaths,
    /// Effective kill timeout (ms).
    pub kill_timeout: u64,
    /// CPU and memory, sampled from /proc.
    pub monit: Monit,
    /// `PM2_HOME` of the daemon that owns it.
    pub pm2_home: String,
    /// Custom metrics the app reports over IPC (`axm:monitor`, as `@pm2/io` sends them):
    /// `{"<name>": {"value": .., "unit": .., ...}}`.
    #[serde(default)]
    pub axm_monitor: serde_json::Map<String, serde_json::Value>,
    /// Actions the app registered over IPC (`axm:action`): `{action_name, action_type, ...}`.
    #[serde(default)]
    pub axm_actions: Vec<serde_json::Value>,
    /// What the app said of itself over IPC (`axm:option:configuration`, sent by `@pm2/io`
    /// and `pmx` at init: module name and version, APM type, features): each key replaces
    /// the one before, as in PM2.
    #[serde(default)]
    pub axm_options: serde_json::Map<String, serde_json::Value>,
    /// PM2's `_km_monitored`: absent until `pm2 monitor` (true) or `pm2 unmonitor` (false)
    /// sets it; the dashboard leaves out only the instances where it is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub km_monitored: Option<bool>,
    /// PM2's `versioning`: the git metadata of the app's folder, read when it came online
    /// (`PM2_ENABLE_GIT_PARSING=true`); `None` leaves the key out as PM2 does without
    /// git parsing, `Some(Null)` is PM2's `null` for a folder outside any work tree.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present_value"
    )]
    pub versioning: Option<serde_json::Value>,
    /// PM2's `vizion_running`: the git metadata is being read.
    #[serde(default)]
    pub vizion_running: bool,
    /// The health check's state (beyond PM2), for apps that have one: `pm2_env.health`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<crate::HealthInfo>,
    /// The last `STATUS=` the process sent on `NOTIFY_SOCKET` (beyond PM2), for `describe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_status: Option<String>,
    /// How the current (or last) process is tracked and how its limits fare (beyond
    /// PM2): `pm2_env.containment`, set at each spawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containment: Option<crate::Containment>,
}
