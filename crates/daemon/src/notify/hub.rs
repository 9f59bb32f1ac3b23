//! The daemon's notify socket and the routing of each datagram, by the pid the kernel
//! stamps it with, to the instance that started that pid; what a process says is merged
//! per pid until its instance reads it.

use super::message::{parse, Note, Notice};
use super::receive::{bind_abstract, bind_datagram, receive, Sender};
use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Senders without an instance whose messages are kept for a moment, in case their
/// instance is about to route them (a fast child can speak before its spawn returned).
const ORPHANS: usize = 64;
/// How long such messages are kept.
const ORPHAN_LIFE: Duration = Duration::from_secs(1);

/// The daemon's notify sockets and which pid's messages go to which instance.
pub struct NotifyHub {
    path: PathBuf,
    /// The abstract socket's `NOTIFY_SOCKET` (`@name`), for apps run as another user, who
    /// cannot reach the owner-only `path`; `None` when it could not be bound.
    open_name: Option<String>,
    routes: Mutex<HashMap<u32, Arc<Inbox>>>,
    /// What unrouted pids said lately (at most [`ORPHANS`], for [`ORPHAN_LIFE`]).
    orphans: Mutex<HashMap<u32, (Instant, Pending)>>,
    /// The users whose apps were given the abstract socket: on it, only their unrouted
    /// pids are kept as orphans (anyone may write to an abstract socket; no other user's
    /// datagrams take a place in the orphans).
    open_uids: Mutex<HashSet<u32>>,
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
    /// Binds `path` (a stale socket there is replaced), owner-only, and an abstract socket
    /// for apps of other users (logged and left out when it cannot be bound), and starts
    /// reading both on the daemon's runtime.
    pub fn bind(path: PathBuf) -> io::Result<Arc<NotifyHub>> {
        let sock = bind_datagram(&path)?;
        let open = bind_abstract()
            .map_err(|e| {
                tracing::warn!(
                    "cannot bind an abstract notify socket: {e}; apps run as another user \
                     go online at listen_timeout"
                )
            })
            .ok();
        let hub = Arc::new(NotifyHub {
            path,
            open_name: open.as_ref().map(|(name, _)| format!("@{name}")),
            routes: Mutex::default(),
            orphans: Mutex::default(),
            open_uids: Mutex::default(),
        });
        tokio::spawn(receive(sock, false, to_hub(Arc::downgrade(&hub))));
        if let Some((_, sock)) = open {
            tokio::spawn(receive(sock, true, to_hub(Arc::downgrade(&hub))));
        }
        Ok(hub)
    }

    /// The `NOTIFY_SOCKET` for a process run as `uid` (`None`: the daemon's own user): the
    /// owner-only path, or for another user the abstract socket (whose orphans that user's
    /// pids may then take a place in).
    pub fn socket_for(&self, uid: Option<u32>) -> String {
        let other = uid.filter(|u| *u != nix::unistd::Uid::effective().as_raw());
        match (other, &self.open_name) {
            (Some(uid), Some(name)) => {
                self.open_uids
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(uid);
                name.clone()
            }
            _ => self.path().to_string_lossy().into_owned(),
        }
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

    /// Merges one datagram's notices into what the instance of its sender's pid has to
    /// read (kept apart for a moment when that pid has no instance yet and may have one:
    /// on the abstract socket, only a user given it may).
    pub(super) fn deliver(&self, from: Sender, datagram: &[u8]) {
        let pid = from.pid;
        let notices = parse(datagram);
        if notices.is_empty() {
            return;
        }
        let Some(inbox) = self.routes().get(&pid).cloned() else {
            let expected = !from.on_open_socket
                || self
                    .open_uids
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .contains(&from.uid);
            if expected {
                self.keep_orphan(pid, notices);
            }
            return;
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

/// Hands each datagram to the hub while it lives.
fn to_hub(hub: Weak<NotifyHub>) -> impl FnMut(Sender, &[u8]) -> bool + Send {
    move |from, datagram| match hub.upgrade() {
        Some(hub) => {
            hub.deliver(from, datagram);
            true
        }
        None => false,
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
    /// The child's `NOTIFY_SOCKET`, for a child run as `uid` (see
    /// [`NotifyHub::socket_for`]).
    pub fn socket_for(&self, uid: Option<u32>) -> String {
        self.hub.socket_for(uid)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::linux::net::SocketAddrExt;

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
            open_name: None,
            routes: Mutex::default(),
            orphans: Mutex::default(),
            open_uids: Mutex::default(),
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

    fn send_abstract(name: &str, what: &[u8]) {
        let name = name.strip_prefix('@').expect("an abstract name");
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let client = std::os::unix::net::UnixDatagram::unbound().unwrap();
        client.send_to_addr(what, &addr).unwrap();
    }

    #[tokio::test]
    async fn the_abstract_socket_hears_routed_pids_and_keeps_no_stranger_for_later() {
        let dir = std::env::temp_dir().join(format!("pm2-notify-open-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let hub = NotifyHub::bind(dir.join("n.sock")).unwrap();
        let me = nix::unistd::Uid::effective().as_raw();
        assert_eq!(hub.socket_for(None), hub.path().to_string_lossy());
        assert_eq!(hub.socket_for(Some(me)), hub.path().to_string_lossy());
        let open = hub.socket_for(Some(me.wrapping_add(1)));
        assert!(open.starts_with("@pm2-rs/notify/"), "{open}");
        let mut link = hub.link();
        // Not routed, and this user was not given the socket: not kept for later.
        send_abstract(&open, b"STATUS=early");
        let within = std::time::Duration::from_secs(5);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        link.route(std::process::id());
        send_abstract(&open, b"READY=1");
        let note = tokio::time::timeout(within, link.next()).await.unwrap();
        assert_eq!(note.notice, Notice::Ready, "the early STATUS was dropped");
        drop(link);
        drop(hub);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
