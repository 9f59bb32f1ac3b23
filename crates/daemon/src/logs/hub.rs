//! Fan-out of log chunks and process events to live `pm2 logs` readers.
//!
//! Each reader has its own bounded queue. Publishing never waits: when a reader's queue is
//! full the chunk is dropped for that reader only and the lines it held are counted, so a
//! paused terminal can never slow an app, and the reader is told how many lines it missed.

use pm2_proto::Target;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// What a chunk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    /// App stdout.
    Out,
    /// App stderr.
    Err,
    /// The daemon's own log (`pm2.log`).
    Pm2,
    /// A process event (`online`, `exit`, `stop`...), data is the event name.
    Event,
    /// A message the app sent over IPC (PM2's `process:msg`), data is its JSON.
    Message,
}

/// One published chunk.
#[derive(Debug, Clone)]
pub struct LogEvent {
    /// Instance id (None for daemon lines).
    pub pm_id: Option<u32>,
    /// App name (`PM2` for daemon lines).
    pub name: Arc<str>,
    /// App namespace.
    pub namespace: Arc<str>,
    /// Kind.
    pub kind: LogKind,
    /// The bytes as written.
    pub data: Arc<[u8]>,
    /// When it was read, ms since the epoch.
    pub at: u64,
}

/// Which events a reader wants.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Targets as the user typed them (empty: everything).
    pub targets: Vec<Target>,
    /// Whether daemon lines are wanted.
    pub daemon: bool,
}

/// One target of a [`Filter`], ready to test events against: a regex is compiled once, when
/// the reader subscribes, not for every published chunk.
enum Matcher {
    All,
    Id(u32),
    Name(String),
    /// `None`: the pattern is not a valid regex, so it matches nothing.
    Regex(Option<regex_lite::Regex>),
}

impl Matcher {
    fn new(target: &Target) -> Matcher {
        match target {
            Target::All => Matcher::All,
            Target::Id(id) => Matcher::Id(*id),
            Target::Name(n) => Matcher::Name(n.clone()),
            Target::Regex(re) => Matcher::Regex(regex_lite::Regex::new(re).ok()),
            Target::Word { word, .. } => match word.parse() {
                Ok(id) => Matcher::Id(id),
                Err(_) => Matcher::Name(word.clone()),
            },
        }
    }

    fn matches(&self, pm_id: u32, e: &LogEvent) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Id(id) => *id == pm_id,
            Matcher::Name(n) => **n == *e.name || **n == *e.namespace,
            Matcher::Regex(re) => re.as_ref().is_some_and(|r| r.is_match(&e.name)),
        }
    }
}

/// A [`Filter`] as a subscriber keeps it.
struct CompiledFilter {
    targets: Vec<Matcher>,
    daemon: bool,
}

impl CompiledFilter {
    fn new(filter: Filter) -> CompiledFilter {
        CompiledFilter {
            targets: filter.targets.iter().map(Matcher::new).collect(),
            daemon: filter.daemon,
        }
    }

    fn matches(&self, e: &LogEvent) -> bool {
        let Some(pm_id) = e.pm_id else {
            return self.daemon;
        };
        self.targets.is_empty() || self.targets.iter().any(|t| t.matches(pm_id, e))
    }
}

/// One reader's queue.
struct Subscriber {
    filter: CompiledFilter,
    tx: mpsc::Sender<LogEvent>,
    missed_lines: AtomicU64,
    queued_bytes: AtomicUsize,
}

/// How many chunks a reader may have queued before it starts missing lines.
const QUEUE: usize = 4096;
/// How many bytes a reader may have queued: a paused terminal holds at most this much of
/// the daemon's memory, whatever the size of the chunks.
const QUEUE_BYTES: usize = 1024 * 1024;

/// The hub; cheap to clone.
#[derive(Clone, Default)]
pub struct LogHub {
    subs: Arc<Mutex<Vec<Arc<Subscriber>>>>,
    count: Arc<AtomicUsize>,
}

/// A reader's end: events, plus how many lines were missed since the last call.
pub struct Subscription {
    rx: mpsc::Receiver<LogEvent>,
    me: Arc<Subscriber>,
    hub: LogHub,
}

