//! PM2's git versioning of an app's folder (its `vizion` module): the revision metadata in
//! `pm2_env.versioning` and the moves of `pm2 pull|forward|backward`.
//!
//! The daemon writes the metadata and the CLI moves the work tree, so both use this one
//! reading of git. git always runs as a subprocess with an argument vector, a deadline and
//! an output cap ([`git()`]), never through a shell; without git every app's versioning is
//! `null`.

mod change;
mod meta;
mod run;

pub use change::{fetch_head, revert_to, step, update, Moved, Step};
pub use meta::{analyze, position, versioning, Budget, Position, VERSIONING_BUDGET};
pub use run::{git, git_output, GitError, GitOutput, LOCAL_TIMEOUT, REMOTE_TIMEOUT};
