//! The Node `cluster` primary, as a task that owns every listening socket.
//!
//! Workers' `NODE_CLUSTER` messages arrive as [`PrimaryCmd::Message`]; the primary binds what
//! they ask for (`queryServer`), then either accepts connections itself and hands each to a
//! worker (round-robin, the default) or hands the bound socket to every worker (shared).
//! It tracks which connection went to which worker so a dying worker's undelivered
//! connections go to another one (P7), stops routing to a worker the moment it is drained
//! (P9), and bounds what it queues (P11, P12).
//!
//! The files, in the order they depend on each other (each only on those after it):
//! `run_loop` (the task and message routing) → `workers` (attach, drain, hold, detach) →
//! `listeners` (`queryServer`, leaving) → `accept` (round-robin accept tasks) and
//! `dispatch` (connections to workers, verdicts) → `state` (what the primary knows) →
//! `replies` (the typed wire messages) and `command` (what the primary is told).

mod accept;
mod command;
mod dispatch;
mod listeners;
mod replies;
mod run_loop;
mod state;
mod workers;

pub use crate::listener::ListenerKey;
pub use command::{PrimaryCmd, SchedPolicy};

use state::State;
use tokio::sync::mpsc;

/// Commands queued for the primary before senders wait (P12).
const COMMAND_CAPACITY: usize = 1024;
/// Connections handed back by retiring workers, queued for the primary.
const HANDED_BACK_CAPACITY: usize = 1024;

/// A handle to the primary task.
#[derive(Clone)]
pub struct Primary {
    tx: mpsc::Sender<PrimaryCmd>,
}

impl Primary {
    /// Starts the primary task.
    pub fn start() -> Primary {
        let (tx, commands) = mpsc::channel(COMMAND_CAPACITY);
        let (handed_back_tx, handed_back) = mpsc::channel(HANDED_BACK_CAPACITY);
        let state = State::new(tx.clone(), handed_back_tx);
        tokio::spawn(state.run(commands, handed_back));
        Primary { tx }
    }

    /// Sends a command (waits only when the primary is saturated).
    pub async fn send(&self, cmd: PrimaryCmd) {
        let _ = self.tx.send(cmd).await;
    }
}
