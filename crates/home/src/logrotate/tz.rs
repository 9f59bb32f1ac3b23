//! `TZ`: the time zones a rotated name's date can be written in, without a zone database.

use chrono::FixedOffset;

/// The offset of a `TZ` value: `UTC` and its aliases, `Etc/GMT+N` / `Etc/GMT-N` (POSIX
/// signs: `Etc/GMT+1` is one hour *behind* UTC), or `+HH:MM`, `-HHMM`, `+HH`.
pub fn resolve_tz(tz: &str) -> Option<FixedOffset> {
    let tz = tz.trim();
    let utc = [
        "UTC",
        "Etc/UTC",
        "GMT",
        "Etc/GMT",
        "Z",
        "UCT",
        "Etc/UCT",
        "Universal",
    ];
    if utc.iter().any(|u| tz.eq_ignore_ascii_case(u)) {
        return FixedOffset::east_opt(0);
    }
    if let Some(hours) = tz.strip_prefix("Etc/GMT") {
        let (sign, digits) = split_sign(hours)?;
        let h: i32 = parse_digits(digits, 1, 2)?;
        return (h <= 14).then(|| FixedOffset::west_opt(sign * h * 3600))?;
    }
    let (sign, rest) = split_sign(tz)?;
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (parse_digits(h, 2, 2)?, parse_digits(m, 2, 2)?),
        None if rest.len() == 4 => (
            parse_digits(&rest[..2], 2, 2)?,
            parse_digits(&rest[2..], 2, 2)?,
        ),
        None => (parse_digits(rest, 2, 2)?, 0),
    };
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

fn split_sign(text: &str) -> Option<(i32, &str)> {
    if let Some(rest) = text.strip_prefix('+') {
        Some((1, rest))
    } else {
        text.strip_prefix('-').map(|rest| (-1, rest))
    }
}

fn parse_digits(text: &str, min: usize, max: usize) -> Option<i32> {
    let ok = (min..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.parse().ok()).flatten()
}
