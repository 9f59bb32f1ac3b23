//! `sd_notify` readiness (beyond PM2; the ecosystem key `notify`, and every app with
//! `listen`): the daemon owns one unix datagram socket, `notify.sock` in PM2_HOME (0600),
//! whose path each such process gets as `NOTIFY_SOCKET`. The kernel stamps every datagram
//! with the sender's pid (`SO_PASSCRED`), which routes it to the instance that spawned that
//! pid; a datagram from any other pid is dropped.
//!
//! One socket per daemon rather than one per instance: a hundred apps cost one fd and one
//! small task, and the pid from the kernel (not a path the app could guess) says who
//! spoke. Messages are bounded: a datagram is read into [`MAX_DATAGRAM`] bytes (the rest is
//! cut off), `STATUS=` keeps [`MAX_STATUS`] characters, and what a process said is kept
//! merged until its instance reads it ([`Pending`]: the last `STATUS=`, whether `READY=1`
//! came...), so a flood costs a constant amount of memory and never hides a `READY=1`.
//! Unknown or malformed lines are ignored.

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

/// Bytes read of one datagram (systemd's own messages are far smaller).
pub const MAX_DATAGRAM: usize = 4096;
/// Characters of `STATUS=` kept.
pub const MAX_STATUS: usize = 256;

/// One thing a process said, of those pm2-rs acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// `READY=1`: done starting up.
    Ready,
    /// `STOPPING=1`: shutting down.
    Stopping,
    /// `STATUS=...`: a line for `describe`.
    Status(String),
    /// `WATCHDOG=1`: still alive.
    Watchdog,
    /// `WATCHDOG_USEC=n`: the watchdog interval the process asks for.
    WatchdogUsec(u64),
}

/// A notice and the pid the kernel says sent it.
#[derive(Debug)]
pub struct Note {
    /// The sender's pid (from `SCM_CREDENTIALS`).
    pub pid: u32,
    /// What it said.
    pub notice: Notice,
}

/// A process's watchdog (`watchdog_sec`): when it is due, re-armed by each `WATCHDOG=1`.
#[derive(Default, Debug)]
pub struct Watchdog {
    every: Option<Duration>,
    due: Option<Instant>,
}

impl Watchdog {
    /// Arms it for a new process (off without an interval).
    pub fn arm(&mut self, every: Option<Duration>) {
        self.every = every;
        self.pet();
    }

    /// `WATCHDOG=1`: due one interval from now.
    pub fn pet(&mut self) {
        self.due = self.every.map(|every| Instant::now() + every);
    }

    /// `WATCHDOG_USEC=`: a new interval (only for a process that has a watchdog), from now.
    pub fn set_interval(&mut self, every: Duration) {
        if self.every.is_some() {
            self.every = Some(every.max(Duration::from_millis(1)));
            self.pet();
        }
    }

    /// Off until armed again (the process is gone or being replaced).
    pub fn disarm(&mut self) {
        self.due = None;
    }

    /// When it fires, if armed.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// The interval, if any.
    pub fn every(&self) -> Option<Duration> {
        self.every
    }
}

/// The notices in one datagram (`KEY=VALUE` lines), in order; the rest is ignored.
pub fn parse(datagram: &[u8]) -> Vec<Notice> {
    String::from_utf8_lossy(datagram)
        .split('\n')
        .filter_map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Option<Notice> {
    let (key, value) = line.split_once('=')?;
    let one = value == "1";
    match key {
        "READY" => one.then_some(Notice::Ready),
        "STOPPING" => one.then_some(Notice::Stopping),
        "WATCHDOG" => one.then_some(Notice::Watchdog),
        "STATUS" => Some(Notice::Status(
            value
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_STATUS)
                .collect(),
        )),
        "WATCHDOG_USEC" => value
            .parse()
            .ok()
            .filter(|v| *v > 0)
            .map(Notice::WatchdogUsec),
        _ => None,
    }
}

/// The daemon's notify socket and which pid's messages go to which instance.
pub struct NotifyHub {
    path: PathBuf,
    routes: Mutex<HashMap<u32, Arc<Inbox>>>,
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

    /// Merges one datagram's notices into what the instance of `pid` has to read.
    fn deliver(&self, pid: u32, datagram: &[u8]) {
        let Some(inbox) = self.routes().get(&pid).cloned() else {
            return;
        };
        let notices = parse(datagram);
        if notices.is_empty() {
            return;
        }
        let mut pending = inbox.pending();
        let merged = pending.entry(pid).or_default();
        for notice in notices {
            merged.add(notice);
        }
        drop(pending);
        inbox.wake.notify_one();
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

    #[test]
    fn the_known_keys_are_read_and_the_rest_ignored() {
        let got =
            parse(b"READY=1\nSTATUS=warming up\nWATCHDOG=1\nWATCHDOG_USEC=500000\nSTOPPING=1");
        assert_eq!(
            got,
            vec![
                Notice::Ready,
                Notice::Status("warming up".into()),
                Notice::Watchdog,
                Notice::WatchdogUsec(500_000),
                Notice::Stopping,
            ]
        );
        assert!(parse(b"READY=0\nREADY\nFOO=1\n=\n\n\xff\xfe").is_empty());
        assert!(parse(b"WATCHDOG_USEC=soon\nWATCHDOG_USEC=0").is_empty());
    }

    #[test]
    fn status_is_bounded_and_has_no_control_characters() {
        let long = format!("STATUS={}\u{7}x", "a".repeat(1000));
        let got = parse(long.as_bytes());
        let [Notice::Status(s)] = got.as_slice() else {
            panic!("one status expected: {got:?}");
        };
        assert_eq!(s.chars().count(), MAX_STATUS);
        assert!(!s.contains('\u{7}'));
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

    #[test]
    fn the_watchdog_is_due_one_interval_after_each_pet_and_never_without_one() {
        let mut w = Watchdog::default();
        w.arm(None);
        assert!(w.due().is_none());
        w.set_interval(Duration::from_secs(1));
        assert!(
            w.due().is_none(),
            "WATCHDOG_USEC= alone does not turn it on"
        );
        let before = Instant::now();
        w.arm(Some(Duration::from_secs(60)));
        let due = w.due().unwrap();
        assert!(
            due >= before + Duration::from_secs(60)
                && due <= Instant::now() + Duration::from_secs(60)
        );
        w.set_interval(Duration::from_secs(1));
        assert!(w.due().unwrap() <= Instant::now() + Duration::from_secs(1));
        w.pet();
        assert!(w.due().unwrap() <= Instant::now() + Duration::from_secs(1));
        w.set_interval(Duration::ZERO);
        assert_eq!(w.every(), Some(Duration::from_millis(1)));
        w.disarm();
        assert!(w.due().is_none());
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
