//! What `pm2 logs` prints, after PM2's `lib/API/Log.js` (`tail`, `stream`,
//! `jsonStream`, `formatStream`) and `lib/API/LogManagement.js`.
//!
//! The CLI picks the sources and owns the I/O; this module turns one log
//! line (tail step) or one bus packet (stream step) into the exact text
//! PM2 would write, split between stdout and stderr.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};

use crate::color::{self, paint, Style};
use crate::date::{DateFormat, LOGS_FORMAT_TIMESTAMP, LOGS_TIMESTAMP_FORMAT};
use crate::json::{iso_timestamp, json_line, Stream};

/// The `<id>|<name>` column width of the tail step (`DEFAULT_PADDING` in
/// `Log.js`); longer labels are cut to it, as PM2 does.
pub const TAIL_WIDTH: usize = 10;

/// The streaming column's starting width (`min_padding` in `Log.js`).
const STREAM_START_WIDTH: usize = 3;

/// The label PM2's own daemon lines (`pm2.log`, `log:PM2`) carry.
const PM2_LABEL: &str = "PM2";

/// The `<id>|<name>` PM2 computes for its own bus lines (`pm_id` and
/// `name` are both `'PM2'`); it widens the streaming column too.
const PM2_STREAM_NAME: &str = "PM2|PM2";

/// Where a displayed line comes from: an app's stdout or stderr, or PM2's
/// own daemon log. It decides the prefix colour and, with `--raw`, whether
/// the line goes to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineKind {
    /// An app's stdout (green prefix).
    Out,
    /// An app's stderr (red prefix; stderr under `--raw`).
    Err,
    /// PM2's daemon log (blue `PM2` prefix; dropped by `--json`).
    Pm2,
}

impl From<Stream> for LineKind {
    fn from(s: Stream) -> Self {
        match s {
            Stream::Out => LineKind::Out,
            Stream::Err => LineKind::Err,
        }
    }
}

impl LineKind {
    fn style(self) -> Style {
        match self {
            LineKind::Out => color::GREEN,
            LineKind::Err => color::RED,
            LineKind::Pm2 => color::BLUE,
        }
    }

    fn stream(self) -> Option<Stream> {
        match self {
            LineKind::Out => Some(Stream::Out),
            LineKind::Err => Some(Stream::Err),
            LineKind::Pm2 => None,
        }
    }
}

/// One `log:out` / `log:err` / `log:PM2` bus packet as `pm2 logs` gets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogEvent<'a> {
    /// The process id (ignored for [`LineKind::Pm2`]).
    pub pm_id: u32,
    /// The app name (ignored for [`LineKind::Pm2`]).
    pub name: &'a str,
    /// Which stream the data came from.
    pub kind: LineKind,
    /// The chunk, possibly several lines; PM2 splits it on `\n`.
    pub data: &'a str,
    /// When the daemon read it (`packet.at`, Unix milliseconds); only
    /// `--json` shows it, the other modes stamp the time of display.
    pub at_ms: i64,
}

/// Text to write, already split by destination, because `--raw` sends
/// error lines to stderr. Each line ends with `\n`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// What goes to stdout.
    pub stdout: String,
    /// What goes to stderr.
    pub stderr: String,
}

impl Rendered {
    fn push(&mut self, to_stderr: bool, text: &str) {
        let dest = if to_stderr {
            &mut self.stderr
        } else {
            &mut self.stdout
        };
        dest.push_str(text);
    }
}

/// The output shape of `pm2 logs`. PM2 picks exactly one: `--json`, else
/// `--format`, else `--raw`, else prefixed lines. `--json` and `--format`
/// skip the tail step (unless `--nostream`, which tails in Plain/Raw).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `<id>|<name> | line`, coloured by stream.
    Plain,
    /// Lines as they are; error lines on stderr.
    Raw,
    /// One JSON object per packet.
    Json,
    /// `timestamp=… app=… id=… type=out|error message=…`.
    Format,
}

/// The `pm2 logs` flags that shape output, as the CLI parsed them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogFlags<'a> {
    /// `--raw`.
    pub raw: bool,
    /// `--json`.
    pub json: bool,
    /// `--format`.
    pub format: bool,
    /// `--timestamp [fmt]`: `None` when absent, `Some("")` when given
    /// without a value (PM2 then uses `YYYY-MM-DD-HH:mm:ss`).
    pub timestamp: Option<&'a str>,
    /// `--highlight [text]`: PM2 ignores the flag without a value.
    pub highlight: Option<&'a str>,
    /// Whether to emit ANSI colours (stdout is a terminal).
    pub color: bool,
}

/// Tracks the streaming column width: PM2 starts at 3 and, whenever a
/// label is longer than the width, widens it to the label's length + 1,
/// so the column only grows (`2|worker  | ` in the observed sample).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixWidth {
    width: usize,
}

