//! Restarts the app's own settings ask for: `cron_restart` and `--watch`.
//!
//! They live beside the phase, not in it: PM2 fires the cron whatever the phase (a stopped
//! app is started by it), and file changes are collected while the process runs, waits or is
//! stopped alike. Their timers depend only on the app's settings, so nothing here has to
//! agree with the phase.

use crate::watch::{AppWatcher, WatchSpec};
use pm2_proto::AppSpec;
use std::path::PathBuf;
use std::time::Duration;
use tokio::time::Instant;

/// Changes that close together make one restart (ms).
const WATCH_SETTLE_MS: u64 = 200;

/// The cron schedule and the file watcher of one instance.
#[derive(Default)]
pub(super) struct Triggers {
    /// Next `cron_restart` time; kept while stopped (PM2 restarts a stopped app on cron).
    cron_at: Option<Instant>,
    /// File watcher while `--watch` is on.
    watcher: Option<AppWatcher>,
    /// When the restart for the current burst of file changes is due, and what changed.
    watch_fire: Option<(Instant, PathBuf)>,
}

/// A trigger that asks for a restart.
pub(super) enum Fired {
    /// `cron_restart` is due.
    Cron,
    /// A burst of file changes is over; the path is the first that changed.
    Watch(PathBuf),
}

impl Triggers {
    /// Computes the next `cron_restart` time (none without a pattern).
    pub(super) fn schedule_cron(&mut self, spec: &AppSpec) {
        self.cron_at = spec.cron_restart.as_deref().and_then(|pattern| {
            let cron = croner::Cron::new(pattern)
                .with_seconds_optional()
                .parse()
                .ok()?;
            let now = chrono::Local::now();
            let next = cron.find_next_occurrence(&now, false).ok()?;
            Some(Instant::now() + (next - now).to_std().ok()?)
        });
    }

    /// Starts or stops the file watcher to match `spec.watch`.
    pub(super) fn sync_watcher(&mut self, spec: &AppSpec, label: &str) {
        if !spec.watch {
            self.watcher = None;
            self.watch_fire = None;
            return;
        }
        if self.watcher.is_some() {
            return;
        }
        let roots = if spec.watch_paths.is_empty() {
            vec![PathBuf::from(&spec.cwd)]
        } else {
            spec.watch_paths.iter().map(PathBuf::from).collect()
        };
        let watch = WatchSpec {
            roots,
            ignore: spec.ignore_watch.clone(),
        };
        match crate::watch::start(watch) {
            Ok(w) => self.watcher = Some(w),
            Err(e) => tracing::warn!("App [{label}] cannot watch files: {e}"),
        }
    }

    /// The next restart a trigger asks for. File changes are gathered meanwhile: a burst
    /// fires once, `watch_delay` (at least a short settle time) after its first change, so
    /// a save that touches several files restarts once. Cancel-safe.
    pub(super) async fn next(&mut self, watch_delay: Option<u64>) -> Fired {
        loop {
            let watch_due = self.watch_fire.as_ref().map(|f| f.0);
            tokio::select! {
                _ = sleep_until(self.cron_at) => {
                    self.cron_at = None;
                    return Fired::Cron;
                }
                _ = sleep_until(watch_due) => {
                    if let Some((_, path)) = self.watch_fire.take() {
                        return Fired::Watch(path);
                    }
                }
                path = next_change(&mut self.watcher) => self.file_changed(path, watch_delay),
            }
        }
    }

    /// The first change of a burst sets when the burst's restart is due.
    fn file_changed(&mut self, path: PathBuf, watch_delay: Option<u64>) {
        if self.watch_fire.is_none() {
            let delay = watch_delay.unwrap_or(0).max(WATCH_SETTLE_MS);
            let at = Instant::now() + Duration::from_millis(delay);
            self.watch_fire = Some((at, path));
        }
    }
}

/// The next file change the watcher reports, or never.
async fn next_change(watcher: &mut Option<AppWatcher>) -> PathBuf {
    match watcher.as_mut() {
        Some(w) => match w.changes.recv().await {
            Some(p) => p,
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

/// Sleeps until `at`, or forever without one.
pub(super) async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
