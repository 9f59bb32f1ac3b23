//! `memory_limit`, `cpu_limit` and `pids_limit` (beyond PM2): the value forms, read from the
//! command line, an ecosystem file and a `pm2 save` dump into one
//! [`pm2_proto::ResourceLimits`]. `memory_limit` takes `max_memory_restart`'s forms (bytes,
//! or a whole number with `K`, `M`, `G`); `cpu_limit` cores (`0.5`) or a percentage of one
//! core (`"50%"`); `pids_limit` a whole number.

use crate::error::ConfigError;
use crate::options::StartOptions;
use crate::values::parse_memory_size;
use pm2_proto::ResourceLimits;
use serde_json::Value;

/// A value as the user wrote it, for messages.
fn show(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "?".into())
}

/// The smallest memory limit taken: below a megabyte nothing starts, and the kernel refuses
/// to go under what the cgroup already uses.
const MIN_MEMORY: u64 = 1 << 20;
/// The most cores a `cpu_limit` may name (a quota past the machine's cores limits nothing).
const MAX_CORES_MILLIS: u64 = 1_024_000;

/// `cpu_limit` from its text: cores (`"0.5"`, `"2"`) or a percentage of one core (`"50%"`),
/// in thousandths of a core, at least one thousandth.
pub fn parse_cpu_limit(raw: &str) -> Option<u32> {
    let t = raw.trim();
    let cores = match t.strip_suffix('%') {
        Some(pct) => pct.trim().parse::<f64>().ok()? / 100.0,
        None => t.parse::<f64>().ok()?,
    };
    cores_to_millis(cores)
}

fn cores_to_millis(cores: f64) -> Option<u32> {
    if !cores.is_finite() || cores <= 0.0 {
        return None;
    }
    let millis = (cores * 1000.0).round() as u64;
    (1..=MAX_CORES_MILLIS)
        .contains(&millis)
        .then_some(millis as u32)
}

/// `memory_limit` from its text (`max_memory_restart`'s forms), at least 1M.
pub fn parse_memory_limit(raw: &str) -> Option<u64> {
    parse_memory_size(raw).filter(|b| *b >= MIN_MEMORY)
}

/// `pids_limit` from its text: a whole number, at least 1.
pub fn parse_pids_limit(raw: &str) -> Option<u64> {
    raw.trim().parse::<u64>().ok().filter(|n| *n >= 1)
}

const MEMORY_WHY: &str =
    "expected bytes, or a whole number with K, M or G (e.g. 200M), at least 1M";
const CPU_WHY: &str = "expected cores (e.g. 0.5) or a percentage of one core (e.g. \"50%\")";
const PIDS_WHY: &str = "expected a whole number of processes, at least 1";

/// The limits of a start's flags; what does not parse is pushed to `errors`.
pub(crate) fn from_flags(opts: &StartOptions, errors: &mut Vec<ConfigError>) -> ResourceLimits {
    let mut check = |flag: &str, raw: &Option<String>, why: &str, ok: bool| {
        if let (Some(raw), false) = (raw, ok) {
            errors.push(ConfigError::InvalidValue {
                flag: flag.into(),
                value: raw.clone(),
                why: why.into(),
            });
        }
    };
    let memory = opts.memory_limit.as_deref().map(parse_memory_limit);
    let cpu = opts.cpu_limit.as_deref().map(parse_cpu_limit);
    let pids = opts.pids_limit.as_deref().map(parse_pids_limit);
    check(
        "--memory-limit",
        &opts.memory_limit,
        MEMORY_WHY,
        memory != Some(None),
    );
    check("--cpu-limit", &opts.cpu_limit, CPU_WHY, cpu != Some(None));
    check(
        "--pids-limit",
        &opts.pids_limit,
        PIDS_WHY,
        pids != Some(None),
    );
    ResourceLimits {
        memory: memory.flatten(),
        cpu_millis: cpu.flatten(),
        pids: pids.flatten(),
    }
}

/// An ecosystem file's `memory_limit`: a number of bytes or a size string.
pub(crate) fn memory_value(v: &Value) -> Result<u64, String> {
    let parsed = match v {
        Value::Number(n) => n.as_u64().filter(|b| *b >= MIN_MEMORY),
        Value::String(s) => parse_memory_limit(s),
        _ => None,
    };
    parsed.ok_or_else(|| format!("{} is not a memory limit ({MEMORY_WHY})", show(v)))
}

/// An ecosystem file's `cpu_limit`: cores as a number, or a string (`"0.5"`, `"50%"`).
pub(crate) fn cpu_value(v: &Value) -> Result<u32, String> {
    let parsed = match v {
        Value::Number(n) => n.as_f64().and_then(cores_to_millis),
        Value::String(s) => parse_cpu_limit(s),
        _ => None,
    };
    parsed.ok_or_else(|| format!("{} is not a CPU limit ({CPU_WHY})", show(v)))
}

/// An ecosystem file's `pids_limit`: a whole number (or its text).
pub(crate) fn pids_value(v: &Value) -> Result<u64, String> {
    let parsed = match v {
        Value::Number(n) => n.as_u64().filter(|n| *n >= 1),
        Value::String(s) => parse_pids_limit(s),
        _ => None,
    };
    parsed.ok_or_else(|| format!("{} is not a process limit ({PIDS_WHY})", show(v)))
}

/// The limits of a `dump.pm2` entry, as `pm2 save` wrote them (bytes, cores, a count);
/// a value that no longer fits is left out rather than refusing the app.
pub(crate) fn from_dump(v: &Value) -> ResourceLimits {
    ResourceLimits {
        memory: v.get("memory_limit").and_then(|m| memory_value(m).ok()),
        cpu_millis: v.get("cpu_limit").and_then(|c| cpu_value(c).ok()),
        pids: v.get("pids_limit").and_then(|p| pids_value(p).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cpu_limits_are_cores_or_a_percentage_of_one() {
        assert_eq!(parse_cpu_limit("0.5"), Some(500));
        assert_eq!(parse_cpu_limit("50%"), Some(500));
        assert_eq!(parse_cpu_limit("2"), Some(2000));
        assert_eq!(parse_cpu_limit("150 %"), Some(1500));
        for bad in ["", "0", "-1", "abc", "NaN", "inf", "0.0001", "%"] {
            assert_eq!(parse_cpu_limit(bad), None, "{bad}");
        }
        assert_eq!(cpu_value(&json!(0.2)), Ok(200));
        assert!(cpu_value(&json!(true)).unwrap_err().contains("true"));
    }

    #[test]
    fn memory_and_pids_limits_take_their_forms() {
        assert_eq!(memory_value(&json!("50M")), Ok(50 << 20));
        assert_eq!(memory_value(&json!(1 << 30)), Ok(1 << 30));
        assert!(memory_value(&json!("50m")).is_err());
        assert!(memory_value(&json!("10K")).is_err(), "below 1M");
        assert_eq!(pids_value(&json!(5)), Ok(5));
        assert_eq!(pids_value(&json!("5")), Ok(5));
        for bad in [json!(0), json!(-1), json!(1.5), json!("x")] {
            assert!(pids_value(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_dump_keeps_what_pm2_save_wrote() {
        let v = json!({"memory_limit": 52428800, "cpu_limit": 0.2, "pids_limit": 5});
        let l = from_dump(&v);
        assert_eq!(
            (l.memory, l.cpu_millis, l.pids),
            (Some(50 << 20), Some(200), Some(5))
        );
        assert!(from_dump(&json!({})).is_empty());
    }
}
