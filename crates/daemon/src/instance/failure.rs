//! What can go wrong when an instance is asked to do something, typed so callers can tell
//! the cases apart; each displays as the words the user reads (`[PM2][ERROR] ...`).

use nix::errno::Errno;
use nix::sys::signal::Signal;
use std::io;
use std::time::Duration;

/// Why a control (stop, restart, reload, delete, reset, signal) did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The instance's task has ended or is ending (the app is being deleted).
    #[error("process is being removed")]
    Removed,
    /// The instance's task ended before its first launch was reported.
    #[error("instance task ended")]
    TaskEnded,
    /// A signal was asked for an instance with no process.
    #[error("process {label} is not running")]
    NotRunning {
        /// The instance, as logs name it (`name:id`).
        label: String,
    },
    /// `kill(2)` refused the signal.
    #[error("could not send {signal} to {label}: {errno}")]
    SignalFailed {
        /// The signal asked for.
        signal: Signal,
        /// The instance, as logs name it.
        label: String,
        /// The OS's refusal.
        errno: Errno,
    },
    /// The process could not be started.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// A reload's new worker did not take over; the old one keeps serving.
    #[error("reload of {label} failed: {reason}")]
    ReloadFailed {
        /// The instance, as logs name it.
        label: String,
        /// What the new worker did instead.
        reason: ReloadFailure,
    },
}

/// Why a process could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The Node IPC channel (a socket pair) could not be created.
    #[error("cannot create the IPC channel: {0}")]
    IpcChannel(io::Error),
    /// `fork`/`exec` of the program failed.
    #[error("spawn {program} failed: {error}")]
    Exec {
        /// The program that was to run.
        program: String,
        /// The OS's error.
        error: io::Error,
    },
    /// The user or group to run as cannot be used.
    #[error(transparent)]
    Credentials(#[from] super::credentials::CredentialError),
}

/// What a reload's new worker did instead of serving.
#[derive(Debug, thiserror::Error)]
pub enum ReloadFailure {
    /// It could not be started.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// It closed its IPC channel before listening (or being ready).
    #[error("the new worker closed its channel")]
    ChannelClosed,
    /// It exited before listening (or being ready).
    #[error("the new worker exited with code {0}")]
    Exited(i32),
    /// With `--wait-ready`, it sent no `ready` within `listen_timeout`.
    #[error("no 'ready' within {}ms (listen_timeout)", .0.as_millis())]
    NoReady(Duration),
    /// With a health check, it did not pass within `ready_timeout`.
    #[error("not healthy within {}ms (health_check.ready_timeout): {}", .0.as_millis(), .1)]
    Unhealthy(Duration, String),
}

/// Why `pm2 trigger` got no answer from an instance.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    /// The process exited with the trigger pending.
    #[error("the process exited before answering {action}")]
    ExitedBeforeAnswer {
        /// The action asked for.
        action: String,
    },
    /// The app registered no such action (or has no IPC channel).
    #[error("action {action} not found for {label}")]
    NotFound {
        /// The action asked for.
        action: String,
        /// The instance, as logs name it.
        label: String,
    },
    /// The message could not be written to the app's channel.
    #[error("cannot reach {label}: {detail}")]
    Unreachable {
        /// The instance, as logs name it.
        label: String,
        /// The channel's error, as its `Debug` shows it.
        detail: String,
    },
    /// The instance's task could not be reached (it is being deleted).
    #[error("process is being removed")]
    Removed,
    /// The instance's task ended with the trigger pending.
    #[error("the process is being removed")]
    Dropped,
    /// The app did not answer in time.
    #[error("no reply to {action} within {timeout:?}")]
    NoReply {
        /// The action asked for.
        action: String,
        /// How long it was given.
        timeout: Duration,
    },
}

/// Why a line did not reach the app; displayed as PM2 words it where PM2 has words.
#[derive(Debug, thiserror::Error)]
pub enum StdinError {
    /// The instance has no process (PM2: not online nor launching).
    #[error("Process with ID <{0}> offline.")]
    Offline(u32),
    /// PM2 refuses cluster mode (the workers' stdin is not the app's).
    #[error("Cannot send line to processes in cluster mode")]
    Cluster,
    /// The app closed its stdin, or the write failed.
    #[error("cannot write to the stdin of process <{pm_id}>: {error}")]
    Write {
        /// Instance id.
        pm_id: u32,
        /// The OS's error.
        error: io::Error,
    },
    /// The pipe stayed full: the app does not read its stdin.
    #[error(
        "the stdin of process <{pm_id}> is full (the app does not read it): \
         {written} of {len} bytes written"
    )]
    Full {
        /// Instance id.
        pm_id: u32,
        /// Bytes that went in.
        written: usize,
        /// Bytes asked for.
        len: usize,
    },
}
