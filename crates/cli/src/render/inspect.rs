//! `pm2 prettylist`: a port of Node's `util.inspect(value, false, null, false)` for JSON values.
//!
//! PM2 prints the process list through Node's inspector (infinite depth, no colours, the
//! default `breakLength` 80 and `compact` 3), and users grep and diff that text, so the line
//! breaking, array grouping, quoting and escaping follow Node 20's `lib/internal/util/inspect.js`
//! step by step: `formatValue`, `formatPrimitive`, `strEscape`, `formatProperty`,
//! `groupArrayElements`, `isBelowBreakLength` and `reduceToSingleString`.

use super::format::{js_key_order, js_number_to_string};
use pm2_logfmt::js_len;
use serde_json::{Map, Number, Value};
use unicode_width::UnicodeWidthChar;

/// Node's default `breakLength`.
const BREAK_LENGTH: usize = 80;
/// Node's default `compact`.
const COMPACT: usize = 3;
/// Node's default `maxArrayLength`.
const MAX_ARRAY_LENGTH: usize = 100;
/// Node's default `maxStringLength`.
const MAX_STRING_LENGTH: usize = 10_000;
/// Strings up to this length are never split on newlines (`kMinLineLength`).
const MIN_LINE_LENGTH: usize = 16;

/// The mutable part of Node's inspection context that matters for JSON values.
struct Ctx {
    /// Current indentation, in spaces.
    indentation_lvl: usize,
    /// Depth of the most recently entered non-empty container (`ctx.currentDepth`).
    current_depth: usize,
}

/// Exactly what Node prints for `util.inspect(value, false, null, false)`: unquoted identifier
/// keys, single-quoted strings (double quotes or backticks when that avoids escaping), arrays
/// longer than six entries grouped into columns, entries kept on one line while they fit in 80
/// columns. No trailing newline.
pub fn prettylist(value: &Value) -> String {
    let mut ctx = Ctx {
        indentation_lvl: 0,
        current_depth: 0,
    };
    format_value(&mut ctx, value, 0)
}

/// `formatValue` for one JSON value at nesting level `recurse_times`.
fn format_value(ctx: &mut Ctx, value: &Value, recurse_times: usize) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(n),
        Value::String(s) => format_string(ctx, s),
        Value::Array(items) => format_array(ctx, items, recurse_times),
        Value::Object(map) => format_object(ctx, map, recurse_times),
    }
}

/// `formatNumber`: JavaScript's number text, with negative zero kept as `-0`. Integers beyond
/// 2^53 print as the double JavaScript would have parsed them.
fn format_number(n: &Number) -> String {
    let value = n.as_f64().unwrap_or(f64::NAN);
    if value == 0.0 && value.is_sign_negative() {
        return "-0".to_string();
    }
    js_number_to_string(value)
}

/// A value nested in a container, indented two more spaces (`formatProperty`).
fn format_nested(ctx: &mut Ctx, value: &Value, recurse_times: usize) -> String {
    ctx.indentation_lvl += 2;
    let out = format_value(ctx, value, recurse_times);
    ctx.indentation_lvl -= 2;
    out
}

/// `formatRaw` + `formatArray` for an array.
fn format_array(ctx: &mut Ctx, items: &[Value], recurse_times: usize) -> String {
    if items.is_empty() {
        return "[]".to_string();
    }
    let level = recurse_times + 1;
    ctx.current_depth = level;
    let mut output: Vec<String> = items
        .iter()
        .take(MAX_ARRAY_LENGTH)
        .map(|item| format_nested(ctx, item, level))
        .collect();
    let remaining = items.len().saturating_sub(MAX_ARRAY_LENGTH);
    if remaining > 0 {
        let plural = if remaining > 1 { "s" } else { "" };
        output.push(format!("... {remaining} more item{plural}"));
    }
    let numeric = items.iter().take(output.len()).all(Value::is_number);
    let layout = Layout::Array {
        numeric,
        has_more: remaining > 0,
    };
    reduce_to_single_string(ctx, output, layout, level)
}

/// `formatRaw` + `formatProperty` for an object, keys in JavaScript enumeration order.
fn format_object(ctx: &mut Ctx, map: &Map<String, Value>, recurse_times: usize) -> String {
    if map.is_empty() {
        return "{}".to_string();
    }
    let level = recurse_times + 1;
    ctx.current_depth = level;
    let output = js_key_order(map.keys().map(String::as_str))
        .into_iter()
        .filter_map(|key| {
            let value = map.get(key)?;
            Some(format!(
                "{}: {}",
                property_name(key),
                format_nested(ctx, value, level)
            ))
        })
        .collect();
    reduce_to_single_string(ctx, output, Layout::Object, level)
}

/// How a key is written: bare when it is an identifier, quoted like a string otherwise.
fn property_name(key: &str) -> String {
    if key == "__proto__" {
        return "['__proto__']".to_string();
    }
    let mut chars = key.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier {
        key.to_string()
    } else {
        str_escape(&key.encode_utf16().collect::<Vec<_>>())
    }
}

