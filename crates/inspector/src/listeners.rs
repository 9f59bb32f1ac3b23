//! The TCP sockets a process listens on, read from `/proc/<pid>/fd` (its socket inodes)
//! and `/proc/<pid>/net/tcp{,6}` (the sockets of its network namespace). Node's inspector
//! is one of them once open; a socket that appears after `SIGUSR1` is where it listens.

use crate::Error;
use procfs::net::TcpState;
use procfs::process::{FDTarget, Process};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One listening socket of the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// The socket's inode: the same socket across two readings.
    pub inode: u64,
    /// The address it is bound to.
    pub addr: SocketAddr,
}

impl Listener {
    /// Where to connect to reach it from this host: a wildcard bind is reached on loopback.
    pub fn connect_addr(&self) -> SocketAddr {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.addr.port())
    }

    /// Bound to loopback only, as Node's inspector is unless told otherwise.
    pub fn is_loopback(&self) -> bool {
        self.addr.ip().is_loopback()
    }
}

/// Every TCP socket `pid` listens on.
pub fn listening(pid: u32) -> Result<Vec<Listener>, Error> {
    let proc_err = |source| Error::Proc { pid, source };
    let process = Process::new(pid as i32).map_err(proc_err)?;
    let inodes: HashSet<u64> = process
        .fd()
        .map_err(proc_err)?
        .filter_map(Result::ok)
        .filter_map(|fd| match fd.target {
            FDTarget::Socket(inode) => Some(inode),
            _ => None,
        })
        .collect();
    let mut entries = process.tcp().map_err(proc_err)?;
    // A kernel without IPv6 has no tcp6 table: only IPv4 sockets then.
    entries.extend(process.tcp6().unwrap_or_default());
    Ok(entries
        .into_iter()
        .filter(|e| e.state == TcpState::Listen && inodes.contains(&e.inode))
        .map(|e| Listener {
            inode: e.inode,
            addr: e.local_address,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_socket_this_process_listens_on_is_found_with_its_port() {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let found = listening(std::process::id()).expect("read /proc");
        let mine = found.iter().find(|x| x.addr.port() == port).expect("found");
        assert!(mine.is_loopback());
        assert_eq!(mine.connect_addr(), l.local_addr().expect("addr"));
        drop(l);
        let after = listening(std::process::id()).expect("read /proc");
        assert!(!after.iter().any(|x| x.addr.port() == port));
    }

    #[test]
    fn a_wildcard_bind_is_reached_on_loopback() {
        let l = Listener {
            inode: 1,
            addr: "0.0.0.0:80".parse().expect("addr"),
        };
        assert_eq!(l.connect_addr(), "127.0.0.1:80".parse().expect("addr"));
        assert!(!l.is_loopback());
    }

    #[test]
    fn a_process_that_is_gone_is_an_error_naming_it() {
        let e = listening(u32::MAX / 2).unwrap_err();
        assert!(e.to_string().contains(&(u32::MAX / 2).to_string()), "{e}");
    }
}
