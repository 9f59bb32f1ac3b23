//! A minimal Chrome DevTools protocol client: one websocket to a debug target, calls
//! (`{"id", "method", "params"}`) answered by the message with the same id, events
//! ignored. Blocking, on a socket whose reads wake up in slices so every call keeps its
//! deadline.

use crate::deadline::Deadline;
use crate::http::timed_out;
use crate::Error;
use serde_json::{json, Value};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use tungstenite::handshake::HandshakeError;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

/// The longest a blocking read sleeps before the deadline is looked at again.
const SLICE: Duration = Duration::from_millis(200);

/// The largest protocol message accepted: a long CPU profile of a big app runs to tens
/// of megabytes.
const MAX_MESSAGE: usize = 512 << 20;

/// An open DevTools session.
pub struct Session {
    ws: WebSocket<TcpStream>,
    url: String,
    next_id: u64,
}

impl Session {
    /// Connects to `url` (`ws://host:port/id`, as `/json/list` gives it) at `addr`.
    pub fn connect(addr: SocketAddr, url: &str, within: Duration) -> Result<Session, Error> {
        let deadline = Deadline::after(within);
        let io = |source| Error::Io { addr, source };
        let stream = TcpStream::connect_timeout(&addr, within).map_err(io)?;
        stream.set_read_timeout(Some(SLICE)).map_err(io)?;
        stream.set_write_timeout(Some(within)).map_err(io)?;
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let mut attempt = tungstenite::client::client_with_config(url, stream, Some(config));
        loop {
            match attempt {
                Ok((ws, _)) => {
                    return Ok(Session {
                        ws,
                        url: url.to_string(),
                        next_id: 1,
                    })
                }
                Err(HandshakeError::Interrupted(mid)) if deadline.left().is_some() => {
                    attempt = mid.handshake();
                }
                Err(HandshakeError::Interrupted(_)) => {
                    return Err(timeout("the websocket handshake", within))
                }
                Err(HandshakeError::Failure(e)) => return Err(ws_error(url, e)),
            }
        }
    }

    /// Calls `method` and returns its `result`, or Node's error.
    pub fn call(&mut self, method: &str, params: Value, within: Duration) -> Result<Value, Error> {
        let deadline = Deadline::after(within);
        let id = self.next_id;
        self.next_id += 1;
        let text = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws
            .send(Message::text(text))
            .map_err(|e| ws_error(&self.url, e))?;
        loop {
            let Some(message) = self.next_message(deadline)? else {
                return Err(timeout(method, within));
            };
            if message.get("id").and_then(Value::as_u64) != Some(id) {
                continue;
            }
            if let Some(error) = message.get("error") {
                let message = error.get("message").and_then(Value::as_str).unwrap_or("");
                return Err(Error::Protocol {
                    method: method.to_string(),
                    message: message.to_string(),
                });
            }
            return Ok(message.get("result").cloned().unwrap_or(Value::Null));
        }
    }

    /// Waits `span` while reading (and dropping) what Node sends, so a process that exits
    /// meanwhile is an error now rather than at the next call.
    pub fn idle(&mut self, span: Duration) -> Result<(), Error> {
        let deadline = Deadline::after(span);
        while self.next_message(deadline)?.is_some() {}
        Ok(())
    }

    /// Closes the websocket politely (the inspector itself stays open: only code in the
    /// app can close it).
    pub fn close(mut self) {
        let _ = self.ws.close(None);
        let deadline = Deadline::after(Duration::from_secs(1));
        while let Ok(Some(_)) = self.next_message(deadline) {}
    }

    /// The next JSON message, `None` once the deadline passed.
    fn next_message(&mut self, deadline: Deadline) -> Result<Option<Value>, Error> {
        loop {
            let Some(slice) = deadline.slice(SLICE) else {
                return Ok(None);
            };
            let _ = self.ws.get_mut().set_read_timeout(Some(slice));
            match self.ws.read() {
                Ok(Message::Text(text)) => {
                    if let Ok(value) = serde_json::from_str::<Value>(text.as_str()) {
                        return Ok(Some(value));
                    }
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if timed_out(&e) => {}
                Err(e) => return Err(ws_error(&self.url, e)),
            }
        }
    }
}

fn ws_error(url: &str, e: tungstenite::Error) -> Error {
    Error::WebSocket {
        url: url.to_string(),
        source: Box::new(e),
    }
}

fn timeout(what: &str, within: Duration) -> Error {
    Error::Timeout {
        what: what.to_string(),
        secs: within.as_secs().max(1),
    }
}
