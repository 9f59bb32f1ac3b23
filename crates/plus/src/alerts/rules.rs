//! The alert rules as pure state machines over time (ms), so they are tested without a
//! clock: a restart storm (N restarts within a window, then quiet for a window before it
//! fires again) and a threshold held for a duration (fires once per excursion).

use std::collections::VecDeque;

/// N restarts within a window.
#[derive(Debug, Clone)]
pub struct Storm {
    restarts: usize,
    window_ms: u64,
    times: VecDeque<u64>,
    quiet_until: u64,
}

impl Storm {
    /// `restarts` within `window_ms`.
    pub fn new(restarts: u32, window_ms: u64) -> Storm {
        Storm {
            restarts: restarts.max(1) as usize,
            window_ms,
            times: VecDeque::new(),
            quiet_until: 0,
        }
    }

    /// One restart at `at`; true when it makes a storm (and not again within the next
    /// window: one alert per storm).
    pub fn restart(&mut self, at: u64) -> bool {
        self.times.push_back(at);
        while self
            .times
            .front()
            .is_some_and(|t| at.saturating_sub(*t) > self.window_ms)
        {
            self.times.pop_front();
        }
        while self.times.len() > self.restarts {
            self.times.pop_front();
        }
        if self.times.len() < self.restarts || at < self.quiet_until {
            return false;
        }
        self.quiet_until = at.saturating_add(self.window_ms);
        true
    }

    /// The restarts counted now.
    pub fn count(&self) -> usize {
        self.times.len()
    }
}

/// A value over a limit for a duration.
#[derive(Debug, Clone)]
pub struct Sustained {
    limit: f64,
    for_ms: u64,
    over_since: Option<u64>,
    fired: bool,
}

impl Sustained {
    /// Over `limit` for `for_ms`.
    pub fn new(limit: f64, for_ms: u64) -> Sustained {
        Sustained {
            limit,
            for_ms,
            over_since: None,
            fired: false,
        }
    }

    /// A sample; true once per excursion, when it has been over for the duration.
    pub fn sample(&mut self, value: f64, at: u64) -> bool {
        if value <= self.limit {
            self.over_since = None;
            self.fired = false;
            return false;
        }
        let since = *self.over_since.get_or_insert(at);
        if self.fired || at.saturating_sub(since) < self.for_ms {
            return false;
        }
        self.fired = true;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storm_fires_at_the_nth_restart_in_the_window_and_once() {
        let mut s = Storm::new(3, 10_000);
        assert!(!s.restart(0));
        assert!(!s.restart(4_000));
        assert!(s.restart(9_000), "three within 10 s");
        assert!(!s.restart(9_500), "one alert per storm");
        assert!(!s.restart(18_000), "still quiet until 19 s");
        assert!(
            s.restart(19_100),
            "a storm that goes on fires again a window later"
        );
        let mut slow = Storm::new(3, 10_000);
        assert!(!slow.restart(0));
        assert!(!slow.restart(6_000));
        assert!(!slow.restart(12_000), "three, but not within 10 s");
        assert_eq!(slow.count(), 2);
    }

    #[test]
    fn a_threshold_fires_once_it_held_for_the_duration_and_rearms_below_it() {
        let mut t = Sustained::new(80.0, 2_000);
        assert!(!t.sample(90.0, 0));
        assert!(!t.sample(95.0, 1_000));
        assert!(t.sample(85.0, 2_000));
        assert!(!t.sample(99.0, 3_000), "once per excursion");
        assert!(!t.sample(10.0, 4_000));
        assert!(!t.sample(90.0, 5_000));
        assert!(!t.sample(50.0, 6_500), "a dip restarts the clock");
        assert!(!t.sample(90.0, 7_000));
        assert!(t.sample(90.0, 9_000));
        assert!(!t.sample(80.0, 9_500), "at the limit is not over it");
    }
}
