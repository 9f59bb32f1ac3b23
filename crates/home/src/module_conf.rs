//! `$PM2_HOME/module_conf.json`: PM2's store for module settings (`pm2 set`), and which
//! built-in modules are "installed" (`pm2 install pm2-logrotate`).
//!
//! The CLI writes it (atomically) and then tells the daemon to reload; the daemon only reads.

use crate::atomic::write_atomic;
use crate::layout::Pm2Home;
use serde_json::{json, Map, Value};
use std::io;
use std::path::PathBuf;

/// Where PM2 records installed modules inside module_conf.json.
const MODULE_DB: &str = "module-db-v2";

/// Why `module_conf.json` could not be read or written; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum ModuleConfError {
    /// The file exists but cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The file is not JSON (hand-edited, or written by something else).
    #[error("{} is not valid JSON: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// The new contents cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// Reads the file (`{}` when absent or blank).
pub fn load(home: &Pm2Home) -> Result<Value, ModuleConfError> {
    let path = home.module_conf();
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().is_empty() => Ok(json!({})),
        Ok(text) => {
            serde_json::from_str(&text).map_err(|source| ModuleConfError::Parse { path, source })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(json!({})),
        Err(source) => Err(ModuleConfError::Read { path, source }),
    }
}

/// Writes the file atomically, 4-space indented as PM2 writes it.
pub fn save(home: &Pm2Home, conf: &Value) -> Result<(), ModuleConfError> {
    let path = home.module_conf();
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(conf, &mut ser).map_err(|e| ModuleConfError::Write {
        path: path.clone(),
        source: io::Error::other(e),
    })?;
    write_atomic(&path, &buf).map_err(|source| ModuleConfError::Write { path, source })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logrotate::{LOGROTATE, LOGROTATE_DEFAULTS};

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
