//! A webhook receiver on loopback for tests of what apps and modules send out (alerts,
//! chat notifications): every POST's body is kept, and each is answered `200 ok`, the
//! reply Slack's incoming webhooks give. [`Webhook::failing_first`] answers the first
//! POSTs `500` (a receiver that recovers), [`Webhook::silent`] reads requests and never
//! answers (a receiver that hangs).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running receiver; its thread ends with the test process.
pub struct Webhook {
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    bodies: Arc<Mutex<Vec<String>>>,
    posts: Arc<Mutex<usize>>,
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
        Webhook::serve(Answer::FailFirst(0))
    }

    /// Answers `500 Internal Server Error` to the first `n` POSTs (their bodies are not
    /// kept), then `200 ok`.
    pub fn failing_first(n: usize) -> Webhook {
        Webhook::serve(Answer::FailFirst(n))
    }

    /// Reads every request and never answers it.
    pub fn silent() -> Webhook {
        Webhook::serve(Answer::Never)
    }

    fn serve(answer: Answer) -> Webhook {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the webhook receiver");
        let port = listener.local_addr().expect("its address").port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let posts = Arc::new(Mutex::new(0));
        let (kept, seen) = (Arc::clone(&bodies), Arc::clone(&posts));
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                let Some((body, stream)) = read_post(stream) else {
                    continue;
                };
                let n = {
                    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                    *seen += 1;
                    *seen
                };
                match answer {
                    Answer::Never => held.push(stream),
                    Answer::FailFirst(first) if n <= first => {
                        reply(stream, "500 Internal Server Error")
                    }
                    Answer::FailFirst(_) => {
                        reply(stream, "200 OK");
                        kept.lock().unwrap_or_else(|e| e.into_inner()).push(body);
                    }
                }
            }
        });
        Webhook {
            port,
            bodies,
            posts,
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
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

fn reply(mut stream: TcpStream, status: &str) {
    let text = if status.starts_with("200") {
        "ok"
    } else {
        "no"
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{text}"
    );
    let _ = stream.write_all(reply.as_bytes());
}

/// Reads one request (headers, then `Content-Length` bytes of body); the body and the
/// stream to answer on, or `None` when the request was not a readable POST.
fn read_post(stream: TcpStream) -> Option<(String, TcpStream)> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
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
    request_line
        .starts_with("POST ")
        .then(|| (String::from_utf8_lossy(&body).into_owned(), stream))
}
