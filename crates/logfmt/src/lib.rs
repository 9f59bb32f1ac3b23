//! PM2-compatible log formatting, shared by the daemon's log relay and the
//! `pm2 logs` command.
//!
//! Everything here is pure (no I/O except [`tail_lines`]) so that the exact
//! bytes PM2 users grep for can be pinned down by unit tests:
//!
//! - [`DateFormat`]: dayjs format strings (`log_date_format`, `--time`,
//!   `pm2 logs --timestamp`), precompiled because the relay stamps every line.
//! - [`LinePrefixer`]: per-line prefixes on a pipe's byte stream, whatever
//!   the chunk boundaries are.
//! - [`json_line`]: the `log_type: json` object PM2 writes to log files.
//! - [`LogView`]: what `pm2 logs` prints (prefixes, `--raw`, `--json`,
//!   `--format`, `--timestamp`, `--highlight`, colours).
//! - [`tail_lines`]: the last lines of a possibly huge log file.
//!
//! The relay's hot path, for `log_date_format`:
//!
//! ```
//! use pm2_logfmt::{DateFormat, LinePrefixer, PM2_TIME_FORMAT};
//!
//! let fmt = DateFormat::parse(PM2_TIME_FORMAT);
//! let mut stdout = LinePrefixer::new();
//! let mut out = Vec::new();
//! for chunk in [&b"hel"[..], b"lo\nwor", b"ld\n"] {
//!     let prefix = fmt.line_prefix(&chrono::Local::now());
//!     stdout.push(chunk, &prefix, &mut out);
//! }
//! assert_eq!(out.iter().filter(|&&b| b == b':').count(), 2 * 3);
//! ```

#![deny(missing_docs)]

mod color;
mod date;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod json;
mod prefixer;
mod tail;
mod view;

pub use date::{
    format_date, DateFormat, DAYJS_DEFAULT_FORMAT, LOGS_FORMAT_TIMESTAMP, LOGS_TIMESTAMP_FORMAT,
    PM2_TIME_FORMAT,
};
pub use json::{
    iso_timestamp, iso_timestamp_millis, json_line, json_line_bytes, json_process_event, Stream,
};
pub use prefixer::LinePrefixer;
pub use tail::tail_lines;
pub use view::{
    format_line_plain, js_len, pad, prefix, tail_header, tailing_banner, LineKind, LogEvent,
    LogFlags, LogView, Mode, PrefixWidth, Rendered, TAIL_WIDTH,
};
