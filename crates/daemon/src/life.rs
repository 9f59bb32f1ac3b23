//! The daemon's life, from start-up to a clean exit: take the home's lock, bind the socket,
//! recover what a crashed predecessor left, start the background tasks, serve until told
//! to stop, then stop every app and remove the socket and pid file.

use crate::handlers;
use crate::logs::daemon_log;
use crate::logs::hub::LogHub;
use crate::persist::{dump, recovery, state_file};
use crate::settings::DaemonSettings;
use crate::socket::serve::accept_loop;
use crate::state::Daemon;
use nix::fcntl::{Flock, FlockArg};
use std::future::Future;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use tokio::net::UnixListener;

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Another daemon holds the lock on this `PM2_HOME`.
    #[error("another pm2 daemon is already running for {0}")]
    AlreadyRunning(String),
    /// The home folder, lock or socket could not be set up.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: io::Error,
    },
    /// The in-process daemon stopped before its socket was bound; `pm2.log` (named here)
    /// says why.
    #[error("the daemon did not start; see {}", .0.display())]
    DidNotStart(std::path::PathBuf),
}

/// Wraps an I/O error with what was being done (which names the path).
pub(crate) fn io_ctx(what: impl Into<String>) -> impl FnOnce(io::Error) -> StartError {
    let what = what.into();
    move |source| StartError::Io { what, source }
}

/// Takes the daemon lock for the life of the process.
fn take_lock(settings: &DaemonSettings) -> Result<Flock<std::fs::File>, StartError> {
    let path = settings.home.daemon_lock();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_ctx(format!("cannot open {}", path.display())))?;
    Flock::lock(file, FlockArg::LockExclusiveNonblock)
        .map_err(|_| StartError::AlreadyRunning(settings.home.root().display().to_string()))
}

/// Binds the control socket 0600, replacing a stale one (safe: we hold the daemon lock).
fn bind_socket(settings: &DaemonSettings) -> Result<UnixListener, StartError> {
    let path = settings.home.socket();
    let _ = std::fs::remove_file(&path);
    // SAFETY: umask only changes this process's file-creation mask.
    let old = unsafe { libc::umask(0o177) };
    let bound = UnixListener::bind(&path);
    // SAFETY: as above, restoring the previous mask.
    unsafe { libc::umask(old) };
    let listener = bound.map_err(io_ctx(format!("cannot bind {}", path.display())))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .map_err(io_ctx(format!("cannot chmod {}", path.display())))?;
    Ok(listener)
}

fn log_header(settings: &DaemonSettings) {
    tracing::info!(
        "==============================================================================="
    );
    tracing::info!(
        "--- New PM2 Daemon started ----------------------------------------------------"
    );
    tracing::info!(
        "Time                 : {}",
        chrono::Local::now().to_rfc2822()
    );
    tracing::info!("PM2 version          : {}", settings.version);
    tracing::info!("Process ID           : {}", std::process::id());
    tracing::info!("PM2 home             : {}", settings.home.root().display());
    tracing::info!(
        "PM2 PID file         : {}",
        settings.home.daemon_pid().display()
    );
    tracing::info!(
        "PM2 socket           : {}",
        settings.home.socket().display()
    );
    tracing::info!("Application log path : {}", settings.home.logs().display());
    tracing::info!("Process dump file    : {}", settings.home.dump().display());
    for socket in settings.passed_sockets.describe() {
        tracing::info!("Socket from systemd  : {socket}");
    }
    match settings.concurrent_actions {
        Some(n) => tracing::info!("Concurrent actions   : {n}"),
        None => tracing::info!("Concurrent actions   : all at once"),
    }
    tracing::info!(
        "SIGTERM timeout      : {}",
        settings.kill_timeout.as_millis()
    );
    tracing::info!(
        "==============================================================================="
    );
}

