//! What the dashboard remembers between frames: the last log lines of every instance (a
//! bounded ring each, so a chatty app costs a fixed amount of memory) and a short cpu/memory
//! history. Pure data, filled by the feed threads and read by the drawing code.

use pm2_proto::{LogChunk, LogChunkKind, ProcessInfo};
use std::collections::{HashMap, VecDeque};

/// Lines kept per instance.
pub const LOG_CAPACITY: usize = 200;
/// Samples kept per instance (one per second: the last minute).
pub const HISTORY_CAPACITY: usize = 60;
/// A line longer than this without a newline is cut and shown anyway, so an app that never
/// ends its line cannot grow a buffer without bound.
const MAX_PARTIAL: usize = 4096;

/// Where a log line came from; decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// The app's stdout.
    Out,
    /// The app's stderr.
    Err,
    /// A process event (`online`, `exit`...) reported by the daemon.
    Event,
}

/// One complete log line, already cleaned of control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// What produced it.
    pub kind: LineKind,
    /// The text, without its newline.
    pub text: String,
}

/// A fixed-capacity queue that drops its oldest element when full.
#[derive(Debug, Clone)]
pub struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
}

impl<T> Ring<T> {
    /// An empty ring holding at most `capacity` items (at least one).
    pub fn new(capacity: usize) -> Ring<T> {
        let capacity = capacity.max(1);
        Ring {
            items: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// Appends, dropping the oldest item when full.
    pub fn push(&mut self, item: T) {
        if self.items.len() == self.capacity {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }

    /// How many items are held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.iter()
    }
}

/// The log of one instance: complete lines plus the unfinished tail of each stream.
#[derive(Debug, Clone)]
struct AppLog {
    lines: Ring<LogLine>,
    partial_out: String,
    partial_err: String,
}

impl AppLog {
    fn new() -> AppLog {
        AppLog {
            lines: Ring::new(LOG_CAPACITY),
            partial_out: String::new(),
            partial_err: String::new(),
        }
    }

    fn push_line(&mut self, kind: LineKind, raw: &str) {
        self.lines.push(LogLine {
            kind,
            text: sanitize(raw),
        });
    }

    /// Adds stream data, keeping whatever follows the last newline for the next chunk.
    fn push_data(&mut self, kind: LineKind, data: &str) {
        let pending = match kind {
            LineKind::Err => &mut self.partial_err,
            _ => &mut self.partial_out,
        };
        pending.push_str(data);
        let mut rest = std::mem::take(pending);
        if let Some(cut) = rest.rfind('\n') {
            let tail = rest.split_off(cut + 1);
            let complete: Vec<String> = rest.lines().map(str::to_string).collect();
            rest = tail;
            for line in complete {
                self.push_line(kind, &line);
            }
        }
        if rest.len() > MAX_PARTIAL {
            self.push_line(kind, &std::mem::take(&mut rest));
        }
        match kind {
            LineKind::Err => self.partial_err = rest,
            _ => self.partial_out = rest,
        }
    }

    /// Shows what is pending: the process exited or stopped, no newline will come.
    fn flush_partials(&mut self) {
        for kind in [LineKind::Out, LineKind::Err] {
            let pending = match kind {
                LineKind::Err => std::mem::take(&mut self.partial_err),
                _ => std::mem::take(&mut self.partial_out),
            };
            if !pending.is_empty() {
                self.push_line(kind, &pending);
            }
        }
    }
}

/// Every instance's recent log lines, keyed by pm_id.
#[derive(Debug, Default)]
pub struct LogStore {
    apps: HashMap<u32, AppLog>,
}

impl LogStore {
    /// Files one streamed chunk under its instance. Daemon lines and IPC messages are not
    /// shown; events close pending lines and appear as `[PM2] <event>`.
    pub fn push_chunk(&mut self, chunk: &LogChunk) {
        let Some(id) = chunk.pm_id else { return };
        let app = self.apps.entry(id).or_insert_with(AppLog::new);
        match chunk.kind {
            LogChunkKind::Out => app.push_data(LineKind::Out, &chunk.data),
            LogChunkKind::Err => app.push_data(LineKind::Err, &chunk.data),
            LogChunkKind::Event => {
                app.flush_partials();
                app.push_line(LineKind::Event, &format!("[PM2] {}", chunk.data.trim()));
            }
            LogChunkKind::Pm2 | LogChunkKind::Message => {}
        }
    }

    /// Adds lines read from a log file (the tail shown before the live stream starts).
    pub fn push_lines(&mut self, pm_id: u32, kind: LineKind, lines: &[String]) {
        let app = self.apps.entry(pm_id).or_insert_with(AppLog::new);
        for line in lines {
            app.push_line(kind, line);
        }
    }

    /// The last `n` lines of an instance, skipping the `skip_back` most recent (scrolling),
    /// oldest first.
    pub fn window(&self, pm_id: u32, n: usize, skip_back: usize) -> Vec<LogLine> {
        let Some(app) = self.apps.get(&pm_id) else {
            return Vec::new();
        };
        let end = app.lines.len().saturating_sub(skip_back);
        let start = end.saturating_sub(n);
        app.lines
            .iter()
            .skip(start)
            .take(end - start)
            .cloned()
            .collect()
    }

    /// How many lines an instance holds.
    pub fn len(&self, pm_id: u32) -> usize {
        self.apps.get(&pm_id).map_or(0, |a| a.lines.len())
    }

    /// Forgets instances that are no longer listed.
    pub fn retain(&mut self, alive: impl Fn(u32) -> bool) {
        self.apps.retain(|id, _| alive(*id));
    }
}

/// One cpu/memory reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Percent of one core.
    pub cpu: f64,
    /// Resident bytes.
    pub memory: u64,
}

/// The last [`HISTORY_CAPACITY`] readings of every instance, keyed by pm_id.
#[derive(Debug, Default)]
pub struct History {
    apps: HashMap<u32, Ring<Sample>>,
}

impl History {
    /// Records one reading per listed instance and forgets the ones that are gone.
    pub fn record(&mut self, processes: &[ProcessInfo]) {
        self.apps
            .retain(|id, _| processes.iter().any(|p| p.pm_id == *id));
        for p in processes {
            self.apps
                .entry(p.pm_id)
                .or_insert_with(|| Ring::new(HISTORY_CAPACITY))
                .push(Sample {
                    cpu: p.monit.cpu,
                    memory: p.monit.memory,
                });
        }
    }

    /// The readings of one instance, oldest first.
    pub fn samples(&self, pm_id: u32) -> Vec<Sample> {
        self.apps
            .get(&pm_id)
            .map(|r| r.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// Makes a log line safe to put in a terminal cell: ANSI escape sequences are dropped, tabs
/// become spaces and other control characters are removed (they would move the cursor and
/// break the layout).
pub fn sanitize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            '\t' => out.push_str("    "),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Skips the rest of an escape sequence: CSI (`ESC [ ... final`), OSC (`ESC ] ... BEL|ST`) or
/// a two-character escape.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => {
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
        Some(']') => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                    break;
                }
            }
        }
        _ => {}
    }
}
