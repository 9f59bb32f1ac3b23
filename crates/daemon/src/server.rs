//! Daemon start-up, the control socket, and shutdown.

use crate::handlers;
use crate::metrics::Sampler;
use crate::registry::Registry;
use crate::{daemon_log, DaemonSettings};
use nix::fcntl::{Flock, FlockArg};
use pm2_proto::{frame, Envelope, Reply, Response};
use std::future::Future;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Notify;

/// Shared daemon state handed to every request handler.
pub(crate) struct Daemon {
    pub settings: Arc<DaemonSettings>,
    pub registry: Mutex<Registry>,
    pub sampler: Sampler,
    pub shutdown: Notify,
    pub hub: crate::hub::LogHub,
    /// Signalled when `module_conf.json` changed (`pm2 set`, `pm2 install`).
    pub config_changed: Notify,
    /// The Node cluster primary shared by every cluster-mode app.
    pub primary: pm2_cluster::primary::Primary,
    /// What the state file last recorded (ids, names, statuses).
    pub last_state: Mutex<u64>,
    /// A request was answered since memory was last handed back to the OS (its buffers,
    /// which grow with the number of apps, are free now): trim on the next metrics tick.
    pub trim_due: std::sync::atomic::AtomicBool,
}

impl Daemon {
    /// Locks the registry; a poisoned lock (a panicked handler) is still usable because
    /// every registry operation leaves it consistent.
    pub fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }
}

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
}

fn io_ctx(what: impl Into<String>) -> impl FnOnce(io::Error) -> StartError {
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
        .map_err(io_ctx("cannot chmod the socket"))?;
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
        "PM2 socket           : {}",
        settings.home.socket().display()
    );
    tracing::info!(
        "SIGTERM timeout      : {}",
        settings.kill_timeout.as_millis()
    );
    tracing::info!(
        "==============================================================================="
    );
}

/// Runs the daemon until `shutdown` resolves or a client sends `kill`; then stops every app
/// gracefully and removes the socket and pid file.
pub async fn run(
    settings: DaemonSettings,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StartError> {
    settings.home.ensure().map_err(io_ctx(format!(
        "cannot create {}",
        settings.home.root().display()
    )))?;
    let _lock = take_lock(&settings)?;
    let listener = bind_socket(&settings)?;
    pm2_home::write_atomic(
        &settings.home.daemon_pid(),
        std::process::id().to_string().as_bytes(),
    )
    .map_err(io_ctx("cannot write pm2.pid"))?;
    log_header(&settings);
    let hub = crate::hub::LogHub::default();
    daemon_log::attach_hub(&hub);
    let daemon = Arc::new(Daemon {
        settings: Arc::new(settings),
        registry: Mutex::new(Registry::default()),
        sampler: Sampler::default(),
        shutdown: Notify::new(),
        hub,
        config_changed: Notify::new(),
        primary: pm2_cluster::primary::Primary::start(),
        last_state: Mutex::new(0),
        trim_due: std::sync::atomic::AtomicBool::new(false),
    });
    crate::persist::recover(&daemon).await;
    tokio::spawn(crate::rotator::run(Arc::clone(&daemon)));
    tokio::spawn(crate::metrics::run(Arc::clone(&daemon)));
    tokio::spawn(reload_logs_on_sigusr2(Arc::clone(&daemon)));
    tokio::select! {
        _ = accept_loop(&listener, &daemon) => {}
        _ = shutdown => {
            tracing::info!("pm2 has been killed by signal, saving the list and stopping every app");
            crate::persist::save_on_signal(&daemon);
        }
        _ = daemon.shutdown.notified() => {}
    }
    handlers::stop_everything(&daemon).await;
    let home = &daemon.settings.home;
    crate::persist::clear_state(home);
    let _ = std::fs::remove_file(home.socket());
    let _ = std::fs::remove_file(home.daemon_pid());
    tracing::info!("PM2 daemon stopped");
    Ok(())
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

async fn accept_loop(listener: &UnixListener, daemon: &Arc<Daemon>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_connection(stream, Arc::clone(daemon)));
            }
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// Reads one frame body; `None` on EOF.
async fn read_frame(stream: &mut UnixStream) -> Result<Option<Vec<u8>>, frame::FrameError> {
    let mut header = [0u8; 4];
    match stream.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let mut body = vec![0u8; frame::body_len(header)?];
    stream.read_exact(&mut body).await?;
    Ok(Some(body))
}

/// Serves requests on one connection until the client hangs up. Malformed input gets an
/// error reply and closes the connection; it never affects the daemon.
async fn serve_connection(mut stream: UnixStream, daemon: Arc<Daemon>) {
    loop {
        let body = match read_frame(&mut stream).await {
            Ok(Some(body)) => body,
            Ok(None) => return,
            Err(e) => {
                let _ = send(&mut stream, &daemon, error(e.to_string())).await;
                return;
            }
        };
        let envelope: Envelope = match serde_json::from_slice(&body) {
            Ok(env) => env,
            Err(e) => {
                let msg = frame::FrameError::from(e).to_string();
                let _ = send(&mut stream, &daemon, error(msg)).await;
                return;
            }
        };
        if let pm2_proto::Request::Logs(req) = envelope.request {
            let _ = handlers::stream_logs(&daemon, req, &mut stream).await;
            return;
        }
        let (response, then_exit) = handlers::dispatch(&daemon, envelope.request).await;
        if send(&mut stream, &daemon, response).await.is_err() {
            return;
        }
        if then_exit {
            daemon.shutdown.notify_one();
            return;
        }
    }
}

fn error(message: String) -> Response {
    Response::Error { message }
}

/// Writes one reply frame.
pub(crate) async fn send(
    stream: &mut UnixStream,
    daemon: &Daemon,
    response: Response,
) -> io::Result<()> {
    stream.write_all(&reply_bytes(daemon, response)?).await
}

/// Writes one reply frame on the write half of a split stream (streaming requests).
pub(crate) async fn send_half(
    w: &mut tokio::net::unix::WriteHalf<'_>,
    daemon: &Daemon,
    response: Response,
) -> io::Result<()> {
    w.write_all(&reply_bytes(daemon, response)?).await
}

fn reply_bytes(daemon: &Daemon, response: Response) -> io::Result<Vec<u8>> {
    let reply = Reply {
        daemon_version: daemon.settings.version.clone(),
        response,
    };
    frame::encode(&reply).map_err(|e| io::Error::other(e.to_string()))
}

/// Entry point of the detached daemon process (`pm2 __daemon`): logging to `pm2.log`,
/// SIGTERM/SIGINT/SIGQUIT stop every app and exit, SIGHUP is ignored. Returns the exit code.
pub fn daemon_main(settings: DaemonSettings) -> i32 {
    if let Err(e) = settings.home.ensure() {
        eprintln!(
            "pm2 daemon: cannot create {}: {e}",
            settings.home.root().display()
        );
        return 1;
    }
    if let Err(e) = daemon_log::init(&settings.home.daemon_log()) {
        eprintln!("pm2 daemon: cannot open pm2.log: {e}");
    }
    let runtime = match daemon_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
            return 1;
        }
    };
    let result = runtime.block_on(async { run(settings, termination_signal()).await });
    match result {
        Ok(()) => 0,
        Err(StartError::AlreadyRunning(_)) => 0,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("pm2 daemon: {e}");
            1
        }
    }
}

