//! `$PM2_HOME/module_conf.json`: PM2's store for module settings (`pm2 set`), and which
//! built-in modules are "installed" (`pm2 install pm2-logrotate`).
//!
//! The CLI writes it (atomically) and then tells the daemon to reload; the daemon only reads.

use crate::home::write_atomic;
use crate::Pm2Home;
use serde_json::{json, Map, Value};
use std::io;
use std::path::PathBuf;

/// The built-in log rotation module's name, as users install it.
pub const LOGROTATE: &str = "pm2-logrotate";

/// Where PM2 records installed modules inside module_conf.json.
const MODULE_DB: &str = "module-db-v2";

fn path(home: &Pm2Home) -> PathBuf {
    home.root().join("module_conf.json")
}

/// Reads the file (`{}` when absent); a malformed file is an error naming it.
pub fn load(home: &Pm2Home) -> io::Result<Value> {
    let p = path(home);
    match std::fs::read_to_string(&p) {
        Ok(text) if text.trim().is_empty() => Ok(json!({})),
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not valid JSON: {e}", p.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(json!({})),
        Err(e) => Err(e),
    }
}

/// Writes the file atomically, 4-space indented as PM2 writes it.
pub fn save(home: &Pm2Home, conf: &Value) -> io::Result<()> {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(conf, &mut ser).map_err(io::Error::other)?;
    write_atomic(&path(home), &buf)
}

fn object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = json!({});
    }
    v.as_object_mut().expect("just made an object")
}

/// `pm2 set <module>:<key> <value>` (or a plain key): stored as a string, as PM2 does.
pub fn set(conf: &mut Value, key: &str, value: &str) {
    match key.split_once(':') {
        Some((module, k)) => {
            let section = object(conf).entry(module).or_insert_with(|| json!({}));
            object(section).insert(k.to_string(), json!(value));
        }
        None => {
            object(conf).insert(key.to_string(), json!(value));
        }
    }
}

/// `pm2 unset <module>:<key>`; true when something was removed.
pub fn unset(conf: &mut Value, key: &str) -> bool {
    let root = object(conf);
    match key.split_once(':') {
        Some((module, k)) => root
            .get_mut(module)
            .and_then(Value::as_object_mut)
            .is_some_and(|m| m.remove(k).is_some()),
        None => root.remove(key).is_some(),
    }
}

/// Whether a built-in module is installed.
pub fn installed(conf: &Value, module: &str) -> bool {
    conf.get(MODULE_DB).and_then(|db| db.get(module)).is_some()
}

/// Marks a module installed and writes its default settings where none are set yet (what
/// PM2 does with a module's package.json `config` on install).
pub fn install(conf: &mut Value, module: &str, defaults: &[(&str, &str)]) {
    let db = object(conf).entry(MODULE_DB).or_insert_with(|| json!({}));
    object(db).insert(
        module.to_string(),
        json!({"uid": null, "gid": null, "version": "built-in"}),
    );
    let section = object(conf).entry(module).or_insert_with(|| json!({}));
    let section = object(section);
    for (k, v) in defaults {
        section.entry(k.to_string()).or_insert_with(|| json!(v));
    }
}

/// Removes a module from the installed list (its settings stay, as in PM2).
pub fn uninstall(conf: &mut Value, module: &str) -> bool {
    object(conf)
        .get_mut(MODULE_DB)
        .and_then(Value::as_object_mut)
        .is_some_and(|db| db.remove(module).is_some())
}

/// pm2-logrotate's package.json `config` defaults.
pub const LOGROTATE_DEFAULTS: &[(&str, &str)] = &[
    ("max_size", "10M"),
    ("retain", "30"),
    ("compress", "false"),
    ("dateFormat", "YYYY-MM-DD_HH-mm-ss"),
    ("workerInterval", "30"),
    ("rotateInterval", "0 0 * * *"),
    ("rotateModule", "true"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_install_and_unset() {
        let mut c = json!({});
        install(&mut c, LOGROTATE, LOGROTATE_DEFAULTS);
        assert!(installed(&c, LOGROTATE));
        set(&mut c, "pm2-logrotate:max_size", "1K");
        assert_eq!(c["pm2-logrotate"]["max_size"], "1K");
        assert_eq!(c["pm2-logrotate"]["retain"], "30");
        install(&mut c, LOGROTATE, LOGROTATE_DEFAULTS);
        assert_eq!(
            c["pm2-logrotate"]["max_size"], "1K",
            "install keeps user values"
        );
        assert!(unset(&mut c, "pm2-logrotate:max_size"));
        assert!(uninstall(&mut c, LOGROTATE));
        assert!(!installed(&c, LOGROTATE));
    }
}
