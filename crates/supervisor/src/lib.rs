//! The life of one supervised process, independent of how the daemon stores it.
//!
//! [`policy`] is PM2's restart policy as plain data and a pure function (unit-tested
//! without processes); [`process`] spawns children in their own session and stops whole
//! process trees gracefully (signal, grace period, SIGKILL).

pub mod cgroup;
mod cgroup_v1;
pub mod credentials;
pub mod limits;
pub mod policy;
mod proc_tree;
pub mod process;

pub use credentials::Credentials;
pub use limits::{remove_own_bases, Enforcement, Hierarchy, Limits, ProcessCgroups};
pub use policy::{ExitDecision, RestartCounters, RestartPolicy};
pub use process::{
    alive, descendants, parse_signal, prefer_batching, signal_tree, spawn, stop_gracefully,
    wait_all_gone, SpawnSpec, StopPlan,
};
