//! A webhook receiver on loopback for tests of what apps and modules send out (alerts,
//! chat notifications): every POST's body is kept, and each is answered `200 ok`, the
//! reply Slack's incoming webhooks give.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running receiver; its thread ends with the test process.
pub struct Webhook {
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Webhook {
    /// Binds 127.0.0.1 on a port the OS picks and serves in a thread.
    pub fn start() -> Webhook {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the webhook receiver");
        let port = listener.local_addr().expect("its address").port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&bodies);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(body) = read_post(stream) {
                    kept.lock().unwrap_or_else(|e| e.into_inner()).push(body);
                }
            }
        });
        Webhook { port, bodies }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The bodies received so far, oldest first.
    pub fn bodies(&self) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Reads one request (headers, then `Content-Length` bytes of body) and answers it; the
/// body, or `None` when the request was not a readable POST.
fn read_post(mut stream: TcpStream) -> Option<String> {
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
    let reply = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    stream.write_all(reply.as_bytes()).ok()?;
    request_line
        .starts_with("POST ")
        .then(|| String::from_utf8_lossy(&body).into_owned())
}