/// Resolves on SIGTERM, SIGINT or SIGQUIT; SIGHUP is ignored as PM2 ignores it.
async fn termination_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let make = |kind| signal(kind).ok();
    let (mut term, mut int, mut quit, mut hup) = (
        make(SignalKind::terminate()),
        make(SignalKind::interrupt()),
        make(SignalKind::quit()),
        make(SignalKind::hangup()),
    );
    async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
        match s {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    }
    loop {
        tokio::select! {
            _ = recv(&mut term) => return,
            _ = recv(&mut int) => return,
            _ = recv(&mut quit) => return,
            _ = recv(&mut hup) => continue,
        }
    }
}

/// A daemon running inside this process (`pm2-runtime`): same core, same socket, its
/// `pm2.log`; [`InProcess::shutdown`] stops every app gracefully, then the daemon.
pub struct InProcess {
    thread: std::thread::JoinHandle<i32>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The soft open-files limit up to the hard one, as Node does at start-up for PM2's own
/// daemon (so apps inherit the same limit they get under PM2): two pipes and a `/proc`
/// handle per instance, plus cluster connections held during a reload, outgrow the usual
/// soft 1024 long before the hard limit.
fn raise_open_files_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return;
    };
    // An unlimited hard limit still stops at the kernel's `nr_open` (Node searches up to 2^20).
    let target = if hard == RLIM_INFINITY {
        std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(1 << 20)
    } else {
        hard
    };
    if soft < target {
        if let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, target, hard) {
            tracing::warn!("cannot raise the open files limit to {target}: {e}");
        }
    }
}

/// The daemon's runtime: two worker threads (one per core on small machines; the work is
/// I/O, and a second thread keeps a blocking file write from stalling everything), under
/// `SCHED_BATCH` (see `pm2_supervisor::prefer_batching`), inherited by the threads the
/// runtime creates.
fn daemon_runtime() -> io::Result<tokio::runtime::Runtime> {
    raise_open_files_limit();
    pm2_supervisor::prefer_batching();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

impl InProcess {
    /// Starts the daemon core on its own thread and runtime.
    pub fn start(settings: DaemonSettings) -> io::Result<InProcess> {
        settings.home.ensure()?;
        daemon_log::init(&settings.home.daemon_log())?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("pm2-daemon".into())
            .spawn(move || {
                let runtime = match daemon_runtime() {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!("cannot start the runtime: {e}");
                        return 1;
                    }
                };
                let shutdown = async {
                    let _ = stopped.await;
                };
                match runtime.block_on(run(settings, shutdown)) {
                    Ok(()) => 0,
                    Err(e) => {
                        tracing::error!("{e}");
                        eprintln!("pm2-runtime: {e}");
                        1
                    }
                }
            })?;
        Ok(InProcess {
            thread,
            stop: Some(stop),
        })
    }

    /// Stops every app gracefully, then the daemon; returns its exit code.
    pub fn shutdown(mut self) -> i32 {
        drop(self.stop.take());
        self.thread.join().unwrap_or(1)
    }
}
