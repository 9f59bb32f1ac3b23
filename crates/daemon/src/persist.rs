//! `dump.pm2`: what `pm2 save` writes and `pm2 resurrect` reads, in PM2's format (a JSON
//! array of pm2_env objects), written atomically with the previous one kept as `.bak`.

use crate::server::Daemon;
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

/// What identifies a change worth recording: a hash of ids, names and statuses, read in
/// place (this runs every metrics tick, so it allocates nothing per app).
pub(crate) fn fingerprint(daemon: &Daemon) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    daemon.registry().for_each(|p| {
        p.pm_id.hash(&mut hasher);
        p.spec.name.hash(&mut hasher);
        p.status.as_str().hash(&mut hasher);
    });
    hasher.finish()
}

/// Rewrites the state file (atomically) with every app, as dump entries.
pub(crate) fn write_state(daemon: &Daemon) {
    let processes = daemon.registry().snapshot();
    let entries: Vec<serde_json::Value> = processes.iter().map(pm2json::dump_entry).collect();
    let path = daemon.settings.home.daemon_state();
    let text = match serde_json::to_vec(&entries) {
        Ok(t) => t,
        Err(e) => return tracing::warn!("cannot encode the daemon state: {e}"),
    };
    if let Err(e) = write_atomic(&path, &text) {
        tracing::warn!("cannot write {}: {e}", path.display());
    }
    *daemon.last_state.lock().unwrap_or_else(|p| p.into_inner()) = fingerprint(daemon);
}

/// Rewrites the state file when the table changed since the last write (metrics tick).
pub(crate) fn write_state_if_changed(daemon: &Daemon) {
    let now = fingerprint(daemon);
    let changed = *daemon.last_state.lock().unwrap_or_else(|p| p.into_inner()) != now;
    if changed {
        write_state(daemon);
    }
}

/// A clean exit: nothing to recover next time.
pub(crate) fn clear_state(home: &crate::Pm2Home) {
    let _ = std::fs::remove_file(home.daemon_state());
}

/// Processes started by a previous daemon of this `PM2_HOME` (found by the `PM2_HOME` and
/// `pm_id` variables every app gets) that still run.
pub(crate) fn survivors(home: &crate::Pm2Home) -> Vec<i32> {
    let wanted = format!("PM2_HOME={}", home.root().display());
    let me = std::process::id() as i32;
    let Ok(all) = procfs::process::all_processes() else {
        return vec![];
    };
    all.flatten()
        .filter(|p| p.pid != me)
        .filter(|p| {
            p.environ().is_ok_and(|env| {
                let has = |k: &str, v: Option<&str>| {
                    env.iter().any(|(ek, ev)| {
                        ek.to_str() == Some(k) && v.is_none_or(|v| ev.to_str() == Some(v))
                    })
                };
                let home_ok = wanted.split_once('=').is_some_and(|(k, v)| has(k, Some(v)));
                home_ok && has("pm_id", None) && has("unique_id", None)
            })
        })
        .map(|p| p.pid)
        .filter(|pid| pm2_supervisor::alive(*pid))
        .collect()
}

/// At start: when the previous daemon of this home died without stopping its apps, stop
/// what it left running (their pipes and channels died with it) and start its apps again
/// under this daemon, each exactly once; stopped apps stay stopped.
pub(crate) async fn recover(daemon: &Daemon) {
    let home = &daemon.settings.home;
    let path = home.daemon_state();
    let Ok(text) = std::fs::read(&path) else {
        return;
    };
    let entries: Vec<serde_json::Value> = match serde_json::from_slice(&text) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!("ignoring unreadable {}: {e}", path.display());
            return clear_state(home);
        }
    };
    tracing::info!("The previous daemon exited without stopping its apps: recovering");
    stop_survivors(daemon).await;
    let path_var = std::env::var("PATH").unwrap_or_default();
    let mut apps = Vec::new();
    for entry in &entries {
        match pm2_config::dump::app_from_dump_entry(entry, &path_var) {
            Ok(mut app) => {
                app.spec.autostart = !app.stopped;
                apps.push(app.spec);
            }
            Err(e) => tracing::warn!("cannot restore an app: {e}"),
        }
    }
    let count = apps.len();
    let request = pm2_proto::StartRequest { apps, force: true };
    crate::handlers::start_apps(daemon, request).await;
    tracing::info!("Restored {count} apps of the previous daemon");
    write_state(daemon);
}

/// Stops (SIGINT, then SIGKILL after the default kill timeout) what the previous daemon
/// left running, and says which pids.
async fn stop_survivors(daemon: &Daemon) {
    let pids = survivors(&daemon.settings.home);
    if pids.is_empty() {
        return;
    }
    tracing::info!(
        "Stopping {} processes left running by the previous daemon (pids {:?}); their apps restart under this daemon",
        pids.len(),
        pids
    );
    let mut tree = Vec::new();
    for pid in &pids {
        tree.extend(pm2_supervisor::signal_tree(
            *pid,
            nix::sys::signal::Signal::SIGINT,
            true,
        ));
    }
    let deadline = tokio::time::Instant::now() + daemon.settings.kill_timeout;
    pm2_supervisor::wait_all_gone(&tree, deadline).await;
    for pid in tree.iter().filter(|p| pm2_supervisor::alive(**p)) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}
