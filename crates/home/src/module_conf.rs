//! `$PM2_HOME/module_conf.json`: PM2's store for module settings (`pm2 set`), and which
//! built-in modules are "installed" (`pm2 install pm2-logrotate`).
//!
//! The CLI writes it (atomically) and then tells the daemon to reload; the daemon only reads.

use crate::atomic::write_atomic;
use crate::layout::Pm2Home;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
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

/// PM2's reading of a settings key: split on `.` if it has one, else on `:` (`"..."`
/// groups keep a separator and lose their quotes; empty parts are dropped). A part named
/// `__proto__`, `constructor` or `prototype` makes the whole key one top-level name, as in
/// PM2. `app.port` and `pm2-logrotate:max_size` are two levels.
pub fn split_key(key: &str) -> Vec<String> {
    let sep = if key.contains('.') {
        '.'
    } else if key.contains(':') {
        ':'
    } else {
        return vec![key.to_string()];
    };
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut quoted = false;
    for c in key.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c == sep && !quoted => parts.push(std::mem::take(&mut part)),
            c => part.push(c),
        }
    }
    parts.push(part);
    parts.retain(|p| !p.is_empty());
    if parts
        .iter()
        .any(|p| matches!(p.as_str(), "__proto__" | "constructor" | "prototype"))
    {
        return vec![key.to_string()];
    }
    parts
}

/// The object at `path` under `conf`, made on the way where missing or not an object (what
/// PM2's set and unset both do).
fn walk<'a>(conf: &'a mut Value, path: &[String]) -> &'a mut Map<String, Value> {
    let mut node = object(conf);
    for level in path {
        let child = node.entry(level.clone()).or_insert_with(|| json!({}));
        node = object(child);
    }
    node
}

/// `pm2 set <key> <value>`: stored as a string at the levels of [`split_key`]
/// (`app.port 3000` is `{"app": {"port": "3000"}}`), as PM2 does.
pub fn set(conf: &mut Value, key: &str, value: &str) {
    let parts = split_key(key);
    if let Some((last, path)) = parts.split_last() {
        walk(conf, path).insert(last.clone(), json!(value));
    }
}

/// `pm2 unset <key>`: removes the value if there is one (an absent key is no error, and
/// its missing levels are left behind as empty objects, as in PM2); `all` empties the file.
pub fn unset(conf: &mut Value, key: &str) {
    let parts = split_key(key);
    if let Some((last, path)) = parts.split_last() {
        walk(conf, path).remove(last);
    }
    if key == "all" {
        *conf = json!({});
    }
}

/// `pm2 get <key>`: the value at the levels of [`split_key`]; like PM2, an empty string,
/// `0` or `false` on the way counts as unset.
pub fn get<'a>(conf: &'a Value, key: &str) -> Option<&'a Value> {
    let mut node = conf;
    for part in split_key(key) {
        node = node.get(&part)?;
        if matches!(node, Value::Null | Value::Bool(false))
            || node.as_str() == Some("")
            || node.as_f64() == Some(0.0)
        {
            return None;
        }
    }
    Some(node)
}

/// The variables an app named `app` gets from its settings (PM2's `getModuleConf`): each
/// of its keys, plus `<app>` itself holding them all as JSON. `None` when the app has no
/// settings object. Non-string values are given as JSON.
pub fn app_settings(conf: &Value, app: &str) -> Option<BTreeMap<String, String>> {
    let Some(Value::Object(section)) = conf.get(app) else {
        return None;
    };
    let mut env: BTreeMap<String, String> = section
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k.clone(), s.clone()),
            other => (k.clone(), other.to_string()),
        })
        .collect();
    env.insert(app.to_string(), Value::Object(section.clone()).to_string());
    Some(env)
}

