//! What outlives the daemon in `PM2_HOME`:
//!
//! - [`dump`]: `dump.pm2`, what `pm2 save` writes and `pm2 resurrect` reads;
//! - [`state_file`]: `daemon-state.json` and its journal, the running table, kept while the
//!   daemon lives ([`journal`]: the journal's records; [`tracker`]: which apps changed);
//! - [`recovery`]: at start, taking over from a daemon that died without a clean exit.

pub(crate) mod dump;
pub(crate) mod journal;
pub(crate) mod recovery;
pub(crate) mod state_file;
pub(crate) mod store;
pub(crate) mod tracker;