/// `formatPrimitive` for a string: truncated after 10 000 UTF-16 units, and split after each
/// newline into `'…\n' +` pieces when it is too long for the current line.
fn format_string(ctx: &Ctx, s: &str) -> String {
    let units: Vec<u16> = s.encode_utf16().collect();
    let (units, trailer) = if units.len() > MAX_STRING_LENGTH {
        let remaining = units.len() - MAX_STRING_LENGTH;
        let plural = if remaining > 1 { "s" } else { "" };
        (
            &units[..MAX_STRING_LENGTH],
            format!("... {remaining} more character{plural}"),
        )
    } else {
        (&units[..], String::new())
    };
    let room = BREAK_LENGTH as i64 - ctx.indentation_lvl as i64 - 4;
    if units.len() > MIN_LINE_LENGTH && units.len() as i64 > room {
        let joiner = format!(" +\n{}", " ".repeat(ctx.indentation_lvl + 2));
        let pieces: Vec<String> = units
            .split_inclusive(|u| *u == u16::from(b'\n'))
            .map(str_escape)
            .collect();
        return pieces.join(&joiner) + &trailer;
    }
    str_escape(units) + &trailer
}

/// Which quote `strEscape` picks.
#[derive(Clone, Copy, PartialEq)]
enum Quote {
    Single,
    Double,
    Backtick,
}

/// `strEscape`: quotes a string (given as UTF-16 units) and escapes control characters, C1
/// controls, the backslash, lone surrogates and, when single-quoted, the single quote.
fn str_escape(units: &[u16]) -> String {
    let quote = pick_quote(units);
    let mut out = String::with_capacity(units.len() + 2);
    let mut i = 0;
    while i < units.len() {
        let u = units[i];
        i += 1;
        if (0xD800..=0xDBFF).contains(&u) && units.get(i).is_some_and(|n| is_low_surrogate(*n)) {
            let pair = [u, units[i]];
            i += 1;
            out.extend(char::decode_utf16(pair).map(|c| c.unwrap_or('\u{fffd}')));
        } else if let Some(escaped) = escape_unit(u, quote) {
            out.push_str(&escaped);
        } else {
            out.push(char::from_u32(u32::from(u)).unwrap_or('\u{fffd}'));
        }
    }
    let q = match quote {
        Quote::Single => '\'',
        Quote::Double => '"',
        Quote::Backtick => '`',
    };
    format!("{q}{out}{q}")
}

/// Single quotes unless the text contains one: then double quotes if it has none, else
/// backticks if it has neither a backtick nor `${`.
fn pick_quote(units: &[u16]) -> Quote {
    let has = |c: u8| units.contains(&u16::from(c));
    if !has(b'\'') {
        Quote::Single
    } else if !has(b'"') {
        Quote::Double
    } else if !has(b'`') && !units.windows(2).any(|w| w == [0x24, 0x7B]) {
        Quote::Backtick
    } else {
        Quote::Single
    }
}

fn is_low_surrogate(u: u16) -> bool {
    (0xDC00..=0xDFFF).contains(&u)
}

/// The escape Node's `meta` table (or its lone-surrogate rule) gives one UTF-16 unit, if any.
fn escape_unit(u: u16, quote: Quote) -> Option<String> {
    let fixed = match u {
        0x08 => "\\b",
        0x09 => "\\t",
        0x0A => "\\n",
        0x0C => "\\f",
        0x0D => "\\r",
        0x5C => "\\\\",
        0x27 if quote == Quote::Single => "\\'",
        0x00..=0x1F | 0x7F..=0x9F => return Some(format!("\\x{u:02X}")),
        0xD800..=0xDFFF => return Some(format!("\\u{u:x}")),
        _ => return None,
    };
    Some(fixed.to_string())
}

/// What kind of container `reduce_to_single_string` is laying out.
#[derive(Clone, Copy)]
enum Layout {
    Object,
    /// `numeric`: every shown entry is a number (right-aligned when grouped); `has_more`: the
    /// last output entry is the `... n more items` note.
    Array {
        numeric: bool,
        has_more: bool,
    },
}

/// `reduceToSingleString` with `compact` 3: group long arrays, put the entries on one line when
/// the container is at most three levels above the innermost one just printed and the line
/// fits, otherwise one entry per line.
fn reduce_to_single_string(
    ctx: &Ctx,
    output: Vec<String>,
    layout: Layout,
    recurse_times: usize,
) -> String {
    let (open, close) = match layout {
        Layout::Object => ('{', '}'),
        Layout::Array { .. } => ('[', ']'),
    };
    let entries = output.len();
    let output = match layout {
        Layout::Array { numeric, has_more } if entries > 6 => {
            group_array_elements(ctx, output, numeric, has_more)
        }
        _ => output,
    };
    if ctx.current_depth.saturating_sub(recurse_times) < COMPACT && entries == output.len() {
        let start = output.len() + ctx.indentation_lvl + 1 + 10;
        if is_below_break_length(&output, start) {
            let joined = output.join(", ");
            if !joined.contains('\n') {
                return format!("{open} {joined} {close}");
            }
        }
    }
    let indentation = format!("\n{}", " ".repeat(ctx.indentation_lvl));
    let separator = format!(",{indentation}  ");
    format!(
        "{open}{indentation}  {}{indentation}{close}",
        output.join(&separator)
    )
}

