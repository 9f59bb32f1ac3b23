//! `pm2-runtime`: the daemon core in the foreground, as a container's main process.
//!
//! It starts the apps (a script or an ecosystem file, with `pm2 start`'s options), streams
//! their output to its own stdout/stderr, stops every app gracefully and exits 0 on
//! SIGTERM/SIGINT, reaps orphaned grandchildren (it is a child subreaper, for when it runs
//! as PID 1), and exits when no app is left running (PM2's auto-exit) unless
//! `--no-auto-exit`.
//!
//! Its own crate because it is the one program that needs both sides: the daemon
//! (in-process) and the CLI (its `start`, its client), which otherwise never link each other.

use anyhow::Result;
use clap::Parser;
use nix::sys::signal::{SigSet, Signal};
use pm2_cli::args::StartArgs;
use pm2_cli::client::{self, Client};
use pm2_daemon::{DaemonSettings, InProcess};
use pm2_home::Pm2Home;
use pm2_logfmt::{LineKind, LogEvent, LogFlags, LogView};
use pm2_proto::{LogChunkKind, LogsRequest, Request, Response, Status};
use std::collections::HashSet;
use std::io::Write;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `pm2-runtime <script|ecosystem> [options]`.
#[derive(Debug, Parser)]
#[command(
    name = "pm2-runtime",
    about = "Run apps in the foreground (containers)"
)]
pub struct RuntimeArgs {
    /// Print logs as JSON lines.
    #[arg(long)]
    pub json: bool,
    /// Print logs as `key=value` lines.
    #[arg(long)]
    pub format: bool,
    /// Print logs without prefixes (the default).
    #[arg(long)]
    pub raw: bool,
    /// Keep running when no app is left.
    #[arg(long = "no-auto-exit")]
    pub no_auto_exit: bool,
    /// What to start, with `pm2 start`'s options.
    #[command(flatten)]
    pub start: StartArgs,
}

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

/// Entry point with the runtime's arguments (`argv[0]` first); returns the exit code.
pub fn main<I, T>(argv: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = match RuntimeArgs::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            pm2_cli::out::error(&format!("{e:#}"));
            1
        }
    }
}

fn run(mut args: RuntimeArgs) -> Result<i32> {
    let signals = block_termination_signals()?;
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let home = Pm2Home::from_env();
    let daemon = match client::connect_existing(&home) {
        Some(_) => None,
        None => Some(InProcess::start(DaemonSettings::from_env(home.clone()))?),
    };
    // Listen first, so the apps' very first lines are printed too.
    spawn_log_stream(&home, &args)?;
    let start = std::mem::take(&mut args.start);
    let started = pm2_cli::start_for_runtime(&home, start)?;
    let apps = app_pids(&home).unwrap_or_default();
    if started != 0 || apps.is_empty() {
        eprintln!("0 application started (no apps to run)");
        stop(daemon, &home);
        return Ok(1);
    }
    let (tx, rx) = mpsc::channel();
    spawn_signal_waiter(signals, tx.clone());
    let known = Arc::new(Mutex::new(HashSet::new()));
    spawn_reaper(Arc::clone(&known));
    spawn_app_watch(home.clone(), known, (!args.no_auto_exit).then_some(tx));
    let code = match rx.recv() {
        Ok(End::Signal(sig)) => {
            eprintln!("pm2-runtime: {sig} received, stopping every app");
            0
        }
        Ok(End::NoApp) => {
            eprintln!("pm2-runtime: no app running anymore, exiting");
            2
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

/// Apps' output on our stdout (out) and stderr (err), raw unless `--json`/`--format`.
fn spawn_log_stream(home: &Pm2Home, args: &RuntimeArgs) -> Result<()> {
    let mut client: Client = client::connect(home, true)?;
    client.send(Request::Logs(LogsRequest {
        targets: vec![],
        daemon: false,
    }))?;
    let mut view = LogView::from_flags(&LogFlags {
        raw: !args.json && !args.format,
        json: args.json,
        format: args.format,
        timestamp: None,
        highlight: None,
        color: false,
    });
    std::thread::spawn(move || {
        while let Ok(Some(response)) = client.next_frame() {
            let Response::Log(chunk) = response else {
                continue;
            };
            let kind = match chunk.kind {
                LogChunkKind::Out => LineKind::Out,
                LogChunkKind::Err => LineKind::Err,
                _ => continue,
            };
            let ev = LogEvent {
                pm_id: chunk.pm_id.unwrap_or(0),
                name: &chunk.name,
                kind,
                data: &chunk.data,
                at_ms: chunk.at as i64,
            };
            let r = view.render(&ev, &chrono::Local::now());
            let _ = std::io::stdout().write_all(r.stdout.as_bytes());
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().write_all(r.stderr.as_bytes());
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
