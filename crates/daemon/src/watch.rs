//! `--watch`: restart an app when files under its folders change.
//!
//! One inotify watch per directory, added by walking the tree and skipping ignored folders
//! (dotfiles and `node_modules` by default, as PM2), so a project with a large
//! `node_modules` costs nothing; folders created later are added as they appear. Changes are
//! coalesced: the instance restarts once per burst.

use glob::{MatchOptions, Pattern};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What to watch, resolved from the app's options.
#[derive(Debug, Clone)]
pub struct WatchSpec {
    /// Folders or files to watch (absolute).
    pub roots: Vec<PathBuf>,
    /// Patterns to ignore (globs, or plain names matched against any path component).
    pub ignore: Vec<String>,
}

/// A running watcher; dropping it stops watching.
pub struct AppWatcher {
    task: JoinHandle<()>,
    /// One item per burst of relevant changes (the first changed path).
    pub changes: mpsc::Receiver<PathBuf>,
}

impl Drop for AppWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The app's ignore patterns, compiled once when watching starts.
///
/// PM2 hands `ignore_watch` to chokidar, which reads each string as a glob (picomatch): `*`
/// and `?` stay within a path component, `**` crosses them, `[...]` as in a shell (the
/// `glob` crate; unlike picomatch, a brace list `{a,b}` is not expanded, as before). Each
/// pattern (a leading `./` dropped) is tried on the path relative to the
/// watched root and on each component of it, so a plain name such as `tmp` or `*.log`
/// ignores it at any depth. A pattern that is not a valid glob matches literally.
struct Ignore {
    globs: Vec<Pattern>,
}

/// `*` and `?` never match `/`; a leading dot is matched like any character (chokidar's
/// `dot: true` behaviour for explicit patterns).
const MATCH: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

impl Ignore {
    fn new(patterns: &[String]) -> Ignore {
        let globs = patterns
            .iter()
            .map(|p| compile(p.trim_start_matches("./")))
            .collect();
        Ignore { globs }
    }

    fn is_match(&self, candidate: &str) -> bool {
        self.globs.iter().any(|g| g.matches_with(candidate, MATCH))
    }

    /// PM2's default ignore (`/[\/\\]\.|node_modules/`) plus the app's patterns, tried on
    /// the path relative to its root and on each component.
    fn ignores(&self, root: &Path, path: &Path) -> bool {
        let rel = path.strip_prefix(root).unwrap_or(path);
        let components: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if components
            .iter()
            .any(|c| c.starts_with('.') || c == "node_modules")
        {
            return true;
        }
        self.is_match(&rel.to_string_lossy()) || components.iter().any(|c| self.is_match(c))
    }
}

/// A glob; an invalid one (an unclosed `[`) matches literally.
fn compile(pattern: &str) -> Pattern {
    Pattern::new(pattern)
        .or_else(|_| Pattern::new(&Pattern::escape(pattern)))
        .unwrap_or_default()
}

/// Adds a non-recursive watch on `dir` and every folder below it that is not ignored.
fn watch_tree(w: &mut RecommendedWatcher, root: &Path, dir: &Path, ignore: &Ignore) {
    if dir != root && ignore.ignores(root, dir) {
        return;
    }
    if w.watch(dir, RecursiveMode::NonRecursive).is_err() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            watch_tree(w, root, &entry.path(), ignore);
        }
    }
}

/// Starts watching; the first relevant change of each burst arrives on `changes`.
pub fn start(spec: WatchSpec) -> notify::Result<AppWatcher> {
    let (raw_tx, mut raw_rx) = mpsc::unbounded_channel::<Event>();
    let watcher = notify::recommended_watcher(move |res: notify::Result<Event>| {
        if let Ok(event) = res {
            let _ = raw_tx.send(event);
        }
    })?;
    let watcher = Arc::new(Mutex::new(watcher));
    let ignore = Ignore::new(&spec.ignore);
    {
        let mut w = watcher.lock().unwrap_or_else(|p| p.into_inner());
        for root in &spec.roots {
            if root.is_dir() {
                watch_tree(&mut w, root, root, &ignore);
            } else {
                let _ = w.watch(root, RecursiveMode::NonRecursive);
            }
        }
    }
    let (tx, changes) = mpsc::channel(1);
    let task = tokio::spawn(async move {
        let _keep = &watcher;
        while let Some(event) = raw_rx.recv().await {
            tracing::debug!("watch event {:?} {:?}", event.kind, event.paths);
            if matches!(event.kind, EventKind::Access(_)) {
                continue;
            }
            for path in &event.paths {
                let Some(root) = spec.roots.iter().find(|r| path.starts_with(r)) else {
                    continue;
                };
                if ignore.ignores(root, path) {
                    continue;
                }
                if matches!(event.kind, EventKind::Create(_)) && path.is_dir() {
                    let mut w = watcher.lock().unwrap_or_else(|p| p.into_inner());
                    watch_tree(&mut w, root, path, &ignore);
                }
                let _ = tx.try_send(path.clone());
            }
        }
    });
    Ok(AppWatcher { task, changes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_like_pm2() {
        let ig = Ignore::new(&["*.log".into(), "tmp/**".into()]);
        let root = Path::new("/app");
        assert!(ig.ignores(root, Path::new("/app/node_modules/x/index.js")));
        assert!(ig.ignores(root, Path::new("/app/.git/HEAD")));
        assert!(ig.ignores(root, Path::new("/app/out.log")));
        assert!(ig.ignores(root, Path::new("/app/tmp/a/b")));
        assert!(!ig.ignores(root, Path::new("/app/src/index.js")));
    }

    #[test]
    fn globs_follow_chokidar() {
        let ig = Ignore::new(&["./dist/*.js".into(), "**/*.tmp".into(), "cache".into()]);
        let root = Path::new("/app");
        assert!(ig.ignores(root, Path::new("/app/dist/a.js")));
        assert!(
            !ig.ignores(root, Path::new("/app/dist/sub/a.js")),
            "* stays in a folder"
        );
        assert!(ig.ignores(root, Path::new("/app/a/b/c.tmp")));
        assert!(
            ig.ignores(root, Path::new("/app/src/cache/x")),
            "a name at any depth"
        );
        assert!(!ig.ignores(root, Path::new("/app/src/index.js")));
        let literal = Ignore::new(&["a[b".into()]);
        assert!(literal.ignores(root, Path::new("/app/a[b")));
    }
}
