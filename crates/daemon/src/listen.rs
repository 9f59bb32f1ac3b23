//! Socket activation (beyond PM2; the ecosystem key `listen`): the daemon binds an app's
//! sockets once and every process of the app inherits them as systemd passes sockets
//! (`LISTEN_FDS`, `LISTEN_FDNAMES`, fds from 3; `LISTEN_PID` is set by the `pm2
//! __listen-exec` trampoline, which execs the app in the same pid). While an app restarts,
//! its sockets stay bound in the daemon, so clients queue in the backlog instead of being
//! refused. A set lives as long as an instance of the app holds it. An address systemd
//! already passed to the daemon (`passed_sockets`) is not bound: the set holds a duplicate
//! of the passed socket.

use crate::passed_sockets::PassedSockets;
use std::collections::HashMap;
use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

/// How many connections may wait while no process of the app accepts (a restart).
const BACKLOG: i32 = 4096;

/// The bound sockets of one app, in the order of its `listen` list.
pub struct ListenSet {
    addresses: Vec<String>,
    sockets: Vec<OwnedFd>,
    unix_paths: Vec<PathBuf>,
    name: String,
}

impl ListenSet {
    /// Binds every address of `app` (or takes the socket systemd passed for it); an error
    /// names the address.
    fn bind(app: &str, addresses: &[String], passed: &PassedSockets) -> io::Result<ListenSet> {
        let mut set = ListenSet {
            addresses: addresses.to_vec(),
            sockets: Vec::new(),
            unix_paths: Vec::new(),
            name: fd_name(app),
        };
        for addr in addresses {
            let named = |e: io::Error| io::Error::new(e.kind(), format!("listen {addr}: {e}"));
            if let Some(fd) = passed.take(addr) {
                tracing::info!("app {app}: listen {addr} uses the socket systemd passed");
                set.sockets.push(fd.map_err(named)?);
                continue;
            }
            if let Some(name) = addr.strip_prefix("fd:") {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "listen {addr}: systemd passed the daemon no socket named {name:?} \
                         (LISTEN_FDNAMES; FileDescriptorName= in the .socket unit)"
                    ),
                ));
            }
            let fd = match addr.strip_prefix("unix:") {
                Some(path) => {
                    let path = PathBuf::from(path);
                    remove_stale_socket(&path).map_err(named)?;
                    let listener = UnixListener::bind(&path).map_err(named)?;
                    set.unix_paths.push(path);
                    OwnedFd::from(listener)
                }
                None => OwnedFd::from(TcpListener::bind(addr.as_str()).map_err(named)?),
            };
            // SAFETY: listen(2) on a socket this set owns; it only raises the backlog.
            unsafe { libc::listen(fd.as_raw_fd(), BACKLOG) };
            set.sockets.push(fd);
        }
        Ok(set)
    }

    /// The descriptors, in `listen` order, for the child's fds 3, 4, ...
    pub fn raw_fds(&self) -> Vec<RawFd> {
        self.sockets.iter().map(AsRawFd::as_raw_fd).collect()
    }

    /// The systemd variables for a child holding these sockets (`LISTEN_PID` aside).
    pub fn env(&self) -> Vec<(String, String)> {
        let names = vec![self.name.as_str(); self.sockets.len()].join(":");
        vec![
            ("LISTEN_FDS".into(), self.sockets.len().to_string()),
            ("LISTEN_FDNAMES".into(), names),
        ]
    }
}

