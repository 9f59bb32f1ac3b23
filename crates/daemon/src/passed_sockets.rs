//! Sockets systemd passes to pm2-rs itself (beyond PM2): when the daemon runs under a
//! socket unit (`pm2-runtime` in a `Type=simple` service, or `pm2 resurrect` in a
//! `Type=forking` one, whose CLI hands them to the daemon it spawns), systemd binds the
//! app's sockets and passes them as it passes them to any service (`LISTEN_PID`,
//! `LISTEN_FDS`, `LISTEN_FDNAMES`, fds from 3). The daemon takes them once at start
//! (close-on-exec, the variables removed), and an app whose `listen` entry names one, by
//! its address or as `fd:<name>`, gets that socket instead of a newly bound one: it was
//! listening before pm2-rs started, so connections made before the app was up are served.

use nix::sys::socket::{getsockname, getsockopt, sockopt, SockaddrStorage};
use std::io;
use std::net::{SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// systemd's first passed descriptor (`SD_LISTEN_FDS_START`).
const FIRST_FD: RawFd = 3;

/// One socket systemd passed.
#[derive(Debug)]
struct Passed {
    /// The `listen` address it is bound to, in the canonical form `listen` values take
    /// (`127.0.0.1:3000`, `[::1]:3000`, `unix:/run/app.sock`); `None` when it has none
    /// that a `listen` entry could name (it is still reachable as `fd:<name>`).
    address: Option<String>,
    /// Its `LISTEN_FDNAMES` entry (systemd's `FileDescriptorName=`, by default the socket
    /// unit's name).
    name: String,
    fd: OwnedFd,
}

/// What systemd passed to this process, held for the daemon's life so an app deleted and
/// started again gets the same socket.
#[derive(Debug, Default)]
pub struct PassedSockets {
    sockets: Vec<Passed>,
    /// Which sockets an app took, index for index (for the log line about the others).
    used: Mutex<Vec<bool>>,
    /// Whether the sockets no app took were logged already.
    reported: AtomicBool,
}

impl PassedSockets {
    /// Takes the sockets systemd passed to this process: `LISTEN_PID` must be this
    /// process, or, with `parent_too` (the detached daemon, which the CLI spawned and
    /// which inherits its descriptors), the CLI that spawned it. The descriptors become
    /// close-on-exec (no app inherits them unasked) and the three variables are removed.
    pub fn take_from_env(parent_too: bool) -> PassedSockets {
        let pid = std::env::var("LISTEN_PID").ok();
        let fds = std::env::var("LISTEN_FDS").ok();
        let names = std::env::var("LISTEN_FDNAMES").ok();
        let me = std::process::id();
        let parent = parent_too.then(|| nix::unistd::getppid().as_raw() as u32);
        let Some(count) = passed_count(pid.as_deref(), fds.as_deref(), me, parent) else {
            return PassedSockets::default();
        };
        for var in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
            std::env::remove_var(var);
        }
        let names = fd_names(names.as_deref(), count);
        let sockets: Vec<Passed> = (0..count)
            .zip(names)
            .map(|(i, name)| {
                let raw = FIRST_FD + i as RawFd;
                // SAFETY: systemd's protocol gives this process fds 3..3+LISTEN_FDS; each
                // is owned from here on, by this value alone.
                let fd = unsafe { OwnedFd::from_raw_fd(raw) };
                // SAFETY: fcntl on the fd just taken; sets close-on-exec only.
                unsafe { libc::fcntl(raw, libc::F_SETFD, libc::FD_CLOEXEC) };
                Passed {
                    address: listen_address(&fd),
                    name,
                    fd,
                }
            })
            .collect();
        PassedSockets {
            used: Mutex::new(vec![false; sockets.len()]),
            sockets,
            reported: AtomicBool::new(false),
        }
    }

    /// A duplicate of the passed socket a `listen` entry names (`fd:<name>`, or its
    /// address), `None` when systemd passed none such.
    pub fn take(&self, entry: &str) -> Option<io::Result<OwnedFd>> {
        let index = match entry.strip_prefix("fd:") {
            Some(name) => self.sockets.iter().position(|s| s.name == name),
            None => self
                .sockets
                .iter()
                .position(|s| s.address.as_deref() == Some(entry)),
        }?;
        if let Ok(mut used) = self.used.lock() {
            used[index] = true;
        }
        Some(self.sockets[index].fd.try_clone())
    }

    /// One line per passed socket, for `pm2.log` at start.
    pub fn describe(&self) -> Vec<String> {
        self.sockets.iter().map(Passed::describe).collect()
    }

    /// The passed sockets no app took, the first time it is asked (after the daemon's
    /// first start of apps): said once in `pm2.log`, as systemd's own warning would be.
    pub fn unused_once(&self) -> Vec<String> {
        if self.sockets.is_empty() || self.reported.swap(true, Ordering::Relaxed) {
            return Vec::new();
        }
        let used = self.used.lock().map(|u| u.clone()).unwrap_or_default();
        self.sockets
            .iter()
            .zip(used)
            .filter(|(_, used)| !used)
            .map(|(s, _)| s.describe())
            .collect()
    }
}

