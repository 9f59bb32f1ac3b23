//! A process's `watchdog_sec` timer: due one interval after the last `WATCHDOG=1`.

use std::time::Duration;
use tokio::time::Instant;

/// A process's watchdog (`watchdog_sec`): when it is due, re-armed by each `WATCHDOG=1`.
#[derive(Default, Debug)]
pub struct Watchdog {
    every: Option<Duration>,
    due: Option<Instant>,
}

impl Watchdog {
    /// Arms it for a new process (off without an interval).
    pub fn arm(&mut self, every: Option<Duration>) {
        self.every = every;
        self.pet();
    }

    /// `WATCHDOG=1`: due one interval from now.
    pub fn pet(&mut self) {
        self.due = self.every.map(|every| Instant::now() + every);
    }

    /// `WATCHDOG_USEC=`: a new interval (only for a process that has a watchdog), from now.
    pub fn set_interval(&mut self, every: Duration) {
        if self.every.is_some() {
            self.every = Some(every.max(Duration::from_millis(1)));
            self.pet();
        }
    }

    /// Off until armed again (the process is gone or being replaced).
    pub fn disarm(&mut self) {
        self.due = None;
    }

    /// When it fires, if armed.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// The interval, if any.
    pub fn every(&self) -> Option<Duration> {
        self.every
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_is_due_one_interval_after_each_pet_and_never_without_one() {
        let mut w = Watchdog::default();
        w.arm(None);
        assert!(w.due().is_none());
        w.set_interval(Duration::from_secs(1));
        assert!(
            w.due().is_none(),
            "WATCHDOG_USEC= alone does not turn it on"
        );
        let before = Instant::now();
        w.arm(Some(Duration::from_secs(60)));
        let due = w.due().unwrap();
        assert!(
            due >= before + Duration::from_secs(60)
                && due <= Instant::now() + Duration::from_secs(60)
        );
        w.set_interval(Duration::from_secs(1));
        assert!(w.due().unwrap() <= Instant::now() + Duration::from_secs(1));
        w.pet();
        assert!(w.due().unwrap() <= Instant::now() + Duration::from_secs(1));
        w.set_interval(Duration::ZERO);
        assert_eq!(w.every(), Some(Duration::from_millis(1)));
        w.disarm();
        assert!(w.due().is_none());
    }
}
