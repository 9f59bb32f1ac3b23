//! Fan-out of log chunks and process events to live `pm2 logs` readers.
//!
//! Each reader has its own bounded queue. Publishing never waits: when a reader's queue is
//! full the chunk is dropped for that reader only and the lines it held are counted, so a
//! paused terminal can never slow an app. The reader finds a [`Delivery::Gap`] with that
//! count exactly where the lines are missing, before anything published after them.

pub use super::event::{LogEvent, LogKind};
use super::filter::CompiledFilter;
pub use super::filter::Filter;
use queue::QueueState;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// One reader's queue.
struct Subscriber {
    filter: CompiledFilter,
    tx: mpsc::Sender<Delivery>,
    /// Held while an event is admitted or dropped, and while the reader decides that a gap
    /// is next: what the reader sees is then always in the order it was published.
    queue: Mutex<QueueState>,
}

/// What a reader receives, in order.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// The next event.
    Event(LogEvent),
    /// The events published here were dropped for this reader: that many lines are
    /// missing exactly at this place in its stream.
    Gap {
        /// Lines missing.
        lines: u64,
    },
}

/// How many chunks a reader may have queued before it starts missing lines.
const QUEUE: usize = 4096;
/// How many bytes a reader may have queued: a paused terminal holds at most this much of
/// the daemon's memory (plus one chunk), whatever the size of the chunks.
const QUEUE_BYTES: usize = 1024 * 1024;

/// The hub; cheap to clone.
#[derive(Clone, Default)]
pub struct LogHub {
    subs: Arc<Mutex<Vec<Arc<Subscriber>>>>,
    count: Arc<AtomicUsize>,
}

/// A reader's end: the events it wants, and a mark at each place where some were dropped.
pub struct Subscription {
    rx: mpsc::Receiver<Delivery>,
    me: Arc<Subscriber>,
    hub: LogHub,
}

impl Subscription {
    /// The next event or gap (None when the hub is gone). A gap is reported once the
    /// events before it have been received, and before any event after it.
    pub async fn recv(&mut self) -> Option<Delivery> {
        if let Some(next) = self.next_queued_or_gap() {
            return Some(next);
        }
        let delivery = self.rx.recv().await?;
        Some(self.received(delivery))
    }

    /// A queued delivery, or the open gap when the queue is empty (checked under the queue
    /// lock, so no event published after the gap can be queued meanwhile).
    fn next_queued_or_gap(&mut self) -> Option<Delivery> {
        if let Ok(delivery) = self.rx.try_recv() {
            return Some(self.received(delivery));
        }
        let mut queue = lock(&self.me.queue);
        if let Ok(delivery) = self.rx.try_recv() {
            drop(queue);
            return Some(self.received(delivery));
        }
        let lines = std::mem::take(&mut queue.gap_lines);
        (lines > 0).then_some(Delivery::Gap { lines })
    }

    fn received(&self, delivery: Delivery) -> Delivery {
        if let Delivery::Event(event) = &delivery {
            lock(&self.me.queue).bytes -= event.data.len();
        }
        delivery
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut subs = self.hub.lock();
        subs.retain(|s| !Arc::ptr_eq(s, &self.me));
        self.hub.count.store(subs.len(), Ordering::Relaxed);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Subscriber {
    /// Queues `event`, or drops it and counts its lines. After a drop nothing is queued
    /// until both the gap's mark and the event fit, so the mark always sits where the
    /// lines are missing.
    fn offer(&self, event: &LogEvent) {
        let len = event.data.len();
        let mut queue = lock(&self.queue);
        let slots = if queue.gap_lines > 0 { 2 } else { 1 };
        // An empty queue takes any chunk, so a gap never opens on a reader with nothing
        // queued (it would wait for a mark that no event comes to carry).
        let fits = queue.bytes == 0 || queue.bytes + len <= QUEUE_BYTES;
        if !fits || self.tx.capacity() < slots {
            queue.drop_event(event);
            return;
        }
        let Some(event) = queue.admit(event) else {
            return;
        };
        if queue.gap_lines > 0 {
            let lines = std::mem::take(&mut queue.gap_lines);
            // Cannot fail: the capacity was checked under the lock and only this publisher
            // (holding the hub lock) sends.
            let _ = self.tx.try_send(Delivery::Gap { lines });
        }
        let len = event.data.len();
        if self.tx.try_send(Delivery::Event(event)).is_ok() {
            queue.bytes += len;
        }
    }
}

impl LogHub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Subscriber>>> {
        lock(&self.subs)
    }

    /// Registers a reader.
    pub fn subscribe(&self, filter: Filter) -> Subscription {
        let (tx, rx) = mpsc::channel(QUEUE);
        let me = Arc::new(Subscriber {
            filter: CompiledFilter::new(filter),
            tx,
            queue: Mutex::default(),
        });
        let mut subs = self.lock();
        subs.push(Arc::clone(&me));
        self.count.store(subs.len(), Ordering::Relaxed);
        Subscription {
            rx,
            me,
            hub: self.clone(),
        }
    }

    /// Whether a reader wants the output of the instance `pm_id` of `name` in `namespace`:
    /// while none does, its relay moves the output to the file without ever seeing it. One
    /// atomic load while nobody reads any log.
    pub fn wants_app(&self, pm_id: u32, name: &str, namespace: &str) -> bool {
        self.count.load(Ordering::Relaxed) > 0
            && self
                .lock()
                .iter()
                .any(|s| s.filter.wants_app(pm_id, name, namespace))
    }

    /// Publishes the event built by `make`, which runs only when someone is listening (the
    /// relay's hot path then costs one atomic load).
    pub fn publish_with(&self, make: impl FnOnce() -> LogEvent) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let event = make();
        for sub in self.lock().iter().filter(|s| s.filter.matches(&event)) {
            sub.offer(&event);
        }
    }
}

mod queue;
#[cfg(test)]
mod tests;
