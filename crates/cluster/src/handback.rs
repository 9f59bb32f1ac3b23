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

use crate::listener::{self, ListenerKey};
use nix::sys::socket::{getsockopt, recv, sockopt, MsgFlags, SockType};
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::time::Instant;
use tokio::sync::mpsc;

/// How long a let-go connection with no request yet is kept for its client's next request.
pub const IDLE_WAIT: Duration = Duration::from_secs(1);
/// How often the worker's descriptor table is checked while connections are held: often
/// right after the `disconnect` (when Node closes its idle connections), then less.
const FIRST_POLL: Duration = Duration::from_millis(5);
const MAX_POLL: Duration = Duration::from_millis(50);
/// Bytes peeked to recognise a request line.
const PEEK: usize = 4096;
/// `tcpi_state` of an established connection (include/net/tcp_states.h).
const TCP_ESTABLISHED: u8 = 1;

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

/// What to do with a connection the worker has let go.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    HandBack,
    Wait,
    Close,
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

/// Established with a request waiting (hand back), established and quiet (wait), or else.
fn verdict(fd: BorrowedFd<'_>) -> Verdict {
    if tcp_state(fd) != Some(TCP_ESTABLISHED) {
        return Verdict::Close;
    }
    let mut buf = [0u8; PEEK];
    match recv(
        fd.as_raw_fd(),
        &mut buf,
        MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT,
    ) {
        Ok(0) => Verdict::Close,
        Ok(n) => match request_line(&buf[..n], n == PEEK) {
            Some(true) => Verdict::HandBack,
            Some(false) => Verdict::Close,
            None => Verdict::Wait,
        },
        Err(nix::errno::Errno::EAGAIN) => Verdict::Wait,
        Err(_) => Verdict::Close,
    }
}

/// Whether `data` starts with a whole HTTP/1 request line (`METHOD target HTTP/1.x`); None
/// when it is a valid beginning that is still incomplete. A `full` buffer without a whole
/// line is refused (a target over 4 KiB is not worth the doubt).
fn request_line(data: &[u8], full: bool) -> Option<bool> {
    let method_len = data
        .iter()
        .take_while(|b| b.is_ascii_uppercase() || **b == b'-' || **b == b'_')
        .count();
    let rest = &data[method_len..];
    if method_len > 24 {
        return Some(false);
    }
    if rest.is_empty() {
        return if full { Some(false) } else { None };
    }
    if method_len == 0 || rest[0] != b' ' {
        return Some(false);
    }
    let Some(end) = rest.iter().position(|b| *b == b'\n') else {
        // No whole line in a full peek: not something to vouch for.
        return if full { Some(false) } else { None };
    };
    let line = rest[1..end].strip_suffix(b"\r").unwrap_or(&rest[1..end]);
    let mut parts = line.rsplitn(2, |b| *b == b' ');
    let version = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    Some(
        !target.is_empty()
            && !target.contains(&b' ')
            && (version == b"HTTP/1.1" || version == b"HTTP/1.0"),
    )
}

/// `tcpi_state`, the first byte of `struct tcp_info`.
fn tcp_state(fd: BorrowedFd<'_>) -> Option<u8> {
    let mut info = [0u8; 8];
    let mut len = info.len() as libc::socklen_t;
    // SAFETY: the buffer and its length are valid for the call; the kernel writes at most
    // `len` bytes and updates `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    (rc == 0 && len >= 1).then_some(info[0])
}

/// The key of the listener that accepted `fd`, a connected TCP stream: the one bound to
/// its local address, else a wildcard one on its port (an outgoing connection never gets a
/// listening port as its local port).
fn accepted_on(fd: BorrowedFd<'_>, ports: &[(ListenerKey, SocketAddr)]) -> Option<ListenerKey> {
    if getsockopt(&fd, sockopt::SockType).ok()? != SockType::Stream {
        return None;
    }
    if getsockopt(&fd, sockopt::AcceptConn).ok()? {
        return None;
    }
    let local = listener::ip_addr(fd)?;
    let ip = local.ip().to_canonical();
    let on_port = || ports.iter().filter(|(_, l)| l.port() == local.port());
    let exact = on_port().find(|(_, l)| l.ip().to_canonical() == ip);
    let wildcard = || {
        on_port().find(|(_, l)| match l.ip() {
            IpAddr::V4(any) => any.is_unspecified() && ip.is_ipv4(),
            IpAddr::V6(any) => any.is_unspecified(), // dual-stack takes v4 (mapped) too
        })
    };
    exact.or_else(wildcard).map(|(key, _)| key.clone())
}

