//! The daemon's settings: what it reads from its environment once, at start.

use nix::sys::signal::Signal;
use pm2_home::Pm2Home;
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
    /// The version this daemon reports (`PM2_RS_DAEMON_VERSION` overrides it, to exercise
    /// the CLI's mismatch warning in tests).
    pub version: String,
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
            git_parsing: std::env::var("PM2_ENABLE_GIT_PARSING").is_ok_and(|v| v == "true"),
            version,
        }
    }
}
