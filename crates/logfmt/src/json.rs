//! PM2's JSON log objects.
//!
//! Tools parse these lines (`log_type: json` files, `pm2 logs --json`), so
//! the key order and escaping follow `JSON.stringify` exactly.

use std::sync::OnceLock;

use chrono::{DateTime, Datelike, TimeZone, Utc};

use crate::date::DateFormat;

/// Which pipe a chunk came from; PM2 names them `out` and `err` in bus
/// events, JSON objects and file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// The child's stdout.
    Out,
    /// The child's stderr.
    Err,
}

impl Stream {
    /// The name PM2 uses in `"type"` fields and `log:<type>` bus events.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Out => "out",
            Stream::Err => "err",
        }
    }
}

/// The object PM2 appends to log files for `log_type: json`:
/// `{"message":…,"timestamp":…,"type":"out"|"err","process_id":N,"app_name":…}`
/// and a newline. `message` is the chunk as received (newlines included);
/// `timestamp` is `log_date_format` applied to now, or [`iso_timestamp`].
pub fn json_line(
    message: &str,
    timestamp: &str,
    stream: Stream,
    process_id: u32,
    app_name: &str,
) -> String {
    let mut out = String::with_capacity(message.len() + app_name.len() + 96);
    out.push_str("{\"message\":");
    push_json_str(&mut out, message);
    out.push_str(",\"timestamp\":");
    push_json_str(&mut out, timestamp);
    out.push_str(",\"type\":\"");
    out.push_str(stream.as_str());
    out.push_str("\",\"process_id\":");
    out.push_str(&process_id.to_string());
    out.push_str(",\"app_name\":");
    push_json_str(&mut out, app_name);
    out.push_str("}\n");
    out
}

/// [`json_line`] for a raw pipe chunk: invalid UTF-8 becomes U+FFFD, which
/// is what Node's `data.toString()` does before PM2 stringifies it.
pub fn json_line_bytes(
    message: &[u8],
    timestamp: &str,
    stream: Stream,
    process_id: u32,
    app_name: &str,
) -> String {
    let message = String::from_utf8_lossy(message);
    json_line(&message, timestamp, stream, process_id, app_name)
}

/// JavaScript's `Date.prototype.toISOString()` (UTC, milliseconds, `Z`),
/// PM2's timestamp when no `log_date_format` is set and the form
/// `pm2 logs --json` prints `packet.at` in. Years past 9999 take JavaScript's
/// expanded form (`+010000-01-01T00:00:00.000Z`).
pub fn iso_timestamp<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    static ISO: OnceLock<DateFormat> = OnceLock::new();
    static EXPANDED: OnceLock<DateFormat> = OnceLock::new();
    let utc = t.with_timezone(&Utc);
    let year = utc.year();
    if year > 9999 {
        let rest = EXPANDED.get_or_init(|| DateFormat::parse("-MM-DD[T]HH:mm:ss.SSS[Z]"));
        return format!("+{year:06}{}", rest.format(&utc));
    }
    ISO.get_or_init(|| DateFormat::parse("YYYY-MM-DD[T]HH:mm:ss.SSS[Z]"))
        .format(&utc)
}

/// [`iso_timestamp`] of a time in ms since the epoch (the daemon's `created_at`), as
/// `new Date(ms).toISOString()` prints it. A time past chrono's range (year 262143, beyond
/// what a JavaScript `Date` holds at all) prints as that limit.
pub fn iso_timestamp_millis(ms: u64) -> String {
    let t = i64::try_from(ms)
        .ok()
        .and_then(DateTime::from_timestamp_millis)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    iso_timestamp(&t)
}

/// The line `pm2 logs --json` prints for a process event (`online`,
/// `exit`, …): `{"timestamp":…,"type":"process_event","status":…,"app_name":…}`.
pub fn json_process_event<Tz: TimeZone>(status: &str, app_name: &str, at: &DateTime<Tz>) -> String {
    let mut out = String::from("{\"timestamp\":");
    push_json_str(&mut out, &iso_timestamp(at));
    out.push_str(",\"type\":\"process_event\",\"status\":");
    push_json_str(&mut out, status);
    out.push_str(",\"app_name\":");
    push_json_str(&mut out, app_name);
    out.push_str("}\n");
    out
}

/// Appends `s` as a JSON string literal, escaped as `JSON.stringify` does:
/// `"`, `\` and control characters only; non-ASCII is written as is.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            push_unicode_escape(out, b);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn push_unicode_escape(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\\u00");
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0xf)]));
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    #[test]
    fn key_order_and_newline() {
        let s = json_line("hello\n", "2026-11-21T03:59:06", Stream::Out, 3, "api");
        assert_eq!(
            s,
            "{\"message\":\"hello\\n\",\"timestamp\":\"2026-11-21T03:59:06\",\"type\":\"out\",\"process_id\":3,\"app_name\":\"api\"}\n"
        );
        let e = json_line("x", "t", Stream::Err, 0, "w");
        assert!(e.contains("\"type\":\"err\""));
    }

    #[test]
    fn escapes_like_json_stringify() {
        let msg = "q\" b\\ \t\r\n \u{8}\u{c} \u{1} \u{1b}[31m \u{7f} é € / \u{2028}";
        let s = json_line(msg, "t", Stream::Out, 1, "a\"b");
        assert!(s.contains(r#""message":"q\" b\\ \t\r\n \b\f \u0001 \u001b[31m "#));
        // DEL, non-ASCII, slash and U+2028 are not escaped by JSON.stringify.
        assert!(s.contains("\u{7f} é € / \u{2028}\""));
        let v: serde_json::Value = serde_json::from_str(s.trim_end()).expect("valid JSON");
        assert_eq!(v["message"], msg);
        assert_eq!(v["app_name"], "a\"b");
        assert_eq!(v["process_id"], 1);
    }

    #[test]
    fn agrees_with_serde_json_on_all_ascii_controls() {
        let msg: String = (0u8..0x80).map(char::from).collect();
        let mut ours = String::new();
        push_json_str(&mut ours, &msg);
        let theirs = serde_json::to_string(&msg).expect("serializable");
        assert_eq!(ours, theirs);
    }

    #[test]
    fn invalid_utf8_becomes_replacement_char() {
        let s = json_line_bytes(b"a\xffb", "t", Stream::Out, 0, "x");
        assert!(s.starts_with("{\"message\":\"a\u{fffd}b\""));
    }

    #[test]
    fn iso_from_millis_matches_to_iso_string() {
        assert_eq!(iso_timestamp_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso_timestamp_millis(1_795_233_507_118),
            "2026-11-21T03:58:27.118Z"
        );
        assert_eq!(
            iso_timestamp_millis(951_782_400_000),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            iso_timestamp_millis(253_402_300_800_000),
            "+010000-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn iso_timestamp_is_utc_with_millis() {
        let tz = FixedOffset::east_opt(3600).expect("valid offset");
        let t = tz
            .with_ymd_and_hms(2026, 11, 21, 4, 59, 6)
            .single()
            .expect("unambiguous")
            + chrono::Duration::milliseconds(7);
        assert_eq!(iso_timestamp(&t), "2026-11-21T03:59:06.007Z");
    }

    #[test]
    fn process_event_line() {
        let t = Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .expect("unambiguous");
        assert_eq!(
            json_process_event("online", "api", &t),
            "{\"timestamp\":\"2026-01-02T03:04:05.000Z\",\"type\":\"process_event\",\"status\":\"online\",\"app_name\":\"api\"}\n"
        );
    }
}
