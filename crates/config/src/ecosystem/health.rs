//! An app's `health_check` object (beyond PM2; the shape is documented in the README):
//! exactly one probe (`http`, `tcp` or `exec`) and its timing, every key checked, snake_case
//! or camelCase. A misfit names the key inside the object.

use super::fields;
use super::keys::snake_case;
use pm2_proto::{HealthCheck, Probe};
use serde_json::{Map, Value};

/// The keys a `health_check` object may hold.
const KEYS: &[&str] = &[
    "http",
    "tcp",
    "exec",
    "path",
    "host",
    "status",
    "interval",
    "timeout",
    "failure_threshold",
    "success_threshold",
    "start_period",
    "ready_timeout",
    "liveness",
];

/// Host probed when the check names a port only.
const LOOPBACK: &str = "127.0.0.1";

/// `health_check`: an object → a check with every default filled in.
pub(crate) fn health_check(v: &Value) -> Result<HealthCheck, String> {
    let Value::Object(obj) = v else {
        return Err(format!(
            "expected an object such as {{ http: 3000 }}, got {}",
            fields::show(v)
        ));
    };
    let obj = canonical_keys(obj)?;
    let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
    let mut check = HealthCheck::new(probe(&obj)?);
    let keyed = |key: &str, msg: String| format!("{key}: {msg}");
    for (key, slot) in [
        ("interval", &mut check.interval),
        ("timeout", &mut check.timeout),
        ("start_period", &mut check.start_period),
        ("ready_timeout", &mut check.ready_timeout),
    ] {
        if let Some(v) = get(key) {
            *slot = fields::duration(v).map_err(|m| keyed(key, m))?;
        }
    }
    for key in ["interval", "timeout"] {
        if get(key).is_some() && obj.get(key).and_then(|v| fields::duration(v).ok()) == Some(0) {
            return Err(keyed(key, "must be more than 0".into()));
        }
    }
    for (key, slot) in [
        ("failure_threshold", &mut check.failure_threshold),
        ("success_threshold", &mut check.success_threshold),
    ] {
        if let Some(v) = get(key) {
            *slot = fields::count(v).ok().filter(|n| *n >= 1).ok_or_else(|| {
                keyed(
                    key,
                    format!("expected a whole number ≥ 1, got {}", fields::show(v)),
                )
            })?;
        }
    }
    if let Some(v) = get("liveness") {
        check.liveness = fields::boolean(v).map_err(|m| keyed("liveness", m))?;
    }
    Ok(check)
}

/// The object with camelCase keys made snake_case; an unknown key is an error (a misspelt
/// threshold must not silently fall back to its default).
fn canonical_keys(obj: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (key, value) in obj {
        let snake = snake_case(key);
        if !KEYS.contains(&snake.as_str()) {
            let hint = KEYS
                .iter()
                .map(|k| (k, strsim::levenshtein(k, &snake)))
                .min_by_key(|(_, d)| *d)
                .filter(|(_, d)| *d <= 3)
                .map(|(k, _)| format!(" (did you mean {k}?)"))
                .unwrap_or_default();
            return Err(format!(
                "{key}: unknown key{hint}; expected one of {}",
                KEYS.join(", ")
            ));
        }
        out.insert(snake, value.clone());
    }
    Ok(out)
}

/// The one probe the object names.
fn probe(obj: &Map<String, Value>) -> Result<Probe, String> {
    let given: Vec<&str> = ["http", "tcp", "exec"]
        .into_iter()
        .filter(|k| obj.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    let host = match obj.get("host") {
        None | Some(Value::Null) => LOOPBACK.to_string(),
        Some(v) => fields::string(v).map_err(|m| format!("host: {m}"))?,
    };
    let probe = match given.as_slice() {
        ["http"] => http(&obj["http"], obj, host)?,
        ["tcp"] => tcp(&obj["tcp"], host)?,
        ["exec"] => exec(&obj["exec"])?,
        [] => return Err("needs one of http, tcp or exec".into()),
        more => return Err(format!("{} given; choose one probe", more.join(" and "))),
    };
    for key in ["path", "status"] {
        if obj.get(key).is_some() && !matches!(probe, Probe::Http { .. }) {
            return Err(format!("{key}: only for an http check"));
        }
    }
    Ok(probe)
}

/// `http: 3000` (with `path`, default `/`) or `http: "http://host:port/path"`.
fn http(v: &Value, obj: &Map<String, Value>, host: String) -> Result<Probe, String> {
    let status = match obj.get("status") {
        None | Some(Value::Null) => None,
        Some(s) => Some(
            fields::count(s)
                .ok()
                .filter(|n| (100..=599).contains(n))
                .map(|n| n as u16)
                .ok_or_else(|| {
                    format!(
                        "status: expected an HTTP status (100-599), got {}",
                        fields::show(s)
                    )
                })?,
        ),
    };
    let (host, port, path) = match v {
        Value::String(url) => parse_url(url)?,
        _ => {
            let path = match obj.get("path") {
                None | Some(Value::Null) => "/".to_string(),
                Some(p) => fields::string(p).map_err(|m| format!("path: {m}"))?,
            };
            if !path.starts_with('/') {
                return Err(format!("path: must start with /, got {path:?}"));
            }
            (host, port(v).map_err(|m| format!("http: {m}"))?, path)
        }
    };
    if matches!(v, Value::String(_)) && obj.get("path").is_some() {
        return Err("path: give the path in the http URL".into());
    }
    Ok(Probe::Http {
        host,
        port,
        path,
        status,
    })
}

/// `http://host[:port][/path]`; plain HTTP only (the probe is a loopback check).
fn parse_url(url: &str) -> Result<(String, u16, String), String> {
    let bad = |why: &str| format!("http: {url:?} {why}");
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(bad(
            "is not an http:// URL (https is not probed; give the plain port)",
        ));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad("has no valid port"))?),
        None => (authority, 80),
    };
    if host.is_empty() || port == 0 || path.contains(char::is_whitespace) {
        return Err(bad("is not a URL the check can reach"));
    }
    Ok((host.to_string(), port, path))
}

