//! Binding the sockets workers ask for in `queryServer` (node-cluster-ipc.md §3, §6).
//!
//! Every socket is created non-blocking and close-on-exec (P1, P6): the non-blocking flag
//! lives on the open file description that workers share, and Node 18's accept loop hangs
//! on a blocking listener.

use nix::sys::socket::{
    bind, getsockname, listen, setsockopt, socket, sockopt, AddressFamily, Backlog, SockFlag,
    SockType, SockaddrIn, SockaddrIn6, SockaddrStorage, UnixAddr,
};
use serde::Serialize;
use serde_json::Value;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

/// Which listener: Node's key `address:port:addressType:fd:index`. As in Node's primary
/// (and so in PM2, whose one daemon is the primary of every cluster app), the key does not
/// name the app: two apps listening on the same port share one socket, and connections are
/// spread over the workers of both.
pub type ListenerKey = String;

/// What a worker asked to listen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// TCP; `address` None means any (dual-stack `::`, falling back to `0.0.0.0`).
    Tcp {
        /// IP literal, or None for any.
        address: Option<String>,
        /// Port (0: the kernel picks).
        port: u16,
        /// 4 or 6 (Node's `addressType`).
        family: u8,
    },
    /// A unix-domain stream socket at an absolute path.
    Unix(PathBuf),
    /// UDP (always a shared handle).
    Udp {
        /// IP literal (None: any).
        address: Option<String>,
        /// Port.
        port: u16,
        /// 4 or 6.
        family: u8,
        /// dgram `flags` (4: SO_REUSEADDR, 1: IPV6_V6ONLY).
        flags: u64,
    },
}

/// Why a `queryServer` cannot be served: the negative errno Node expects in the reply's
/// `errno` (the worker then reports `listen EADDRINUSE` and the like).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot serve queryServer: errno {0}")]
pub struct Errno(pub i32);

impl From<nix::Error> for Errno {
    fn from(e: nix::Error) -> Errno {
        Errno(-(e as i32))
    }
}

impl Endpoint {
    /// Reads the endpoint from a `queryServer` message; `listen({fd})` and unknown shapes are
    /// refused with EINVAL (the fd number is the worker's, meaningless here).
    pub fn from_query(msg: &Value) -> Result<Endpoint, Errno> {
        let einval = Errno(-libc::EINVAL);
        if msg
            .get("fd")
            .and_then(Value::as_i64)
            .is_some_and(|fd| fd >= 0)
        {
            return Err(einval);
        }
        let address = msg.get("address").and_then(Value::as_str).map(String::from);
        let port = msg.get("port").and_then(Value::as_i64).unwrap_or(-1);
        match msg.get("addressType") {
            Some(Value::String(t)) if t == "udp4" || t == "udp6" => Ok(Endpoint::Udp {
                address,
                port: u16::try_from(port).map_err(|_| einval)?,
                family: if t == "udp6" { 6 } else { 4 },
                flags: msg.get("flags").and_then(Value::as_u64).unwrap_or(0),
            }),
            Some(v) if v.as_i64() == Some(-1) => {
                let path = address.ok_or(einval)?;
                Ok(Endpoint::Unix(PathBuf::from(path)))
            }
            Some(v) => Ok(Endpoint::Tcp {
                address,
                port: u16::try_from(port).map_err(|_| einval)?,
                family: if v.as_i64() == Some(6) { 6 } else { 4 },
            }),
            None => Err(einval),
        }
    }

    /// Whether connections are accepted by the primary (TCP and unix in round-robin) or the
    /// socket is always handed over (UDP).
    pub fn is_udp(&self) -> bool {
        matches!(self, Endpoint::Udp { .. })
    }
}

fn flags() -> SockFlag {
    SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC
}

fn v4(address: Option<&str>, port: u16) -> Result<SockaddrIn, Errno> {
    let ip: Ipv4Addr = match address {
        Some(a) => a.parse().map_err(|_| Errno(-libc::EINVAL))?,
        None => Ipv4Addr::UNSPECIFIED,
    };
    Ok(SockaddrIn::from(SocketAddrV4::new(ip, port)))
}

fn v6(address: Option<&str>, port: u16) -> Result<SockaddrIn6, Errno> {
    let ip: Ipv6Addr = match address {
        Some(a) => a.parse().map_err(|_| Errno(-libc::EINVAL))?,
        None => Ipv6Addr::UNSPECIFIED,
    };
    Ok(SockaddrIn6::from(SocketAddrV6::new(ip, port, 0, 0)))
}

/// Binds a socket of `ty` to an IP endpoint, as libuv would (SO_REUSEADDR for TCP).
fn bind_ip(
    ty: SockType,
    address: Option<&str>,
    port: u16,
    family: u8,
    v6only: bool,
) -> Result<OwnedFd, Errno> {
    let any = address.is_none();
    if family == 6 || any {
        let attempt = (|| -> Result<OwnedFd, Errno> {
            let fd = socket(AddressFamily::Inet6, ty, flags(), None)?;
            if ty == SockType::Stream {
                setsockopt(&fd, sockopt::ReuseAddr, &true)?;
            }
            setsockopt(&fd, sockopt::Ipv6V6Only, &v6only)?;
            bind(fd.as_raw_fd(), &v6(address, port)?)?;
            Ok(fd)
        })();
        if attempt.is_ok() || !any {
            return attempt;
        }
    }
    let fd = socket(AddressFamily::Inet, ty, flags(), None)?;
    if ty == SockType::Stream {
        setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    }
    bind(fd.as_raw_fd(), &v4(address, port)?)?;
    Ok(fd)
}

