//! `dump.pm2`: what `pm2 save` writes and `pm2 resurrect` reads, in PM2's format (a JSON
//! array of pm2_env objects), written atomically with the previous one kept as `.bak`.

use crate::state::Daemon;
use pm2_home::write_atomic;
use pm2_proto::{pm2json, Response};

/// Writes every app (stopped ones included) to the dump; the previous dump becomes
/// `dump.pm2.bak`. An empty list is refused unless `force`, so a stray `pm2 save` on an
/// empty daemon cannot wipe a good dump.
pub(crate) fn save(daemon: &Daemon, force: bool) -> Response {
    let processes = daemon.registry().snapshot();
    if processes.is_empty() && !force {
        return Response::Error {
            message: "PM2 is not managing any process, skipping save... (use --force to save an empty list)".into(),
        };
    }
    let entries: Vec<serde_json::Value> = processes.iter().map(pm2json::dump_entry).collect();
    let path = daemon.settings.home.dump();
    match write_dump(&path, &serde_json::Value::Array(entries)) {
        Ok(()) => Response::Saved {
            path: path.to_string_lossy().into_owned(),
            count: processes.len(),
        },
        Err(e) => Response::Error {
            message: format!("cannot write {}: {e}", path.display()),
        },
    }
}

/// Keeps the current dump as `.bak`, then replaces it atomically.
fn write_dump(path: &std::path::Path, entries: &serde_json::Value) -> std::io::Result<()> {
    if let Ok(previous) = std::fs::read(path) {
        let mut bak = path.as_os_str().to_owned();
        bak.push(".bak");
        write_atomic(std::path::Path::new(&bak), &previous)?;
    }
    let text = serde_json::to_vec_pretty(entries).map_err(std::io::Error::other)?;
    write_atomic(path, &text)
}

/// On SIGTERM/SIGINT: save the list before stopping everything (PM2's `dumpProcessList`,
/// skipped when empty).
pub(crate) fn save_on_signal(daemon: &Daemon) {
    match save(daemon, false) {
        Response::Saved { path, count } => tracing::info!("Saved {count} apps to {path}"),
        Response::Error { message } => tracing::info!("{message}"),
        _ => {}
    }
}
