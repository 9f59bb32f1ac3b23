//! Looking at one socket, or at a worker's descriptor table: what the hand-back decides on.
//! Every function here is a few syscalls, with no state of its own.

use crate::listener::{self, ListenerKey};
use nix::sys::socket::{getsockopt, recv, sockopt, MsgFlags, SockType};
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, BorrowedFd};

/// Bytes peeked to recognise a request line.
const PEEK: usize = 4096;
/// `tcpi_state` of an established connection (include/net/tcp_states.h).
const TCP_ESTABLISHED: u8 = 1;
/// What to do with a connection the worker has let go.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// At a request boundary with the next request waiting: give it to a live worker.
    HandBack,
    /// Established and quiet: wait for the client's next request.
    Wait,
    /// Anything else: close, as the client would have seen without us.
    Close,
}

/// Established with a request waiting (hand back), established and quiet (wait), or else.
pub(super) fn verdict(fd: BorrowedFd<'_>) -> Verdict {
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
pub(super) fn accepted_on(
    fd: BorrowedFd<'_>,
    ports: &[(ListenerKey, SocketAddr)],
) -> Option<ListenerKey> {
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
pub(super) fn socket_fds(pid: i32) -> Option<Vec<(i32, u64)>> {
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

pub(super) fn socket_inodes(pid: i32) -> Option<HashSet<u64>> {
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
    use std::os::fd::AsFd;
    use std::time::Duration;

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
        let key: ListenerKey = "k".into();
        let other: ListenerKey = "other-address".into();
        let any: ListenerKey = "any".into();
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
