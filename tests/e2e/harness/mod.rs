//! The one harness every end-to-end test shares. A test module starts with
//! `use crate::harness::*;` for the everyday part (its [`Pm2`] world, jlist readers,
//! process helpers, [`poll_until`]) and imports the area helpers ([`cluster`], [`logs`])
//! by path.

pub mod browser;
pub mod child;
pub mod cluster;
pub mod http;
pub mod jlist;
pub mod logs;
pub mod pm2;
pub mod poll;
pub mod procs;
pub mod prometheus;
pub mod require;
pub mod sse;
pub mod ssh_hosts;
pub mod tls;
pub mod turns;
pub mod webhook;

pub use jlist::*;
pub use pm2::*;
pub use poll::{during, poll_until};
pub use procs::*;
pub use require::{optional_part, pm2_io_path, require};
