//! The clients of the cluster tests: free ports, raw HTTP clients with timeouts, and
//! bounded client loops that count what failed.
//!
//! Every client opens a new connection per request (HTTP/1.0, no keep-alive) unless it is
//! a [`KeepAliveClient`], so a worker replacement that loses nothing shows up as zero
//! failures.

use crate::harness::pm2::Pm2;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Generous bound for anything the daemon or a worker has to do.
pub const T: Duration = Duration::from_secs(15);
/// How long one request may take before it counts as failed (a hang shows up as this).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A TCP port that was free a moment ago (the OS picked it).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A UDP port that was free a moment ago.
pub fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind udp 127.0.0.1:0");
    s.local_addr().expect("local addr").port()
}

/// What one request got: the serving worker's pid, or why it failed.
pub type Reply = Result<i32, String>;

/// Extracts `pid=N` from an HTTP response whose status is 200.
fn parse_reply(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw);
    if !text.starts_with("HTTP/1.1 200") && !text.starts_with("HTTP/1.0 200") {
        return Err(format!(
            "bad response: {:?}",
            text.chars().take(80).collect::<String>()
        ));
    }
    text.split_whitespace()
        .find_map(|w| w.strip_prefix("pid=")?.parse().ok())
        .ok_or_else(|| format!("no pid in response: {text:?}"))
}

fn exchange(mut s: impl Read + Write) -> Reply {
    let req = b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
    s.write_all(req).map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| format!("read: {e}"))?;
    parse_reply(&raw)
}

/// One HTTP/1.0 GET on a new connection to 127.0.0.1:`port`.
pub fn http_get(port: u16) -> Reply {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let s =
        TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(REQUEST_TIMEOUT))
        .expect("read timeout");
    s.set_write_timeout(Some(REQUEST_TIMEOUT))
        .expect("write timeout");
    exchange(s)
}

/// One HTTP/1.0 GET over a unix-domain socket.
pub fn unix_get(path: &Path) -> Reply {
    let s = std::os::unix::net::UnixStream::connect(path).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(REQUEST_TIMEOUT))
        .expect("read timeout");
    s.set_write_timeout(Some(REQUEST_TIMEOUT))
        .expect("write timeout");
    exchange(s)
}

/// What a client loop saw.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests answered, by serving pid.
    pub by_pid: BTreeMap<i32, usize>,
    /// Failed requests (first few reasons kept).
    pub failed: usize,
    /// Failures that were read/connect timeouts (a hang, not a refusal).
    pub timeouts: usize,
    /// Some failure reasons.
    pub reasons: Vec<String>,
}

impl Stats {
    /// Requests answered.
    pub fn ok(&self) -> usize {
        self.by_pid.values().sum()
    }

    /// Requests sent.
    pub fn total(&self) -> usize {
        self.ok() + self.failed
    }

    /// Adds one request's result.
    pub fn add(&mut self, reply: Reply) {
        match reply {
            Ok(pid) => *self.by_pid.entry(pid).or_default() += 1,
            Err(e) => {
                self.failed += 1;
                if e.contains("timed out") || e.contains("(os error 11)") {
                    self.timeouts += 1;
                }
                if self.reasons.len() < 5 {
                    self.reasons.push(e);
                }
            }
        }
    }

    fn merge(&mut self, other: Stats) {
        for (pid, n) in other.by_pid {
            *self.by_pid.entry(pid).or_default() += n;
        }
        self.failed += other.failed;
        self.timeouts += other.timeouts;
        self.reasons.extend(other.reasons);
        self.reasons.truncate(5);
    }
}

/// `n` sequential requests.
pub fn requests(n: usize, mut one: impl FnMut() -> Reply) -> Stats {
    let mut stats = Stats::default();
    for _ in 0..n {
        stats.add(one());
    }
    stats
}

/// Requests sent from background threads until [`Traffic::finish`], with a request-count
/// and a wall-time cap so a broken daemon can never keep a test running.
pub struct Traffic {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
    threads: Vec<JoinHandle<Stats>>,
}

/// Upper bound on requests per client thread.
const MAX_REQUESTS: usize = 50_000;
/// Upper bound on a client thread's life.
const MAX_TRAFFIC_TIME: Duration = Duration::from_secs(45);

impl Traffic {
    /// `clients` threads, each sending requests with `one` one after the other.
    pub fn start(clients: usize, one: fn(u16) -> Reply, port: u16) -> Traffic {
        Traffic::spawn(clients, move || move || one(port))
    }

