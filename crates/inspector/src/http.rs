//! One HTTP/1.1 GET to an inspector's endpoint (`/json/list`), bounded in time and size.
//! Node's inspector speaks plain HTTP on loopback and answers with a `Content-Length`;
//! this is all the client it needs, so no HTTP crate is pulled in for it.

use crate::deadline::Deadline;
use crate::Error;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The largest answer read: a target list is a few hundred bytes per target.
const MAX_ANSWER: usize = 1 << 20;

/// The body of `GET path` at `addr` when the status is 200.
pub(crate) fn get(addr: SocketAddr, path: &str, within: Duration) -> Result<Vec<u8>, Error> {
    let deadline = Deadline::after(within);
    let io = |source| Error::Io { addr, source };
    let mut stream = TcpStream::connect_timeout(&addr, within).map_err(io)?;
    stream.set_write_timeout(Some(within)).map_err(io)?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(io)?;
    let answer = read_answer(&mut stream, addr, deadline).ok_or_else(|| Error::Timeout {
        what: format!("GET http://{addr}{path}"),
        secs: within.as_secs().max(1),
    })??;
    body_of(&answer).map_err(|what| Error::Http { addr, what })
}

/// Reads until the body announced by `Content-Length` is in or the peer closes; `None`
/// when the deadline passes first.
fn read_answer(
    stream: &mut TcpStream,
    addr: SocketAddr,
    deadline: Deadline,
) -> Option<Result<Vec<u8>, Error>> {
    let mut answer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if complete(&answer) {
            return Some(Ok(answer));
        }
        let left = deadline.left()?;
        if let Err(source) = stream.set_read_timeout(Some(left)) {
            return Some(Err(Error::Io { addr, source }));
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Some(Ok(answer)),
            Ok(n) if answer.len() + n > MAX_ANSWER => {
                let what = format!("more than {MAX_ANSWER} bytes");
                return Some(Err(Error::Http { addr, what }));
            }
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted || timed_out(&e) => {}
            Err(source) => return Some(Err(Error::Io { addr, source })),
        }
    }
}

/// A socket read that hit its timeout (Linux says `WouldBlock`, others `TimedOut`).
pub(crate) fn timed_out(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Where the head ends, and the body length it announces.
fn head(answer: &[u8]) -> Option<(usize, Option<usize>)> {
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = String::from_utf8_lossy(&answer[..end]);
    let length = text.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    });
    Some((end, length))
}

fn complete(answer: &[u8]) -> bool {
    matches!(head(answer), Some((end, Some(len))) if answer.len() >= end + len)
}

/// The body of a 200 answer, or what is wrong with it.
fn body_of(answer: &[u8]) -> Result<Vec<u8>, String> {
    let Some((end, length)) = head(answer) else {
        return Err("no HTTP answer".to_string());
    };
    let status_line = String::from_utf8_lossy(&answer[..end]);
    let status_line = status_line.lines().next().unwrap_or_default();
    let status = status_line.split_whitespace().nth(1).unwrap_or_default();
    if !status_line.starts_with("HTTP/") || status != "200" {
        return Err(format!("\"{status_line}\", not an inspector's 200"));
    }
    let body = &answer[end..];
    Ok(match length {
        Some(len) => body[..len.min(body.len())].to_vec(),
        None => body.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_200_answer_gives_its_body_up_to_content_length() {
        let a = b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\n[{}]extra";
        assert!(complete(a));
        assert_eq!(body_of(a).unwrap(), b"[{}]");
    }

    #[test]
    fn an_incomplete_or_refused_answer_is_told_apart() {
        assert!(!complete(
            b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n[]"
        ));
        assert!(!complete(b"HTTP/1.0 200 OK\r\n"));
        let e = body_of(b"HTTP/1.1 404 Not Found\r\n\r\n").unwrap_err();
        assert!(e.contains("404"), "{e}");
        assert!(body_of(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }
}