/// `tcp: 5432` or `tcp: "host:5432"`.
fn tcp(v: &Value, host: String) -> Result<Probe, String> {
    if let Value::String(s) = v {
        if let Some((h, p)) = s.rsplit_once(':') {
            let port = p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("tcp: {s:?} has no valid port"))?;
            return Ok(Probe::Tcp {
                host: h.to_string(),
                port,
            });
        }
    }
    let port = port(v).map_err(|m| format!("tcp: {m}"))?;
    Ok(Probe::Tcp { host, port })
}

/// `exec: ["prog", "arg"]` as is; `exec: "a command"` through `/bin/sh -c`.
fn exec(v: &Value) -> Result<Probe, String> {
    let argv = match v {
        Value::String(s) if !s.trim().is_empty() => {
            vec!["/bin/sh".to_string(), "-c".to_string(), s.clone()]
        }
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| fields::string(i).map_err(|m| format!("exec: {m}")))
            .collect::<Result<_, _>>()?,
        other => {
            return Err(format!(
                "exec: expected a command string or a non-empty array of strings, got {}",
                fields::show(other)
            ))
        }
    };
    Ok(Probe::Exec { argv })
}

fn port(v: &Value) -> Result<u16, String> {
    fields::count(v)
        .ok()
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("expected a port number, got {}", fields::show(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_resolve_with_defaults() {
        let c = health_check(&json!({"http": 3000, "path": "/health"})).unwrap();
        assert_eq!(
            c.probe,
            Probe::Http {
                host: LOOPBACK.into(),
                port: 3000,
                path: "/health".into(),
                status: None
            }
        );
        assert_eq!((c.interval, c.failure_threshold), (1000, 3));
        let c = health_check(&json!({"http": "http://localhost:81/x?y", "status": 204, "failureThreshold": 2, "interval": "2s"})).unwrap();
        assert_eq!(
            c.probe,
            Probe::Http {
                host: "localhost".into(),
                port: 81,
                path: "/x?y".into(),
                status: Some(204)
            }
        );
        assert_eq!((c.interval, c.failure_threshold), (2000, 2));
        let c = health_check(&json!({"tcp": "db:5432"})).unwrap();
        assert_eq!(
            c.probe,
            Probe::Tcp {
                host: "db".into(),
                port: 5432
            }
        );
        let c = health_check(&json!({"exec": "test -f ready"})).unwrap();
        assert_eq!(
            c.probe,
            Probe::Exec {
                argv: vec!["/bin/sh".into(), "-c".into(), "test -f ready".into()]
            }
        );
        let c = health_check(&json!({"exec": ["true"], "liveness": false})).unwrap();
        assert!(!c.liveness);
    }

    #[test]
    fn misfits_name_the_key() {
        for (v, needle) in [
            (json!(3000), "expected an object"),
            (json!({}), "needs one of http, tcp or exec"),
            (json!({"http": 1, "tcp": 2}), "http and tcp given"),
            (json!({"http": 70000}), "http: expected a port number"),
            (json!({"http": "https://x/"}), "https is not probed"),
            (
                json!({"tcp": 1, "status": 200}),
                "status: only for an http check",
            ),
            (
                json!({"tcp": 1, "failure_threshold": 0}),
                "failure_threshold: expected a whole number",
            ),
            (json!({"tcp": 1, "interval": "soon"}), "interval: "),
            (
                json!({"tcp": 1, "interval": 0}),
                "interval: must be more than 0",
            ),
            (
                json!({"tcp": 1, "intervall": 5}),
                "intervall: unknown key (did you mean interval?)",
            ),
            (json!({"exec": []}), "exec: expected a command string"),
            (
                json!({"http": 80, "status": 99}),
                "status: expected an HTTP status",
            ),
        ] {
            let e = health_check(&v).expect_err(needle);
            assert!(e.contains(needle), "{v}: {e}");
        }
    }
}
