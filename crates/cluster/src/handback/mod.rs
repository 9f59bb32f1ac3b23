//! Handing back the keep-alive connections a retiring worker lets go.
//!
//! A worker told to `disconnect` runs `server.close()`, which in Node ≥ 19 destroys every
//! idle keep-alive connection at once, including those whose client has already sent its
//! next request: that request fails (connection reset) although a fresh worker is ready.
//! PM2 loses such requests on every reload of a busy keep-alive service.
//!
//! So before the `disconnect`, the primary takes its own reference to every connection the
//! worker holds on the app's TCP listeners (`pidfd_getfd(2)`), round-robin or shared. A close by the
//! worker then no longer reaches the client, and once the worker has let a connection go
//! the primary decides:
//! * still established and its unread data starts with an HTTP request line: the connection
//!   is at a request boundary (the worker closed it while idle), so it is handed to a live
//!   worker as if just accepted, and that worker answers the request;
//! * established and nothing sent yet: wait a little for the client's next request
//!   ([`IDLE_WAIT`]), then decide again, or close it;
//! * anything else (shut down by the worker, closed by the client, not HTTP): closed, which
//!   is what the client would have seen without us.
//!
//! Connections the worker still holds when it has to be killed were in use: they are closed
//! ([`Handback::abandon_in_use`]), never handed on. Where `pidfd_getfd` is refused (no
//! ptrace permission, old kernel, seccomp), [`hold`] fails and retirement works as in Node.
//!
//! Rescued connections go back on a channel of their own ([`HandedBack`]), which the
//! primary reads beside its commands: this module knows nothing of the primary.

mod inspect;

use crate::listener::ListenerKey;
use inspect::{accepted_on, socket_fds, socket_inodes, verdict, Verdict};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long a let-go connection with no request yet is kept for its client's next request.
pub const IDLE_WAIT: Duration = Duration::from_secs(1);
/// How often the worker's descriptor table is checked while connections are held: often
/// right after the `disconnect` (when Node closes its idle connections), then less.
const FIRST_POLL: Duration = Duration::from_millis(5);
const MAX_POLL: Duration = Duration::from_millis(50);

/// A connection rescued from a retiring worker, to be handed to a live one as if just
/// accepted on the listener `key`.
#[derive(Debug)]
pub struct HandedBack {
    /// The listener that accepted it.
    pub key: ListenerKey,
    /// The connection.
    pub conn: OwnedFd,
}

/// Why the connections of a worker cannot be held (retirement then works as in Node).
#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    /// Not a valid process id.
    #[error("invalid pid {0}")]
    InvalidPid(i32),
    /// `pidfd_open` failed (the worker is gone, or an old kernel).
    #[error("pidfd_open of pid {pid}: {source}")]
    Pidfd {
        /// The worker's pid.
        pid: i32,
        /// What the kernel said.
        source: std::io::Error,
    },
    /// `/proc/<pid>/fd` could not be listed.
    #[error("cannot read /proc/{0}/fd")]
    DescriptorTable(i32),
    /// `pidfd_getfd` refused (no ptrace permission, seccomp, old kernel).
    #[error("pidfd_getfd of fd {fd} of pid {pid}: {source}")]
    Getfd {
        /// The worker's pid.
        pid: i32,
        /// The worker's descriptor number.
        fd: i32,
        /// What the kernel said.
        source: std::io::Error,
    },
}

/// One connection held on the worker's behalf.
struct Held {
    fd: OwnedFd,
    inode: u64,
    key: ListenerKey,
}

#[derive(Default)]
struct HeldSet {
    /// Still open in the worker.
    held: Vec<Held>,
    /// Let go, established, no request yet: (connection, give up at).
    waiting: Vec<(Held, Instant)>,
}

/// The connections held while one worker retires; the watcher task runs until the worker
/// has let every one go and the waiting ones are decided.
pub struct Handback {
    pid: i32,
    set: Arc<Mutex<HeldSet>>,
}

impl Handback {
    /// How many connections are held (for logs and tests).
    pub fn held(&self) -> usize {
        self.set.lock().map(|s| s.held.len()).unwrap_or(0)
    }

    /// Call right before the worker is signalled: whatever it still holds is in use and is
    /// closed, never handed on (a request may be half read). Reads the worker's descriptor
    /// table on the blocking pool.
    pub async fn abandon_in_use(&self) {
        let (pid, set) = (self.pid, Arc::clone(&self.set));
        let abandon = move || {
            let open = socket_inodes(pid);
            if let Ok(mut set) = set.lock() {
                match open {
                    Some(open) => set.held.retain(|h| !open.contains(&h.inode)),
                    // Cannot tell what the worker still uses: hand nothing on.
                    None => set.held.clear(),
                }
            }
        };
        if tokio::task::spawn_blocking(abandon).await.is_err() {
            tracing::warn!("cluster: could not check what worker pid {pid} still uses");
        }
    }
}

