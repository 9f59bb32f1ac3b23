//! Where an instance is in its life, as data, and the one function that moves it on.
//!
//! Before this type the instance kept PM2's flat `Status` beside optional fields (the child,
//! the restart time, the ready deadline) whose agreement every caller re-checked. Here each
//! phase carries exactly what is true in it: a child exists only in [`Phase::Launching`] and
//! [`Phase::Online`], a restart time only in [`Phase::WaitingRestart`], a ready deadline only
//! in `Launching`. [`Phase::next`] is the only way from one phase to another; it decides, the
//! actor (`drive.rs`) carries out the [`Effect`]s it returns. PM2's status names are derived
//! ([`Phase::status`]), never assigned.
//!
//! The child type is a parameter so the transition table is tested without processes.

use pm2_proto::Status;
use pm2_supervisor::ExitDecision;
use std::time::Duration;
use tokio::time::Instant;

/// How a process ended, as PM2 reports it: `code || 0`, and the signal's name apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Exit {
    /// The exit code (0 when killed by a signal, 1 when waiting failed).
    pub code: i32,
    /// The signal that ended it, if one did.
    pub signal: Option<&'static str>,
}

/// Where an instance is in its life; `C` is its live child.
#[derive(Debug)]
pub(super) enum Phase<C> {
    /// No process, none wanted (a new, stopped or cleanly exited app).
    Stopped,
    /// No process: it could not be spawned, or it restarted too often too fast.
    Errored,
    /// No process; the restart policy starts one `at` (restart_delay, backoff).
    WaitingRestart {
        /// When the restart is due.
        at: Instant,
    },
    /// A process is being spawned (the actor is inside the spawn).
    Spawning,
    /// The child runs and has yet to report in (`ready` with `--wait-ready`, `online` from a
    /// cluster worker); at `ready_by` (`listen_timeout`) it is called online anyway.
    Launching {
        /// The process.
        child: C,
        /// When to stop waiting for it.
        ready_by: Instant,
    },
    /// The child runs.
    Online {
        /// The process.
        child: C,
    },
    /// The child is being ended (farewell, signal, grace period, SIGKILL).
    Stopping,
    /// The child exited on its own; its last output is drained and the policy consulted.
    Exited,
}

/// What happens to an instance.
#[derive(Debug)]
pub(super) enum Event<C> {
    /// A process is wanted now (start, or the start half of a restart).
    Start,
    /// The phase's own deadline passed (`WaitingRestart::at`, `Launching::ready_by`).
    Due,
    /// A process was spawned; `ready_by` is set when it must report in first.
    Spawned {
        /// The process.
        child: C,
        /// When to stop waiting for it to report in; `None`: online at once.
        ready_by: Option<Instant>,
    },
    /// Spawning failed.
    SpawnFailed,
    /// The child reported in (`ready` with `--wait-ready`, else a cluster worker's `online`).
    Ready,
    /// The child exited on its own.
    Exited(Exit),
    /// The restart policy's verdict on that exit, given at `now`.
    Decided {
        /// The verdict.
        decision: ExitDecision,
        /// When it was given (a delayed restart counts from here).
        now: Instant,
    },
    /// A stop was asked.
    Stop,
    /// The child being stopped is gone.
    Ended,
    /// `reload`: a new worker, already serving, takes the place of the child.
    Replaced {
        /// The new worker.
        child: C,
        /// Whether it was expected to report in (then the log says why it is online).
        waits: bool,
    },
}

/// What the actor must do after a transition, in order.
#[derive(Debug)]
pub(super) enum Effect<C> {
    /// Publish the instance's state (its status is the new phase's).
    Publish,
    /// Log `online` and tell live readers; with the reason when it came late.
    Announce(Option<&'static str>),
    /// Count an automatic restart (`restart_time`).
    CountRestart,
    /// Spawn a process; answered by `Spawned` or `SpawnFailed`.
    Spawn,
    /// Stop this child gracefully; answered by `Ended`.
    End(C),
    /// Collect an exited child's remains and ask the restart policy; answered by `Decided`.
    Reap(C, Exit),
    /// End a replaced worker (or a child no phase can take); no answer.
    Retire(C),
}

impl<C> Phase<C> {
    /// PM2's name for this phase.
    pub(super) fn status(&self) -> Status {
        match self {
            Phase::Stopped | Phase::Exited => Status::Stopped,
            Phase::Errored => Status::Errored,
            Phase::WaitingRestart { .. } => Status::WaitingRestart,
            Phase::Spawning | Phase::Launching { .. } => Status::Launching,
            Phase::Online { .. } => Status::Online,
            Phase::Stopping => Status::Stopping,
        }
    }

