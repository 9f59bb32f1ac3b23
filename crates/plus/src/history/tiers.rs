//! The three tiers the history keeps and the pure arithmetic on them: which closed
//! buckets a tick must roll up into the next tier, how old a point may grow in each tier,
//! and the rollup itself (weighted average and maximum). No I/O, so it is unit-tested on
//! its own; `store` runs what it decides.

/// One resolution of the history: points `width_s` apart, kept `keep_s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// Seconds between two points (a point covers `[t, t + width_s)`).
    pub width_s: i64,
    /// How long a point is kept, seconds.
    pub keep_s: i64,
}

/// 1 s for 1 h, 1 min for 7 days, 1 h for 90 days (issue 16): about 3 600 + 10 080 +
/// 2 160 points a series at most, whatever the dashboard's uptime.
pub const TIERS: [Tier; 3] = [
    Tier {
        width_s: 1,
        keep_s: 3600,
    },
    Tier {
        width_s: 60,
        keep_s: 7 * 86_400,
    },
    Tier {
        width_s: 3600,
        keep_s: 90 * 86_400,
    },
];

/// One stored point of one series in one tier: the average and the maximum of the
/// samples it covers, and how many there were (the weight of its average in a rollup).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// The series' row id.
    pub series: i64,
    /// The start of its bucket, seconds since the epoch.
    pub t: i64,
    /// The mean of the samples.
    pub avg: f64,
    /// The largest sample.
    pub max: f64,
    /// Samples covered.
    pub n: i64,
}

/// Roll up the points of tier `from` in `[start, end)` into tier `from + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollUp {
    /// The tier read.
    pub from: usize,
    /// The first second covered.
    pub start: i64,
    /// The first second not covered (a bucket boundary of the next tier).
    pub end: i64,
}

/// The rollups due when the clock moves from `last` to `now` (both seconds): each bucket
/// of tiers 1 and 2 that closed in between, in tier order (a minute is rolled up before
/// the hour that contains it). A gap (the dashboard was down) rolls up everything from
/// the bucket `last` was in to the one `now` is in, as one range per tier.
pub fn due(last: i64, now: i64) -> Vec<RollUp> {
    let mut out = Vec::new();
    for (from, tier) in TIERS.iter().enumerate().skip(1) {
        let w = tier.width_s;
        let (was, is) = (last.div_euclid(w) * w, now.div_euclid(w) * w);
        if is > was {
            out.push(RollUp {
                from: from - 1,
                start: was,
                end: is,
            });
        }
    }
    out
}

/// For each tier, the oldest `t` it keeps at `now`: points before it are pruned.
pub fn cutoffs(now: i64) -> [i64; 3] {
    TIERS.map(|t| now - t.keep_s)
}

/// Groups `points` into buckets `width_s` wide per series: the average weighted by each
/// point's sample count, the largest maximum, the summed count. Output is sorted by
/// series, then time.
pub fn roll_up(points: &[Point], width_s: i64) -> Vec<Point> {
    let mut sorted: Vec<Point> = points.iter().filter(|p| p.n > 0).copied().collect();
    sorted.sort_by_key(|p| (p.series, p.t));
    let mut out: Vec<Point> = Vec::new();
    for p in sorted {
        let t = p.t.div_euclid(width_s) * width_s;
        match out.last_mut() {
            Some(b) if b.series == p.series && b.t == t => {
                let n = b.n + p.n;
                b.avg = (b.avg * b.n as f64 + p.avg * p.n as f64) / n as f64;
                b.max = b.max.max(p.max);
                b.n = n;
            }
            _ => out.push(Point { t, ..p }),
        }
    }
    out
}

/// The tier and the first second a chart of `range` reads: the finest tier that still
/// holds the whole range. `None` for a range it does not know.
pub fn for_range(range: &str, now: i64) -> Option<(usize, i64)> {
    let (tier, span) = match range {
        "1h" => (0, 3600),
        "24h" => (1, 86_400),
        "7d" => (1, 7 * 86_400),
        "90d" => (2, 90 * 86_400),
        _ => return None,
    };
    Some((tier, now - span))
}

/// The ranges [`for_range`] knows, for the error message and the page's buttons.
pub const RANGES: [&str; 4] = ["1h", "24h", "7d", "90d"];

#[cfg(test)]
mod tests {
    use super::*;

    fn p(series: i64, t: i64, avg: f64, max: f64, n: i64) -> Point {
        Point {
            series,
            t,
            avg,
            max,
            n,
        }
    }

    #[test]
    fn a_rollup_weights_averages_by_sample_count_and_keeps_the_maximum() {
        let raw = [
            p(1, 60, 10.0, 10.0, 1),
            p(1, 61, 20.0, 25.0, 3),
            p(2, 60, 5.0, 5.0, 1),
            p(1, 120, 7.0, 7.0, 1),
            p(1, 62, 99.0, 99.0, 0),
        ];
        let minutes = roll_up(&raw, 60);
        assert_eq!(
            minutes,
            vec![
                p(1, 60, 17.5, 25.0, 4),
                p(1, 120, 7.0, 7.0, 1),
                p(2, 60, 5.0, 5.0, 1)
            ]
        );
        // Rolling the minutes up again gives what rolling the raw points up would.
        assert_eq!(roll_up(&minutes, 3600), roll_up(&raw, 3600));
    }

    #[test]
    fn rollups_are_due_when_a_minute_or_an_hour_closes() {
        assert_eq!(due(3600 + 58, 3600 + 59), vec![]);
        assert_eq!(
            due(3600 + 59, 3600 + 60),
            vec![RollUp {
                from: 0,
                start: 3600,
                end: 3660
            }]
        );
        assert_eq!(
            due(7199, 7200),
            vec![
                RollUp {
                    from: 0,
                    start: 7140,
                    end: 7200
                },
                RollUp {
                    from: 1,
                    start: 3600,
                    end: 7200
                }
            ]
        );
        // Down for two and a half hours: one range per tier covers the gap.
        assert_eq!(
            due(3650, 3650 + 9000),
            vec![
                RollUp {
                    from: 0,
                    start: 3600,
                    end: 12600
                },
                RollUp {
                    from: 1,
                    start: 3600,
                    end: 10800
                }
            ]
        );
    }

    #[test]
    fn each_tier_keeps_its_own_span_and_a_range_reads_the_finest_that_holds_it() {
        let now = 100 * 86_400;
        assert_eq!(
            cutoffs(now),
            [now - 3600, now - 7 * 86_400, now - 90 * 86_400]
        );
        assert_eq!(for_range("1h", now), Some((0, now - 3600)));
        assert_eq!(for_range("24h", now), Some((1, now - 86_400)));
        assert_eq!(for_range("7d", now), Some((1, now - 7 * 86_400)));
        assert_eq!(for_range("90d", now), Some((2, now - 90 * 86_400)));
        assert_eq!(for_range("1y", now), None);
        for r in RANGES {
            let (tier, since) = for_range(r, now).unwrap();
            assert!(now - since <= TIERS[tier].keep_s, "{r}");
        }
    }
}
