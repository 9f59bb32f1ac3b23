//! The start options as typed on the command line, before resolution.

/// `pm2 start` flags, as strings exactly as the user gave them (the CLI parser fills this;
/// the ecosystem loader will fill it too).
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Script, binary or command string.
    pub script: String,
    /// `--name`.
    pub name: Option<String>,
    /// `--cwd`.
    pub cwd: Option<String>,
    /// `--namespace`.
    pub namespace: Option<String>,
    /// `--interpreter`.
    pub interpreter: Option<String>,
    /// `--interpreter-args` / `--node-args` (split on whitespace).
    pub interpreter_args: Option<String>,
    /// `-x`: force fork mode.
    pub execute_command: bool,
    /// `-i`.
    pub instances: Option<String>,
    /// Everything after `--`.
    pub args: Vec<String>,
    /// `--no-autorestart` sets this to false.
    pub no_autorestart: bool,
    /// `--stop-exit-codes`.
    pub stop_exit_codes: Vec<String>,
    /// `--restart-delay`.
    pub restart_delay: Option<String>,
    /// `--exp-backoff-restart-delay`.
    pub exp_backoff_restart_delay: Option<String>,
    /// `-k/--kill-timeout`.
    pub kill_timeout: Option<String>,
    /// `--max-restarts`.
    pub max_restarts: Option<String>,
    /// `--min-uptime` (ecosystem-only in PM2; accepted here too).
    pub min_uptime: Option<String>,
    /// `--no-treekill`.
    pub no_treekill: bool,
    /// `--merge-logs`.
    pub merge_logs: bool,
    /// `-o/--output`.
    pub output: Option<String>,
    /// `-e/--error`.
    pub error: Option<String>,
    /// `-l/--log [path]`: `Some(None)` is the flag without a value.
    pub log: Option<Option<String>>,
    /// `-p/--pid`.
    pub pid: Option<String>,
    /// `--no-autostart`.
    pub no_autostart: bool,
    /// `--time`: prefix lines with `YYYY-MM-DDTHH:mm:ss`.
    pub time: bool,
    /// `--log-date-format`.
    pub log_date_format: Option<String>,
    /// `--log-type` (`raw` or `json`).
    pub log_type: Option<String>,
    /// `--disable-logs`.
    pub disable_logs: bool,
    /// `--wait-ready`.
    pub wait_ready: bool,
    /// `--listen-timeout`.
    pub listen_timeout: Option<String>,
    /// `--shutdown-with-message`.
    pub shutdown_with_message: bool,
    /// `--max-memory-restart` (`200M`, `1G`, bytes).
    pub max_memory_restart: Option<String>,
    /// `-c/--cron/--cron-restart`.
    pub cron_restart: Option<String>,
    /// `--watch [paths...]`: `Some(vec![])` watches the app's folder.
    pub watch: Option<Vec<String>>,
    /// `--ignore-watch`: extra patterns (globs or names).
    pub ignore_watch: Vec<String>,
    /// `--watch-delay`: milliseconds, or a number with ms/s/m/h.
    pub watch_delay: Option<String>,
}
