//! Parsers for PM2's value forms: instance counts, durations, file-name-safe app names.

use crate::error::{ConfigError, InvalidCron};

/// How many instances the user asked for, before the CPU count is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instances {
    /// `max`, `0`: one per CPU.
    Max,
    /// A negative number: CPUs minus that many (at least 1).
    Minus(u32),
    /// An exact count.
    Exactly(u32),
}

impl Instances {
    /// The concrete count for a machine with `cpus` CPUs (PM2's `God.prepare` arithmetic).
    pub fn resolve(self, cpus: u32) -> u32 {
        match self {
            Instances::Max => cpus.max(1),
            Instances::Minus(n) => cpus.saturating_sub(n).max(1),
            Instances::Exactly(n) => n.max(1),
        }
    }
}

/// Parses `-i` the way PM2 does: `max`, `0`, `-1`, `N`.
pub fn parse_instances(raw: &str) -> Result<Instances, ConfigError> {
    let bad = |why: &str| ConfigError::InvalidValue {
        flag: "--instances".into(),
        value: raw.into(),
        why: why.into(),
    };
    if raw == "max" {
        return Ok(Instances::Max);
    }
    let n: i64 = raw
        .trim()
        .parse()
        .map_err(|_| bad("expected a number, 'max' or a negative number"))?;
    match n {
        0 => Ok(Instances::Max),
        n if n < 0 => Ok(Instances::Minus(
            n.unsigned_abs().min(u32::MAX as u64) as u32
        )),
        n if n > 10_000 => Err(bad("at most 10000 instances")),
        n => Ok(Instances::Exactly(n as u32)),
    }
}

/// Parses a duration in milliseconds: a bare number is ms; `ms`, `s`, `m`, `h` suffixes as
/// PM2's ecosystem parser accepts them.
pub fn parse_duration_ms(flag: &str, raw: &str) -> Result<u64, ConfigError> {
    let bad = || ConfigError::InvalidValue {
        flag: flag.into(),
        value: raw.into(),
        why: "expected milliseconds, or a number with ms, s, m or h".into(),
    };
    let t = raw.trim();
    let (num, mult) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3_600_000)
    } else {
        (t, 1)
    };
    let value: u64 = num.parse().map_err(|_| bad())?;
    value.checked_mul(mult).ok_or_else(bad)
}

/// `--max-memory-restart`: bytes, or a whole number with `K`, `M` or `G` (1024 multiples).
/// PM2 rejects lower-case units and decimals, and so does this.
pub fn parse_memory_size(raw: &str) -> Option<u64> {
    let (digits, mult) = match raw.as_bytes().last() {
        Some(b'K') => (&raw[..raw.len() - 1], 1u64 << 10),
        Some(b'M') => (&raw[..raw.len() - 1], 1 << 20),
        Some(b'G') => (&raw[..raw.len() - 1], 1 << 30),
        _ => (raw, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

/// `--cron-restart`: a croner pattern (5 fields, or 6 with seconds); `0` disables it.
pub fn parse_cron(raw: &str) -> Result<Option<String>, InvalidCron> {
    let t = raw.trim();
    if t.is_empty() || t == "0" {
        return Ok(None);
    }
    croner::Cron::new(t)
        .with_seconds_optional()
        .parse()
        .map(|_| Some(t.to_string()))
        .map_err(|e| InvalidCron {
            raw: raw.to_string(),
            reason: e.to_string(),
        })
}

/// PM2's file-name form of an app name: anything outside `[a-zA-Z0-9.-]` becomes `-`, so a
/// name can never point outside the logs folder. A name made only of dots is neutralised too.
pub fn safe_file_name(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if mapped.chars().all(|c| c == '.') {
        mapped.replace('.', "-")
    } else {
        mapped
    }
}

/// The variable holding the instance index: `PM2_PROCESS_INSTANCE_VAR` when set (it wins,
/// as in PM2's `God.injectVariables`), else the app's `instance_var`, else
/// `NODE_APP_INSTANCE`.
pub(crate) fn instance_var(explicit: Option<String>) -> String {
    std::env::var("PM2_PROCESS_INSTANCE_VAR")
        .ok()
        .filter(|v| !v.is_empty())
        .or(explicit)
        .unwrap_or_else(|| "NODE_APP_INSTANCE".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_follow_pm2() {
        assert_eq!(parse_instances("max").unwrap().resolve(4), 4);
        assert_eq!(parse_instances("0").unwrap().resolve(4), 4);
        assert_eq!(parse_instances("-1").unwrap().resolve(4), 3);
        assert_eq!(parse_instances("-9").unwrap().resolve(4), 1);
        assert_eq!(parse_instances("3").unwrap().resolve(4), 3);
        assert!(parse_instances("lots").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("x", "1500").unwrap(), 1500);
        assert_eq!(parse_duration_ms("x", "5s").unwrap(), 5000);
        assert_eq!(parse_duration_ms("x", "2m").unwrap(), 120_000);
        assert_eq!(parse_duration_ms("x", "1h").unwrap(), 3_600_000);
        assert_eq!(parse_duration_ms("x", "20ms").unwrap(), 20);
        assert!(parse_duration_ms("x", "10X").is_err());
        assert!(parse_duration_ms("x", "-5").is_err());
    }

    #[test]
    fn memory_sizes_and_crons() {
        assert_eq!(parse_memory_size("200M"), Some(200 << 20));
        assert_eq!(parse_memory_size("1024"), Some(1024));
        assert_eq!(parse_memory_size("10X"), None);
        assert_eq!(parse_memory_size("1.5G"), None);
        assert_eq!(parse_memory_size("200m"), None);
        assert_eq!(parse_cron("0"), Ok(None));
        assert_eq!(
            parse_cron("*/5 * * * * *"),
            Ok(Some("*/5 * * * * *".into()))
        );
        assert!(parse_cron("61 * * * *").is_err());
    }

    #[test]
    fn file_names_stay_in_the_logs_folder() {
        assert_eq!(safe_file_name("my_app"), "my-app");
        assert_eq!(safe_file_name("../../etc/passwd"), "..-..-etc-passwd");
        assert_eq!(safe_file_name(".."), "--");
        assert_eq!(safe_file_name("python x.py"), "python-x.py");
    }
}
