//! The history charts' data: every second the dashboard samples each instance's cpu,
//! memory, restarts and numeric custom metrics (`record`), whether or not a browser is
//! watching, into SQLite in `PM2_HOME/plus/history.db` (`store`), in three tiers rolled
//! up and pruned by the pure rules of `tiers` (1 s for 1 h, 1 min for 7 days, 1 h for 90
//! days), so the charts survive restarts of the dashboard and of the daemon. `api` serves
//! `GET /api/history`.

pub mod api;
pub mod record;
pub mod store;
pub mod tiers;

use std::path::Path;
use std::sync::{Arc, Mutex};

/// The store in `dir/history.db`, shared by the recorder and the API; None (logged, the
/// dashboard runs on without charts) when it cannot be opened.
pub fn open(dir: &Path) -> Option<Arc<Mutex<store::Store>>> {
    match store::Store::open(&dir.join("history.db")) {
        Ok(store) => Some(Arc::new(Mutex::new(store))),
        Err(e) => {
            crate::log::error(&format!("history charts off: {e}"));
            None
        }
    }
}
