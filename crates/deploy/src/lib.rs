//! `pm2 deploy`: PM2's ssh + git deploys from the `deploy` section of an ecosystem file,
//! with PM2's verbs and remote layout (`source/`, the `current` link, `shared/`,
//! `.deploys`), made safe and parallel.
//!
//! Safe by construction: `ssh` is spawned with an argument vector ([`ssh`]), and each host
//! runs one script sent on stdin ([`script`]) in which every config value is a quoted
//! literal ([`quote`]). Hosts run in parallel ([`fleet`]), each over one connection
//! ([`host`]). The CLI reads the file (as `pm2 start` does) and hands the JSON value here;
//! this crate knows no daemon.

pub mod config;
pub mod fleet;
pub mod help;
pub mod host;
pub mod local;
pub mod quote;
pub mod releases;
pub mod run;
pub mod script;
#[cfg(test)]
mod script_tests;
pub mod ssh;
pub mod verbs;
pub mod words;

pub use config::{environments, read_target, Target};
pub use run::{run, Finished, Request};
pub use verbs::Verb;
pub use words::{split, Words};
