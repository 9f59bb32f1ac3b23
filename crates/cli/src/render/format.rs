//! Small value formatters shared by the list table and `describe`, each a port of the PM2 or
//! JavaScript helper whose output scripts and users already know.

/// One SGR style as an (open, close) code pair, the way chalk nests them.
pub(crate) type Sgr = (u8, u8);

/// chalk `bold`.
pub(crate) const BOLD: Sgr = (1, 22);
/// chalk `italic`.
pub(crate) const ITALIC: Sgr = (3, 23);
/// chalk `inverse`.
pub(crate) const INVERSE: Sgr = (7, 27);
/// chalk `red`.
pub(crate) const RED: Sgr = (31, 39);
/// chalk `green`.
pub(crate) const GREEN: Sgr = (32, 39);
/// chalk `blue`.
pub(crate) const BLUE: Sgr = (34, 39);
/// chalk `cyan`.
pub(crate) const CYAN: Sgr = (36, 39);
/// chalk `white`.
pub(crate) const WHITE: Sgr = (37, 39);
/// chalk `grey` (cli-tableau's default border colour).
pub(crate) const GREY: Sgr = (90, 39);

/// Wraps `text` in the given styles, outermost first, closing them in reverse order as chalk
/// does for a chain such as `chalk.green.bold(text)`.
pub(crate) fn paint(text: &str, styles: &[Sgr]) -> String {
    if styles.is_empty() || text.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + styles.len() * 10);
    for (open, _) in styles {
        out.push_str(&format!("\u{1b}[{open}m"));
    }
    out.push_str(text);
    for (_, close) in styles.iter().rev() {
        out.push_str(&format!("\u{1b}[{close}m"));
    }
    out
}

/// PM2's `bytesToSize(bytes, 1)` without its trailing space: `0b`, `512.0kb`, `52.1mb`,
/// `1.2gb`, `1.0tb`.
///
/// The fraction is rounded the way JavaScript's `toFixed(1)` does (exact value, ties away from
/// zero), which differs from Rust's `{:.1}` on exact ties such as 1280 bytes (`1.3kb`).
pub fn bytes_to_size(bytes: u64) -> String {
    const UNITS: [(u32, &str); 4] = [(40, "tb"), (30, "gb"), (20, "mb"), (10, "kb")];
    for (shift, unit) in UNITS {
        if bytes >> shift > 0 {
            return format!("{}{unit}", fixed_one_decimal(bytes, shift));
        }
    }
    format!("{bytes}b")
}

/// `(bytes / 2^shift).toFixed(1)`, computed exactly with integers.
fn fixed_one_decimal(bytes: u64, shift: u32) -> String {
    let divisor = 1u128 << shift;
    let tenths = (u128::from(bytes) * 10 + divisor / 2) / divisor;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// PM2's `timeSince` for an elapsed time in milliseconds: whole seconds up to 119 s, then the
/// largest of `m`, `h`, `D`, `M`, `Y` whose count is above 1 (so `2m`, `3D`, `13M`, `2Y`).
pub fn format_uptime(ms: u64) -> String {
    let seconds = ms / 1000;
    const STEPS: [(u64, &str); 5] = [
        (31_536_000, "Y"),
        (2_592_000, "M"),
        (86_400, "D"),
        (3_600, "h"),
        (60, "m"),
    ];
    for (size, unit) in STEPS {
        let interval = seconds / size;
        if interval > 1 {
            return format!("{interval}{unit}");
        }
    }
    format!("{seconds}s")
}

/// The uptime cell PM2 shows in `list` and `describe`: `timeSince(pm_uptime)` while online,
/// `0` otherwise (or when no start time is known).
pub(crate) fn uptime_cell(online: bool, pm_uptime: u64, now_ms: u64) -> String {
    if online && pm_uptime != 0 {
        format_uptime(now_ms.saturating_sub(pm_uptime))
    } else {
        "0".to_string()
    }
}

/// `String(number)` in JavaScript: shortest round-trip digits, plain notation for magnitudes in
/// [1e-7, 1e21), exponent notation (`1e+21`, `1.5e-7`) outside, and `0` for negative zero.
pub fn js_number_to_string(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if value == 0.0 {
        return "0".to_string();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let (digits, exponent) = shortest_digits(value.abs());
    format!("{sign}{}", place_decimal_point(&digits, exponent))
}

/// Shortest round-trip decimal digits of a positive finite `value` and the exponent of the
/// first digit, taken from Rust's `{:e}` output (same digits as ECMAScript's algorithm).
fn shortest_digits(value: f64) -> (String, i32) {
    let text = format!("{value:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text.as_str(), "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exponent.parse().unwrap_or(0))
}

/// ECMAScript `Number::toString` step 6-10: where the decimal point goes for `digits` whose
/// first digit has weight `10^exponent`.
fn place_decimal_point(digits: &str, exponent: i32) -> String {
    let k = digits.len() as i32;
    let n = exponent + 1;
    if k <= n && n <= 21 {
        return format!("{digits}{}", "0".repeat((n - k) as usize));
    }
    if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        return format!("{int}.{frac}");
    }
    if -6 < n && n <= 0 {
        return format!("0.{}{digits}", "0".repeat((-n) as usize));
    }
    let exp_sign = if n - 1 < 0 { '-' } else { '+' };
    let (first, rest) = digits.split_at(1);
    let dot = if rest.is_empty() { "" } else { "." };
    format!("{first}{dot}{rest}e{exp_sign}{}", (n - 1).abs())
}

/// Orders object keys the way a JavaScript object enumerates them: array-index keys
/// (`"0"`, `"17"`) first in ascending numeric order, then the others in insertion order.
pub(crate) fn js_key_order<'a, I>(keys: I) -> Vec<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut indices: Vec<(u32, &str)> = Vec::new();
    let mut others = Vec::new();
    for key in keys {
        match array_index(key) {
            Some(i) => indices.push((i, key)),
            None => others.push(key),
        }
    }
    indices.sort_by_key(|(i, _)| *i);
    indices.into_iter().map(|(_, k)| k).chain(others).collect()
}