impl Subscription {
    /// The next event (None when the hub is gone).
    pub async fn recv(&mut self) -> Option<LogEvent> {
        let event = self.rx.recv().await?;
        self.me
            .queued_bytes
            .fetch_sub(event.data.len(), Ordering::Relaxed);
        Some(event)
    }

    /// Lines dropped for this reader since the last call.
    pub fn take_missed(&self) -> u64 {
        self.me.missed_lines.swap(0, Ordering::Relaxed)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut subs = self.hub.lock();
        subs.retain(|s| !Arc::ptr_eq(s, &self.me));
        self.hub.count.store(subs.len(), Ordering::Relaxed);
    }
}

impl LogHub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Subscriber>>> {
        self.subs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a reader.
    pub fn subscribe(&self, filter: Filter) -> Subscription {
        let (tx, rx) = mpsc::channel(QUEUE);
        let me = Arc::new(Subscriber {
            filter: CompiledFilter::new(filter),
            tx,
            missed_lines: AtomicU64::new(0),
            queued_bytes: AtomicUsize::new(0),
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

    /// Publishes the event built by `make`, which runs only when someone is listening (the
    /// relay's hot path then costs one atomic load).
    pub fn publish_with(&self, make: impl FnOnce() -> LogEvent) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let event = make();
        let len = event.data.len();
        for sub in self.lock().iter().filter(|s| s.filter.matches(&event)) {
            let room = sub.queued_bytes.load(Ordering::Relaxed) + len <= QUEUE_BYTES;
            if room && sub.tx.try_send(event.clone()).is_ok() {
                sub.queued_bytes.fetch_add(len, Ordering::Relaxed);
            } else {
                let lines = count_lines(&event.data);
                sub.missed_lines.fetch_add(lines, Ordering::Relaxed);
            }
        }
    }
}

fn count_lines(data: &[u8]) -> u64 {
    let n = data.iter().filter(|b| **b == b'\n').count() as u64;
    n.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, data: &[u8]) -> LogEvent {
        LogEvent {
            pm_id: Some(0),
            name: name.into(),
            namespace: "default".into(),
            kind: LogKind::Out,
            data: data.into(),
            at: 0,
        }
    }

    #[tokio::test]
    async fn a_full_reader_misses_lines_and_is_told_how_many() {
        let hub = LogHub::default();
        let mut sub = hub.subscribe(Filter {
            targets: vec![],
            daemon: false,
        });
        for _ in 0..QUEUE + 10 {
            hub.publish_with(|| event("a", b"x\ny\n"));
        }
        assert_eq!(sub.take_missed(), 20);
        assert!(sub.recv().await.is_some());
        drop(sub);
        assert_eq!(hub.count.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn big_chunks_are_bounded_by_bytes() {
        let hub = LogHub::default();
        let sub = hub.subscribe(Filter {
            targets: vec![],
            daemon: false,
        });
        let chunk = vec![b'x'; 256 * 1024];
        for _ in 0..10 {
            hub.publish_with(|| event("a", &chunk));
        }
        assert_eq!(sub.take_missed(), 6, "4 chunks of 256 KiB fit in 1 MiB");
    }

    #[tokio::test]
    async fn filters_by_name_and_namespace() {
        let hub = LogHub::default();
        let mut sub = hub.subscribe(Filter {
            targets: vec![Target::Name("b".into())],
            daemon: false,
        });
        hub.publish_with(|| event("a", b"no\n"));
        hub.publish_with(|| event("b", b"yes\n"));
        let got = sub.recv().await.unwrap();
        assert_eq!(&*got.name, "b");
    }

    #[tokio::test]
    async fn filters_by_regex_and_an_invalid_regex_matches_nothing() {
        let hub = LogHub::default();
        let mut sub = hub.subscribe(Filter {
            targets: vec![Target::Regex("^ap".into())],
            daemon: false,
        });
        let bad = hub.subscribe(Filter {
            targets: vec![Target::Regex("(".into())],
            daemon: false,
        });
        hub.publish_with(|| event("web", b"no\n"));
        hub.publish_with(|| event("api", b"yes\n"));
        assert_eq!(&*sub.recv().await.unwrap().name, "api");
        assert_eq!(bad.take_missed(), 0);
        assert!(bad.rx.is_empty());
    }
}
