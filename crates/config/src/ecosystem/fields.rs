//! Typed readers for the value forms ecosystem options take. Each returns the message to
//! show after `apps[i].key: ` when the value does not fit.

use crate::values::{parse_duration_ms, parse_instances};
use pm2_proto::ExecMode;
use serde_json::Value;
use std::collections::BTreeMap;

/// A value as the user wrote it, for messages (`"10X"`, `true`, `[1,2]`).
pub(crate) fn show(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "?".into())
}

/// A value as Node turns it into a string (`String(v)`): what an env entry becomes.
pub(crate) fn js_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => js_number(n),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Null => String::new(),
                other => js_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// JavaScript prints whole floats without a fraction (`1.0` is `1`).
fn js_number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
        _ => n.to_string(),
    }
}

/// A string option; numbers are accepted as their text, as JavaScript would coerce them.
pub(crate) fn string(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(js_number(n)),
        other => Err(format!("expected a string, got {}", show(other))),
    }
}

/// A boolean option; `"true"`/`"false"` count too (PM2 honours `autorestart: "false"`).
/// `uid`/`gid`: a user or group name, or a non-negative number.
pub(crate) fn account(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Value::Number(n) if n.as_u64().is_some_and(|id| id <= u64::from(u32::MAX)) => {
            Ok(n.to_string())
        }
        other => Err(format!(
            "{} is not a user or group (a name or a number)",
            show(other)
        )),
    }
}

pub(crate) fn boolean(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        other => Err(format!("expected true or false, got {}", show(other))),
    }
}

/// A non-negative whole number, from a number or a numeric string.
fn whole(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A duration in milliseconds: a number, or PM2's `"500ms"`, `"5s"`, `"2m"`, `"1h"`.
pub(crate) fn duration(v: &Value) -> Result<u64, String> {
    let parsed = match v {
        Value::String(s) => parse_duration_ms("", s).ok(),
        Value::Number(_) => whole(v),
        _ => None,
    };
    parsed.ok_or_else(|| {
        format!(
            "{} is not a duration (milliseconds, or a number with ms, s, m or h)",
            show(v)
        )
    })
}

/// `watchdog_sec`, in milliseconds: seconds as systemd's `WatchdogSec=` takes them (a
/// number, fractions allowed) or a duration string (`"500ms"`, `"2s"`); more than 0, at
/// most a day.
pub(crate) fn watchdog(v: &Value) -> Result<u64, String> {
    let ms = match v {
        Value::Number(n) => n
            .as_f64()
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| (s * 1000.0).ceil() as u64),
        Value::String(s) => parse_duration_ms("", s).ok(),
        _ => None,
    };
    ms.filter(|ms| (1..=86_400_000).contains(ms)).ok_or_else(|| {
        format!(
            "{} is not a watchdog interval (seconds, more than 0 and at most a day, or a string like \"500ms\")",
            show(v)
        )
    })
}

/// A size in bytes: a number or `^\d+(K|M|G)?$` with 1024 multiples (PM2 rejects lowercase
/// units and decimals, and so does this).
pub(crate) fn size(v: &Value) -> Result<u64, String> {
    let parsed = match v {
        Value::Number(_) => whole(v),
        Value::String(s) => crate::values::parse_memory_size(s),
        _ => None,
    };
    parsed.ok_or_else(|| {
        format!(
            "{} is not a size (bytes, or a whole number with K, M or G)",
            show(v)
        )
    })
}

/// A count such as `max_restarts`.
pub(crate) fn count(v: &Value) -> Result<u32, String> {
    whole(v)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| format!("expected a whole number, got {}", show(v)))
}

/// `instances`: a number, `"max"`, or a negative number; returned in the CLI's string form.
pub(crate) fn instances(v: &Value) -> Result<String, String> {
    let bad = || format!("expected a number or \"max\", got {}", show(v));
    let raw = match v {
        Value::Number(n) if n.as_i64().is_some() => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return Err(bad()),
    };
    parse_instances(&raw).map(|_| raw).map_err(|_| bad())
}

