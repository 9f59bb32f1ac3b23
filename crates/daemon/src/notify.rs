//! `sd_notify` readiness (beyond PM2; the ecosystem key `notify`, and every app with
//! `listen`): the daemon owns one unix datagram socket, `notify.sock` in PM2_HOME (0600),
//! whose path each such process gets as `NOTIFY_SOCKET`. The kernel stamps every datagram
//! with the sender's pid (`SO_PASSCRED`), which routes it to the instance that spawned that
//! pid; a datagram from any other pid is dropped.
//!
//! One socket per daemon rather than one per instance: a hundred apps cost one fd and one
//! small task, and the pid from the kernel (not a path the app could guess) says who
//! spoke. Messages are bounded: a datagram is read into [`MAX_DATAGRAM`] bytes (the rest is
//! cut off), `STATUS=` keeps [`MAX_STATUS`] characters, and each instance has a queue of
//! [`QUEUE`] messages; what does not fit is dropped, so a chatty app costs nothing more.
//! Unknown or malformed lines are ignored.

use nix::sys::socket::{recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags};
use std::collections::HashMap;
use std::io::{self, IoSliceMut};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::UnixDatagram;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Bytes read of one datagram (systemd's own messages are far smaller).
pub const MAX_DATAGRAM: usize = 4096;
/// Characters of `STATUS=` kept.
pub const MAX_STATUS: usize = 256;
/// Messages an instance may have waiting; beyond, they are dropped.
const QUEUE: usize = 32;

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
    routes: Mutex<HashMap<u32, mpsc::Sender<Note>>>,
}

/// An instance's end of the hub: its queue, and the hub to route its pids.
pub struct NotifyLink {
    hub: Arc<NotifyHub>,
    tx: mpsc::Sender<Note>,
    rx: mpsc::Receiver<Note>,
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
        let (tx, rx) = mpsc::channel(QUEUE);
        NotifyLink {
            hub: Arc::clone(self),
            tx,
            rx,
        }
    }

    fn routes(&self) -> std::sync::MutexGuard<'_, HashMap<u32, mpsc::Sender<Note>>> {
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands one datagram's notices to the instance of `pid`, as far as its queue has room.
    fn deliver(&self, pid: u32, datagram: &[u8]) {
        let routes = self.routes();
        let Some(tx) = routes.get(&pid) else {
            return;
        };
        for notice in parse(datagram) {
            if tx.try_send(Note { pid, notice }).is_err() {
                break;
            }
        }
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
        self.hub.routes().insert(pid, self.tx.clone());
    }

    /// `pid` is gone: its messages (and a later process's with a reused pid) go nowhere.
    pub fn unroute(&self, pid: u32) {
        self.hub.routes().remove(&pid);
    }

    /// The next message for this instance.
    pub async fn next(&mut self) -> Note {
        match self.rx.recv().await {
            Some(note) => note,
            // Never: the link holds a sender itself.
            None => std::future::pending().await,
        }
    }
}

impl Drop for NotifyLink {
    fn drop(&mut self) {
        let tx = &self.tx;
        self.hub.routes().retain(|_, t| !t.same_channel(tx));
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
        assert!(a.rx.try_recv().is_err());
        drop((a, b));
        assert!(hub.routes().is_empty(), "a dropped link leaves no route");
        drop(hub);
        assert!(!dir.join("n.sock").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
