//! The daemon's notify socket and the routing of each datagram, by the pid the kernel
//! stamps it with, to the instance that started that pid; what a process says is merged
//! per pid until its instance reads it.

use super::message::{parse, Note, Notice, MAX_DATAGRAM};
use nix::sys::socket::{recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags};
use std::collections::HashMap;
use std::collections::VecDeque;
use std::io::{self, IoSliceMut};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::UnixDatagram;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Senders without an instance whose messages are kept for a moment, in case their
/// instance is about to route them (a fast child can speak before its spawn returned).
const ORPHANS: usize = 64;
/// How long such messages are kept.
const ORPHAN_LIFE: Duration = Duration::from_secs(1);

/// The daemon's notify socket and which pid's messages go to which instance.
pub struct NotifyHub {
    path: PathBuf,
    routes: Mutex<HashMap<u32, Arc<Inbox>>>,
    /// What unrouted pids said lately (at most [`ORPHANS`], for [`ORPHAN_LIFE`]).
    orphans: Mutex<HashMap<u32, (Instant, Pending)>>,
}

/// What one process said since its instance last read, merged: a constant size however
/// much it sends.
#[derive(Default, Debug)]
struct Pending {
    status: Option<String>,
    watchdog_usec: Option<u64>,
    watchdog: bool,
    ready: bool,
    stopping: bool,
}

impl Pending {
    fn add(&mut self, notice: Notice) {
        match notice {
            Notice::Ready => self.ready = true,
            Notice::Stopping => self.stopping = true,
            Notice::Status(s) => self.status = Some(s),
            Notice::Watchdog => self.watchdog = true,
            Notice::WatchdogUsec(us) => self.watchdog_usec = Some(us),
        }
    }

    /// The notices, in the order they matter: what the process says of itself, then its
    /// watchdog, then its readiness.
    fn into_notes(self, pid: u32) -> impl Iterator<Item = Note> {
        let notices = [
            self.status.map(Notice::Status),
            self.watchdog_usec.map(Notice::WatchdogUsec),
            self.watchdog.then_some(Notice::Watchdog),
            self.ready.then_some(Notice::Ready),
            self.stopping.then_some(Notice::Stopping),
        ];
        notices
            .into_iter()
            .flatten()
            .map(move |notice| Note { pid, notice })
    }
}

/// An instance's mailbox: each of its processes' [`Pending`], and the wake-up.
#[derive(Default)]
struct Inbox {
    pending: Mutex<HashMap<u32, Pending>>,
    wake: Notify,
}

impl Inbox {
    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An instance's end of the hub: its queue, and the hub to route its pids.
pub struct NotifyLink {
    hub: Arc<NotifyHub>,
    inbox: Arc<Inbox>,
    /// Notes taken from the inbox, not yet handed out.
    ready: VecDeque<Note>,
}

impl NotifyHub {
    /// Binds `path` (a stale socket there is replaced), owner-only, and starts reading it
    /// on the daemon's runtime.
    pub fn bind(path: PathBuf) -> io::Result<Arc<NotifyHub>> {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::remove_file(&path);
        let std_sock = std::os::unix::net::UnixDatagram::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        setsockopt(&std_sock, sockopt::PassCred, &true).map_err(io::Error::from)?;
        std_sock.set_nonblocking(true)?;
        let sock = UnixDatagram::from_std(std_sock)?;
        let hub = Arc::new(NotifyHub {
            path,
            routes: Mutex::default(),
            orphans: Mutex::default(),
        });
        tokio::spawn(receive(sock, Arc::downgrade(&hub)));
        Ok(hub)
    }

    /// The socket's path, the children's `NOTIFY_SOCKET`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new instance's end.
    pub fn link(self: &Arc<Self>) -> NotifyLink {
        NotifyLink {
            hub: Arc::clone(self),
            inbox: Arc::default(),
            ready: VecDeque::new(),
        }
    }

