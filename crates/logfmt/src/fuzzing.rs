//! One input through the decoders of log data and of users' date formats, with the
//! invariants that must hold whatever the bytes are: a child's output (prefixer, JSON log
//! lines, `pm2 logs` views), a log file (the tail step) and a `log_date_format` string.
//! The fuzz targets in `fuzz/` and the property tests below call the same functions.
//!
//! Compiled for tests and with the `fuzzing` feature only.

use std::io::Cursor;

use chrono::{DateTime, FixedOffset, Utc};

use crate::tail::tail_from;
use crate::{
    format_date, json_line_bytes, DateFormat, LineKind, LinePrefixer, LogEvent, LogFlags, LogView,
    Stream, DAYJS_DEFAULT_FORMAT,
};

/// A child's output stream. Byte 0 is the prefix length, byte 1 picks the read boundaries
/// and the tail parameters; then the prefix, then the stream. The prefixer's output is the
/// line-by-line model whatever the boundaries, a JSON log line parses back to the chunk,
/// the views render, and the tail step returns the last lines of the stream as a file.
pub fn log_stream(data: &[u8]) {
    let [len, seed, rest @ ..] = data else {
        return;
    };
    let (prefix, stream) = rest.split_at(usize::from(*len % 16).min(rest.len()));
    check_prefixer(prefix, stream, *seed);
    check_json_line(prefix, stream);
    check_views(prefix, stream);
    check_tail(stream, *seed);
}

/// A date format and an instant. Bytes 0..8 are the instant (ms), 8..12 the UTC offset
/// (s); the rest is the format string. Every way of formatting agrees, and the output
/// stays proportional to the format (no token expands without bound).
pub fn date_format(data: &[u8]) {
    let (Some(ms), Some(offset)) = (data.get(..8), data.get(8..12)) else {
        return;
    };
    let ms = i64::from_le_bytes(ms.try_into().expect("8 bytes"));
    let offset = i32::from_le_bytes(offset.try_into().expect("4 bytes"));
    let fmt = String::from_utf8_lossy(&data[12..]);
    let t = instant(ms, offset);
    let compiled = DateFormat::parse(&fmt);
    let text = compiled.format(&t);
    assert_eq!(text, format_date(&fmt, &t));
    let mut bytes = Vec::new();
    compiled.write_to(&t, &mut bytes);
    assert_eq!(bytes, text.as_bytes());
    assert_eq!(compiled.line_prefix(&t), format!("{text}: ").into_bytes());
    let budget = 17 * fmt.len().max(DAYJS_DEFAULT_FORMAT.len());
    assert!(
        text.len() <= budget,
        "{fmt:?} expanded to {} bytes",
        text.len()
    );
    let flags = LogFlags {
        timestamp: Some(&fmt),
        format: ms % 2 == 0,
        ..LogFlags::default()
    };
    let ev = event("app", LineKind::Out, "a line\n", ms);
    let out = LogView::from_flags(&flags).render(&ev, &t);
    assert!(out.stdout.len() <= budget + 64);
}

/// Any instant chrono can represent, in any offset it accepts (less than a day).
fn instant(ms: i64, offset: i32) -> DateTime<FixedOffset> {
    let utc = DateTime::<Utc>::from_timestamp_millis(ms)
        .or_else(|| DateTime::<Utc>::from_timestamp_millis(ms % 8_000_000_000_000_000))
        .unwrap_or_default();
    let offset = FixedOffset::east_opt(offset % 86_400).expect("under a day");
    utc.with_timezone(&offset)
}

fn event<'a>(name: &'a str, kind: LineKind, data: &'a str, at_ms: i64) -> LogEvent<'a> {
    LogEvent {
        pm_id: 7,
        name,
        kind,
        data,
        at_ms,
    }
}

fn check_prefixer(prefix: &[u8], stream: &[u8], seed: u8) {
    let mut want = Vec::new();
    for line in stream.split_inclusive(|&b| b == b'\n') {
        want.extend_from_slice(prefix);
        want.extend_from_slice(line);
    }
    let mut p = LinePrefixer::new();
    let mut got = Vec::new();
    for read in cuts(stream, seed) {
        p.push(read, prefix, &mut got);
    }
    assert_eq!(got, want);
    assert_eq!(p.at_line_start(), stream.last().is_none_or(|&b| b == b'\n'));
}

