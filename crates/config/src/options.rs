//! The start options as typed on the command line, before resolution: the one list of
//! `pm2 start` flags.
//!
//! With the `clap` feature, [`StartOptions`] is itself the clap definition of those flags
//! (the CLI flattens it into `pm2 start` and `pm2-runtime`), so a new flag is declared once
//! here, with its help text as the field's doc comment, and resolved once in
//! [`crate::resolve_start`]. The ecosystem loader fills the same struct from a file.

#[doc = concat!(
    "`pm2 start` flags, as strings exactly as the user gave them (so that resolution reports\n",
    "a bad value with the text that was typed).\n",
    "\n",
    "Each field's doc comment is its `pm2 start --help` line. Two value forms differ from\n",
    "the raw text: `ignore_watch` holds the patterns already split on commas and spaces, and\n",
    "`watch_delay` holds a duration string (`4` on the command line is seconds, PM2's CLI\n",
    "unit, and is stored as `4s`; an ecosystem file's number is milliseconds). `force` and\n",
    "`update_env` decide what happens to an app that exists; resolution does not read them.",
)]
// Not `///`: clap would make that doc comment the `about` of the commands that flatten
// these flags in (`pm2 start --help`'s first line); see the note on `pm2_cli`'s `Command`.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct StartOptions {
    /// Script, binary or command string (the CLI's positional argument, not a flag).
    #[cfg_attr(feature = "clap", arg(skip))]
    pub script: String,
    /// App name (default: script name without extension).
    #[cfg_attr(feature = "clap", arg(short = 'n', long))]
    pub name: Option<String>,
    /// Working directory.
    #[cfg_attr(feature = "clap", arg(long))]
    pub cwd: Option<String>,
    /// Namespace.
    #[cfg_attr(feature = "clap", arg(long))]
    pub namespace: Option<String>,
    /// Run the app as this user (name or number; the daemon must run as root).
    #[cfg_attr(feature = "clap", arg(long, visible_alias = "user", short = 'u'))]
    pub uid: Option<String>,
    /// Run the app with this group (name or number; default: the user's own).
    #[cfg_attr(feature = "clap", arg(long))]
    pub gid: Option<String>,
    /// Interpreter (default chosen by extension; `none` runs the file directly).
    #[cfg_attr(feature = "clap", arg(long))]
    pub interpreter: Option<String>,
    /// Arguments for the interpreter.
    #[cfg_attr(
        feature = "clap",
        arg(
            long = "interpreter-args",
            visible_alias = "node-args",
            allow_hyphen_values = true
        )
    )]
    pub interpreter_args: Option<String>,
    /// Run in fork mode.
    #[cfg_attr(feature = "clap", arg(short = 'x', long = "execute-command"))]
    pub execute_command: bool,
    /// Start even if an app of this name exists.
    #[cfg_attr(feature = "clap", arg(short = 'f', long))]
    pub force: bool,
    /// Number of instances (`max`, `0`, `-1`, `N`).
    #[cfg_attr(feature = "clap", arg(short = 'i', long, allow_hyphen_values = true))]
    pub instances: Option<String>,
    /// Do not restart the app when it exits.
    #[cfg_attr(feature = "clap", arg(long = "no-autorestart"))]
    pub no_autorestart: bool,
    /// Register the app without starting it.
    #[cfg_attr(feature = "clap", arg(long = "no-autostart"))]
    pub no_autostart: bool,
    /// Exit codes after which the app is not restarted.
    #[cfg_attr(feature = "clap", arg(long = "stop-exit-codes", num_args = 1..))]
    pub stop_exit_codes: Vec<String>,
    /// Delay between restarts (ms).
    #[cfg_attr(feature = "clap", arg(long = "restart-delay"))]
    pub restart_delay: Option<String>,
    /// Exponential backoff base delay (ms).
    #[cfg_attr(feature = "clap", arg(long = "exp-backoff-restart-delay"))]
    pub exp_backoff_restart_delay: Option<String>,
    /// Grace period before SIGKILL on stop (ms).
    #[cfg_attr(feature = "clap", arg(short = 'k', long = "kill-timeout"))]
    pub kill_timeout: Option<String>,
    /// Unstable restarts before `errored`.
    #[cfg_attr(feature = "clap", arg(long = "max-restarts"))]
    pub max_restarts: Option<String>,
    /// Minimum uptime for a run to count as stable (ms or 5s, 1m...).
    #[cfg_attr(feature = "clap", arg(long = "min-uptime"))]
    pub min_uptime: Option<String>,
    /// Signal only the main process on stop, not its children.
    #[cfg_attr(feature = "clap", arg(long = "no-treekill"))]
    pub no_treekill: bool,
    /// One log file for all instances.
    #[cfg_attr(feature = "clap", arg(long = "merge-logs"))]
    pub merge_logs: bool,
    /// stdout log file.
    #[cfg_attr(feature = "clap", arg(short = 'o', long = "output"))]
    pub output: Option<String>,
    /// stderr log file.
    #[cfg_attr(feature = "clap", arg(short = 'e', long = "error"))]
    pub error: Option<String>,
    /// Combined log file (no value: `logs/<name>.log`).
    #[cfg_attr(
        feature = "clap",
        arg(
            short = 'l',
            long = "log",
            num_args = 0..=1,
            help = "Combined log file (no value: logs/<name>.log)"
        )
    )]
    pub log: Option<Option<String>>,
    /// Pid file.
    #[cfg_attr(feature = "clap", arg(short = 'p', long = "pid"))]
    pub pid: Option<String>,
    /// Merge the current environment on restart of an existing app.
    #[cfg_attr(feature = "clap", arg(short = 'a', long = "update-env"))]
    pub update_env: bool,
    /// Prefix log lines with the time (`YYYY-MM-DDTHH:mm:ss`).
    #[cfg_attr(feature = "clap", arg(long))]
    pub time: bool,
    /// Prefix log lines with this dayjs date format.
    #[cfg_attr(feature = "clap", arg(long = "log-date-format"))]
    pub log_date_format: Option<String>,
    /// `raw` (default) or `json` log lines.
    #[cfg_attr(feature = "clap", arg(long = "log-type"))]
    pub log_type: Option<String>,
    /// Write no log files.
    #[cfg_attr(feature = "clap", arg(long = "disable-logs"))]
    pub disable_logs: bool,
    /// Read variables from this dotenv file (repeatable; the app's own env wins).
    #[cfg_attr(feature = "clap", arg(long = "env-file", value_name = "FILE"))]
    pub env_file: Vec<String>,
    /// Online only once the app calls `process.send('ready')`.
    #[cfg_attr(feature = "clap", arg(long = "wait-ready"))]
    pub wait_ready: bool,
    /// How long start/reload wait for ready or listening (ms).
    #[cfg_attr(feature = "clap", arg(long = "listen-timeout"))]
    pub listen_timeout: Option<String>,
    /// Stop by sending 'shutdown' over IPC instead of a signal.
    #[cfg_attr(feature = "clap", arg(long = "shutdown-with-message"))]
    pub shutdown_with_message: bool,
    /// Restart when memory exceeds this (`200M`, `1G`, bytes).
    #[cfg_attr(feature = "clap", arg(long = "max-memory-restart"))]
    pub max_memory_restart: Option<String>,
    /// Hard memory limit in the app's cgroup (`200M`, `1G`, bytes): the kernel OOM-kills
    /// past it and the app restarts (beyond PM2).
    #[cfg_attr(feature = "clap", arg(long = "memory-limit", value_name = "SIZE"))]
    pub memory_limit: Option<String>,
    /// CPU limit in the app's cgroup: cores (`0.5`) or a percentage of one (`50%`)
    /// (beyond PM2).
    #[cfg_attr(feature = "clap", arg(long = "cpu-limit", value_name = "CORES"))]
    pub cpu_limit: Option<String>,
    /// At most this many processes and threads in the app's cgroup (beyond PM2).
    #[cfg_attr(feature = "clap", arg(long = "pids-limit", value_name = "N"))]
    pub pids_limit: Option<String>,
    /// Restart when files change (in the app's folder, or these paths).
    #[cfg_attr(feature = "clap", arg(long, num_args = 0..))]
    pub watch: Option<Vec<String>>,
    /// Patterns not to watch (globs or names, comma or space separated).
    #[cfg_attr(
        feature = "clap",
        arg(long = "ignore-watch", value_parser = split_patterns)
    )]
    pub ignore_watch: Option<Patterns>,
    /// Delay before a watch restart: seconds, or a number with ms.
    #[cfg_attr(
        feature = "clap",
        arg(long = "watch-delay", value_parser = seconds_unless_unit)
    )]
    pub watch_delay: Option<String>,
    /// Restart on a cron pattern (`0` disables).
    #[cfg_attr(
        feature = "clap",
        arg(short = 'c', long = "cron-restart", visible_alias = "cron")
    )]
    pub cron_restart: Option<String>,
    /// Mark the app without PM2.io automation (`automation: false`, `pmx: false`).
    #[cfg_attr(feature = "clap", arg(long = "no-automation"))]
    pub no_automation: bool,
    /// Force source map support (Node apps have it by default).
    #[cfg_attr(feature = "clap", arg(long = "source-map-support"))]
    pub source_map_support: bool,
    /// Run Node apps without source map support (no `--enable-source-maps`).
    #[cfg_attr(feature = "clap", arg(long = "disable-source-map-support"))]
    pub disable_source_map_support: bool,
    /// Arguments for the app (after `--`).
    #[cfg_attr(feature = "clap", arg(last = true))]
    pub args: Vec<String>,
}