/// The worker's socket descriptors and their inodes, from `/proc/<pid>/fd`: empty once the
/// process has exited (a zombie has no descriptor table, a reaped one no folder), None when
/// the table cannot be read (out of fds, say), which must not pass for "all closed".
fn socket_fds(pid: i32) -> Option<Vec<(i32, u64)>> {
    let dir = match std::fs::read_dir(format!("/proc/{pid}/fd")) {
        Ok(dir) => dir,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(Vec::new()),
        Err(_) => return None,
    };
    let fds = dir
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let number = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            let inode = target
                .to_str()?
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()?;
            Some((number, inode))
        })
        .collect();
    Some(fds)
}

fn socket_inodes(pid: i32) -> Option<HashSet<u64>> {
    Some(
        socket_fds(pid)?
            .into_iter()
            .map(|(_, inode)| inode)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_request_lines() {
        let yes: [&[u8]; 4] = [
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /a?b=c HTTP/1.0\r\n",
            b"M-SEARCH * HTTP/1.1\n",
            b"PROPFIND /dav HTTP/1.1\r\n",
        ];
        for d in yes {
            assert_eq!(
                request_line(d, false),
                Some(true),
                "{:?}",
                String::from_utf8_lossy(d)
            );
        }
        let no: [&[u8]; 6] = [
            b"get / HTTP/1.1\r\n",
            b"GET  / HTTP/1.1\r\n",
            b"GET / HTTP/2.0\r\n",
            b"\x16\x03\x01\x02\x00", // a TLS ClientHello
            b"Host: x\r\n",
            b"GET /\r\n",
        ];
        for d in no {
            assert_eq!(
                request_line(d, false),
                Some(false),
                "{:?}",
                String::from_utf8_lossy(d)
            );
        }
        let partial: [&[u8]; 3] = [b"GE", b"GET ", b"GET /index.html HTT"];
        for d in partial {
            assert_eq!(
                request_line(d, false),
                None,
                "{:?}",
                String::from_utf8_lossy(d)
            );
        }
        assert_eq!(request_line(b"GET /very-long", true), Some(false));
        assert_eq!(
            request_line(b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", true),
            Some(false)
        );
    }

    #[test]
    fn a_connection_is_matched_to_the_listener_of_its_local_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let bound = listener.local_addr().unwrap();
        let port = bound.port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        let key: ListenerKey = ("app".into(), "k".into());
        let other: ListenerKey = ("app".into(), "other-address".into());
        let any: ListenerKey = ("app".into(), "any".into());
        let elsewhere = SocketAddr::from(([10, 9, 8, 7], port));
        let wildcard = SocketAddr::from(([0u16; 8], port));
        // The same port on another address is another server; the wildcard one only counts
        // when no listener has the exact address.
        let ports = vec![
            (other, elsewhere),
            (any.clone(), wildcard),
            (key.clone(), bound),
        ];
        assert_eq!(accepted_on(accepted.as_fd(), &ports), Some(key.clone()));
        let ports = vec![(any.clone(), wildcard)];
        assert_eq!(accepted_on(accepted.as_fd(), &ports), Some(any));
        let ports = vec![(key.clone(), bound)];
        assert_eq!(accepted_on(accepted.as_fd(), &ports), Some(key));
        assert_eq!(accepted_on(client.as_fd(), &ports), None, "outgoing side");
        assert_eq!(
            accepted_on(listener.as_fd(), &ports),
            None,
            "listening socket"
        );
    }

    #[test]
    fn verdicts_follow_state_and_unread_data() {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        assert_eq!(verdict(accepted.as_fd()), Verdict::Wait, "quiet");
        client.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while verdict(accepted.as_fd()) == Verdict::Wait && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert_eq!(verdict(accepted.as_fd()), Verdict::HandBack);
        accepted.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(verdict(accepted.as_fd()), Verdict::Close, "shut down by us");
    }
}