/// `fork`, `fork_mode`, `cluster` or `cluster_mode`.
pub(crate) fn exec_mode(v: &Value) -> Result<ExecMode, String> {
    match v.as_str() {
        Some("fork" | "fork_mode") => Ok(ExecMode::Fork),
        Some("cluster" | "cluster_mode") => Ok(ExecMode::Cluster),
        _ => Err(format!(
            "expected \"fork\" or \"cluster\" (or fork_mode, cluster_mode), got {}",
            show(v)
        )),
    }
}

/// A list given as an array, or as one string split the way a shell splits words.
/// An environment variable name (`instance_var`, `increment_var`): non-empty, no `=` or NUL.
pub(crate) fn variable_name(v: &Value) -> Result<String, String> {
    let name = string(v)?;
    if name.is_empty() || name.contains(['=', '\0']) {
        return Err(format!("{} is not an environment variable name", show(v)));
    }
    Ok(name)
}

pub(crate) fn word_list(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => shell_words(s),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(js_string(i)),
                other => Err(format!(
                    "expected strings in the array, got {}",
                    show(other)
                )),
            })
            .collect(),
        other => Err(format!(
            "expected a string or an array of strings, got {}",
            show(other)
        )),
    }
}

/// A list of strings given as a string (one item) or an array (for `ignore_watch`, `watch`).
pub(crate) fn string_or_list(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            Ok(items.iter().map(js_string).collect())
        }
        other => Err(format!(
            "expected a string or an array of strings, got {}",
            show(other)
        )),
    }
}

/// `stop_exit_codes`: a number, an array of numbers, or `"0,3"` (PM2 parseInts strings).
pub(crate) fn exit_codes(v: &Value) -> Result<Vec<String>, String> {
    let items: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut codes = Vec::new();
    for item in items {
        let text = match item {
            Value::Number(n) if n.as_i64().is_some() => n.to_string(),
            Value::String(s) => s.clone(),
            other => {
                return Err(format!(
                    "expected exit codes (numbers), got {}",
                    show(other)
                ))
            }
        };
        for code in text.split([',', ' ']).filter(|c| !c.is_empty()) {
            code.parse::<i32>()
                .map_err(|_| format!("{:?} is not an exit code", code))?;
            codes.push(code.to_string());
        }
    }
    Ok(codes)
}

/// `cron_restart`: a croner pattern (seconds optional); `0`, `false` or `"0"` disable it.
pub(crate) fn cron(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Bool(false) | Value::Null => Ok(None),
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(None),
        Value::String(s) if s.trim() == "0" || s.trim().is_empty() => Ok(None),
        Value::String(s) => crate::values::parse_cron(s).map_err(|e| e.to_string()),
        other => Err(format!("expected a cron pattern, got {}", show(other))),
    }
}

/// An app's `env`: objects, arrays and nulls are JSON-stringified (PM2's
/// `mergeEnvironmentVariables` does so before anything else), the rest become strings as
/// Node prints them.
pub(crate) fn env_block(v: &Value) -> Result<BTreeMap<String, String>, String> {
    env_map(v, |v| {
        Some(match v {
            Value::Object(_) | Value::Array(_) | Value::Null => js_json(v),
            other => js_string(other),
        })
    })
}

/// `env_<name>` and `deploy.<name>.env`: merged after PM2's stringification, so an object,
/// array or null never reaches the app (PM2's fork spawn passes primitives only).
pub(crate) fn env_object(v: &Value) -> Result<BTreeMap<String, String>, String> {
    env_map(v, |v| match v {
        Value::Object(_) | Value::Array(_) | Value::Null => None,
        other => Some(js_string(other)),
    })
}

fn env_map(
    v: &Value,
    value: impl Fn(&Value) -> Option<String>,
) -> Result<BTreeMap<String, String>, String> {
    match v {
        Value::Object(map) => Ok(map
            .iter()
            .filter_map(|(k, v)| value(v).map(|s| (k.clone(), s)))
            .collect()),
        Value::Null => Ok(BTreeMap::new()),
        other => Err(format!("expected an object, got {}", show(other))),
    }
}

/// `JSON.stringify(v)`: serde's JSON with JavaScript's numbers (`1.0` is `1`).
pub(crate) fn js_json(v: &Value) -> String {
    match v {
        Value::Number(n) => js_number(n),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(js_json).collect();
            format!("[{}]", items.join(","))
        }
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), js_json(v)))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        other => other.to_string(),
    }
}

