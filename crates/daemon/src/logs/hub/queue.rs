//! The bookkeeping of one reader's queue: the bytes it holds, and the gap it is in, counted
//! in whole lines even when the chunks that were dropped began or ended inside a line.

use crate::logs::event::{LogEvent, LogKind};
use std::sync::Arc;

/// What a reader's queue holds beside the events themselves.
#[derive(Default)]
pub(super) struct QueueState {
    /// Bytes of the events queued and not yet received.
    pub(super) bytes: usize,
    /// Lines lost since the last event that got in: the gap the reader is in, not yet
    /// marked in its queue.
    pub(super) gap_lines: u64,
    /// Streams whose last dropped chunk ended inside a line: that line is counted in a gap
    /// already, so the rest of it, up to its newline, is not delivered later.
    torn: Vec<(Option<u32>, LogKind)>,
}

impl QueueState {
    /// Counts the lines `event` loses: every line that has a part in it and was not counted
    /// already (a line torn by an earlier drop).
    pub(super) fn drop_event(&mut self, event: &LogEvent) {
        if !is_text(event.kind) {
            self.gap_lines += 1;
            return;
        }
        let data = &event.data;
        let newlines = data.iter().filter(|b| **b == b'\n').count() as u64;
        let open_tail = u64::from(data.last().is_some_and(|b| *b != b'\n'));
        let was_torn = self.untear(event);
        let continued = u64::from(was_torn && !data.is_empty());
        self.gap_lines += (newlines + open_tail).saturating_sub(continued);
        if open_tail == 1 || (was_torn && data.is_empty()) {
            self.torn.push(key(event));
        }
    }

    /// The part of `event` a reader may get: after a drop tore a line of its stream, the
    /// rest of that line (counted in the gap) is cut off; None when nothing is left.
    pub(super) fn admit(&mut self, event: &LogEvent) -> Option<LogEvent> {
        if event.kind == LogKind::Event {
            self.torn.retain(|(id, _)| *id != event.pm_id);
        }
        if !is_text(event.kind) || !self.torn.contains(&key(event)) {
            return Some(event.clone());
        }
        let newline = event.data.iter().position(|b| *b == b'\n')?;
        self.untear(event);
        let rest = &event.data[newline + 1..];
        (!rest.is_empty()).then(|| LogEvent {
            data: Arc::from(rest),
            ..event.clone()
        })
    }

    /// Forgets that `event`'s stream was torn; returns whether it was.
    fn untear(&mut self, event: &LogEvent) -> bool {
        let before = self.torn.len();
        let k = key(event);
        self.torn.retain(|t| *t != k);
        self.torn.len() != before
    }
}

fn key(event: &LogEvent) -> (Option<u32>, LogKind) {
    (event.pm_id, event.kind)
}

/// Output that is a byte stream cut into chunks anywhere, as opposed to whole events.
fn is_text(kind: LogKind) -> bool {
    matches!(kind, LogKind::Out | LogKind::Err | LogKind::Pm2)
}
