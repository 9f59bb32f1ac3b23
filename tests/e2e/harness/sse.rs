//! Reading a server-sent event stream over a raw socket until a given event arrives.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The `data` of the first event called `event` on `GET path` at 127.0.0.1:`port`, with
/// `headers`; an error after `within`, or when the server answers other than 200.
pub fn first_event(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    event: &str,
    within: Duration,
) -> Result<String, String> {
    let deadline = Instant::now() + within;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, within).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    let needle = format!("event: {event}\ndata: ");
    let mut buf = [0u8; 8192];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return Err(format!("stream ended: {}", String::from_utf8_lossy(&raw))),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(format!("read: {e}")),
        }
        let text = String::from_utf8_lossy(&raw);
        if !text.starts_with("HTTP/1.1 200") && text.contains("\r\n") {
            return Err(format!("not a stream: {text}"));
        }
        if let Some(at) = text.find(&needle) {
            let data = &text[at + needle.len()..];
            if let Some(end) = data.find('\n') {
                return Ok(data[..end].to_string());
            }
        }
    }
    Err(format!(
        "no {event} event within {within:?}: {}",
        String::from_utf8_lossy(&raw)
    ))
}

/// An event stream kept open, read a little at a time (for a test that watches what
/// arrives while it does other things).
pub struct Stream {
    socket: TcpStream,
    raw: Vec<u8>,
}

impl Stream {
    /// `GET path` at 127.0.0.1:`port` with `headers`, not yet read.
    pub fn open(port: u16, path: &str, headers: &[(&str, &str)]) -> Result<Stream, String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut socket = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .map_err(|e| format!("connect: {e}"))?;
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(|e| e.to_string())?;
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        socket
            .write_all(req.as_bytes())
            .map_err(|e| format!("write: {e}"))?;
        Ok(Stream {
            socket,
            raw: Vec::new(),
        })
    }

    /// Reads what has arrived (waiting at most 100 ms); the `data` of every event called
    /// `event` received since the stream opened.
    pub fn events(&mut self, event: &str) -> Vec<String> {
        let mut buf = [0u8; 65536];
        while let Ok(n) = self.socket.read(&mut buf) {
            if n == 0 {
                break;
            }
            self.raw.extend_from_slice(&buf[..n]);
            if n < buf.len() {
                break;
            }
        }
        let needle = format!("event: {event}\ndata: ");
        String::from_utf8_lossy(&self.raw)
            .split("\n\n")
            .filter_map(|frame| frame.rsplit_once(&needle).map(|(_, d)| d.to_string()))
            .collect()
    }
}
