//! Process entry points: the detached daemon (`pm2 __daemon`) and the in-process daemon
//! of `pm2-runtime`, each on the daemon's own runtime, with PM2's signal handling.

use crate::life::{io_ctx, run, StartError};
use crate::logs::daemon_log;
use crate::ready_pipe::ReadyPipe;
use crate::settings::DaemonSettings;
use std::io;

/// Entry point of the detached daemon process (`pm2 __daemon`): logging to `pm2.log`,
/// SIGTERM/SIGINT/SIGQUIT stop every app and exit, SIGHUP is ignored. Returns the exit code.
pub fn daemon_main(settings: DaemonSettings) -> i32 {
    let ready = ReadyPipe::from_env();
    if let Err(e) = settings.home.ensure() {
        eprintln!(
            "pm2 daemon: cannot create {}: {e}",
            settings.home.root().display()
        );
        return 1;
    }
    if let Err(e) = daemon_log::init(&settings.home.daemon_log()) {
        eprintln!(
            "pm2 daemon: cannot open {}: {e}",
            settings.home.describe(pm2_home::Entry::DaemonLog)
        );
    }
    let runtime = match daemon_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
            return 1;
        }
    };
    let result =
        runtime.block_on(async { run(settings, termination_signal(), || ready.signal()).await });
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

/// Makes every thread of the daemon allocate from one glibc malloc arena. By default each
/// thread that allocates gets an arena of its own (up to 8 per core), and what a burst of
/// requests frees in a worker's arena stays mapped there: measured with 100 apps, 5.1–6.5 MB
/// of anonymous memory right after the start against 3.0 MB with one arena (the same
/// ~3 MB once glibc trims later). The daemon's threads rarely allocate at the same time
/// (two runtime workers, mostly asleep), so they do not contend for it. glibc only;
/// threads made before the call keep their arenas.
fn share_one_malloc_arena() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes the allocator's tuning for arenas made from now on.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// The daemon's runtime: two worker threads (one per core on small machines; the work is
/// I/O, and a second thread keeps a blocking file write from stalling everything), under
/// `SCHED_BATCH` (see `pm2_supervisor::prefer_batching`), inherited by the threads the
/// runtime creates.
fn daemon_runtime() -> io::Result<tokio::runtime::Runtime> {
    raise_open_files_limit();
    share_one_malloc_arena();
    pm2_supervisor::prefer_batching();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

impl InProcess {
    /// Starts the daemon core on its own thread and runtime and returns once its socket is
    /// bound. The error names what could not be set up (the home folder, `pm2.log`, the
    /// thread), or says the daemon stopped before serving (its reason is in `pm2.log`).
    pub fn start(settings: DaemonSettings) -> Result<InProcess, StartError> {
        let root = settings.home.root().display().to_string();
        settings
            .home
            .ensure()
            .map_err(io_ctx(format!("cannot create {root}")))?;
        let log = settings.home.daemon_log();
        daemon_log::init(&log).map_err(io_ctx(format!("cannot open {}", log.display())))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, serving) = std::sync::mpsc::sync_channel::<()>(1);
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
                let ready = move || {
                    let _ = ready.send(());
                };
                match runtime.block_on(run(settings, shutdown, ready)) {
                    Ok(()) => 0,
                    Err(e) => {
                        tracing::error!("{e}");
                        eprintln!("pm2-runtime: {e}");
                        1
                    }
                }
            })
            .map_err(io_ctx("cannot start the daemon thread"))?;
        if serving.recv().is_err() {
            let _ = thread.join();
            return Err(StartError::DidNotStart(log));
        }
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
