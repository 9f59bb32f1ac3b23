//! A webhook receiver on loopback for tests of what apps and modules send out (alerts,
//! chat notifications): every POST's body is kept, and each is answered `200 ok`, the
//! reply Slack's incoming webhooks give. [`Webhook::failing_first`] answers the first
//! POSTs `500` (a receiver that recovers), [`Webhook::silent`] reads requests and never
//! answers (a receiver that hangs), [`Webhook::https`] serves TLS with a given certificate
//! (a receiver behind `https://`; a client that does not trust it sends nothing).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running receiver; its thread ends with the test process.
pub struct Webhook {
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    bodies: Arc<Mutex<Vec<String>>>,
    posts: Arc<Mutex<usize>>,
    tls: bool,
}

/// How the receiver answers.
#[derive(Clone, Copy)]
enum Answer {
    /// `500` to the first this many POSTs, then `200`.
    FailFirst(usize),
    /// Never (the connections are held open).
    Never,
}

impl Webhook {
    /// Binds 127.0.0.1 on a port the OS picks and serves in a thread.
    pub fn start() -> Webhook {
        Webhook::serve(Answer::FailFirst(0), None)
    }

    /// [`Webhook::start`] over TLS, serving `cert` with `key` (PEM files).
    pub fn https(cert: &Path, key: &Path) -> Webhook {
        Webhook::serve(
            Answer::FailFirst(0),
            Some(super::tls::server_config(cert, key)),
        )
    }

    /// Answers `500 Internal Server Error` to the first `n` POSTs (their bodies are not
    /// kept), then `200 ok`.
    pub fn failing_first(n: usize) -> Webhook {
        Webhook::serve(Answer::FailFirst(n), None)
    }

    /// Reads every request and never answers it.
    pub fn silent() -> Webhook {
        Webhook::serve(Answer::Never, None)
    }

    fn serve(answer: Answer, tls: Option<Arc<rustls::ServerConfig>>) -> Webhook {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the webhook receiver");
        let port = listener.local_addr().expect("its address").port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let posts = Arc::new(Mutex::new(0));
        let receiver = Receiver {
            answer,
            kept: Arc::clone(&bodies),
            seen: Arc::clone(&posts),
        };
        let is_tls = tls.is_some();
        std::thread::spawn(move || {
            let mut held: Vec<Box<dyn Send>> = Vec::new();
            for stream in listener.incoming().flatten() {
                if stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .is_err()
                {
                    continue;
                }
                let hold = match &tls {
                    None => receiver.one(stream).map(|s| Box::new(s) as Box<dyn Send>),
                    Some(config) => {
                        let Ok(conn) = rustls::ServerConnection::new(Arc::clone(config)) else {
                            continue;
                        };
                        let stream = rustls::StreamOwned::new(conn, stream);
                        receiver.one(stream).map(|s| Box::new(s) as Box<dyn Send>)
                    }
                };
                held.extend(hold);
            }
        });
        Webhook {
            port,
            bodies,
            posts,
            tls: is_tls,
        }
    }

    /// `http://127.0.0.1:<port><path>` (`https://` when it serves TLS).
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    /// The bodies answered `200` so far, oldest first.
    pub fn bodies(&self) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every POST read so far, whatever it was answered.
    pub fn posts(&self) -> usize {
        *self.posts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What one receiver does with each connection.
struct Receiver {
    answer: Answer,
    kept: Arc<Mutex<Vec<String>>>,
    seen: Arc<Mutex<usize>>,
}

impl Receiver {
    /// Reads one POST and answers it; the stream when it is to be held unanswered.
    fn one<S: Read + Write>(&self, stream: S) -> Option<S> {
        let (body, stream) = read_post(stream)?;
        let n = {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            *seen += 1;
            *seen
        };
        match self.answer {
            Answer::Never => return Some(stream),
            Answer::FailFirst(first) if n <= first => reply(stream, "500 Internal Server Error"),
            Answer::FailFirst(_) => {
                reply(stream, "200 OK");
                self.kept
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(body);
            }
        }
        None
    }
}

fn reply<S: Write>(mut stream: S, status: &str) {
    let text = if status.starts_with("200") {
        "ok"
    } else {
        "no"
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{text}"
    );
    let _ = stream.write_all(reply.as_bytes());
    let _ = stream.flush();
}

/// Reads one request (headers, then `Content-Length` bytes of body); the body and the
/// stream to answer on, or `None` when the request was not a readable POST.
fn read_post<S: Read>(stream: S) -> Option<(String, S)> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    request_line.starts_with("POST ").then(|| {
        (
            String::from_utf8_lossy(&body).into_owned(),
            reader.into_inner(),
        )
    })
}