/// Runs the daemon until `shutdown` resolves or a client sends `kill`; then stops every app
/// gracefully and removes the socket and pid file. `ready` is called once the socket is
/// bound (connections queue from then on) and the pid file written, so whoever started the
/// daemon waits on that event instead of polling the socket; it is dropped uncalled when
/// the daemon cannot start.
/// The mode of `rpc.sock` and `pub.sock`: owner-only, or what
/// `PM2_RS_NODE_API_SOCKET_MODE` asks within the home's own mode; a value that is not a
/// mode is logged to pm2.log and owner-only is kept.
fn node_api_mode(settings: &DaemonSettings) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let home_mode = std::fs::metadata(settings.home.root())
        .map(|m| m.permissions().mode())
        .unwrap_or(0o700);
    crate::nodeapi::socket_mode(settings.node_api_socket_mode.as_deref(), home_mode)
        .unwrap_or_else(|reason| {
            tracing::warn!("PM2_RS_NODE_API_SOCKET_MODE: {reason}; rpc.sock and pub.sock stay owner-only (0600)");
            0o600
        })
}

pub async fn run(
    settings: DaemonSettings,
    shutdown: impl Future<Output = ()>,
    ready: impl FnOnce(),
) -> Result<(), StartError> {
    settings.home.ensure().map_err(io_ctx(format!(
        "cannot create {}",
        settings.home.root().display()
    )))?;
    let _lock = take_lock(&settings)?;
    let listener = bind_socket(&settings)?;
    // Before anything is answered: a `require('pm2')` client that found no rpc.sock would
    // spawn PM2's own Node daemon in this home.
    let home = &settings.home;
    let mode = node_api_mode(&settings);
    let node_api = crate::nodeapi::bind(&home.rpc_socket(), &home.pub_socket(), mode)
        .map_err(io_ctx("cannot bind the Node API sockets".to_string()))?;
    pm2_home::write_atomic(
        &settings.home.daemon_pid(),
        std::process::id().to_string().as_bytes(),
    )
    .map_err(io_ctx(format!(
        "cannot write {}",
        settings.home.describe(pm2_home::Entry::DaemonPid)
    )))?;
    log_header(&settings);
    ready();
    let hub = LogHub::default();
    daemon_log::attach_hub(&hub);
    let daemon = Arc::new(Daemon::new(settings, hub));
    recover(&daemon).await;
    // Before the first reply too: a `pm2 install` that spawned this daemon then registers
    // and starts its module itself, so the two never race to start it.
    crate::modules::start_installed(&daemon).await;
    // Before the first reply, so a client never sees the home change after it was answered.
    state_file::compact(&daemon);
    tokio::spawn(crate::logs::rotation::rotator::run(Arc::clone(&daemon)));
    tokio::spawn(crate::housekeeping::tick::run(Arc::clone(&daemon)));
    tokio::spawn(reload_logs_on_sigusr2(Arc::clone(&daemon)));
    tokio::spawn(crate::nodeapi::serve(node_api, Arc::clone(&daemon)));
    tokio::select! {
        _ = accept_loop(&listener, &daemon) => {}
        _ = shutdown => {
            tracing::info!("pm2 has been killed by signal, saving the list and stopping every app");
            dump::save_on_signal(&daemon);
        }
        _ = daemon.shutdown.notified() => {}
    }
    handlers::stop_everything(&daemon).await;
    let home = &daemon.settings.home;
    state_file::clear_state(home);
    let _ = std::fs::remove_file(home.socket());
    let _ = std::fs::remove_file(home.rpc_socket());
    let _ = std::fs::remove_file(home.pub_socket());
    let _ = std::fs::remove_file(crate::state::notify_socket(home));
    let _ = std::fs::remove_file(home.daemon_pid());
    pm2_supervisor::remove_own_bases();
    tracing::info!("PM2 daemon stopped");
    Ok(())
}

/// When the previous daemon of this home died without stopping its apps: stop what it left
/// running and start its apps again under this daemon (see [`recovery`]).
async fn recover(daemon: &Daemon) {
    let Some(request) = recovery::take_over(daemon).await else {
        return;
    };
    let count = request.apps.len();
    handlers::start_apps_in_order(daemon, request).await;
    tracing::info!("Restored {count} apps of the previous daemon");
}

/// SIGUSR2 reopens every log file, as in PM2.
async fn reload_logs_on_sigusr2(daemon: Arc<Daemon>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut usr2) = signal(SignalKind::user_defined2()) else {
        return;
    };
    while usr2.recv().await.is_some() {
        handlers::reload_logs(&daemon);
    }
}
