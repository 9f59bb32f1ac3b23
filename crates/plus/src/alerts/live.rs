//! Alert settings that take effect without a restart: `pm2 set pm2-plus:alert_*` (and the
//! CLI does not restart the dashboard for those keys) or an edit of `plus/alerts.json`
//! change a file; the engine asks [`Watcher::changed`] once a second (two `stat`s, no
//! inotify thread) and re-reads the settings when a file's identity, size or mtime moved.
//! A bad value keeps the settings in force and is logged with its key and value.

use crate::log;
use pm2_home::plus_alerts::{self, AlertSettings};
use pm2_home::Pm2Home;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// What `GET /api/alerts` shows: the settings in force, and why the last change was
/// refused, if it was.
#[derive(Debug, Clone, Default)]
pub struct Current {
    /// In force.
    pub settings: AlertSettings,
    /// The last refusal (None once a good change applied).
    pub error: Option<String>,
}

/// A file's identity as far as a change goes: (device, inode, size, mtime in ns).
pub(crate) type Stamp = Option<(u64, u64, u64, i128)>;

/// Watches the settings' files.
pub struct Watcher {
    home: Pm2Home,
    files: [PathBuf; 2],
    seen: [Stamp; 2],
}

impl Watcher {
    /// Notes the files as they are now (the settings read at start came from them).
    pub fn new(home: Pm2Home) -> Watcher {
        let files = plus_alerts::sources(&home);
        let seen = [stamp(&files[0]), stamp(&files[1])];
        Watcher { home, files, seen }
    }

    /// True when a file changed since the last call.
    pub fn changed(&mut self) -> bool {
        let now = [stamp(&self.files[0]), stamp(&self.files[1])];
        if now == self.seen {
            return false;
        }
        self.seen = now;
        true
    }

    /// Re-reads the settings: the new ones when they are valid and differ from
    /// `current`'s; None (and `current.error` set, logged with the key and value) when
    /// they are not valid, or when nothing that matters changed.
    pub fn reload(&self, current: &mut Current) -> Option<AlertSettings> {
        match AlertSettings::load(&self.home) {
            Ok(settings) => {
                current.error = None;
                if settings == current.settings {
                    return None;
                }
                log::say(&format!("alert settings changed: {}", summary(&settings)));
                current.settings = settings.clone();
                Some(settings)
            }
            Err(e) => {
                log::error(&format!("alert settings unchanged: {e}"));
                current.error = Some(e);
                None
            }
        }
    }
}

pub(crate) fn stamp(path: &std::path::Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    let mtime = i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec());
    Some((m.dev(), m.ino(), m.size(), mtime))
}

/// One line for the dashboard's log.
fn summary(s: &AlertSettings) -> String {
    let urls = if s.urls.is_empty() {
        "off (no alert_url)".to_string()
    } else {
        s.urls.join(", ")
    };
    format!(
        "{urls}; storm {}/{}s; cpu {:?}; memory {:?}; for {} ms; reload {}; deploy {}",
        s.storm_restarts,
        s.storm_window.as_secs(),
        s.cpu_percent,
        s.memory_bytes,
        s.sustained.as_millis(),
        s.reload,
        s.deploy
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_applies_and_a_bad_value_keeps_what_is_in_force() {
        let dir = std::env::temp_dir().join(format!("pm2-plus-live-{}", std::process::id()));
        let home = Pm2Home::at(dir.clone());
        std::fs::create_dir_all(dir.join("plus")).unwrap();
        let file = dir.join("plus").join("alerts.json");
        let mut w = Watcher::new(home);
        let mut current = Current::default();
        assert!(!w.changed());
        std::fs::write(&file, r#"{"url": "http://127.0.0.1:9/a", "cpu": 50}"#).unwrap();
        assert!(w.changed());
        let new = w.reload(&mut current).expect("a good change applies");
        assert_eq!((new.urls.len(), new.cpu_percent), (1, Some(50.0)));
        assert!(!w.changed(), "seen once");
        std::fs::write(&file, r#"{"url": "http://127.0.0.1:9/a", "cpu": "lots"}"#).unwrap();
        assert!(w.changed());
        assert!(w.reload(&mut current).is_none());
        let e = current.error.clone().unwrap_or_default();
        assert!(
            e.contains("pm2-plus:alert_cpu") && e.contains("lots"),
            "{e}"
        );
        assert_eq!(current.settings.cpu_percent, Some(50.0), "kept");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
