//! One instance's supervisor task: it alone owns the child process and its state.
//!
//! Others hold an [`InstanceHandle`]: they read the latest published [`ProcessInfo`] and
//! send [`Control`]s whose reply arrives only after the action took effect, so
//! `start && stop` never races.
//!
//! Inside, the instance's life is a [`phase::Phase`] that carries what is true in it (the
//! child while it runs, the restart time while it waits, the ready deadline while it
//! launches), moved on by one transition function whose effects `drive.rs` carries out.
//! PM2's status is derived from the phase. The `cron_restart` and `--watch` timers are not
//! part of it (`triggers.rs`): they fire whatever the phase.
//!
//! The files, from the bottom up (each uses only those above it):
//! - `phase.rs`: the lifecycle as data, and its transition table;
//! - `control.rs`: the controls and their outcome;
//! - `handle.rs`: what the rest of the daemon holds;
//! - `process.rs`: the live child and how its ending reads;
//! - `triggers.rs`: cron and file-watch restarts;
//! - `axm.rs`: metrics, actions and replies from `@pm2/io`;
//! - `versioning.rs`: the git metadata read when the app comes online;
//! - `state.rs`: what the task owns, and the one place the status is written;
//! - `launch.rs`: spawning the child;
//! - `retire.rs`: ending a child (stop, reload's old worker);
//! - `exit.rs`: a child that exited on its own, and the restart policy;
//! - `health_gate.rs`: the health check's verdicts (ready, liveness restart);
//! - `notify_gate.rs`: `NOTIFY_SOCKET` messages (`READY=1` gates `online`, `STATUS=`);
//! - `drive.rs`: carrying out a transition's effects;
//! - `restart.rs`: stop, start, restart, reload;
//! - `stdin.rs`: a line for the app's stdin (`pm2 send`), bounded in time;
//! - `actor.rs`: the task's loop.
//!
//! [`ProcessInfo`]: pm2_proto::ProcessInfo

mod actor;
mod axm;
mod containment;
mod control;
pub(crate) mod credentials;
mod drive;
mod exit;
mod failure;
mod handle;
mod health_gate;
mod launch;
mod notify_gate;
mod phase;
mod process;
mod restart;
mod retire;
mod state;
mod stdin;
mod triggers;
mod versioning;

pub use actor::{spawn_instance, status_before_start};
pub use control::{Control, Outcome, Trigger, Update};
pub use failure::{ControlError, StdinError, TriggerError};
pub use handle::InstanceHandle;
