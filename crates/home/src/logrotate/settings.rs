//! Reading the `"pm2-logrotate"` section of PM2's `module_conf.json`.

use crate::logrotate::config::{RotateConfig, LOGROTATE as MODULE, RETAIN_ALL};
use crate::logrotate::cron::CronSchedule;
use crate::logrotate::date::check_date_format;
use crate::logrotate::tz::resolve_tz;
use serde_json::Value;
use std::time::Duration;

/// A `max_size` that is not a number of bytes with an optional `K`, `M` or `G`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{raw:?} is not a size")]
pub struct SizeError {
    /// The value as given.
    pub raw: String,
}

/// Every invalid value of the `"pm2-logrotate"` section, each worded
/// `pm2-logrotate:<key>: <value> is <problem>` (the CLI prints one a line, the daemon's
/// log joins them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("; "))]
pub struct InvalidSettings {
    /// One sentence per invalid value.
    pub problems: Vec<String>,
}

/// Parses a `max_size`: bytes, or a `K`, `M` or `G` suffix (powers of 1024).
///
/// The suffix is case-insensitive and may be followed by `B` (`10MB`); surrounding spaces
/// are ignored. `pm2-logrotate` itself only knows upper-case `K`/`M`/`G` and silently reads
/// `10MB` as 10 bytes; fractions and other units are rejected here rather than truncated.
pub fn parse_size(raw: &str) -> Result<u64, SizeError> {
    let not_a_size = || SizeError {
        raw: raw.to_string(),
    };
    let text = raw.trim();
    let text = text
        .strip_suffix(['B', 'b'])
        .filter(|t| t.ends_with(|c: char| c.is_ascii_alphabetic()))
        .unwrap_or(text);
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_uppercase()),
        _ => (text, 'B'),
    };
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        _ => return Err(not_a_size()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_a_size());
    }
    let n: u64 = digits.parse().map_err(|_| not_a_size())?;
    n.checked_mul(1 << shift).ok_or_else(not_a_size)
}

impl RotateConfig {
    /// Reads the `"pm2-logrotate"` object of `module_conf.json` (`conf` is the whole file).
    ///
    /// Values may be strings, numbers or booleans, as `pm2 set` stores them; a missing key,
    /// `null` or `""` keeps the default. Unknown keys are ignored, as the module does. Every
    /// invalid value is reported, each as `pm2-logrotate:<key>: <value> is <problem>`.
    pub fn from_module_conf(conf: &Value) -> Result<RotateConfig, InvalidSettings> {
        let mut cfg = RotateConfig::default();
        let section = match conf.get(MODULE) {
            None | Some(Value::Null) => return Ok(cfg),
            Some(Value::Object(section)) => section,
            Some(other) => {
                return Err(InvalidSettings {
                    problems: vec![format!("{MODULE}: {other} is not an object")],
                })
            }
        };
        let mut errors = Vec::new();
        for (key, value) in section {
            let Some(text) = scalar_text(value) else {
                if !value.is_null() && is_known(key) {
                    errors.push(format!("{MODULE}:{key}: {value} is not a plain value"));
                }
                continue;
            };
            if text.is_empty() {
                continue;
            }
            if let Err(problem) = apply(&mut cfg, key, &text) {
                errors.push(format!("{MODULE}:{key}: {value} is {problem}"));
            }
        }
        if errors.is_empty() {
            Ok(cfg)
        } else {
            Err(InvalidSettings { problems: errors })
        }
    }
}

fn is_known(key: &str) -> bool {
    matches!(
        key,
        "max_size"
            | "retain"
            | "compress"
            | "dateFormat"
            | "workerInterval"
            | "rotateInterval"
            | "rotateModule"
            | "TZ"
    )
}

/// Sets one key from its text; the error completes "`<value>` is ...".
fn apply(cfg: &mut RotateConfig, key: &str, text: &str) -> Result<(), String> {
    match key {
        "max_size" => cfg.max_size = parse_size(text).map_err(|_| "not a size".to_string())?,
        "retain" => cfg.retain = parse_retain(text)?,
        "compress" => cfg.compress = parse_bool(text)?,
        "rotateModule" => cfg.rotate_module = parse_bool(text)?,
        "workerInterval" => cfg.worker_interval = parse_seconds(text)?,
        "dateFormat" => {
            check_date_format(text)?;
            cfg.date_format = text.to_string();
        }
        "rotateInterval" => {
            CronSchedule::parse(text).map_err(|e| format!("not a cron expression ({e})"))?;
            cfg.rotate_interval = text.to_string();
        }
        "TZ" => {
            resolve_tz(text).ok_or_else(|| {
                "not a supported time zone (use UTC, Etc/GMT+N, Etc/GMT-N or an offset \
                 like +05:30; named zones need a time zone database this daemon lacks)"
                    .to_string()
            })?;
            cfg.tz = Some(text.to_string());
        }
        _ => {}
    }
    Ok(())
}

/// The value as `pm2 set` would have typed it, trimmed; `None` for null, arrays and objects.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A count, or `all`/`none`: the module keeps everything when `retain` is not a number.
fn parse_retain(text: &str) -> Result<usize, String> {
    if text.eq_ignore_ascii_case("all") || text.eq_ignore_ascii_case("none") {
        return Ok(RETAIN_ALL);
    }
    text.parse()
        .map_err(|_| "not a number of files (or \"all\")".to_string())
}

/// The module reads booleans with `JSON.parse`, so only `true` and `false`.
fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("not true or false".to_string()),
    }
}

/// Whole seconds, at least 1 (the documented minimum of `workerInterval`).
fn parse_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<u64>() {
        Ok(secs) if secs >= 1 => Ok(Duration::from_secs(secs)),
        _ => Err("not a whole number of seconds (at least 1)".to_string()),
    }
}