    /// The live child, if the phase has one.
    pub(super) fn child(&self) -> Option<&C> {
        match self {
            Phase::Launching { child, .. } | Phase::Online { child } => Some(child),
            _ => None,
        }
    }

    /// The live child, to wait on it.
    pub(super) fn child_mut(&mut self) -> Option<&mut C> {
        match self {
            Phase::Launching { child, .. } | Phase::Online { child } => Some(child),
            _ => None,
        }
    }

    /// When [`Event::Due`] fires in this phase, if ever.
    pub(super) fn deadline(&self) -> Option<Instant> {
        match self {
            Phase::WaitingRestart { at } => Some(*at),
            Phase::Launching { ready_by, .. } => Some(*ready_by),
            _ => None,
        }
    }

    /// The one transition function: the phase after `event`, and what to do about it.
    /// An event a phase does not expect changes nothing; a child it brings is retired,
    /// never leaked.
    pub(super) fn next(self, event: Event<C>) -> (Phase<C>, Vec<Effect<C>>) {
        use Effect::{Announce, CountRestart, End, Publish, Reap, Retire, Spawn};
        match (self, event) {
            (Phase::Stopped | Phase::Errored | Phase::WaitingRestart { .. }, Event::Start) => {
                (Phase::Spawning, vec![Spawn])
            }
            (Phase::WaitingRestart { .. }, Event::Due) => {
                (Phase::Spawning, vec![CountRestart, Spawn])
            }
            (Phase::Spawning, Event::Spawned { child, ready_by }) => match ready_by {
                Some(ready_by) => (Phase::Launching { child, ready_by }, vec![Publish]),
                None => (Phase::Online { child }, vec![Publish, Announce(None)]),
            },
            (Phase::Spawning, Event::SpawnFailed) => (Phase::Errored, vec![Publish]),
            (Phase::Launching { child, .. }, Event::Ready) => (
                Phase::Online { child },
                vec![Publish, Announce(Some("ready"))],
            ),
            (Phase::Launching { child, .. }, Event::Due) => (
                Phase::Online { child },
                vec![Publish, Announce(Some("listen timeout"))],
            ),
            (Phase::Launching { child, .. } | Phase::Online { child }, Event::Exited(exit)) => {
                (Phase::Exited, vec![Reap(child, exit)])
            }
            (Phase::Exited, Event::Decided { decision, now }) => decided(decision, now),
            (Phase::Errored | Phase::WaitingRestart { .. }, Event::Stop) => {
                (Phase::Stopped, vec![Publish])
            }
            (Phase::Launching { child, .. } | Phase::Online { child }, Event::Stop) => {
                (Phase::Stopping, vec![Publish, End(child)])
            }
            (Phase::Stopping, Event::Ended) => (Phase::Stopped, vec![Publish]),
            (
                Phase::Launching { child: old, .. } | Phase::Online { child: old },
                Event::Replaced { child, waits },
            ) => (
                Phase::Online { child },
                vec![Publish, Announce(waits.then_some("reload")), Retire(old)],
            ),
            (phase, event) => (phase, event.into_child().map(Retire).into_iter().collect()),
        }
    }
}

/// `Exited` → what the restart policy said.
fn decided<C>(decision: ExitDecision, now: Instant) -> (Phase<C>, Vec<Effect<C>>) {
    use Effect::{CountRestart, Publish, Spawn};
    match decision {
        ExitDecision::Stop => (Phase::Stopped, vec![Publish]),
        ExitDecision::Errored => (Phase::Errored, vec![Publish]),
        ExitDecision::RestartNow => (Phase::Spawning, vec![Publish, CountRestart, Spawn]),
        ExitDecision::RestartAfter(ms) => {
            let at = now + Duration::from_millis(ms);
            (Phase::WaitingRestart { at }, vec![Publish])
        }
    }
}

impl<C> Event<C> {
    /// The child the event brings, if any.
    fn into_child(self) -> Option<C> {
        match self {
            Event::Spawned { child, .. } | Event::Replaced { child, .. } => Some(child),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
