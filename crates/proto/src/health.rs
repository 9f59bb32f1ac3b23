//! Health checks (beyond PM2): what an app's `health_check` asks the daemon to probe, and the
//! state of that probe an instance shows in `jlist` and `describe`.
//!
//! PM2 has no health checks; these types are pm2-rs's own. They ride in [`crate::AppSpec`]
//! and [`crate::ProcessInfo`] as optional fields, so an app without the key is exactly what
//! it was before.

use serde::{Deserialize, Serialize};

/// PM2-rs's default time between two probes (ms).
pub const DEFAULT_HEALTH_INTERVAL_MS: u64 = 1000;
/// Default time one probe may take before it counts as a failure (ms).
pub const DEFAULT_HEALTH_TIMEOUT_MS: u64 = 1000;
/// Default consecutive failures of a ready instance before it is restarted.
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 3;
/// Default consecutive passes that make a launching instance ready.
pub const DEFAULT_SUCCESS_THRESHOLD: u32 = 1;
/// Default bound on how long a start or reload reply waits for readiness (ms).
pub const DEFAULT_READY_TIMEOUT_MS: u64 = 30_000;

/// What one probe does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Probe {
    /// `GET path` on `host:port` over plain HTTP/1.1; healthy when the status is `status`
    /// (or any 2xx when `None`).
    Http {
        /// Host to connect to and send as `Host` (default `127.0.0.1`).
        host: String,
        /// TCP port.
        port: u16,
        /// Request path, starting with `/`.
        path: String,
        /// The expected status; `None` accepts 200 to 299.
        status: Option<u16>,
    },
    /// A TCP connection to `host:port` is accepted.
    Tcp {
        /// Host to connect to (default `127.0.0.1`).
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A command run in the app's cwd with the app's environment; exit 0 is healthy. A
    /// string in the file becomes `["/bin/sh", "-c", string]`; a list runs as is.
    Exec {
        /// The program and its arguments.
        argv: Vec<String>,
    },
}

/// An app's `health_check`, with every default filled in by the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    /// What to probe.
    pub probe: Probe,
    /// Time between probes (ms).
    pub interval: u64,
    /// Time one probe may take (ms).
    pub timeout: u64,
    /// Consecutive failures of a ready instance that restart it (liveness).
    pub failure_threshold: u32,
    /// Consecutive passes that make a launching instance ready (readiness).
    pub success_threshold: u32,
    /// Grace after each spawn during which failures are not counted (ms).
    pub start_period: u64,
    /// How long a start or reload reply waits for readiness (ms); the instance stays
    /// `launching` past it, a reload then fails and keeps the old worker.
    pub ready_timeout: u64,
    /// Whether failing `failure_threshold` times restarts the instance (`false`: the check
    /// only gates readiness and reports).
    pub liveness: bool,
}

impl HealthCheck {
    /// A check of `probe` with pm2-rs's defaults.
    pub fn new(probe: Probe) -> HealthCheck {
        HealthCheck {
            probe,
            interval: DEFAULT_HEALTH_INTERVAL_MS,
            timeout: DEFAULT_HEALTH_TIMEOUT_MS,
            failure_threshold: DEFAULT_FAILURE_THRESHOLD,
            success_threshold: DEFAULT_SUCCESS_THRESHOLD,
            start_period: 0,
            ready_timeout: DEFAULT_READY_TIMEOUT_MS,
            liveness: true,
        }
    }
}

/// Where an instance's health check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Not probed yet, or in its start period.
    #[default]
    Starting,
    /// Passed (`success_threshold` in a row).
    Healthy,
    /// Failing (the last probe failed).
    Unhealthy,
}

impl HealthStatus {
    /// The word `list` and `describe` show.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

/// An instance's health, as `jlist` shows it under `pm2_env.health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HealthInfo {
    /// The verdict so far.
    pub status: HealthStatus,
    /// Consecutive failed probes.
    pub failures: u32,
    /// Why the last probe failed, if it did.
    #[serde(default)]
    pub last_error: Option<String>,
    /// Since when `status` holds (ms since the epoch).
    #[serde(default)]
    pub since: Option<u64>,
    /// Why the health check last restarted the instance, if it did.
    #[serde(default)]
    pub last_restart: Option<String>,
    /// How many times the health check restarted the instance.
    #[serde(default)]
    pub restarts: u32,
}

/// What an app waits for before it starts (`depends_on`, beyond PM2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    /// The dependency is registered (its start was asked).
    Started,
    /// Every instance of it is `online` (the default).
    #[default]
    Online,
    /// Every instance of it is online and its health check passed.
    Healthy,
    /// It ran and exited 0 (a migration, a build step).
    Completed,
}

impl Condition {
    /// The word the file uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Started => "started",
            Condition::Online => "online",
            Condition::Healthy => "healthy",
            Condition::Completed => "completed",
        }
    }
}

/// One entry of an app's `depends_on`: another app of the same file, by its full name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// The app waited for.
    pub name: String,
    /// What is waited for.
    pub condition: Condition,
}