impl Passed {
    fn describe(&self) -> String {
        let address = self.address.as_deref().unwrap_or("no listen address");
        format!(
            "{address} (name {:?}, listen entry fd:{})",
            self.name, self.name
        )
    }
}

/// How many sockets were passed to this process (`me`, or `parent`), by systemd's rules:
/// `LISTEN_PID` names the process, `LISTEN_FDS` is a positive count.
fn passed_count(
    pid: Option<&str>,
    fds: Option<&str>,
    me: u32,
    parent: Option<u32>,
) -> Option<usize> {
    let pid: u32 = pid?.trim().parse().ok()?;
    if pid != me && Some(pid) != parent {
        return None;
    }
    let count: usize = fds?.trim().parse().ok()?;
    // More than systemd could pass in any unit is not a count to trust.
    (1..=4096).contains(&count).then_some(count)
}

/// `LISTEN_FDNAMES` split on `:`, one per socket; systemd's `unknown` where it is missing.
fn fd_names(names: Option<&str>, count: usize) -> Vec<String> {
    let mut given: Vec<String> = names
        .map(|n| n.split(':').map(str::to_string).collect())
        .unwrap_or_default();
    given.resize(count, "unknown".into());
    given.truncate(count);
    given
}

/// The canonical `listen` address of a listening stream socket (`getsockname`), `None`
/// for anything else (a datagram socket, a FIFO, an unbound or abstract socket).
fn listen_address(fd: &OwnedFd) -> Option<String> {
    if !getsockopt(&fd.as_fd(), sockopt::AcceptConn).unwrap_or(false) {
        return None;
    }
    let addr: SockaddrStorage = getsockname(std::os::fd::AsRawFd::as_raw_fd(fd)).ok()?;
    if let Some(v4) = addr.as_sockaddr_in() {
        return Some(SocketAddrV4::from(*v4).to_string());
    }
    if let Some(v6) = addr.as_sockaddr_in6() {
        let v6 = SocketAddrV6::from(*v6);
        return Some(SocketAddrV6::new(*v6.ip(), v6.port(), 0, 0).to_string());
    }
    addr.as_unix_addr()?
        .path()
        .map(|p| format!("unix:{}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn only_sockets_passed_to_this_process_or_its_parent_count() {
        assert_eq!(passed_count(Some("7"), Some("2"), 7, None), Some(2));
        assert_eq!(passed_count(Some("8"), Some("2"), 7, Some(8)), Some(2));
        assert_eq!(passed_count(Some("8"), Some("2"), 7, None), None);
        assert_eq!(passed_count(Some("7"), Some("0"), 7, None), None);
        assert_eq!(passed_count(Some("7"), Some("x"), 7, None), None);
        assert_eq!(passed_count(None, Some("1"), 7, None), None);
    }

    #[test]
    fn missing_names_are_unknown_and_extra_ones_ignored() {
        assert_eq!(fd_names(Some("web"), 2), vec!["web", "unknown"]);
        assert_eq!(fd_names(Some("a:b:c"), 2), vec!["a", "b"]);
        assert_eq!(fd_names(None, 1), vec!["unknown"]);
    }

    #[test]
    fn a_listening_socket_is_found_by_its_address_or_its_name() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let fd = OwnedFd::from(listener);
        let address = listen_address(&fd);
        assert_eq!(address, Some(format!("127.0.0.1:{port}")));
        let passed = PassedSockets {
            sockets: vec![Passed {
                address,
                name: "web".into(),
                fd,
            }],
            used: Mutex::new(vec![false]),
            reported: AtomicBool::new(false),
        };
        assert!(passed.take("127.0.0.1:1").is_none());
        assert!(passed.take("fd:api").is_none());
        assert!(passed.take(&format!("127.0.0.1:{port}")).is_some());
        assert!(passed.take("fd:web").is_some());
        assert!(passed.unused_once().is_empty(), "the one socket was taken");
    }
}
