//! What the relay does to each line before it reaches the files: nothing (raw), a date
//! prefix (`--time`, `--log-date-format`), or PM2's JSON line object (`--log-type json`).
//!
//! Chunks from a pipe cut lines anywhere; the prefixer keeps track of line starts and the
//! JSON mode holds an unfinished line until its newline (or the end of the stream), so a
//! line is never split into two records.

use pm2_logfmt::{iso_timestamp, json_line_bytes, DateFormat, LinePrefixer, Stream};
use pm2_proto::AppSpec;
use std::borrow::Cow;

/// How an app's lines are written.
#[derive(Debug, Clone)]
pub enum LineFormat {
    /// As the app wrote them.
    Raw,
    /// `<date>: ` before every line.
    Dated(DateFormat),
    /// One JSON object per line; the timestamp uses the date format when one is set.
    Json {
        /// `log_date_format`, else ISO 8601 UTC.
        date: Option<DateFormat>,
        /// `process_id` field.
        pm_id: u32,
        /// `app_name` field.
        name: String,
    },
}

impl LineFormat {
    /// The format an app asked for (`log_type: json` wins over a date format, as in PM2).
    pub fn for_app(spec: &AppSpec, pm_id: u32) -> LineFormat {
        let date = spec.log_date_format.as_deref().map(DateFormat::parse);
        match (spec.log_type.as_deref(), date) {
            (Some("json"), date) => LineFormat::Json {
                date,
                pm_id,
                name: spec.name.clone(),
            },
            (_, Some(date)) => LineFormat::Dated(date),
            _ => LineFormat::Raw,
        }
    }
}

/// Per-stream state of a [`LineFormat`].
pub struct LineFormatter {
    format: LineFormat,
    stream: Stream,
    prefixer: LinePrefixer,
    pending: Vec<u8>,
}

impl LineFormatter {
    /// A formatter for one pipe.
    pub fn new(format: LineFormat, stream: Stream) -> LineFormatter {
        LineFormatter {
            format,
            stream,
            prefixer: LinePrefixer::new(),
            pending: Vec::new(),
        }
    }

    /// The bytes to write for `chunk` (borrowed unchanged in raw mode, the hot path).
    pub fn apply<'a>(&mut self, chunk: &'a [u8]) -> Cow<'a, [u8]> {
        match &self.format {
            LineFormat::Raw => Cow::Borrowed(chunk),
            LineFormat::Dated(date) => {
                let prefix = date.line_prefix(&chrono::Local::now());
                let mut out = Vec::with_capacity(chunk.len() + 64);
                self.prefixer.push(chunk, &prefix, &mut out);
                Cow::Owned(out)
            }
            LineFormat::Json { .. } => {
                self.pending.extend_from_slice(chunk);
                let Some(end) = self.pending.iter().rposition(|b| *b == b'\n') else {
                    return Cow::Borrowed(&[]);
                };
                let rest = self.pending.split_off(end + 1);
                let complete = std::mem::replace(&mut self.pending, rest);
                Cow::Owned(self.json_records(&complete))
            }
        }
    }

    /// What is left at the end of the stream (an unfinished JSON line).
    pub fn finish(&mut self) -> Vec<u8> {
        if self.pending.is_empty() {
            return vec![];
        }
        let last = std::mem::take(&mut self.pending);
        self.json_records(&last)
    }

    /// One JSON object per line of `lines`; each message keeps its newline, as PM2's does.
    fn json_records(&self, lines: &[u8]) -> Vec<u8> {
        let LineFormat::Json { date, pm_id, name } = &self.format else {
            return lines.to_vec();
        };
        let now = chrono::Local::now();
        let timestamp = match date {
            Some(d) => d.format(&now),
            None => iso_timestamp(&now),
        };
        let mut out = Vec::with_capacity(lines.len() + 128);
        for line in lines.split_inclusive(|b| *b == b'\n') {
            let record = json_line_bytes(line, &timestamp, self.stream, *pm_id, name);
            out.extend_from_slice(record.as_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json() -> LineFormat {
        LineFormat::Json {
            date: Some(DateFormat::parse("[T]")),
            pm_id: 3,
            name: "api".into(),
        }
    }

    #[test]
    fn raw_passes_bytes_through_untouched() {
        let mut f = LineFormatter::new(LineFormat::Raw, Stream::Out);
        let bytes = [0xff, b'a', b'\n', 0xfe];
        assert_eq!(&*f.apply(&bytes), &bytes);
        assert!(f.finish().is_empty());
    }

    #[test]
    fn json_never_splits_a_line_across_records() {
        let mut f = LineFormatter::new(json(), Stream::Err);
        let mut out = f.apply(b"hel").into_owned();
        out.extend_from_slice(&f.apply(b"lo\nwor"));
        out.extend_from_slice(&f.finish());
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(first["message"], "hello\n");
        assert_eq!(first["type"], "err");
        assert_eq!(first["process_id"], 3);
        assert_eq!(first["timestamp"], "T");
        let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(second["message"], "wor");
    }

    #[test]
    fn dated_lines_get_a_prefix_each() {
        let mut f = LineFormatter::new(LineFormat::Dated(DateFormat::parse("[D]")), Stream::Out);
        let mut out = f.apply(b"a\nb").into_owned();
        out.extend_from_slice(&f.apply(b"c\n"));
        assert_eq!(out, b"D: a\nD: bc\n");
    }
}
