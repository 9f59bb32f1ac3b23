//! `listen` (beyond PM2): the sockets the daemon binds for an app and hands to its
//! processes. A port (`3000`, all IPv4 addresses), an address (`"127.0.0.1:3000"`,
//! `"[::1]:3000"`), a unix socket (`"unix:/run/app.sock"`, absolute), a socket systemd
//! passed to the daemon by its name (`"fd:web"`, the `.socket` unit's
//! `FileDescriptorName=`), or a list of them.

use super::fields;
use serde_json::Value;
use std::net::SocketAddr;

/// The canonical addresses of a `listen` value, or why it is not one.
pub(crate) fn listen_addresses(v: &Value) -> Result<Vec<String>, String> {
    let items = match v {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    let mut out: Vec<String> = Vec::new();
    for item in &items {
        let addr = one(item)?;
        if out.contains(&addr) {
            return Err(format!("{addr} is listed twice"));
        }
        out.push(addr);
    }
    Ok(out)
}

fn one(v: &Value) -> Result<String, String> {
    match v {
        Value::Number(n) => port(n.as_u64()).map(|p| format!("0.0.0.0:{p}")),
        Value::String(s) => address(s.trim()),
        other => Err(format!(
            "expected a port, an address or \"unix:/path\", got {}",
            fields::show(other)
        )),
    }
}

fn port(n: Option<u64>) -> Result<u16, String> {
    n.and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .ok_or_else(|| "a port is a number from 1 to 65535".to_string())
}

fn address(s: &str) -> Result<String, String> {
    if let Some(name) = s.strip_prefix("fd:") {
        // systemd's rule for FileDescriptorName=: 1 to 255 characters, no ':' or control.
        if name.is_empty() || name.len() > 255 || name.chars().any(|c| c == ':' || c.is_control()) {
            return Err(format!(
                "{s:?}: a passed socket's name (FileDescriptorName=) has 1 to 255 characters, \
                 without ':'"
            ));
        }
        return Ok(format!("fd:{name}"));
    }
    if let Some(path) = s.strip_prefix("unix:") {
        if !path.starts_with('/') || path.len() > 107 {
            return Err(format!(
                "{s:?}: a unix socket needs an absolute path of at most 107 bytes"
            ));
        }
        return Ok(format!("unix:{path}"));
    }
    if let Ok(n) = s.parse::<u64>() {
        return port(Some(n)).map(|p| format!("0.0.0.0:{p}"));
    }
    match s.parse::<SocketAddr>() {
        Ok(addr) if addr.port() > 0 => Ok(addr.to_string()),
        _ => Err(format!(
            "{s:?} is not a port, an address such as 127.0.0.1:3000 or [::1]:3000, or unix:/path"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ports_addresses_and_unix_paths_become_canonical() {
        assert_eq!(
            listen_addresses(&json!([
                3000,
                "127.0.0.1:3001",
                "[::1]:3002",
                "unix:/run/a.sock",
                "3003",
                "fd:web"
            ])),
            Ok(vec![
                "0.0.0.0:3000".to_string(),
                "127.0.0.1:3001".into(),
                "[::1]:3002".into(),
                "unix:/run/a.sock".into(),
                "0.0.0.0:3003".into(),
                "fd:web".into()
            ])
        );
        assert_eq!(
            listen_addresses(&json!(8080)),
            Ok(vec!["0.0.0.0:8080".to_string()])
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_reason() {
        for bad in [
            json!(0),
            json!(70000),
            json!("unix:rel.sock"),
            json!("host:80"),
            json!(true),
            json!([80, 80]),
            json!("fd:"),
            json!("fd:a:b"),
        ] {
            assert!(listen_addresses(&bad).is_err(), "{bad}");
        }
    }
}
