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
    // Only digits and a colon can follow; checking first keeps the byte slicing below on
    // character boundaries (`+2` and a 3-byte letter was a panic, found by fuzzing).
    if !rest.is_ascii() {
        return None;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_refusals() {
        assert_eq!(resolve_tz("+02:00"), FixedOffset::east_opt(7200));
        assert_eq!(resolve_tz("-0130"), FixedOffset::east_opt(-5400));
        assert_eq!(resolve_tz("Etc/GMT+1"), FixedOffset::west_opt(3600));
        assert_eq!(resolve_tz("utc"), FixedOffset::east_opt(0));
        // Four bytes, one of them inside a multi-byte character: refused, not a panic.
        assert_eq!(resolve_tz("+2\u{921}"), None);
        assert_eq!(resolve_tz("+\u{e9}12"), None);
        assert_eq!(resolve_tz("+15"), None);
    }
}