    fn routes(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Arc<Inbox>>> {
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Merges one datagram's notices into what the instance of `pid` has to read (kept
    /// apart for a moment when `pid` has no instance yet).
    fn deliver(&self, pid: u32, datagram: &[u8]) {
        let notices = parse(datagram);
        if notices.is_empty() {
            return;
        }
        let Some(inbox) = self.routes().get(&pid).cloned() else {
            return self.keep_orphan(pid, notices);
        };
        let mut pending = inbox.pending();
        let merged = pending.entry(pid).or_default();
        for notice in notices {
            merged.add(notice);
        }
        drop(pending);
        inbox.wake.notify_one();
    }
}

impl NotifyHub {
    fn orphans(&self) -> std::sync::MutexGuard<'_, HashMap<u32, (Instant, Pending)>> {
        self.orphans.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps what an unrouted pid said, evicting the stale and, when full, the oldest.
    fn keep_orphan(&self, pid: u32, notices: Vec<Notice>) {
        let mut orphans = self.orphans();
        orphans.retain(|_, (at, _)| at.elapsed() < ORPHAN_LIFE);
        if orphans.len() >= ORPHANS && !orphans.contains_key(&pid) {
            let oldest = orphans
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(p, _)| *p);
            if let Some(oldest) = oldest {
                orphans.remove(&oldest);
            }
        }
        let (at, merged) = orphans
            .entry(pid)
            .or_insert_with(|| (Instant::now(), Pending::default()));
        *at = Instant::now();
        for notice in notices {
            merged.add(notice);
        }
    }

    /// What `pid` said before it was routed, if lately.
    fn adopt(&self, pid: u32) -> Option<Pending> {
        let (at, pending) = self.orphans().remove(&pid)?;
        (at.elapsed() < ORPHAN_LIFE).then_some(pending)
    }
}

impl Drop for NotifyHub {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl NotifyLink {
    /// The path for the child's `NOTIFY_SOCKET`.
    pub fn socket_path(&self) -> &Path {
        self.hub.path()
    }

    /// Messages from `pid` come to this instance from now on.
    pub fn route(&self, pid: u32) {
        self.hub.routes().insert(pid, Arc::clone(&self.inbox));
        if let Some(early) = self.hub.adopt(pid) {
            self.inbox.pending().insert(pid, early);
            self.inbox.wake.notify_one();
        }
    }

    /// `pid` is gone: its messages (and a later process's with a reused pid) go nowhere.
    pub fn unroute(&self, pid: u32) {
        self.hub.routes().remove(&pid);
        self.inbox.pending().remove(&pid);
    }

