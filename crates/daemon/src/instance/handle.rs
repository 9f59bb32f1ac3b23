//! The instance as others see it: the latest published state, and a channel for controls.

use super::control::{Control, Outcome};
use super::failure::ControlError;
use crate::logs::sinks::LogFiles;
use pm2_proto::ProcessInfo;
use tokio::sync::{mpsc, oneshot, watch};

/// What an instance's control queue carries: a control, boxed. The queue allocates a block
/// of 32 slots when it is made, so each instance pays 32 times the size of a slot while
/// idle: 256 bytes boxed, 2.3 KB more inline.
pub(super) type Queued = Box<Control>;

/// A cloneable reference to a running instance task.
#[derive(Clone)]
pub struct InstanceHandle {
    ctl: mpsc::Sender<Queued>,
    state: watch::Receiver<ProcessInfo>,
    logs: LogFiles,
}

impl InstanceHandle {
    /// A handle on the task that reads `ctl` and publishes on `state`.
    pub(super) fn new(
        ctl: mpsc::Sender<Queued>,
        state: watch::Receiver<ProcessInfo>,
        logs: LogFiles,
    ) -> Self {
        InstanceHandle { ctl, state, logs }
    }

    /// The latest published state.
    pub fn info(&self) -> ProcessInfo {
        self.state.borrow().clone()
    }

    /// The instance's open log files (for flush, reopen and rotation).
    pub fn logs(&self) -> &LogFiles {
        &self.logs
    }

    /// Sends a control whose answer travels on its own channel (`Trigger`).
    pub async fn send(&self, ctl: Control) -> Result<(), ControlError> {
        self.ctl
            .send(Box::new(ctl))
            .await
            .map_err(|_| ControlError::Removed)
    }

    /// Reads the latest state without cloning it (the metrics timer's path).
    pub fn peek<R>(&self, f: impl FnOnce(&ProcessInfo) -> R) -> R {
        f(&self.state.borrow())
    }

    /// Whether a state was published since this copy of the handle last asked, marking it
    /// seen: the state journal's way to skip, at no cost, the instances that did not change.
    /// A task that ended counts as changed (its last state is what to record).
    pub fn take_changed(&mut self) -> bool {
        let changed = self.state.has_changed().unwrap_or(true);
        self.state.mark_unchanged();
        changed
    }

    /// Whether both handles reach the same instance task (an id given again after the
    /// table emptied belongs to a new one).
    pub fn same_instance(&self, other: &InstanceHandle) -> bool {
        self.ctl.same_channel(&other.ctl)
    }

    /// Sends a control and waits for its outcome.
    pub async fn call(&self, make: impl FnOnce(oneshot::Sender<Outcome>) -> Control) -> Outcome {
        let (tx, rx) = oneshot::channel();
        if self.ctl.send(Box::new(make(tx))).await.is_err() {
            return Err(ControlError::Removed);
        }
        rx.await.unwrap_or(Err(ControlError::Removed))
    }
}
