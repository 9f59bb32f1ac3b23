//! The two background threads that keep the dashboard's data fresh, each on its own daemon
//! connection: one asks for the process list every second, the other holds a log stream. They
//! write into [`Shared`] under a short lock and never wait for the screen, so a slow terminal
//! cannot hold the daemon's stream back.

use super::store::{History, LineKind, LogStore};
use crate::client::{self, Client};
use pm2_home::Pm2Home;
use pm2_proto::{LogsRequest, ProcessInfo, Request, Response};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How often the list is fetched: the daemon samples cpu and memory once a second.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// Lines read from each log file when an instance is first seen.
const TAIL_LINES: usize = 30;

/// Everything the threads learned, behind one mutex.
#[derive(Debug, Default)]
pub struct Feed {
    /// The last process list, sorted by id (None until the first answer).
    pub processes: Option<Vec<ProcessInfo>>,
    /// cpu/memory readings.
    pub history: History,
    /// Recent log lines.
    pub logs: LogStore,
    /// Log lines the daemon skipped because the stream fell behind.
    pub missed: u64,
    /// Why the daemon cannot be reached, while it cannot.
    pub problem: Option<String>,
}

/// The feed shared between the threads and the screen.
#[derive(Debug, Clone, Default)]
pub struct Shared(Arc<Mutex<Feed>>);

impl Shared {
    /// Locks the feed; a thread that panicked while holding it left plain data behind, still
    /// worth showing.
    pub fn lock(&self) -> MutexGuard<'_, Feed> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Fetches the first list on `client` (so the first frame has something to show and each
/// log file's tail is loaded before live lines arrive), then starts both threads.
pub fn start(home: &Pm2Home, mut client: Client) -> Shared {
    let shared = Shared::default();
    poll_once(&mut client, &shared);
    let (poller, poll_home) = (shared.clone(), home.clone());
    std::thread::spawn(move || poll_loop(&poll_home, client, &poller));
    let (streamer, stream_home) = (shared.clone(), home.clone());
    std::thread::spawn(move || stream_loop(&stream_home, &streamer));
    shared
}

/// Asks for the list forever, reconnecting when the daemon goes away.
fn poll_loop(home: &Pm2Home, client: Client, shared: &Shared) {
    let mut client = Some(client);
    loop {
        std::thread::sleep(POLL_EVERY);
        let conn = match client.as_mut() {
            Some(c) => c,
            None => match client::connect_existing(home) {
                Some(c) => client.insert(c),
                None => continue,
            },
        };
        if !poll_once(conn, shared) {
            client = None;
        }
    }
}

/// One list request; false when the connection is no longer usable.
fn poll_once(client: &mut Client, shared: &Shared) -> bool {
    match client.request(Request::Summary) {
        Ok(Response::List { processes }) => {
            accept_list(shared, processes);
            true
        }
        Ok(Response::Error { message }) => {
            shared.lock().problem = Some(message);
            true
        }
        Ok(other) => {
            shared.lock().problem = Some(format!("unexpected reply: {other:?}"));
            true
        }
        Err(e) => {
            shared.lock().problem = Some(format!("daemon unreachable ({e:#})"));
            false
        }
    }
}

/// Stores a fresh list: one history sample each, and the file tail of new instances.
fn accept_list(shared: &Shared, processes: Vec<ProcessInfo>) {
    let mut feed = shared.lock();
    let known: Vec<u32> = feed.processes.iter().flatten().map(|p| p.pm_id).collect();
    let fresh: Vec<&ProcessInfo> = processes
        .iter()
        .filter(|p| !known.contains(&p.pm_id) && feed.logs.len(p.pm_id) == 0)
        .collect();
    for p in fresh {
        load_tail(&mut feed.logs, p);
    }
    feed.history.record(&processes);
    feed.logs
        .retain(|id| processes.iter().any(|p| p.pm_id == id));
    feed.problem = None;
    feed.processes = Some(processes);
}

/// The last lines of an instance's files, stdout then stderr (their interleaving is lost).
fn load_tail(logs: &mut LogStore, p: &ProcessInfo) {
    let files = [(&p.paths.out, LineKind::Out), (&p.paths.err, LineKind::Err)];
    for (path, kind) in files {
        if path == "/dev/null" || (kind == LineKind::Err && p.paths.err == p.paths.out) {
            continue;
        }
        let lines: Vec<String> = pm2_logfmt::tail_lines(Path::new(path), TAIL_LINES)
            .unwrap_or_default()
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        logs.push_lines(p.pm_id, kind, &lines);
    }
}

/// Holds a log stream for every app, reconnecting every second when it ends.
fn stream_loop(home: &Pm2Home, shared: &Shared) {
    loop {
        if let Some(client) = client::connect_existing(home) {
            let _ = stream_once(client, shared);
        }
        std::thread::sleep(POLL_EVERY);
    }
}

/// Reads one stream until the daemon hangs up.
fn stream_once(mut client: Client, shared: &Shared) -> anyhow::Result<()> {
    client.send(Request::Logs(LogsRequest {
        targets: vec![],
        daemon: false,
    }))?;
    while let Some(frame) = client.next_frame()? {
        match frame {
            Response::Log(chunk) => shared.lock().logs.push_chunk(&chunk),
            Response::LogsMissed { lines } => shared.lock().missed += lines,
            Response::Error { message } => anyhow::bail!("{message}"),
            _ => {}
        }
    }
    Ok(())
}
