//! `dateFormat`: the moment-style tokens of a rotated name's date, checked and applied.

use chrono::{Datelike, Timelike};

/// The date tokens this formatter knows, longest first among those sharing a letter.
const TOKENS: [&str; 6] = ["YYYY", "MM", "DD", "HH", "mm", "ss"];

/// Checks that `format` only uses the tokens [`format_date`] knows and yields a file name.
pub(super) fn check_date_format(format: &str) -> Result<(), String> {
    if format.contains(['/', '\0']) {
        return Err("not usable in a file name (it contains '/')".to_string());
    }
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if let Some(token) = TOKENS.iter().find(|t| rest.starts_with(**t)) {
            rest = &rest[token.len()..];
        } else if c == '[' {
            let end = rest.find(']').ok_or("a format with an unclosed '['")?;
            rest = &rest[end + 1..];
        } else if c.is_ascii_alphabetic() {
            return Err(format!(
                "a format using {c:?}, which is not supported (use YYYY MM DD HH mm ss, \
                 and [text] for literal letters)"
            ));
        } else {
            rest = &rest[c.len_utf8()..];
        }
    }
    Ok(())
}

/// Formats a date with the moment tokens `YYYY MM DD HH mm ss` and `[literal]` escapes.
pub fn format_date<D: Datelike + Timelike>(format: &str, date: &D) -> String {
    let mut out = String::with_capacity(format.len() + 8);
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if let Some(token) = TOKENS.iter().find(|t| rest.starts_with(**t)) {
            let value = match *token {
                "YYYY" => year_text(date.year()),
                "MM" => format!("{:02}", date.month()),
                "DD" => format!("{:02}", date.day()),
                "HH" => format!("{:02}", date.hour()),
                "mm" => format!("{:02}", date.minute()),
                _ => format!("{:02}", date.second()),
            };
            out.push_str(&value);
            rest = &rest[token.len()..];
        } else if let Some((literal, after)) =
            rest.strip_prefix('[').and_then(|r| r.split_once(']'))
        {
            out.push_str(literal);
            rest = after;
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// moment's `YYYY`: four digits, sign for years before 0.
fn year_text(year: i32) -> String {
    if year < 0 {
        format!("-{:04}", -year)
    } else {
        format!("{year:04}")
    }
}
