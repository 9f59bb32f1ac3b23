//! What others may ask of an instance, and what they get back.

use super::failure::{ControlError, StdinError, TriggerError};
use std::collections::BTreeMap;
use tokio::sync::oneshot;

/// The result of a control: done, or why not (its `Display` is the user's message).
pub type Outcome = Result<(), ControlError>;

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
    /// Write a line to the process's stdin (`pm2 send`, `pm2 attach`).
    SendLine(String, oneshot::Sender<Result<(), StdinError>>),
    /// Set PM2's `_km_monitored` (`pm2 monitor`, `pm2 unmonitor`).
    SetMonitored(bool, oneshot::Sender<Outcome>),
    /// Turn file watching on (`Some(true)`), off (`Some(false)`) or over (`None`) without a
    /// restart (the Node API's `startWatch`, `stopWatch`, `toggleWatch`).
    Watch(Option<bool>, oneshot::Sender<Outcome>),
    /// Send a message over the process's IPC channel as is (the Node API's
    /// `sendDataToProcessId` and `msgProcess`); the error says why it could not go.
    Message(serde_json::Value, oneshot::Sender<Result<(), String>>),
}

/// `pm2 trigger <target> <action> [param]`.
pub struct Trigger {
    /// The action's name, as the app registered it.
    pub action: String,
    /// Its parameter, if any.
    pub param: Option<String>,
    /// The app's `axm:reply` data, or why there is none.
    pub reply: oneshot::Sender<Result<serde_json::Value, TriggerError>>,
}

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
    /// Start options given to the restart (`restart app --node-args ...`), merged into the
    /// definition; unlike an ecosystem definition it may rename the app. Boxed: a control
    /// is built for every instance a request names, and the patch is rarely given.
    pub patch: Box<pm2_proto::SpecPatch>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_control_stays_small() {
        // Built for every instance a request names (the queue itself carries boxes).
        assert!(std::mem::size_of::<super::Control>() <= 96);
    }
}