/// The value of `key` if JavaScript treats it as an array index (canonical, below 2^32 - 1).
fn array_index(key: &str) -> Option<u32> {
    let canonical = key == "0" || (!key.starts_with('0') && !key.is_empty());
    if !canonical || !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<u32>().ok().filter(|i| *i != u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_follow_pm2_units_and_rounding() {
        assert_eq!(bytes_to_size(0), "0b");
        assert_eq!(bytes_to_size(1023), "1023b");
        assert_eq!(bytes_to_size(1024), "1.0kb");
        assert_eq!(bytes_to_size(512 * 1024), "512.0kb");
        assert_eq!(bytes_to_size(1280), "1.3kb", "toFixed rounds exact ties up");
        assert_eq!(bytes_to_size(55_155_507), "52.6mb");
        assert_eq!(bytes_to_size(3 * 1024 * 1024), "3.0mb");
        assert_eq!(bytes_to_size(1_288_490_189), "1.2gb");
        assert_eq!(bytes_to_size(1 << 40), "1.0tb");
        assert_eq!(bytes_to_size(u64::MAX), "16777216.0tb");
    }

    #[test]
    fn uptime_uses_pm2_thresholds() {
        assert_eq!(format_uptime(0), "0s");
        assert_eq!(format_uptime(999), "0s");
        assert_eq!(format_uptime(59_000), "59s");
        assert_eq!(format_uptime(119_999), "119s", "1 minute is not > 1");
        assert_eq!(format_uptime(120_000), "2m");
        assert_eq!(format_uptime(5 * 60_000 + 30_000), "5m");
        assert_eq!(format_uptime(2 * 3_600_000), "2h");
        assert_eq!(format_uptime(3 * 86_400_000), "3D");
        assert_eq!(format_uptime(45 * 86_400_000), "45D");
        assert_eq!(format_uptime(70 * 86_400_000), "2M");
        assert_eq!(format_uptime(400 * 86_400_000), "13M");
        assert_eq!(format_uptime(800 * 86_400_000), "2Y");
    }

    #[test]
    fn uptime_cell_is_zero_unless_online() {
        assert_eq!(uptime_cell(true, 1_000, 3_000), "2s");
        assert_eq!(uptime_cell(false, 1_000, 3_000), "0");
        assert_eq!(uptime_cell(true, 0, 3_000), "0");
        assert_eq!(
            uptime_cell(true, 5_000, 3_000),
            "0s",
            "clock skew never underflows"
        );
    }

    #[test]
    fn numbers_print_like_javascript() {
        assert_eq!(js_number_to_string(0.0), "0");
        assert_eq!(js_number_to_string(-0.0), "0");
        assert_eq!(js_number_to_string(12.5), "12.5");
        assert_eq!(js_number_to_string(3.8), "3.8");
        assert_eq!(js_number_to_string(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(js_number_to_string(-42.0), "-42");
        assert_eq!(js_number_to_string(1e21), "1e+21");
        assert_eq!(js_number_to_string(1.5e21), "1.5e+21");
        assert_eq!(js_number_to_string(123e18), "123000000000000000000");
        assert_eq!(
            js_number_to_string(9_223_372_036_854_775_807.0),
            "9223372036854776000"
        );
        assert_eq!(js_number_to_string(0.000001), "0.000001");
        assert_eq!(js_number_to_string(0.0000001), "1e-7");
        assert_eq!(js_number_to_string(1.25e-10), "1.25e-10");
    }

    #[test]
    fn paint_nests_like_chalk() {
        assert_eq!(
            paint("x", &[GREEN, BOLD]),
            "\u{1b}[32m\u{1b}[1mx\u{1b}[22m\u{1b}[39m"
        );
        assert_eq!(paint("x", &[]), "x");
    }

    #[test]
    fn array_index_keys_come_first() {
        let keys = js_key_order(["b", "10", "a", "2", "01", "4294967295"]);
        assert_eq!(keys, ["2", "10", "b", "a", "01", "4294967295"]);
    }
}
