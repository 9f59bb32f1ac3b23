//! The agent's bounded queue of messages for the dashboard. The daemon's readers never
//! wait on it: a message that does not fit is dropped ([`Outbox::offer`]), and the log
//! lines dropped so are counted and reported to the dashboard as one `missed` message
//! (`where`: the agent's queue) before the next message that goes out. Replies to actions
//! wait for room instead ([`Outbox::send`]): only the action's own task waits.

use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Messages the queue holds (a second of a chatty host's logs, and the table).
pub const CAPACITY: usize = 2048;

/// The sending side, cloned by each reader.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::Sender<Bytes>,
    dropped: Arc<AtomicU64>,
}

/// The receiving side, which the connection drains.
pub struct Inbox {
    rx: mpsc::Receiver<Bytes>,
    dropped: Arc<AtomicU64>,
}

/// A new queue.
pub fn new() -> (Outbox, Inbox) {
    let (tx, rx) = mpsc::channel(CAPACITY);
    let dropped = Arc::new(AtomicU64::new(0));
    (
        Outbox {
            tx,
            dropped: Arc::clone(&dropped),
        },
        Inbox { rx, dropped },
    )
}

impl Outbox {
    /// Queues `message` if there is room; else drops it, counting it when it is a log line.
    pub fn offer(&self, message: &Value) {
        if self.tx.try_send(super::wire::encode(message)).is_err()
            && super::wire::kind(message) == "log"
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Queues `message`, waiting for room.
    pub async fn send(&self, message: &Value) {
        let _ = self.tx.send(super::wire::encode(message)).await;
    }
}

impl Inbox {
    /// The next message to write: first a `missed` report when lines were dropped.
    pub async fn next(&mut self) -> Option<Bytes> {
        let message = self.rx.recv().await?;
        let lost = self.dropped.swap(0, Ordering::Relaxed);
        if lost == 0 {
            return Some(message);
        }
        let missed = json!({"t": "missed", "lines": lost, "where": "the pm2-link agent's queue (the dashboard was slow or unreachable)"});
        let mut both = super::wire::encode(&missed).to_vec();
        both.extend_from_slice(&message);
        Some(Bytes::from(both))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_drops_log_lines_and_says_how_many() {
        let (out, mut inbox) = new();
        for i in 0..CAPACITY + 5 {
            out.offer(&json!({"t": "log", "data": i.to_string()}));
        }
        let first = inbox.next().await.unwrap();
        let text = String::from_utf8_lossy(&first);
        assert!(
            text.contains("\"lines\":5") && text.contains("missed"),
            "{text}"
        );
        assert!(text.contains("\"data\":\"0\""), "{text}");
    }
}