/// Splits a command line into words as a POSIX shell does (without expansions): whitespace
/// separates, single quotes keep everything, double quotes keep everything but `\"` and
/// `\\`, a backslash outside quotes escapes.
pub(crate) fn shell_words(s: &str) -> Result<Vec<String>, String> {
    shlex::split(s).ok_or_else(|| format!("unterminated quote or escape in {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn env_values_follow_pm2() {
        let env = json!({"O": {"a": [1, 2.5, 1.0, "x\"y"], "b": null}, "A": [1, true], "N": null, "F": 1.0, "B": false});
        let block = env_block(&env).unwrap();
        assert_eq!(block["O"], r#"{"a":[1,2.5,1,"x\"y"],"b":null}"#);
        assert_eq!(block["A"], "[1,true]");
        assert_eq!(block["N"], "null");
        assert_eq!(block["F"], "1");
        assert_eq!(block["B"], "false");
        let named = env_object(&env).unwrap();
        assert_eq!(named.keys().collect::<Vec<_>>(), ["B", "F"]);
    }

    #[test]
    fn sizes_follow_pm2() {
        assert_eq!(size(&json!("200M")), Ok(200 << 20));
        assert_eq!(size(&json!("1G")), Ok(1 << 30));
        assert_eq!(size(&json!("10K")), Ok(10 << 10));
        assert_eq!(size(&json!(1024)), Ok(1024));
        assert_eq!(size(&json!("2048")), Ok(2048));
        for bad in [
            json!("10X"),
            json!("200m"),
            json!("1.5G"),
            json!("M"),
            json!(-1),
        ] {
            assert!(size(&bad).is_err(), "{bad}");
        }
        assert_eq!(
            size(&json!("10X")).unwrap_err(),
            "\"10X\" is not a size (bytes, or a whole number with K, M or G)"
        );
    }

    #[test]
    fn durations_numbers_and_strings() {
        assert_eq!(duration(&json!(3000)), Ok(3000));
        assert_eq!(duration(&json!("5s")), Ok(5000));
        assert_eq!(duration(&json!("1h")), Ok(3_600_000));
        assert!(duration(&json!(true)).is_err());
        assert!(duration(&json!(-3)).is_err());
    }

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            shell_words(r#"--port 80 'a b' "c \"d\"" e\ f"#).unwrap(),
            vec!["--port", "80", "a b", "c \"d\"", "e f"]
        );
        assert_eq!(shell_words("  ").unwrap(), Vec::<String>::new());
        assert_eq!(shell_words("''").unwrap(), vec![""]);
        assert!(shell_words("'open").is_err());
    }

    #[test]
    fn env_values_are_stringified_like_node() {
        let env =
            env_block(&json!({"A": 1, "B": true, "C": 1.5, "D": null, "E": [1, 2], "F": 2.0}))
                .unwrap();
        assert_eq!(env["A"], "1");
        assert_eq!(env["B"], "true");
        assert_eq!(env["C"], "1.5");
        assert_eq!(env["D"], "null");
        assert_eq!(env["E"], "[1,2]");
        assert_eq!(env["F"], "2");
    }

    #[test]
    fn cron_patterns() {
        assert_eq!(cron(&json!("0 * * * *")), Ok(Some("0 * * * *".into())));
        assert_eq!(
            cron(&json!("*/5 * * * * *")),
            Ok(Some("*/5 * * * * *".into()))
        );
        assert_eq!(cron(&json!(0)), Ok(None));
        assert_eq!(cron(&json!(false)), Ok(None));
        assert!(cron(&json!("every day")).is_err());
    }

    #[test]
    fn instances_and_exit_codes() {
        assert_eq!(instances(&json!("max")), Ok("max".into()));
        assert_eq!(instances(&json!(-1)), Ok("-1".into()));
        assert_eq!(instances(&json!(4)), Ok("4".into()));
        assert_eq!(
            instances(&json!(true)).unwrap_err(),
            "expected a number or \"max\", got true"
        );
        assert_eq!(
            exit_codes(&json!([0, "3"])),
            Ok(vec!["0".into(), "3".into()])
        );
        assert_eq!(exit_codes(&json!("0,2")), Ok(vec!["0".into(), "2".into()]));
        assert!(exit_codes(&json!(["x"])).is_err());
    }
}
