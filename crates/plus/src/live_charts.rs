//! The apps whose live chart a browser has open: the page polls an app's 1 h chart every
//! second (`/api/history?range=1h&after=`), and while it does, the per-second table read
//! (`readings`) asks the daemon for that app's readings fresh.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long after its last `/api/history` poll an app counts as having a live chart open
/// (the page polls every second).
pub const LIVE_FOR: Duration = Duration::from_secs(5);

/// The apps (by name, this host's) whose live chart a browser polled, and when.
#[derive(Default)]
pub struct LiveCharts {
    polled: Mutex<HashMap<String, Instant>>,
}

impl LiveCharts {
    /// A browser fetched `app`'s live (1 h) chart now.
    pub fn polled(&self, app: &str) {
        let mut polled = self.polled.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = polled.get_mut(app) {
            *at = Instant::now();
        } else {
            polled.insert(app.to_string(), Instant::now());
        }
    }

    /// The apps polled within [`LIVE_FOR`] (the others are forgotten).
    pub fn open(&self) -> Vec<String> {
        let mut polled = self.polled.lock().unwrap_or_else(|p| p.into_inner());
        polled.retain(|_, at| at.elapsed() < LIVE_FOR);
        polled.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_charts_are_forgotten_after_their_last_poll() {
        let charts = LiveCharts::default();
        charts.polled("api");
        assert_eq!(charts.open(), vec!["api".to_string()]);
        charts
            .polled
            .lock()
            .unwrap()
            .insert("api".into(), Instant::now() - LIVE_FOR);
        assert!(charts.open().is_empty());
        assert!(charts.polled.lock().unwrap().is_empty());
    }
}