fn check_json_line(name: &[u8], stream: &[u8]) {
    let name = String::from_utf8_lossy(name);
    let line = json_line_bytes(stream, "ts\"\u{1}", Stream::Err, 3, &name);
    assert!(line.ends_with("}\n") && line.matches('\n').count() == 1);
    let value: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line parses");
    assert_eq!(value["message"], *String::from_utf8_lossy(stream));
    assert_eq!(value["timestamp"], "ts\"\u{1}");
    assert_eq!(value["app_name"], *name);
}

fn check_views(name: &[u8], stream: &[u8]) {
    let name = String::from_utf8_lossy(name);
    let data = String::from_utf8_lossy(stream);
    let now = DateTime::<Utc>::from_timestamp_millis(1_700_000_000_000).unwrap_or_default();
    for (raw, json, format, color) in [
        (false, false, false, true),
        (true, false, false, false),
        (false, true, false, false),
        (false, false, true, true),
    ] {
        let flags = LogFlags {
            raw,
            json,
            format,
            timestamp: Some(""),
            highlight: Some(&name),
            color,
        };
        let mut view = LogView::from_flags(&flags);
        for kind in [LineKind::Out, LineKind::Err, LineKind::Pm2] {
            let _ = view.render(&event(&name, kind, &data, i64::MAX), &now);
            let _ = view.render_tail_line(1, &name, kind, stream);
        }
    }
}

/// The tail step on `stream` as a file: the last `n` lines, the final `\n` ending the last
/// line, whatever the block size; a file shorter than its stated length is no error.
fn check_tail(stream: &[u8], seed: u8) {
    let n = usize::from(seed % 8) + 1;
    let block = usize::from(seed / 8) + 1;
    let len = stream.len() as u64;
    let got = tail_from(&mut Cursor::new(stream), len, n, block).expect("in-memory read");
    let body = stream.strip_suffix(b"\n").unwrap_or(stream);
    let want: Vec<&[u8]> = if stream.is_empty() {
        Vec::new()
    } else {
        let all: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
        all[all.len().saturating_sub(n)..].to_vec()
    };
    assert_eq!(got, want, "tail of {n} lines, block {block}");
    let claimed = len + u64::from(seed);
    tail_from(&mut Cursor::new(stream), claimed, n, block).expect("short reads are fine");
}

/// `stream` cut into reads of 1 to 32 bytes, sizes drawn from `seed`.
fn cuts(stream: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut state = u32::from(seed) | 1;
    let mut rest = stream;
    let mut reads = Vec::new();
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let size = ((state >> 16) % 32 + 1) as usize;
        let (read, tail) = rest.split_at(size.min(rest.len()));
        reads.push(read);
        rest = tail;
    }
    reads
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_as_a_log_stream(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            log_stream(&data);
        }

        #[test]
        fn line_shaped_log_streams(len in any::<u8>(), seed in any::<u8>(), text in "[a-c\r\n\u{e9}\u{1b}]{0,200}") {
            let mut data = vec![len, seed];
            data.extend_from_slice(text.as_bytes());
            log_stream(&data);
        }

        #[test]
        fn any_bytes_as_a_date_format(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            date_format(&data);
        }

        #[test]
        fn token_shaped_date_formats(ms in any::<i64>(), offset in any::<i32>(), fmt in "[YMDdHhmsSZaAXx\\[\\] T:.-]{0,40}") {
            let mut data = ms.to_le_bytes().to_vec();
            data.extend_from_slice(&offset.to_le_bytes());
            data.extend_from_slice(fmt.as_bytes());
            date_format(&data);
        }
    }

    /// Every input a fuzz target of this crate ever failed on stays fixed.
    #[test]
    fn fuzz_regressions() {
        pm2_fuzz_regressions::replay(&[
            ("logfmt_stream", log_stream as fn(&[u8])),
            ("logfmt_date", date_format),
        ]);
    }
}