    /// `clients` threads, each with its own client from `make`.
    fn spawn<M, F>(clients: usize, make: M) -> Traffic
    where
        M: Fn() -> F,
        F: FnMut() -> Reply + Send + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicUsize::new(0));
        let threads = (0..clients)
            .map(|_| {
                let stop = Arc::clone(&stop);
                let sent = Arc::clone(&sent);
                let mut one = make();
                std::thread::spawn(move || {
                    let started = Instant::now();
                    let mut stats = Stats::default();
                    while !stop.load(Ordering::SeqCst)
                        && stats.total() < MAX_REQUESTS
                        && started.elapsed() < MAX_TRAFFIC_TIME
                    {
                        stats.add(one());
                        sent.fetch_add(1, Ordering::SeqCst);
                    }
                    stats
                })
            })
            .collect();
        Traffic {
            stop,
            sent,
            threads,
        }
    }

    /// Keep-alive HTTP/1.1 clients on 127.0.0.1:`port`: each sends its requests back to
    /// back on one connection and opens a new one only after a failure. `handed_over`
    /// counts connections that were answered by two different workers.
    pub fn keep_alive(port: u16, clients: usize, handed_over: &Arc<AtomicUsize>) -> Traffic {
        Traffic::spawn(clients, || {
            let mut client = KeepAliveClient {
                port,
                conn: None,
                pids: Vec::new(),
                handed_over: Arc::clone(handed_over),
            };
            move || client.request()
        })
    }

    /// HTTP clients on 127.0.0.1:`port`.
    pub fn http(port: u16, clients: usize) -> Traffic {
        Traffic::start(clients, http_get, port)
    }

    /// Requests sent so far.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }

    /// Waits until `n` more requests went out than when called (so the clients really ran
    /// across whatever just happened).
    pub fn wait_for_more(&self, p: &Pm2, n: usize) {
        let target = self.sent() + n;
        p.wait_until(T, &format!("{n} more client requests"), || {
            self.sent() >= target
        });
    }

    /// Stops the clients once at least `min` requests went out in all, and merges their
    /// counts.
    pub fn finish(mut self, p: &Pm2, min: usize) -> Stats {
        let what = format!("the clients to send {min} requests");
        p.wait_until(T, &what, || self.sent() >= min);
        self.stop.store(true, Ordering::SeqCst);
        let mut stats = Stats::default();
        for t in std::mem::take(&mut self.threads) {
            stats.merge(t.join().expect("client thread"));
        }
        stats
    }
}

/// One keep-alive connection, reopened after a failure.
pub struct KeepAliveClient {
    port: u16,
    conn: Option<std::io::BufReader<TcpStream>>,
    /// Workers that answered on the current connection.
    pids: Vec<i32>,
    handed_over: Arc<AtomicUsize>,
}

impl KeepAliveClient {
    /// One GET on the current connection (a new one after a failure).
    pub fn request(&mut self) -> Reply {
        let reply = self.try_request();
        if reply.is_err() {
            self.conn = None;
        }
        reply
    }

    fn try_request(&mut self) -> Reply {
        if self.conn.is_none() {
            let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
            let s = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)
                .map_err(|e| format!("connect: {e}"))?;
            s.set_read_timeout(Some(REQUEST_TIMEOUT))
                .map_err(|e| format!("timeout: {e}"))?;
            self.conn = Some(std::io::BufReader::new(s));
            self.pids.clear();
        }
        let conn = self.conn.as_mut().expect("connected above");
        conn.get_mut()
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .map_err(|e| format!("write: {e}"))?;
        let (head, body) = read_response(conn)?;
        let pid = parse_reply(format!("{head}{body}").as_bytes())?;
        if !self.pids.contains(&pid) {
            self.pids.push(pid);
            if self.pids.len() == 2 {
                self.handed_over.fetch_add(1, Ordering::SeqCst);
            }
        }
        if head.to_ascii_lowercase().contains("connection: close") {
            self.conn = None;
        }
        Ok(pid)
    }
}

/// Reads one HTTP/1.1 response with a Content-Length: (head, body).
fn read_response(conn: &mut impl std::io::BufRead) -> Result<(String, String), String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        match conn.read_line(&mut line) {
            Ok(0) => return Err(format!("connection closed after {head:?}")),
            Ok(_) => head.push_str(&line),
            Err(e) => return Err(format!("read: {e}")),
        }
        if line == "\r\n" {
            break;
        }
    }
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .ok_or_else(|| format!("no Content-Length in {head:?}"))?;
    let mut body = vec![0; length];
    conn.read_exact(&mut body)
        .map_err(|e| format!("read body: {e}"))?;
    Ok((head, String::from_utf8_lossy(&body).into_owned()))
}

impl Drop for Traffic {
    /// A failing test stops its clients too.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Polls `one` until it is served by every pid in `pids` (each at least once); fails after
/// [`T`] or 2000 requests. Returns the requests' counts.
pub fn until_each_pid_serves(p: &Pm2, pids: &[i32], mut one: impl FnMut() -> Reply) -> Stats {
    let mut stats = Stats::default();
    let what = format!("every worker {pids:?} to serve a request");
    p.wait_until(T, &what, || {
        if stats.total() >= 2000 {
            p.fail(
                &format!("{what}: 2000 requests did not do it: {stats:?}"),
                None,
            );
        }
        stats.add(one());
        pids.iter().all(|pid| stats.by_pid.contains_key(pid))
    });
    stats
}