/// `isBelowBreakLength`: whether the entries plus separators fit in `breakLength`, counting
/// UTF-16 units as Node does.
fn is_below_break_length(output: &[String], start: usize) -> bool {
    let mut total = output.len() + start;
    if total + output.len() > BREAK_LENGTH {
        return false;
    }
    for entry in output {
        total += js_len(entry);
        if total > BREAK_LENGTH {
            return false;
        }
    }
    true
}

/// `groupArrayElements`: lays out the entries of an array with more than six of them in
/// aligned columns when they are short and of similar width.
fn group_array_elements(
    ctx: &Ctx,
    output: Vec<String>,
    numeric: bool,
    has_more: bool,
) -> Vec<String> {
    const SEPARATOR_SPACE: usize = 2;
    let output_length = if has_more {
        output.len() - 1
    } else {
        output.len()
    };
    let data_len: Vec<usize> = output[..output_length]
        .iter()
        .map(|s| string_width(s))
        .collect();
    let total_length: usize = data_len.iter().map(|l| l + SEPARATOR_SPACE).sum();
    let max_length = data_len.iter().copied().max().unwrap_or(0);
    let actual_max = max_length + SEPARATOR_SPACE;
    let spread = total_length as f64 / actual_max as f64 > 5.0 || max_length <= 6;
    if actual_max * 3 + ctx.indentation_lvl >= BREAK_LENGTH || !spread {
        return output;
    }
    let columns = column_count(ctx, actual_max, total_length, output.len(), output_length);
    if columns <= 1 {
        return output;
    }
    let max_line_length: Vec<usize> = (0..columns)
        .map(|i| {
            let widest = data_len.iter().skip(i).step_by(columns).max();
            widest.copied().unwrap_or(0) + SEPARATOR_SPACE
        })
        .collect();
    let mut grouped: Vec<String> = (0..output_length)
        .step_by(columns)
        .map(|start| {
            let end = (start + columns).min(output_length);
            let cells = (start..end).map(|j| (&output[j], data_len[j], max_line_length[j - start]));
            grouped_line(cells, end - start, numeric)
        })
        .collect();
    if has_more {
        grouped.extend(output.last().cloned());
    }
    grouped
}

/// The number of columns `groupArrayElements` settles on: roughly a square block of entries,
/// within the line width and at most `compact * 4` (12) and 15.
fn column_count(
    ctx: &Ctx,
    actual_max: usize,
    total_length: usize,
    entries: usize,
    output_length: usize,
) -> usize {
    const APPROX_CHAR_HEIGHTS: f64 = 2.5;
    let actual = actual_max as f64;
    let average_bias = (actual - total_length as f64 / entries as f64).sqrt();
    let biased_max = (actual - 3.0 - average_bias).max(1.0);
    let square = ((APPROX_CHAR_HEIGHTS * biased_max * output_length as f64).sqrt() / biased_max
        + 0.5)
        .floor();
    let fitting = (BREAK_LENGTH - ctx.indentation_lvl) / actual_max;
    (square as usize).min(fitting).min(COMPACT * 4).min(15)
}

/// One line of grouped entries: each padded to its column width, right-aligned when all
/// entries are numbers, left-aligned otherwise; the last entry carries no separator.
fn grouped_line<'a, I>(cells: I, count: usize, numeric: bool) -> String
where
    I: Iterator<Item = (&'a String, usize, usize)>,
{
    let mut line = String::new();
    for (k, (entry, width, column)) in cells.enumerate() {
        // Node pads to a UTF-16 length, so wide characters shift the target.
        let target = (column + js_len(entry)).saturating_sub(width);
        if k + 1 < count {
            let padded = format!("{entry}, ");
            line.push_str(&pad(&padded, target, numeric));
        } else if numeric {
            line.push_str(&pad(entry, target.saturating_sub(2), true));
        } else {
            line.push_str(entry);
        }
    }
    line
}

/// `padStart` (`at_start`) or `padEnd` with spaces to `target` UTF-16 units.
fn pad(text: &str, target: usize, at_start: bool) -> String {
    let fill = " ".repeat(target.saturating_sub(js_len(text)));
    if at_start {
        fill + text
    } else {
        format!("{text}{fill}")
    }
}

/// Node's `getStringWidth` without stripping control characters: terminal columns, with
/// controls and combining marks taking none and East Asian wide characters and emoji two
/// (Unicode's tables, as ICU gives them to Node). Node counts the soft hyphen as one column,
/// where the Unicode width tables give it none.
fn string_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c {
            '\u{AD}' => 1,
            c => UnicodeWidthChar::width(c).unwrap_or(0),
        })
        .sum()
}
