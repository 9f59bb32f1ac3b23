//! dayjs-compatible date formatting.
//!
//! PM2 formats `log_date_format`, `--time` and `pm2 logs --timestamp` with
//! dayjs (`lib/God/ForkMode.js`, `lib/API/Log.js`), so users' format strings
//! are dayjs strings. This module reproduces dayjs' core `format()`
//! tokenizer, including its quirks, so an existing ecosystem file produces
//! byte-identical timestamps.

use chrono::{DateTime, Datelike, Offset, TimeZone, Timelike};

/// What dayjs formats with when given an empty format string
/// (`formatStr || FORMAT_DEFAULT`), so an empty string is not "no date".
pub const DAYJS_DEFAULT_FORMAT: &str = "YYYY-MM-DDTHH:mm:ssZ";

/// The `log_date_format` that `pm2 start --time` sets (local time).
pub const PM2_TIME_FORMAT: &str = "YYYY-MM-DDTHH:mm:ss";

/// The format `pm2 logs --timestamp` uses when the flag has no value.
pub const LOGS_TIMESTAMP_FORMAT: &str = "YYYY-MM-DD-HH:mm:ss";

/// The format `pm2 logs --format` always uses for its `timestamp=` field,
/// whatever `--timestamp` says (`bin/CLI.js` hard-codes it).
pub const LOGS_FORMAT_TIMESTAMP: &str = "YYYY-MM-DD-HH:mm:ssZZ";

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// One dayjs token; the comment is the token text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// YYYY
    Year4,
    /// YY
    Year2,
    /// M
    Month,
    /// MM
    Month2,
    /// MMM
    MonthShort,
    /// MMMM
    MonthLong,
    /// D
    Day,
    /// DD
    Day2,
    /// d
    Weekday,
    /// dd
    WeekdayMin,
    /// ddd
    WeekdayShort,
    /// dddd
    WeekdayLong,
    /// H
    Hour,
    /// HH
    Hour2,
    /// h
    Hour12,
    /// hh
    Hour12Pad,
    /// a
    MeridiemLower,
    /// A
    MeridiemUpper,
    /// m
    Minute,
    /// mm
    Minute2,
    /// s
    Second,
    /// ss
    Second2,
    /// SSS
    Millis,
    /// Z
    Zone,
    /// ZZ (and, as in dayjs, any other regex match without a case: Y, YYY)
    ZoneCompact,
    /// X (dayjs advancedFormat plugin)
    UnixSecs,
    /// x (dayjs advancedFormat plugin)
    UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Literal(String),
    Token(Token),
}

/// A dayjs format string compiled once, because the log relay formats a
/// timestamp for every chunk and re-parsing the string each time would be
/// wasted work on the hot path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    items: Vec<Item>,
}

/// Where formatted text goes, so one formatter serves both `String` (CLI)
/// and `Vec<u8>` (relay buffers) without an intermediate allocation.
trait Sink {
    fn put(&mut self, s: &str);
}

impl Sink for String {
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
}

/// Formats `t` with the dayjs format `fmt` in one call, for callers that
/// format rarely; the relay should keep a [`DateFormat`] instead.
pub fn format_date<Tz: TimeZone>(fmt: &str, t: &DateTime<Tz>) -> String {
    DateFormat::parse(fmt).format(t)
}

impl DateFormat {
    /// Compiles a dayjs format string. Never fails: like dayjs, anything
    /// that is not a token is copied through, and `[text]` is copied
    /// without its brackets. An empty string means dayjs' default format.
    pub fn parse(fmt: &str) -> DateFormat {
        let fmt = if fmt.is_empty() {
            DAYJS_DEFAULT_FORMAT
        } else {
            fmt
        };
        DateFormat {
            items: tokenize(fmt),
        }
    }

    /// Formats `t` in its own offset (pass a `DateTime<Local>` for PM2's
    /// local-time behaviour, a fixed offset for reproducible output).
    pub fn format<Tz: TimeZone>(&self, t: &DateTime<Tz>) -> String {
        let mut out = String::new();
        self.render(t, &mut out);
        out
    }

    /// Appends the formatted date to `out`, for the relay's reusable
    /// buffers where a `String` per chunk would be an extra allocation.
    pub fn write_to<Tz: TimeZone>(&self, t: &DateTime<Tz>, out: &mut Vec<u8>) {
        self.render(t, out);
    }