    /// The next message for this instance.
    pub async fn next(&mut self) -> Note {
        loop {
            if let Some(note) = self.ready.pop_front() {
                return note;
            }
            let taken = std::mem::take(&mut *self.inbox.pending());
            for (pid, pending) in taken {
                self.ready.extend(pending.into_notes(pid));
            }
            if self.ready.is_empty() {
                self.inbox.wake.notified().await;
            }
        }
    }
}

impl Drop for NotifyLink {
    fn drop(&mut self) {
        let inbox = &self.inbox;
        self.hub.routes().retain(|_, i| !Arc::ptr_eq(i, inbox));
    }
}

/// Reads datagrams until the hub is gone; a read error other than "try again" is logged
/// and reading goes on (a peer cannot make it stop).
async fn receive(sock: UnixDatagram, hub: Weak<NotifyHub>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let read = sock
            .async_io(Interest::READABLE, || recv_with_pid(&sock, &mut buf))
            .await;
        let Some(hub) = hub.upgrade() else { return };
        match read {
            Ok(Some((pid, len))) => hub.deliver(pid, &buf[..len]),
            Ok(None) => {}
            Err(e) => {
                tracing::debug!("notify socket read failed: {e}");
                tokio::task::yield_now().await;
            }
        }
    }
}

/// One datagram and its sender's pid (`None`: no credentials came with it).
fn recv_with_pid(sock: &UnixDatagram, buf: &mut [u8]) -> io::Result<Option<(u32, usize)>> {
    let mut cmsg = nix::cmsg_space!(libc::ucred);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(io::Error::from)?;
    let len = msg.bytes;
    let mut pid = None;
    for c in msg.cmsgs().map_err(io::Error::from)? {
        match c {
            ControlMessageOwned::ScmCredentials(cred) => pid = u32::try_from(cred.pid()).ok(),
            ControlMessageOwned::ScmRights(fds) => {
                for fd in fds {
                    // SAFETY: an fd the peer passed us, which nothing else owns.
                    drop(unsafe {
                        <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd)
                    });
                }
            }
            _ => {}
        }
    }
    Ok(pid.map(|p| (p, len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn what_a_process_says_before_it_is_routed_reaches_its_instance() {
        let dir = std::env::temp_dir().join(format!("pm2-notify-early-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let hub = NotifyHub::bind(dir.join("n.sock")).unwrap();
        let mut link = hub.link();
        let client = std::os::unix::net::UnixDatagram::unbound().unwrap();
        client.send_to(b"READY=1", hub.path()).unwrap();
        // Read by the hub before or after the route: it arrives either way.
        tokio::task::yield_now().await;
        link.route(std::process::id());
        let within = std::time::Duration::from_secs(5);
        let note = tokio::time::timeout(within, link.next()).await.unwrap();
        assert_eq!(note.notice, Notice::Ready);
        drop(link);
        drop(hub);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn orphans_are_bounded() {
        let hub = NotifyHub {
            path: std::env::temp_dir().join("pm2-notify-never-bound"),
            routes: Mutex::default(),
            orphans: Mutex::default(),
        };
        for pid in 0..(ORPHANS as u32 * 3) {
            hub.keep_orphan(pid, vec![Notice::Ready]);
        }
        assert_eq!(hub.orphans().len(), ORPHANS);
        assert!(
            hub.adopt(ORPHANS as u32 * 3 - 1).is_some(),
            "the newest is kept"
        );
        assert!(hub.adopt(0).is_none(), "the oldest is gone");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_of_datagrams_is_merged_and_keeps_its_ready() {
        let dir = std::env::temp_dir().join(format!("pm2-notify-flood-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let hub = NotifyHub::bind(dir.join("n.sock")).unwrap();
        let mut link = hub.link();
        link.route(std::process::id());
        let path = hub.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let client = std::os::unix::net::UnixDatagram::unbound().unwrap();
            for i in 0..2000 {
                client
                    .send_to(format!("STATUS={i}").as_bytes(), &path)
                    .unwrap();
            }
            client.send_to(b"READY=1", &path).unwrap();
            client.send_to(b"STATUS=last", &path).unwrap();
        })
        .await
        .unwrap();
        let within = std::time::Duration::from_secs(5);
        let mut seen = Vec::new();
        while !seen.contains(&Notice::Ready) || !seen.contains(&Notice::Status("last".into())) {
            let note = tokio::time::timeout(within, link.next()).await.unwrap();
            seen.push(note.notice);
        }
        assert!(
            seen.len() < 2000,
            "merged, not queued: {} notes",
            seen.len()
        );
        drop(link);
        drop(hub);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_datagram_reaches_the_instance_its_sender_is_routed_to_and_no_other() {
        let dir = std::env::temp_dir().join(format!("pm2-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let hub = NotifyHub::bind(dir.join("n.sock")).unwrap();
        let (mut a, mut b) = (hub.link(), hub.link());
        let me = std::process::id();
        let client = std::os::unix::net::UnixDatagram::unbound().unwrap();
        let within = std::time::Duration::from_secs(5);
        a.route(me);
        client.send_to(b"\x00garbage\nREADY=0", hub.path()).unwrap();
        client.send_to(b"READY=1", hub.path()).unwrap();
        let note = tokio::time::timeout(within, a.next()).await.unwrap();
        assert_eq!((note.pid, note.notice), (me, Notice::Ready));
        b.route(me);
        client.send_to(b"STATUS=b", hub.path()).unwrap();
        let note = tokio::time::timeout(within, b.next()).await.unwrap();
        assert_eq!(note.notice, Notice::Status("b".into()));
        // Datagrams arrive in order: what reached b was not delivered to a.
        assert!(a.ready.is_empty() && a.inbox.pending().is_empty());
        drop((a, b));
        assert!(hub.routes().is_empty(), "a dropped link leaves no route");
        drop(hub);
        assert!(!dir.join("n.sock").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
