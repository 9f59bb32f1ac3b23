//! The publisher of PM2's event bus: every event goes to every subscriber (PM2's clients
//! filter by name themselves), as `[s:<event>, j:<payload>]` frames. Publishing never
//! waits: each subscriber has its own queue, bounded in bytes; a subscriber that does not
//! read loses the events that do not fit, and the daemon says so in its log.

use serde_json::Value;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};

/// Bytes one subscriber may have queued before it misses events.
const QUEUE_BYTES: usize = 4 << 20;

/// One subscriber's queue.
pub(crate) struct Subscriber {
    tx: mpsc::UnboundedSender<Arc<[u8]>>,
    pub(crate) queued: AtomicUsize,
    dropped: AtomicU64,
}

impl Subscriber {
    fn offer(&self, frame: &Arc<[u8]>) {
        let queued = self.queued.load(Ordering::Relaxed);
        if queued > 0 && queued + frame.len() > QUEUE_BYTES {
            if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                tracing::warn!(
                    "pub.sock: a subscriber does not keep up: events are dropped for it"
                );
            }
            return;
        }
        self.queued.fetch_add(frame.len(), Ordering::Relaxed);
        let _ = self.tx.send(Arc::clone(frame));
    }
}

/// The publisher; cheap to clone.
#[derive(Clone)]
pub(crate) struct Bus {
    subscribers: Arc<Mutex<Vec<Arc<Subscriber>>>>,
    pub(crate) count: watch::Sender<usize>,
}

impl Default for Bus {
    fn default() -> Self {
        Bus {
            subscribers: Arc::default(),
            count: watch::Sender::new(0),
        }
    }
}

impl Bus {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Subscriber>>> {
        self.subscribers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends an event to every subscriber (nothing is built when there is none).
    pub(crate) fn publish(&self, event: &str, payload: &Value) {
        if *self.count.borrow() == 0 {
            return;
        }
        let frame: Arc<[u8]> = match pm2_axon::bus::event(event, payload) {
            Ok(frame) => Arc::from(frame),
            Err(e) => return tracing::warn!("pub.sock: cannot encode {event}: {e}"),
        };
        for subscriber in self.lock().iter() {
            subscriber.offer(&frame);
        }
    }

    /// Waits (at most `within`) until every subscriber has been sent what was published,
    /// so a last event (`pm2:kill`) reaches them before the daemon goes.
    pub(crate) async fn drained(&self, within: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            let pending = self
                .lock()
                .iter()
                .any(|s| s.queued.load(Ordering::Relaxed) > 0);
            if !pending {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    pub(crate) fn add(&self) -> (Arc<Subscriber>, mpsc::UnboundedReceiver<Arc<[u8]>>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let me = Arc::new(Subscriber {
            tx,
            queued: AtomicUsize::new(0),
            dropped: AtomicU64::new(0),
        });
        let mut all = self.lock();
        all.push(Arc::clone(&me));
        self.count.send_replace(all.len());
        (me, rx)
    }

    pub(crate) fn remove(&self, me: &Arc<Subscriber>) {
        let mut all = self.lock();
        all.retain(|s| !Arc::ptr_eq(s, me));
        self.count.send_replace(all.len());
    }
}
