//! A foreground session, shared by `pm2-runtime` and `pm2-dev`: the daemon in-process,
//! the apps started, their output streamed to a view, and everything stopped on a signal
//! (or once no app is left, with auto-exit).

use anyhow::Result;
use nix::sys::signal::{SigSet, Signal};
use pm2_cli::args::StartArgs;
use pm2_cli::client::{self, Client};
use pm2_daemon::{DaemonSettings, InProcess};
use pm2_home::Pm2Home;
use pm2_proto::{LogChunk, LogsRequest, Request, Response, Status};
use std::collections::HashSet;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a session prints once the apps started, given their names.
pub(crate) type Banner = Box<dyn FnOnce(&[String])>;

/// Why the runtime ends.
enum End {
    /// SIGTERM, SIGINT or SIGQUIT.
    Signal(Signal),
    /// No app left running (auto-exit).
    NoApp,
}

/// How often the runtime checks that some app still runs, and how many empty checks in a
/// row end it (PM2: every 2 s, 4 times).
const APP_POLL: Duration = Duration::from_secs(2);
const EMPTY_POLLS_BEFORE_EXIT: u32 = 4;

/// How a foreground session (`pm2-runtime`, `pm2-dev`) shows what happens.
pub(crate) struct Session {
    /// Renders the apps' output and events.
    pub(crate) view: Box<dyn Foreground>,
    /// End once no app has been running for a while.
    pub(crate) auto_exit: bool,
    /// Printed once the apps started, with their names.
    pub(crate) banner: Option<Banner>,
    /// The line printed when a signal ends the session.
    pub(crate) stopping: fn(Signal) -> String,
    /// The exit code and line when auto-exit ends it.
    pub(crate) no_app_left: (i32, &'static str),
}

/// Renders the live stream of a foreground session.
pub(crate) trait Foreground: Send {
    /// One chunk of the stream (output, or a process event).
    fn chunk(&mut self, chunk: &LogChunk);
}

/// Starts the daemon in-process (unless one serves this home), the apps, and streams their
/// output until a signal, or auto-exit, ends the session; then stops every app.
pub(crate) fn run_session(start: StartArgs, session: Session) -> Result<i32> {
    let signals = block_termination_signals()?;
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let home = Pm2Home::from_env();
    let daemon = match client::connect_existing(&home) {
        Some(_) => None,
        None => Some(InProcess::start(DaemonSettings::from_env(home.clone()))?),
    };
    // Listen first, so the apps' very first lines are printed too.
    spawn_log_stream(&home, session.view)?;
    let started = pm2_cli::start_for_runtime(&home, start)?;
    let apps = app_pids(&home).unwrap_or_default();
    if started != 0 || apps.is_empty() {
        eprintln!("0 application started (no apps to run)");
        stop(daemon, &home);
        return Ok(1);
    }
    if let Some(banner) = session.banner {
        banner(&app_names(&home));
    }
    let (tx, rx) = mpsc::channel();
    spawn_signal_waiter(signals, tx.clone());
    let known = Arc::new(Mutex::new(HashSet::new()));
    spawn_reaper(Arc::clone(&known));
    spawn_app_watch(home.clone(), known, session.auto_exit.then_some(tx));
    let code = match rx.recv() {
        Ok(End::Signal(sig)) => {
            eprintln!("{}", (session.stopping)(sig));
            0
        }
        Ok(End::NoApp) => {
            eprintln!("{}", session.no_app_left.1);
            session.no_app_left.0
        }
        Err(_) => 1,
    };
    stop(daemon, &home);
    Ok(code)
}

/// SIGTERM, SIGINT and SIGQUIT are blocked in every thread and taken by one waiter, so a
/// signal can never interrupt the runtime halfway.
fn block_termination_signals() -> Result<SigSet> {
    let mut set = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGQUIT] {
        set.add(s);
    }
    set.thread_block()?;
    Ok(set)
}

fn spawn_signal_waiter(set: SigSet, tx: mpsc::Sender<End>) {
    std::thread::spawn(move || {
        if let Ok(sig) = set.wait() {
            let _ = tx.send(End::Signal(sig));
        }
    });
}