impl Default for PrefixWidth {
    fn default() -> Self {
        PrefixWidth {
            width: STREAM_START_WIDTH,
        }
    }
}

impl PrefixWidth {
    /// Accounts for `label` and returns the width to pad it to.
    pub fn observe(&mut self, label: &str) -> usize {
        let len = js_len(label);
        if len > self.width {
            self.width = len + 1;
        }
        self.width
    }

    /// The current width, for callers that print without a new label.
    pub fn get(&self) -> usize {
        self.width
    }
}

/// String length as JavaScript counts it (UTF-16 code units): PM2 pads its log
/// prefixes and sizes its table cells with `String.prototype.length`, so matching
/// its layout means counting the same way.
pub fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// PM2's `pad()`: `label` padded with spaces, or cut, to exactly `width`
/// (cut by UTF-16 units like JS `substring`; a character that would be
/// split is left out and the column filled with a space instead).
pub fn pad(label: &str, width: usize) -> String {
    let mut out = String::with_capacity(width.max(label.len()));
    let mut used = 0;
    for c in label.chars() {
        used += c.len_utf16();
        if used > width {
            break;
        }
        out.push(c);
    }
    let len = js_len(&out);
    for _ in len..width {
        out.push(' ');
    }
    out
}

/// The uncoloured `0|api      | ` prefix: `<id>|<name>` padded (or cut)
/// to `width`, then `" | "`. Width [`TAIL_WIDTH`] for the tail step, a
/// [`PrefixWidth`] while streaming.
pub fn prefix(pm_id: u32, name: &str, width: usize) -> String {
    let mut out = pad(&format!("{pm_id}|{name}"), width);
    out.push_str(" | ");
    out
}

/// One prefixed line as PM2 prints it without `--raw`: the padded `label`
/// and `" | "` in the stream's colour, the line, a newline. `label` is
/// `<id>|<name>`, or `PM2` for daemon lines.
pub fn format_line_plain(
    label: &str,
    width: usize,
    kind: LineKind,
    line: &str,
    color: bool,
) -> String {
    let mut out = String::with_capacity(width + line.len() + 16);
    push_prefix(&mut out, label, width, kind, color);
    out.push_str(line);
    out.push('\n');
    out
}

fn push_prefix(out: &mut String, label: &str, width: usize, kind: LineKind, color: bool) {
    let mut text = pad(label, width);
    text.push_str(" | ");
    paint(out, color, kind.style(), &text);
}

/// The gray `<path> last <n> lines:` header printed before each tailed file.
pub fn tail_header(path: &Path, n: usize, color: bool) -> String {
    let mut out = String::new();
    let text = format!("{} last {n} lines:", path.display());
    paint(&mut out, color, color::GRAY, &text);
    out.push('\n');
    out
}

/// The bold gray `[TAILING] …` banner opening the tail step; `target` is
/// what the user asked for (`all`, a name, an id…).
pub fn tailing_banner(n: usize, target: &str, color: bool) -> String {
    let plural = if target == "all" { "es" } else { "" };
    let text = format!(
        "[TAILING] Tailing last {n} lines for [{target}] process{plural} (change the value with --lines option)"
    );
    let mut out = String::new();
    paint(&mut out, color, color::BOLD_GRAY, &text);
    out.push('\n');
    out
}

/// The whole `pm2 logs` presentation state: which mode, the flags that
/// decorate lines, and the streaming column width (which is why
/// [`LogView::render`] takes `&mut self`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogView {
    mode: Mode,
    timestamp: Option<DateFormat>,
    highlight: Option<String>,
    color: bool,
    width: PrefixWidth,
}

impl LogView {
    /// A view with explicit settings; `timestamp` is the `--timestamp`
    /// format (for [`Mode::Format`], the `timestamp=` field's format).
    pub fn new(
        mode: Mode,
        timestamp: Option<DateFormat>,
        highlight: Option<String>,
        color: bool,
    ) -> Self {
        let highlight = highlight.filter(|h| !h.is_empty());
        LogView {
            mode,
            timestamp,
            highlight,
            color,
            width: PrefixWidth::default(),
        }
    }

    /// A view from the command line, with PM2's precedence and defaults:
    /// `--json` over `--format` over `--raw`; `--format` always stamps
    /// `YYYY-MM-DD-HH:mm:ssZZ`; a bare `--timestamp` means
    /// `YYYY-MM-DD-HH:mm:ss`; a bare `--highlight` does nothing.
    pub fn from_flags(flags: &LogFlags<'_>) -> Self {
        let mode = match (flags.json, flags.format, flags.raw) {
            (true, _, _) => Mode::Json,
            (false, true, _) => Mode::Format,
            (false, false, true) => Mode::Raw,
            (false, false, false) => Mode::Plain,
        };
        let timestamp = match (mode, flags.timestamp) {
            (Mode::Format, _) => Some(LOGS_FORMAT_TIMESTAMP),
            (_, Some("")) => Some(LOGS_TIMESTAMP_FORMAT),
            (_, ts) => ts,
        };
        LogView::new(
            mode,
            timestamp.map(DateFormat::parse),
            flags.highlight.map(str::to_string),
            flags.color,
        )
    }

