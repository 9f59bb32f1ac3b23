//! A point in time every blocking step of the crate must finish by.

use std::time::{Duration, Instant};

/// When a step gives up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline(Instant);

impl Deadline {
    /// `within` from now.
    pub(crate) fn after(within: Duration) -> Deadline {
        Deadline(Instant::now() + within)
    }

    /// What is left, `None` once passed (a socket timeout of zero means "no timeout", so
    /// a passed deadline must never become one).
    pub(crate) fn left(self) -> Option<Duration> {
        let left = self.0.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    /// What is left, at most `slice`, so a blocking read wakes up to check other things.
    pub(crate) fn slice(self, slice: Duration) -> Option<Duration> {
        self.left().map(|l| l.min(slice))
    }
}