/// Stops every app gracefully and the daemon (ours in-process, or the one we attached to).
fn stop(daemon: Option<InProcess>, home: &Pm2Home) {
    match daemon {
        Some(d) => {
            d.shutdown();
        }
        None => {
            if let Some(mut c) = client::connect_existing(home) {
                let _ = c.request(Request::Kill);
            }
        }
    }
}

fn app_names(home: &Pm2Home) -> Vec<String> {
    let Some(mut c) = client::connect_existing(home) else {
        return vec![];
    };
    match c.request(Request::Summary) {
        Ok(Response::List { processes }) => processes.into_iter().map(|p| p.spec.name).collect(),
        _ => vec![],
    }
}

fn app_pids(home: &Pm2Home) -> Option<Vec<(u32, Status)>> {
    let mut c = client::connect_existing(home)?;
    match c.request(Request::Summary).ok()? {
        Response::List { processes } => Some(
            processes
                .iter()
                .map(|p| (p.pid.unwrap_or(0), p.status))
                .collect(),
        ),
        _ => None,
    }
}

/// Streams every app's output and events to `view`, on a thread of its own.
fn spawn_log_stream(home: &Pm2Home, mut view: Box<dyn Foreground>) -> Result<()> {
    let mut client: Client = client::connect(home, true)?;
    client.send(Request::Logs(LogsRequest {
        targets: vec![],
        daemon: false,
    }))?;
    std::thread::spawn(move || {
        while let Ok(Some(response)) = client.next_frame() {
            if let Response::Log(chunk) = response {
                view.chunk(&chunk);
            }
        }
    });
    Ok(())
}

/// Polls the apps: remembers their pids for the reaper and, with auto-exit, ends the
/// runtime once none has been running for several polls in a row.
fn spawn_app_watch(
    home: Pm2Home,
    known: Arc<Mutex<HashSet<u32>>>,
    exit: Option<mpsc::Sender<End>>,
) {
    std::thread::spawn(move || {
        let mut empty = 0;
        loop {
            std::thread::sleep(APP_POLL);
            let Some(apps) = app_pids(&home) else {
                continue;
            };
            *known.lock().unwrap_or_else(|p| p.into_inner()) =
                apps.iter().map(|(pid, _)| *pid).collect();
            let alive = apps.iter().any(|(_, s)| {
                matches!(
                    s,
                    Status::Online | Status::Launching | Status::WaitingRestart
                )
            });
            empty = if alive { 0 } else { empty + 1 };
            if let (Some(tx), true) = (&exit, empty >= EMPTY_POLLS_BEFORE_EXIT) {
                let _ = tx.send(End::NoApp);
                return;
            }
        }
    });
}

/// Reaps orphaned grandchildren re-parented to us (we are a subreaper; as PID 1 nobody else
/// would). Only zombies that are not apps and were already zombies at the previous pass
/// are reaped, so the daemon's own wait on an app never loses its exit status.
fn spawn_reaper(apps: Arc<Mutex<HashSet<u32>>>) {
    std::thread::spawn(move || {
        let mut seen: HashSet<i32> = HashSet::new();
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let zombies = zombie_children();
            let apps = apps.lock().unwrap_or_else(|p| p.into_inner()).clone();
            for pid in &zombies {
                if seen.contains(pid) && !apps.contains(&(*pid as u32)) {
                    let _ = nix::sys::wait::waitpid(
                        nix::unistd::Pid::from_raw(*pid),
                        Some(nix::sys::wait::WaitPidFlag::WNOHANG),
                    );
                }
            }
            seen = zombies.into_iter().collect();
        }
    });
}

/// Our children that are zombies, from /proc/self/task/*/children.
fn zombie_children() -> Vec<i32> {
    let Ok(tasks) = procfs::process::Process::myself().and_then(|me| me.tasks()) else {
        return vec![];
    };
    tasks
        .flatten()
        .filter_map(|task| task.children().ok())
        .flatten()
        .filter_map(|pid| i32::try_from(pid).ok())
        .filter(|&pid| {
            procfs::process::Process::new(pid)
                .and_then(|p| p.stat())
                .is_ok_and(|stat| stat.state == 'Z')
        })
        .collect()
}
