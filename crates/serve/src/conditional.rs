//! The request headers that shape a file's answer: `Range` (one range: 206, or 416 when it
//! cannot be satisfied) and `If-Modified-Since` (304).

use std::ops::Range;
use std::time::{SystemTime, UNIX_EPOCH};

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Ranged {
    /// The whole file: no header, another unit, several ranges or a syntax error (a server
    /// may ignore such a header, RFC 9110 §14.2).
    Whole,
    /// These bytes (206).
    Part(Range<u64>),
    /// No byte of the file is in the range (416).
    Unsatisfiable,
}

/// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n` against a file of `len` bytes.
pub fn range(header: Option<&str>, len: u64) -> Ranged {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ranged::Whole;
    };
    if spec.contains(',') {
        return Ranged::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ranged::Whole;
    };
    let number = |s: &str| -> Option<Option<u64>> {
        let s = s.trim();
        if s.is_empty() {
            return Some(None);
        }
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())?
            .map(Some)
    };
    match (number(first), number(last)) {
        (Some(Some(start)), Some(end)) => from_to(start, end, len),
        (Some(None), Some(Some(suffix))) => last_bytes(suffix, len),
        _ => Ranged::Whole,
    }
}

/// `bytes=start-` or `bytes=start-end` (an end past the file is cut at its end).
fn from_to(start: u64, end: Option<u64>, len: u64) -> Ranged {
    match end {
        Some(end) if end < start => Ranged::Whole,
        _ if start >= len => Ranged::Unsatisfiable,
        end => Ranged::Part(start..end.map_or(len, |e| e.saturating_add(1).min(len))),
    }
}

/// `bytes=-n`: the last `n` bytes.
fn last_bytes(n: u64, len: u64) -> Ranged {
    if n == 0 || len == 0 {
        Ranged::Unsatisfiable
    } else {
        Ranged::Part(len.saturating_sub(n)..len)
    }
}

/// Whether the file, last modified at `mtime`, is unchanged since the `If-Modified-Since`
/// date (compared in whole seconds, the precision of HTTP dates).
pub fn not_modified(header: Option<&str>, mtime: SystemTime) -> bool {
    let Some(since) = header.and_then(|h| httpdate::parse_http_date(h.trim()).ok()) else {
        return false;
    };
    let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    secs(mtime) <= secs(since)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn single_ranges() {
        assert_eq!(range(Some("bytes=2-4"), 10), Ranged::Part(2..5));
        assert_eq!(range(Some("bytes=2-"), 10), Ranged::Part(2..10));
        assert_eq!(range(Some("bytes=-3"), 10), Ranged::Part(7..10));
        assert_eq!(range(Some("bytes=-30"), 10), Ranged::Part(0..10));
        assert_eq!(range(Some("bytes=5-100"), 10), Ranged::Part(5..10));
    }

    #[test]
    fn unsatisfiable_and_ignored_ranges() {
        assert_eq!(range(Some("bytes=10-"), 10), Ranged::Unsatisfiable);
        assert_eq!(range(Some("bytes=-0"), 10), Ranged::Unsatisfiable);
        assert_eq!(range(Some("bytes=0-"), 0), Ranged::Unsatisfiable);
        assert_eq!(range(None, 10), Ranged::Whole);
        assert_eq!(range(Some("bytes=4-2"), 10), Ranged::Whole);
        assert_eq!(range(Some("bytes=0-1,4-5"), 10), Ranged::Whole);
        assert_eq!(range(Some("items=0-1"), 10), Ranged::Whole);
        assert_eq!(range(Some("bytes=a-b"), 10), Ranged::Whole);
        assert_eq!(range(Some("bytes=+1-2"), 10), Ranged::Whole);
        assert_eq!(range(Some("bytes=-"), 10), Ranged::Whole);
    }

    #[test]
    fn if_modified_since_compares_seconds() {
        let mtime = UNIX_EPOCH + Duration::from_millis(1_700_000_000_500);
        let same = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        let before = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(1_699_999_999));
        assert!(not_modified(Some(&same), mtime));
        assert!(!not_modified(Some(&before), mtime));
        assert!(!not_modified(Some("yesterday"), mtime));
        assert!(!not_modified(None, mtime));
    }
}