    /// The `"<date>: "` prefix PM2 puts before every line when
    /// `log_date_format` is set.
    pub fn line_prefix<Tz: TimeZone>(&self, t: &DateTime<Tz>) -> Vec<u8> {
        let mut out = Vec::with_capacity(32);
        self.render(t, &mut out);
        out.extend_from_slice(b": ");
        out
    }

    fn render<Tz: TimeZone, S: Sink>(&self, t: &DateTime<Tz>, out: &mut S) {
        let parts = Parts::of(t);
        for item in &self.items {
            match item {
                Item::Literal(s) => out.put(s),
                Item::Token(tok) => parts.put_token(*tok, out),
            }
        }
    }
}

/// Splits a format string the way dayjs' `REGEX_FORMAT` does:
/// `\[([^\]]+)]|Y{1,4}|M{1,4}|D{1,2}|d{1,4}|H{1,2}|h{1,2}|a|A|m{1,2}|s{1,2}|Z{1,2}|SSS`
/// plus `X`/`x` from the advancedFormat plugin.
fn tokenize(fmt: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut lit = String::new();
    let mut rest = fmt;
    while let Some(c) = rest.chars().next() {
        match next_item(rest, c) {
            Some((item, used)) => {
                flush_literal(&mut lit, &mut items);
                items.push(item);
                rest = &rest[used..];
            }
            None => {
                lit.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    flush_literal(&mut lit, &mut items);
    items
}

fn flush_literal(lit: &mut String, items: &mut Vec<Item>) {
    if !lit.is_empty() {
        items.push(Item::Literal(std::mem::take(lit)));
    }
}

/// The item starting at the head of `rest` (whose first char is `c`) and
/// how many bytes it uses, or `None` when `c` is plain text.
fn next_item(rest: &str, c: char) -> Option<(Item, usize)> {
    if c == '[' {
        return bracket_literal(rest);
    }
    if c == 'S' {
        return rest
            .starts_with("SSS")
            .then_some((Item::Token(Token::Millis), 3));
    }
    let max = max_run(c)?;
    let run = rest.bytes().take_while(|&b| b == c as u8).count().min(max);
    Some((Item::Token(token_for(c, run)), run))
}

/// `[text]` with at least one char inside; `[]` or an unclosed `[` are
/// plain text, exactly as dayjs' `\[([^\]]+)]` behaves.
fn bracket_literal(rest: &str) -> Option<(Item, usize)> {
    let close = rest[1..].find(']')? + 1;
    if close == 1 {
        return None;
    }
    Some((Item::Literal(rest[1..close].to_string()), close + 1))
}

/// The longest run of `c` that dayjs' regex takes as one token, or `None`
/// when `c` starts no token. All token chars are ASCII.
fn max_run(c: char) -> Option<usize> {
    match c {
        'Y' | 'M' | 'd' => Some(4),
        'D' | 'H' | 'h' | 'm' | 's' | 'Z' => Some(2),
        'a' | 'A' | 'X' | 'x' => Some(1),
        _ => None,
    }
}

fn token_for(c: char, run: usize) -> Token {
    use Token::*;
    match (c, run) {
        ('Y', 4) => Year4,
        ('Y', 2) => Year2,
        ('M', 1) => Month,
        ('M', 2) => Month2,
        ('M', 3) => MonthShort,
        ('M', _) => MonthLong,
        ('D', 1) => Day,
        ('D', _) => Day2,
        ('d', 1) => Weekday,
        ('d', 2) => WeekdayMin,
        ('d', 3) => WeekdayShort,
        ('d', _) => WeekdayLong,
        ('H', 1) => Hour,
        ('H', _) => Hour2,
        ('h', 1) => Hour12,
        ('h', _) => Hour12Pad,
        ('m', 1) => Minute,
        ('m', _) => Minute2,
        ('s', 1) => Second,
        ('s', _) => Second2,
        ('Z', 1) => Zone,
        ('a', _) => MeridiemLower,
        ('A', _) => MeridiemUpper,
        ('X', _) => UnixSecs,
        ('x', _) => UnixMillis,
        // ZZ, and dayjs' fall-through for Y / YYY (no `case`, so the
        // replacer returns the compact zone string).
        _ => ZoneCompact,
    }
}

/// The calendar fields of one instant, extracted once per format call.
struct Parts {
    year: i32,
    month0: usize,
    day: u32,
    weekday: usize,
    hour: u32,
    minute: u32,
    second: u32,
    millis: u32,
    offset_minutes: i32,
    unix_millis: i64,
}

impl Parts {
    fn of<Tz: TimeZone>(t: &DateTime<Tz>) -> Parts {
        let local = t.naive_local();
        Parts {
            year: local.year(),
            month0: local.month0() as usize,
            day: local.day(),
            weekday: local.weekday().num_days_from_sunday() as usize,
            hour: local.hour(),
            minute: local.minute(),
            // A leap second shows as :59.999, as JavaScript cannot express it.
            second: local.second(),
            millis: (local.nanosecond() / 1_000_000).min(999),
            offset_minutes: t.offset().fix().local_minus_utc() / 60,
            unix_millis: t.timestamp_millis(),
        }
    }

    fn put_token<S: Sink>(&self, tok: Token, out: &mut S) {
        use Token::*;
        match tok {
            Year4 => put_year4(self.year, out),
            Year2 => put_year2(self.year, out),
            Month => put_num(self.month0 as i64 + 1, 1, out),
            Month2 => put_num(self.month0 as i64 + 1, 2, out),
            MonthShort => out.put(&MONTHS[self.month0][..3]),
            MonthLong => out.put(MONTHS[self.month0]),
            Day => put_num(self.day.into(), 1, out),
            Day2 => put_num(self.day.into(), 2, out),
            Weekday => put_num(self.weekday as i64, 1, out),
            WeekdayMin => out.put(&WEEKDAYS[self.weekday][..2]),
            WeekdayShort => out.put(&WEEKDAYS[self.weekday][..3]),
            WeekdayLong => out.put(WEEKDAYS[self.weekday]),
            Hour => put_num(self.hour.into(), 1, out),
            Hour2 => put_num(self.hour.into(), 2, out),
            Hour12 => put_num(self.hour12(), 1, out),
            Hour12Pad => put_num(self.hour12(), 2, out),
            MeridiemLower => out.put(if self.hour < 12 { "am" } else { "pm" }),
            MeridiemUpper => out.put(if self.hour < 12 { "AM" } else { "PM" }),
            Minute => put_num(self.minute.into(), 1, out),
            Minute2 => put_num(self.minute.into(), 2, out),
            Second => put_num(self.second.into(), 1, out),
            Second2 => put_num(self.second.into(), 2, out),
            Millis => put_num(self.millis.into(), 3, out),
            Zone => self.put_zone(true, out),
            ZoneCompact => self.put_zone(false, out),
            UnixSecs => put_num(self.unix_millis.div_euclid(1000), 1, out),
            UnixMillis => put_num(self.unix_millis, 1, out),
        }
    }

    fn hour12(&self) -> i64 {
        match self.hour % 12 {
            0 => 12,
            h => h.into(),
        }
    }

    /// dayjs' `padZoneStr`: `+HH:mm` (or `+HHmm`), `+` for UTC itself.
    fn put_zone<S: Sink>(&self, colon: bool, out: &mut S) {
        let abs = self.offset_minutes.unsigned_abs();
        out.put(if self.offset_minutes >= 0 { "+" } else { "-" });
        put_num((abs / 60).into(), 2, out);
        if colon {
            out.put(":");
        }
        put_num((abs % 60).into(), 2, out);
    }
}

/// dayjs pads YYYY to four digits (`Utils.s(this.$y, 4, '0')`).
fn put_year4<S: Sink>(year: i32, out: &mut S) {
    put_num(year.into(), 4, out);
}

/// dayjs' YY is `String(year).slice(-2)`: the last two characters, which
/// for a one-digit year is just that digit.
fn put_year2<S: Sink>(year: i32, out: &mut S) {
    let s = year.to_string();
    let start = s.len().saturating_sub(2);
    out.put(&s[start..]);
}

/// Writes `n` in decimal, zero-padded to `width` digits (sign excluded).
fn put_num<S: Sink>(n: i64, width: usize, out: &mut S) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut v = n.unsigned_abs();
    loop {
        digits[len] = b'0' + (v % 10) as u8;
        len += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        out.put("-");
    }
    for _ in len..width {
        out.put("0");
    }
    for &d in digits[..len].iter().rev() {
        out.put(ascii_digit(d));
    }
}

fn ascii_digit(d: u8) -> &'static str {
    const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    DIGITS[usize::from(d - b'0')]
}

#[cfg(test)]
#[path = "date_tests.rs"]
mod tests;