impl Drop for ListenSet {
    fn drop(&mut self) {
        for path in &self.unix_paths {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A socket file left where a unix socket is to be bound is removed; anything else there
/// is refused (the path belongs to something else).
fn remove_stale_socket(path: &std::path::Path) -> io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => std::fs::remove_file(path),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "a file that is not a socket is there",
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// `LISTEN_FDNAMES` takes names without `:` (systemd's rule for FileDescriptorName=).
fn fd_name(app: &str) -> String {
    let name: String = app
        .chars()
        .map(|c| if c == ':' || c.is_control() { '_' } else { c })
        .take(255)
        .collect();
    if name.is_empty() {
        "app".into()
    } else {
        name
    }
}

/// The daemon's sets, by app name: the instances of one app share its set.
#[derive(Default)]
pub struct ListenSets {
    by_app: Mutex<HashMap<String, Weak<ListenSet>>>,
    /// What systemd passed to the daemon, taken before binding.
    passed: Arc<PassedSockets>,
}

impl ListenSets {
    /// Sets that take `passed` sockets before binding their own.
    pub fn new(passed: Arc<PassedSockets>) -> ListenSets {
        ListenSets {
            by_app: Mutex::default(),
            passed,
        }
    }

    /// Logs, once, the sockets systemd passed that no app's `listen` took (called after
    /// the daemon's first start of apps).
    pub fn report_unused_passed(&self) {
        for socket in self.passed.unused_once() {
            tracing::warn!(
                "systemd passed {socket}, which no app of the first start names in its \
                 listen; it stays open for an app started later"
            );
        }
    }

    /// The set for `app`'s `addresses` (`None` without any): the one its instances hold when
    /// the addresses are the same, else newly bound.
    pub fn for_app(&self, app: &str, addresses: &[String]) -> io::Result<Option<Arc<ListenSet>>> {
        if addresses.is_empty() {
            return Ok(None);
        }
        let mut by_app = self.by_app.lock().unwrap_or_else(|p| p.into_inner());
        by_app.retain(|_, set| set.strong_count() > 0);
        if let Some(set) = by_app.get(app).and_then(Weak::upgrade) {
            if set.addresses == addresses {
                return Ok(Some(set));
            }
        }
        let set = Arc::new(ListenSet::bind(app, addresses, &self.passed)?);
        by_app.insert(app.to_string(), Arc::downgrade(&set));
        Ok(Some(set))
    }
}

/// Puts `fds` at 3, 4, ... in a child about to exec, without close-on-exec; runs after
/// fork, so only `fcntl`, `dup2` and `close` are called. Each is first moved above every
/// target, so placing one never overwrites another still to be placed.
pub fn place_fds(fds: &[RawFd]) -> io::Result<()> {
    let floor = 3 + fds.len() as RawFd + 64;
    let mut moved = Vec::with_capacity(fds.len());
    for fd in fds {
        // SAFETY: fcntl on an fd number inherited from the parent; no memory is touched.
        let high = unsafe { libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, floor) };
        if high < 0 {
            return Err(io::Error::last_os_error());
        }
        moved.push(high);
    }
    for (i, high) in moved.iter().enumerate() {
        // SAFETY: dup2 onto a target fd number; the new fd has no close-on-exec flag.
        if unsafe { libc::dup2(*high, 3 + i as RawFd) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `high` is the temporary duplicate made above.
        unsafe { libc::close(*high) };
    }
    Ok(())
}

/// `pm2 __listen-exec <program> [args...]`, the trampoline an app with `listen` sockets is
/// started through: sets `LISTEN_PID` to its own pid (which the exec keeps, and which
/// `sd_listen_fds` checks), then becomes `program`. Returns only when the exec failed.
pub fn exec_with_listen_pid(args: &[std::ffi::OsString]) -> i32 {
    use std::os::unix::process::CommandExt;
    let Some((program, rest)) = args.split_first() else {
        eprintln!("pm2 __listen-exec: no program given");
        return 2;
    };
    let error = std::process::Command::new(program)
        .args(rest)
        .env("LISTEN_PID", std::process::id().to_string())
        .exec();
    eprintln!(
        "pm2 __listen-exec: cannot run {}: {error}",
        program.to_string_lossy()
    );
    127
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_set_per_app_shared_until_its_addresses_change() {
        let sets = ListenSets::default();
        let a = sets
            .for_app("web", &["127.0.0.1:0".into()])
            .unwrap()
            .unwrap();
        let b = sets
            .for_app("web", &["127.0.0.1:0".into()])
            .unwrap()
            .unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(sets.for_app("web", &[]).unwrap().is_none());
        assert_eq!(a.env()[0], ("LISTEN_FDS".to_string(), "1".to_string()));
    }

    #[test]
    fn a_unix_socket_is_removed_with_its_set_and_a_plain_file_is_not_replaced() {
        let dir = std::env::temp_dir().join(format!("pm2-listen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("a.sock");
        let addr = format!("unix:{}", sock.display());
        let set =
            ListenSet::bind("a", std::slice::from_ref(&addr), &PassedSockets::default()).unwrap();
        assert!(sock.exists());
        drop(set);
        assert!(!sock.exists());
        let plain = dir.join("plain");
        std::fs::write(&plain, "x").unwrap();
        assert!(ListenSet::bind(
            "a",
            &[format!("unix:{}", plain.display())],
            &PassedSockets::default()
        )
        .is_err());
        assert!(plain.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fd_names_have_no_colons() {
        assert_eq!(fd_name("ns:web"), "ns_web");
        assert_eq!(fd_name(""), "app");
    }
}
