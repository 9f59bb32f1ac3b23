//! An installed PM2 module as an app (PM2's `lib/API/Modules/NPM.js` start step): the
//! script its package.json names (`apps`, else the first `bin`, else `main`), run from the
//! package folder under its package name, marked `pmx_module`. One definition, used by the
//! CLI after `pm2 install` and by the daemon when it starts the installed modules at boot.

use pm2_proto::AppSpec;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a module folder cannot be run; each names the folder or file and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ModuleAppError {
    /// No readable package.json in the package folder.
    #[error("cannot read {}: {reason}", path.display())]
    Package {
        /// The package.json.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// package.json names no `apps` script, `bin` or `main` that exists.
    #[error("module {name}: {} names no script to run (no apps[0].script, bin or main file in {})", package.display(), folder.display())]
    NoScript {
        /// The package name.
        name: String,
        /// The package.json.
        package: PathBuf,
        /// The package folder.
        folder: PathBuf,
    },
    /// The conf built could not be resolved (no node on PATH, ...).
    #[error("module {name}: {reason}")]
    Resolve {
        /// The package name.
        name: String,
        /// Why.
        reason: String,
    },
}

/// A package.json, read.
pub fn read_package(folder: &Path) -> Result<Value, ModuleAppError> {
    let path = folder.join("package.json");
    let fail = |reason: String| ModuleAppError::Package {
        path: path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
    let pkg: Value = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
    match pkg.get("name").and_then(Value::as_str) {
        Some(n) if !n.is_empty() => Ok(pkg),
        _ => Err(fail("it has no \"name\"".into())),
    }
}

/// The script PM2 runs for a package: `apps` (its first entry's `script`), else the first
/// `bin` (a string or an object's first value), else `main`, else `index.js`.
fn script_of(pkg: &Value) -> Option<String> {
    let apps = match pkg.get("apps") {
        Some(Value::Array(a)) => a.first().cloned(),
        Some(app @ Value::Object(_)) => Some(app.clone()),
        _ => None,
    };
    let from_apps = apps.and_then(|a| a.get("script").and_then(Value::as_str).map(String::from));
    let from_bin = match pkg.get("bin") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(m)) => m.values().find_map(Value::as_str).map(String::from),
        _ => None,
    };
    let main = pkg.get("main").and_then(Value::as_str).map(String::from);
    from_apps.or(from_bin).or(main).or(Some("index.js".into()))
}

/// `max_memory_restart` of the package's first `apps` entry (`"500M"`), in bytes.
fn memory_limit(pkg: &Value) -> Option<u64> {
    let app = match pkg.get("apps") {
        Some(Value::Array(a)) => a.first()?.clone(),
        Some(app @ Value::Object(_)) => app.clone(),
        _ => return None,
    };
    match app.get("max_memory_restart")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => crate::parse_memory_size(s),
        _ => None,
    }
}

/// The module app of the package in `folder`, run by `username`, with `env` (the caller's
/// environment with the module's settings over it) and `PM2_HOME` set to `home`;
/// `path_var` finds node.
pub fn module_app(
    folder: &Path,
    env: BTreeMap<String, String>,
    home: &Path,
    path_var: &str,
    username: &str,
) -> Result<AppSpec, ModuleAppError> {
    let pkg = read_package(folder)?;
    let name = pkg["name"].as_str().unwrap_or_default().to_string();
    let script = script_of(&pkg)
        .map(|s| folder.join(s))
        .filter(|s| s.is_file())
        .ok_or_else(|| ModuleAppError::NoScript {
            name: name.clone(),
            package: folder.join("package.json"),
            folder: folder.to_path_buf(),
        })?;
    let interpreter = crate::Interpreter::for_script(&script, path_var);
    let conf = json!({
        "name": name,
        "pm_exec_path": script,
        "pm_cwd": folder,
        "exec_interpreter": interpreter.name(),
        "env": env,
        "pmx_module": true,
        "username": username,
        "version": pkg.get("version").and_then(Value::as_str).unwrap_or("N/A"),
    });
    let app =
        crate::dump::app_from_dump_entry(&conf, path_var).map_err(|e| ModuleAppError::Resolve {
            name: name.clone(),
            reason: e.to_string(),
        })?;
    let mut spec = app.spec;
    spec.env
        .insert("PM2_HOME".into(), home.to_string_lossy().into_owned());
    spec.max_memory_restart = memory_limit(&pkg);
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_is_apps_then_bin_then_main() {
        let pkg = json!({"apps": [{"script": "a.js"}], "bin": {"x": "b.js"}, "main": "c.js"});
        assert_eq!(script_of(&pkg).as_deref(), Some("a.js"));
        let pkg = json!({"bin": {"x": "b.js"}, "main": "c.js"});
        assert_eq!(script_of(&pkg).as_deref(), Some("b.js"));
        assert_eq!(script_of(&json!({"bin": "d.js"})).as_deref(), Some("d.js"));
        assert_eq!(script_of(&json!({"main": "c.js"})).as_deref(), Some("c.js"));
        assert_eq!(script_of(&json!({})).as_deref(), Some("index.js"));
        let pkg = json!({"apps": [{"script": "a.js", "max_memory_restart": "500M"}]});
        assert_eq!(memory_limit(&pkg), Some(500 * 1024 * 1024));
    }

    #[test]
    fn a_folder_without_its_script_is_an_error_naming_it() {
        let dir = std::env::temp_dir().join(format!("pm2-module-app-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("package.json"), r#"{"name":"m","main":"gone.js"}"#).unwrap();
        let err = module_app(&dir, BTreeMap::new(), Path::new("/h"), "/usr/bin:/bin", "u")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("module m") && err.contains("names no script"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