/// Creates and binds the socket for an endpoint; `listening` also calls listen() (the
/// round-robin primary accepts itself; a shared handle is listened on by the worker).
pub fn open(endpoint: &Endpoint, listening: bool, backlog: i32) -> Result<OwnedFd, Errno> {
    let fd = match endpoint {
        Endpoint::Tcp {
            address,
            port,
            family,
        } => bind_ip(SockType::Stream, address.as_deref(), *port, *family, false)?,
        Endpoint::Unix(path) => {
            let fd = socket(AddressFamily::Unix, SockType::Stream, flags(), None)?;
            bind(fd.as_raw_fd(), &UnixAddr::new(path.as_path())?)?;
            fd
        }
        Endpoint::Udp {
            address,
            port,
            family,
            flags,
        } => {
            let fd = bind_ip(
                SockType::Datagram,
                address.as_deref(),
                *port,
                *family,
                flags & 1 != 0,
            )?;
            if flags & 4 != 0 {
                setsockopt(&fd, sockopt::ReuseAddr, &true)?;
            }
            fd
        }
    };
    if listening && !endpoint.is_udp() {
        let backlog = Backlog::new(if backlog > 0 { backlog } else { 511 })
            .map_err(|_| Errno(-libc::EINVAL))?;
        listen(&fd, backlog)?;
    }
    Ok(fd)
}

/// What `server.address()` returns in the worker: `{address, family, port}` (RR replies must
/// carry it, or `listen(0)` reports port 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sockname {
    /// The bound IP, as text (`::`, `127.0.0.1`).
    pub address: String,
    /// `IPv4` or `IPv6`.
    pub family: &'static str,
    /// The bound port (the real one after `listen(0)`).
    pub port: u16,
}

/// The [`Sockname`] of a bound socket; None for unix sockets.
pub fn sockname(fd: &OwnedFd) -> Option<Sockname> {
    let addr: SockaddrStorage = getsockname(fd.as_raw_fd()).ok()?;
    if let Some(a) = addr.as_sockaddr_in() {
        return Some(Sockname {
            address: a.ip().to_string(),
            family: "IPv4",
            port: a.port(),
        });
    }
    addr.as_sockaddr_in6().map(|a| Sockname {
        address: a.ip().to_string(),
        family: "IPv6",
        port: a.port(),
    })
}

/// The local address of a bound or connected IP socket (the real port after `listen(0)`);
/// None for unix sockets.
pub fn ip_addr(fd: BorrowedFd<'_>) -> Option<std::net::SocketAddr> {
    let addr: SockaddrStorage = getsockname(fd.as_raw_fd()).ok()?;
    if let Some(a) = addr.as_sockaddr_in() {
        return Some(std::net::SocketAddr::from((a.ip(), a.port())));
    }
    addr.as_sockaddr_in6()
        .map(|a| std::net::SocketAddr::from((a.ip(), a.port())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_query_shapes() {
        let tcp = json!({"address": null, "port": 3000, "addressType": 4, "backlog": 0});
        assert_eq!(
            Endpoint::from_query(&tcp).unwrap(),
            Endpoint::Tcp {
                address: None,
                port: 3000,
                family: 4
            }
        );
        let unix = json!({"address": "/run/a.sock", "port": -1, "addressType": -1});
        assert_eq!(
            Endpoint::from_query(&unix).unwrap(),
            Endpoint::Unix("/run/a.sock".into())
        );
        let udp = json!({"address": "0.0.0.0", "port": 4000, "addressType": "udp4", "fd": -1, "flags": 0});
        assert!(Endpoint::from_query(&udp).unwrap().is_udp());
        let fd = json!({"address": null, "port": 0, "addressType": 4, "fd": 7});
        assert_eq!(Endpoint::from_query(&fd), Err(Errno(-libc::EINVAL)));
    }

    #[test]
    fn binds_port_zero_and_reports_it() {
        let ep = Endpoint::Tcp {
            address: Some("127.0.0.1".into()),
            port: 0,
            family: 4,
        };
        let fd = open(&ep, true, 0).unwrap();
        let name = sockname(&fd).unwrap();
        assert_eq!(name.family, "IPv4");
        assert!(name.port > 0);
    }

    #[test]
    fn a_taken_port_is_eaddrinuse() {
        let ep = Endpoint::Tcp {
            address: Some("127.0.0.1".into()),
            port: 0,
            family: 4,
        };
        let first = open(&ep, true, 0).unwrap();
        let port = sockname(&first).unwrap().port;
        let again = Endpoint::Tcp {
            address: Some("127.0.0.1".into()),
            port,
            family: 4,
        };
        assert_eq!(open(&again, true, 0).err(), Some(Errno(-libc::EADDRINUSE)));
    }
}