/// A list of patterns that one argument carries (`--ignore-watch 'a,b c'`). A named alias
/// rather than `Vec<String>` so that clap takes the flag once and its parser returns the
/// whole list, instead of one value per occurrence.
pub type Patterns = Vec<String>;

/// `--ignore-watch`: patterns separated by commas or spaces.
#[cfg(feature = "clap")]
fn split_patterns(raw: &str) -> Result<Patterns, std::convert::Infallible> {
    Ok(raw
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect())
}

/// `--watch-delay`: PM2's CLI takes seconds here (`4`), or a number with a unit (`4000ms`);
/// the bare number becomes `4s` for the duration parser.
#[cfg(feature = "clap")]
fn seconds_unless_unit(raw: &str) -> Result<String, std::convert::Infallible> {
    if raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(format!("{raw}s"))
    } else {
        Ok(raw.to_string())
    }
}

#[cfg(all(test, feature = "clap"))]
mod tests {
    use super::*;

    #[test]
    fn command_line_value_forms() {
        assert_eq!(split_patterns("a,b  c").unwrap(), vec!["a", "b", "c"]);
        assert!(split_patterns("").unwrap().is_empty());
        assert_eq!(seconds_unless_unit("4").unwrap(), "4s");
        assert_eq!(seconds_unless_unit("4000ms").unwrap(), "4000ms");
    }
}
