//! `dump.pm2`: what `pm2 save` writes and `pm2 resurrect` reads, in PM2's format (a JSON
//! array of pm2_env objects), written atomically with the previous one kept as the backup
//! (`dump.pm2.bak` in `PM2_HOME`, or `PM2_DUMP_BACKUP_FILE_PATH`, as PM2).

use crate::state::Daemon;
use pm2_home::write_atomic;
use pm2_proto::{pm2json, DumpPaths, Response};
use std::path::{Path, PathBuf};

/// Writes every app (stopped ones included; installed modules left out, as PM2 does: the
/// daemon starts those itself at boot) to the dump (`to`, where the CLI's environment
/// puts it, else the daemon's); the previous dump becomes the backup. An empty list is
/// refused unless `force`, so a stray `pm2 save` on an empty daemon cannot wipe a good dump.
pub(crate) fn save(daemon: &Daemon, force: bool, to: Option<DumpPaths>) -> Response {
    let mut processes = daemon.registry().snapshot();
    processes.retain(|p| !p.spec.pmx_module);
    if processes.is_empty() && !force {
        return Response::Error {
            message: "PM2 is not managing any process, skipping save... (use --force to save an empty list)".into(),
        };
    }
    let entries: Vec<serde_json::Value> = processes.iter().map(pm2json::dump_entry).collect();
    let home = &daemon.settings.home;
    let (path, backup) = match to {
        Some(to) => (PathBuf::from(to.dump), PathBuf::from(to.backup)),
        None => (home.dump(), home.dump_backup()),
    };
    match write_dump(&path, &backup, &serde_json::Value::Array(entries)) {
        Ok(()) => Response::Saved {
            path: path.to_string_lossy().into_owned(),
            count: processes.len(),
        },
        Err(e) => Response::Error {
            message: format!(
                "cannot write {} (PM2_DUMP_FILE_PATH moves the dump, PM2_DUMP_BACKUP_FILE_PATH its backup): {e}",
                path.display()
            ),
        },
    }
}

/// Keeps the current dump as the backup, then replaces it atomically.
fn write_dump(path: &Path, backup: &Path, entries: &serde_json::Value) -> std::io::Result<()> {
    if let Ok(previous) = std::fs::read(path) {
        write_atomic(backup, &previous)?;
    }
    let text = serde_json::to_vec_pretty(entries).map_err(std::io::Error::other)?;
    write_atomic(path, &text)
}

/// On SIGTERM/SIGINT: save the list before stopping everything (PM2's `dumpProcessList`,
/// skipped when empty).
pub(crate) fn save_on_signal(daemon: &Daemon) {
    match save(daemon, false, None) {
        Response::Saved { path, count } => tracing::info!("Saved {count} apps to {path}"),
        Response::Error { message } => tracing::info!("{message}"),
        _ => {}
    }
}