/// Takes a reference to each connection worker `pid` holds on one of `ports` (the app's
/// TCP listeners), and starts the watcher that decides about each once the worker lets it
/// go; rescued connections are sent on `back`. Blocking (a few syscalls per socket of the
/// worker): call it on the blocking pool; the watcher runs there too.
pub fn hold(
    pid: i32,
    ports: &[(ListenerKey, SocketAddr)],
    back: mpsc::Sender<HandedBack>,
) -> Result<Handback, HoldError> {
    let held = take_connections(pid, ports)?;
    let set = Arc::new(Mutex::new(HeldSet {
        held,
        waiting: Vec::new(),
    }));
    let watched = Arc::clone(&set);
    tokio::task::spawn_blocking(move || watch(pid, watched, back));
    Ok(Handback { pid, set })
}

/// Duplicates every connection of worker `pid` accepted on one of `ports`.
fn take_connections(pid: i32, ports: &[(ListenerKey, SocketAddr)]) -> Result<Vec<Held>, HoldError> {
    let target = rustix::process::Pid::from_raw(pid).ok_or(HoldError::InvalidPid(pid))?;
    let pidfd =
        rustix::process::pidfd_open(target, rustix::process::PidfdFlags::empty()).map_err(|e| {
            HoldError::Pidfd {
                pid,
                source: e.into(),
            }
        })?;
    let numbers = socket_fds(pid).ok_or(HoldError::DescriptorTable(pid))?;
    let mut held = Vec::new();
    for (number, _) in numbers {
        let fd = match rustix::process::pidfd_getfd(
            &pidfd,
            number,
            rustix::process::PidfdGetfdFlags::empty(),
        ) {
            Ok(fd) => fd,
            Err(e) if e == rustix::io::Errno::BADF => continue, // closed meanwhile
            // Out of descriptors: hold what we have, the rest retire as without us.
            Err(e) if e == rustix::io::Errno::MFILE || e == rustix::io::Errno::NFILE => {
                tracing::warn!("cluster: out of file descriptors holding connections of pid {pid}");
                break;
            }
            Err(e) => {
                return Err(HoldError::Getfd {
                    pid,
                    fd: number,
                    source: e.into(),
                })
            }
        };
        // The inode of what was duplicated, not of what the number named when listed: the
        // worker may have closed that number and reused it for a new connection since.
        let Ok(inode) = nix::sys::stat::fstat(&fd).map(|st| st.st_ino) else {
            continue;
        };
        if let Some(key) = accepted_on(fd.as_fd(), ports) {
            held.push(Held { fd, inode, key });
        }
    }
    Ok(held)
}

/// Until nothing is held or waiting: move what the worker let go to a verdict (a blocking
/// loop: each pass lists the worker's descriptor table).
fn watch(pid: i32, set: Arc<Mutex<HeldSet>>, back: mpsc::Sender<HandedBack>) {
    let mut pause = FIRST_POLL;
    loop {
        std::thread::sleep(pause);
        pause = (pause * 3 / 2).min(MAX_POLL);
        let (rescued, done) = {
            let Ok(mut set) = set.lock() else { return };
            let rescued = step(pid, &mut set, Instant::now());
            (rescued, set.held.is_empty() && set.waiting.is_empty())
        };
        for h in rescued {
            tracing::debug!("cluster: connection handed back from worker pid {pid}");
            let rescued = HandedBack {
                key: h.key,
                conn: h.fd,
            };
            if back.blocking_send(rescued).is_err() {
                return;
            }
        }
        if done {
            return;
        }
    }
}

/// One pass: decides about every connection the worker no longer holds; returns those to
/// hand back.
fn step(pid: i32, set: &mut HeldSet, now: Instant) -> Vec<Held> {
    let open = if set.held.is_empty() {
        Some(HashSet::new())
    } else {
        socket_inodes(pid)
    };
    // An unreadable table (not a vanished process) tells nothing: keep holding all.
    let (still, released): (Vec<Held>, Vec<Held>) = std::mem::take(&mut set.held)
        .into_iter()
        .partition(|h| open.as_ref().is_none_or(|open| open.contains(&h.inode)));
    set.held = still;
    let mut rescued = Vec::new();
    let waiting = std::mem::take(&mut set.waiting);
    let candidates = released
        .into_iter()
        .map(|h| (h, now + IDLE_WAIT))
        .chain(waiting);
    for (h, give_up) in candidates {
        match verdict(h.fd.as_fd()) {
            Verdict::HandBack => rescued.push(h),
            Verdict::Wait if now < give_up => set.waiting.push((h, give_up)),
            Verdict::Wait | Verdict::Close => {}
        }
    }
    rescued
}
