//! The daemon's settings: what it reads from its environment once, at start.

use nix::sys::signal::Signal;
use pm2_home::Pm2Home;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Daemon-wide settings, read once from the environment at start (as PM2 does).
#[derive(Debug, Clone)]
pub struct DaemonSettings {
    /// `PM2_HOME`.
    pub home: Pm2Home,
    /// First stop signal (`PM2_KILL_SIGNAL`, default SIGINT).
    pub kill_signal: Signal,
    /// Default grace period before SIGKILL (`PM2_KILL_TIMEOUT`, default 1600 ms).
    pub kill_timeout: Duration,
    /// Read each app's git metadata when it comes online (`PM2_ENABLE_GIT_PARSING=true`;
    /// off by default, as in PM2 7).
    pub git_parsing: bool,
    /// How many instances one stop, restart, delete or reset works on at once
    /// (`PM2_CONCURRENT_ACTIONS`); `None`, the default, is all at once (PM2's default is 2,
    /// a limit of its single Node process).
    pub concurrent_actions: Option<usize>,
    /// Default `listen_timeout`: how long a `--wait-ready` app, a cluster worker or a
    /// reload's new process has to say it is ready (`PM2_GRACEFUL_LISTEN_TIMEOUT`, default
    /// 3000 ms).
    pub listen_timeout: Duration,
    /// Every stop and reload asks a Node app to leave with the `shutdown` message instead of
    /// the signal, as if each had `--shutdown-with-message` (`PM2_KILL_USE_MESSAGE` set to
    /// anything but the empty string, as PM2 tests it).
    pub kill_use_message: bool,
    /// The version this daemon reports (`PM2_RS_DAEMON_VERSION` overrides it, to exercise
    /// the CLI's mismatch warning in tests).
    pub version: String,
    /// The mode asked for `rpc.sock` and `pub.sock` (`PM2_RS_NODE_API_SOCKET_MODE`, octal,
    /// e.g. `0660` for a home shared by a group), as given; `None` is owner-only.
    /// `nodeapi::socket_mode` checks it against the home's own mode when binding.
    pub node_api_socket_mode: Option<String>,
    /// Not read from the environment: set once a Node API client announced it is killing
    /// the daemon (`notifyKillPM2`, sent by `pm2 kill` of PM2's npm CLI and `killDaemon`),
    /// after which, as in PM2, no exit is restarted and `restartProcessId` is refused, so
    /// the apps the client then deletes do not come back in between. Shared by every
    /// instance through the one `Arc` of these settings.
    pub being_killed: Arc<AtomicBool>,
    /// The sockets systemd passed to this process (beyond PM2; `LISTEN_PID`/`LISTEN_FDS`),
    /// taken once here: an app whose `listen` names one uses it instead of binding.
    pub passed_sockets: Arc<crate::passed_sockets::PassedSockets>,
}

impl DaemonSettings {
    /// Settings for `home` from the daemon's environment.
    pub fn from_env(home: Pm2Home) -> DaemonSettings {
        let kill_signal = std::env::var("PM2_KILL_SIGNAL")
            .ok()
            .and_then(|s| pm2_supervisor::parse_signal(&s))
            .unwrap_or(Signal::SIGINT);
        let kill_timeout = std::env::var("PM2_KILL_TIMEOUT")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_millis(1600));
        let version = std::env::var("PM2_RS_DAEMON_VERSION")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| pm2_proto::VERSION.to_string());
        DaemonSettings {
            home,
            kill_signal,
            kill_timeout,
            concurrent_actions: positive_int("PM2_CONCURRENT_ACTIONS").map(|n| n as usize),
            listen_timeout: Duration::from_millis(
                positive_int("PM2_GRACEFUL_LISTEN_TIMEOUT").unwrap_or(DEFAULT_LISTEN_TIMEOUT_MS),
            ),
            kill_use_message: std::env::var_os("PM2_KILL_USE_MESSAGE")
                .is_some_and(|v| !v.is_empty()),
            git_parsing: std::env::var("PM2_ENABLE_GIT_PARSING").is_ok_and(|v| v == "true"),
            version,
            node_api_socket_mode: std::env::var("PM2_RS_NODE_API_SOCKET_MODE").ok(),
            being_killed: Arc::default(),
            // The detached daemon (the CLI spawned it, with its readiness pipe) also takes
            // what systemd passed to that CLI, which it inherits.
            passed_sockets: Arc::new(crate::passed_sockets::PassedSockets::take_from_env(
                std::env::var_os(pm2_proto::READY_FD_ENV).is_some(),
            )),
        }
    }
}

/// PM2's default `listen_timeout` (its `GRACEFUL_LISTEN_TIMEOUT`).
pub const DEFAULT_LISTEN_TIMEOUT_MS: u64 = 3000;

/// `var` read as PM2's `parseInt(value) || default` reads it: the leading digits, after
/// leading blanks; `None` (the default applies) when there are none or they make 0.
fn positive_int(var: &str) -> Option<u64> {
    parse_leading_int(&std::env::var(var).ok()?)
}

fn parse_leading_int(value: &str) -> Option<u64> {
    let digits: String = value
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::parse_leading_int;

    #[test]
    fn integers_are_read_as_parse_int_reads_them() {
        assert_eq!(parse_leading_int("4"), Some(4));
        assert_eq!(parse_leading_int(" 2500ms"), Some(2500));
        assert_eq!(parse_leading_int("0"), None);
        assert_eq!(parse_leading_int("-3"), None);
        assert_eq!(parse_leading_int("many"), None);
        assert_eq!(parse_leading_int(""), None);
    }
}