/// Creates an empty `module_conf.json` where there is none: PM2's CLI does so on every
/// call, so tools that read the file find it.
pub fn ensure_exists(home: &Pm2Home) -> Result<(), ModuleConfError> {
    let path = home.module_conf();
    if path.exists() {
        return Ok(());
    }
    write_atomic(&path, b"{}").map_err(|source| ModuleConfError::Write { path, source })
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

/// The modules installed from npm, a folder or a tarball (every `module-db-v2` entry but
/// the built-in ones), which the daemon starts at boot.
pub fn npm_modules(conf: &Value) -> Vec<String> {
    let Some(Value::Object(db)) = conf.get(MODULE_DB) else {
        return vec![];
    };
    db.iter()
        .filter(|(_, entry)| entry.get("version").and_then(Value::as_str) != Some("built-in"))
        .map(|(name, _)| name.clone())
        .collect()
}

/// Records an npm module as PM2 does: `module-db-v2[name] = {}`, and its package.json
/// `config` defaults under `name` for the keys not set yet.
pub fn register_module(conf: &mut Value, module: &str, defaults: &Map<String, Value>) {
    let db = object(conf).entry(MODULE_DB).or_insert_with(|| json!({}));
    object(db).insert(module.to_string(), json!({}));
    let section = object(object(conf).entry(module).or_insert_with(|| json!({})));
    for (k, v) in defaults {
        section.entry(k.clone()).or_insert_with(|| v.clone());
    }
}

/// Whether the built-in pm2-logrotate rotates: it is installed and the npm pm2-logrotate
/// is not (when the npm module's package is on disk it rotates, and the built-in steps
/// aside so no file is rotated twice).
pub fn builtin_logrotate_active(home: &Pm2Home, conf: &Value) -> bool {
    let name = crate::logrotate::LOGROTATE;
    installed(conf, name) && !home.module_package(name).join("package.json").is_file()
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
        unset(&mut c, "pm2-logrotate:max_size");
        assert!(c["pm2-logrotate"].get("max_size").is_none());
        assert!(uninstall(&mut c, LOGROTATE));
        assert!(!installed(&c, LOGROTATE));
    }

    #[test]
    fn npm_modules_are_recorded_as_pm2_does_and_the_built_in_steps_aside() {
        let mut c = json!({"m": {"port": "1"}});
        install(&mut c, LOGROTATE, LOGROTATE_DEFAULTS);
        let defaults = json!({"port": "4000", "on": true});
        register_module(&mut c, "m", defaults.as_object().unwrap());
        assert_eq!(c["module-db-v2"]["m"], json!({}));
        assert_eq!(c["m"], json!({"port": "1", "on": true}), "user values kept");
        assert_eq!(
            npm_modules(&c),
            ["m"],
            "the built-in one is not started as an app"
        );
        let root = std::env::temp_dir().join(format!("pm2-npm-logrotate-{}", std::process::id()));
        let home = Pm2Home::at(root.clone());
        assert!(builtin_logrotate_active(&home, &c));
        let package = home.module_package(LOGROTATE);
        std::fs::create_dir_all(&package).unwrap();
        std::fs::write(package.join("package.json"), "{}").unwrap();
        assert!(
            !builtin_logrotate_active(&home, &c),
            "the npm one on disk rotates"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn keys_split_as_pm2_splits_them() {
        assert_eq!(split_key("app.port"), ["app", "port"]);
        assert_eq!(
            split_key("pm2-logrotate:max_size"),
            ["pm2-logrotate", "max_size"]
        );
        assert_eq!(split_key("a.b:c"), ["a", "b:c"]);
        assert_eq!(split_key(r#"app."x.y".z"#), ["app", "x.y", "z"]);
        assert_eq!(split_key("a..b"), ["a", "b"]);
        assert_eq!(split_key("plain"), ["plain"]);
        assert_eq!(split_key("a.__proto__"), ["a.__proto__"]);
    }

    #[test]
    fn nested_set_unset_get_and_app_settings() {
        let mut c = json!({"app": "flat"});
        set(&mut c, "app.port", "3000");
        set(&mut c, "app.db.host", "h");
        assert_eq!(c, json!({"app": {"port": "3000", "db": {"host": "h"}}}));
        assert_eq!(get(&c, "app:port"), Some(&json!("3000")));
        assert_eq!(get(&c, "app.none"), None);
        let env = app_settings(&c, "app").unwrap();
        assert_eq!(env["port"], "3000");
        assert_eq!(env["db"], r#"{"host":"h"}"#);
        assert_eq!(env["app"], r#"{"port":"3000","db":{"host":"h"}}"#);
        assert_eq!(app_settings(&c, "other"), None);
        unset(&mut c, "app.port");
        unset(&mut c, "ghost.key");
        assert_eq!(c, json!({"app": {"db": {"host": "h"}}, "ghost": {}}));
        unset(&mut c, "all");
        assert_eq!(c, json!({}));
    }
}