    /// The chosen mode, so the CLI knows whether to run the tail step.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Renders one bus packet as the stream step prints it. `now` is the
    /// display time PM2 stamps with `--timestamp`/`--format` (pass local
    /// time). Empty lines are dropped, as PM2 does while streaming.
    pub fn render<Tz: TimeZone>(&mut self, ev: &LogEvent<'_>, now: &DateTime<Tz>) -> Rendered {
        let mut out = Rendered::default();
        if self.mode == Mode::Json {
            self.render_json(ev, now, &mut out);
            return out;
        }
        let stamp = self.timestamp.as_ref().map(|f| f.format(now));
        for line in ev.data.split('\n').filter(|l| !l.is_empty()) {
            match self.mode {
                Mode::Raw => out.push(ev.kind == LineKind::Err, &format!("{line}\n")),
                Mode::Format => out
                    .stdout
                    .push_str(&self.format_line(ev, line, stamp.as_deref())),
                _ => out
                    .stdout
                    .push_str(&self.plain_line(ev, line, stamp.as_deref())),
            }
        }
        out
    }

    /// Renders one line of the tail step (a line of a log file, raw
    /// bytes decoded lossily as Node does). Empty lines are kept, as in
    /// PM2's tail; `--timestamp` and `--highlight` do not apply there.
    pub fn render_tail_line(
        &self,
        pm_id: u32,
        name: &str,
        kind: LineKind,
        line: &[u8],
    ) -> Rendered {
        let line = String::from_utf8_lossy(line);
        let mut out = Rendered::default();
        if self.mode == Mode::Raw {
            out.push(kind == LineKind::Err, &format!("{line}\n"));
            return out;
        }
        let label = match kind {
            LineKind::Pm2 => PM2_LABEL.to_string(),
            _ => format!("{pm_id}|{name}"),
        };
        out.stdout = format_line_plain(&label, TAIL_WIDTH, kind, &line, self.color);
        out
    }

    fn plain_line(&mut self, ev: &LogEvent<'_>, line: &str, stamp: Option<&str>) -> String {
        let mut out = String::new();
        if let Some(ts) = stamp {
            paint(&mut out, self.color, color::DIM_GRAY, &format!("{ts} "));
        }
        let (label, width) = match ev.kind {
            LineKind::Pm2 => (PM2_LABEL.to_string(), self.width.observe(PM2_STREAM_NAME)),
            _ => {
                let label = format!("{}|{}", ev.pm_id, ev.name);
                let width = self.width.observe(&label);
                (label, width)
            }
        };
        push_prefix(&mut out, &label, width, ev.kind, self.color);
        self.push_highlighted(&mut out, line);
        out.push('\n');
        out
    }

    fn format_line(&self, ev: &LogEvent<'_>, line: &str, stamp: Option<&str>) -> String {
        let mut out = String::new();
        if let Some(ts) = stamp {
            out.push_str(&format!("timestamp={ts} "));
        }
        match ev.kind {
            LineKind::Pm2 => out.push_str("app=pm2 "),
            _ => out.push_str(&format!("app={} id={} ", ev.name, ev.pm_id)),
        }
        match ev.kind {
            LineKind::Out => out.push_str("type=out "),
            LineKind::Err => out.push_str("type=error "),
            LineKind::Pm2 => {}
        }
        out.push_str("message=");
        self.push_highlighted(&mut out, line);
        out.push('\n');
        out
    }

    /// PM2's `line.replace(highlight, bgBlackBright(highlight))`: the
    /// first match only, and a no-op without colour.
    fn push_highlighted(&self, out: &mut String, line: &str) {
        match (&self.highlight, self.color) {
            (Some(h), true) => match line.find(h.as_str()) {
                Some(at) => {
                    out.push_str(&line[..at]);
                    paint(out, true, color::HIGHLIGHT, h);
                    out.push_str(&line[at + h.len()..]);
                }
                None => out.push_str(line),
            },
            _ => out.push_str(line),
        }
    }

    fn render_json<Tz: TimeZone>(&self, ev: &LogEvent<'_>, now: &DateTime<Tz>, out: &mut Rendered) {
        let Some(stream) = ev.kind.stream() else {
            return;
        };
        let at = DateTime::<Utc>::from_timestamp_millis(ev.at_ms)
            .unwrap_or_else(|| now.with_timezone(&Utc));
        let message: String = ev
            .data
            .chars()
            .filter(|&c| c != '\r' && c != '\n')
            .collect();
        out.stdout = json_line(&message, &iso_timestamp(&at), stream, ev.pm_id, ev.name);
    }
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
