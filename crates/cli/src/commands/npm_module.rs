//! `pm2 install <name>[@version] | <folder> | <tarball>` and `pm2 uninstall <name>` for
//! modules from npm, as PM2 7 does them (`lib/API/Modules/NPM.js`): npm installs the
//! package into its own prefix `$PM2_HOME/modules/<name>`, its package.json `config`
//! defaults go into `module_conf.json`, it is recorded under `module-db-v2`, and it runs as
//! an app marked `pmx_module` with its settings in its environment. The daemon starts the
//! recorded modules again whenever it starts.

use super::connection::{connect, expect};
use crate::out;
use anyhow::{bail, Context, Result};
use pm2_home::{module_conf, Pm2Home};
use pm2_proto::{Action, ActionRequest, Request, Response, Target};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What npm is given: a local folder or tarball as an absolute path, else the spec as is.
fn npm_spec(spec: &str) -> String {
    let path = Path::new(spec);
    match std::fs::canonicalize(path) {
        Ok(abs) if path.exists() => abs.to_string_lossy().into_owned(),
        _ => spec.to_string(),
    }
}

/// The package npm installed into `prefix`: the one dependency its package.json records.
fn installed_name(prefix: &Path, spec: &str) -> Result<String> {
    let pkg = std::fs::read_to_string(prefix.join("package.json")).unwrap_or_default();
    let pkg: Value = serde_json::from_str(&pkg).unwrap_or(Value::Null);
    match pkg.get("dependencies").and_then(Value::as_object) {
        Some(deps) if deps.len() == 1 => Ok(deps.keys().next().cloned().unwrap_or_default()),
        _ => bail!(
            "npm installed {spec} but recorded no single package in {}; nothing was registered",
            prefix.display()
        ),
    }
}

/// Installs into a staging prefix, then moves it to `modules/<package name>` (replacing a
/// previous install, whose process is deleted first). Returns the name.
fn fetch(home: &Pm2Home, spec: &str) -> Result<String> {
    let modules = home.modules();
    let staging = modules.join(format!(".installing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    let placed = super::npm::install(&npm_spec(spec), &staging)
        .and_then(|()| installed_name(&staging, spec))
        .and_then(|name| place(home, &staging, &name).map(|()| name));
    if placed.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    placed
}

fn place(home: &Pm2Home, staging: &Path, name: &str) -> Result<()> {
    let dest = home.modules().join(name);
    if dest.exists() {
        delete_process(home, name)?;
        std::fs::remove_dir_all(&dest)
            .with_context(|| format!("cannot remove the previous {}", dest.display()))?;
    }
    std::fs::rename(staging, &dest)
        .with_context(|| format!("cannot move the module into {}", dest.display()))
}

/// `pm2 install` of an npm module, folder or tarball; `.` is PM2's development mode.
pub(crate) fn install(home: &Pm2Home, spec: &str) -> Result<i32> {
    home.ensure()
        .with_context(|| format!("cannot create {}", home.root().display()))?;
    if spec == "." {
        return install_in_place(home);
    }
    out::info(&format!("[Module] Installing NPM {spec} module"));
    let name = fetch(home, spec)?;
    out::info("[Module] Module downloaded");
    let folder = home.module_package(&name);
    let pkg = pm2_config::read_package(&folder)?;
    let defaults = pkg
        .get("config")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // The daemon answers once it has started the modules already registered, so this one,
    // registered only now, is started here and nowhere else.
    expect(&mut connect(home)?, Request::Ping)?;
    let mut conf = module_conf::load(home)?;
    module_conf::register_module(&mut conf, &name, &defaults);
    super::module_store::store(home, &conf)?;
    let spec = module_spec(home, &folder)?;
    let code = super::start::start_spec(home, spec, false)?;
    if code == 0 {
        out::info("[Module] Module successfully installed and launched");
    }
    Ok(code)
}

/// `pm2 install .`, PM2's development mode: the module in the current folder runs where it
/// is (nothing copied, npm not run), watched so an edit restarts it, and is not recorded,
/// so the daemon does not start it again at boot (as PM2 7's `localStart`).
fn install_in_place(home: &Pm2Home) -> Result<i32> {
    out::info("[Module] Installing local module in DEVELOPMENT MODE with WATCH auto restart");
    let folder = std::env::current_dir().context("cannot read the current folder")?;
    expect(&mut connect(home)?, Request::Ping)?;
    let mut spec = module_spec(home, &folder)?;
    spec.watch = true;
    let code = super::start::start_spec(home, spec, false)?;
    if code == 0 {
        out::info("[Module] Module successfully installed and launched");
    }
    Ok(code)
}

/// The module app of the package in `folder`, with the caller's environment.
fn module_spec(home: &Pm2Home, folder: &Path) -> Result<pm2_proto::AppSpec> {
    let path_var = std::env::var("PATH").unwrap_or_default();
    let caller = super::caller::context()?;
    Ok(pm2_config::module_app(
        folder,
        caller.env,
        home.root(),
        &path_var,
        &caller.username,
    )?)
}

/// Deletes the processes named `name`, if a daemon runs and has any.
fn delete_process(home: &Pm2Home, name: &str) -> Result<()> {
    let Some(mut client) = crate::client::connect_existing(home) else {
        return Ok(());
    };
    let targets = vec![Target::Name(name.to_string())];
    let request = Request::Action(ActionRequest {
        action: Action::Delete,
        targets,
        update_env: None,
        toggle_watch: false,
        patch: Box::default(),
    });
    match client.request(request)? {
        Response::Error { .. } | Response::Outcomes { .. } => Ok(()),
        other => bail!("unexpected reply to delete: {other:?}"),
    }
}

/// A module name is a package name (`name` or `@scope/name`): it becomes a folder under
/// `modules/`, so nothing that could leave that folder is accepted.
fn check_name(name: &str) -> Result<()> {
    let parts: Vec<&str> = name.split('/').collect();
    let shape_ok = match parts.as_slice() {
        [one] => !one.starts_with('@'),
        [scope, _] => scope.starts_with('@'),
        _ => false,
    };
    let part_ok = |p: &&str| {
        !p.is_empty()
            && !p.starts_with('.')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~@".contains(c))
    };
    if !shape_ok || !parts.iter().all(part_ok) {
        bail!("{name:?} is not a module name (a package name such as pm2-server-monit or @scope/name)");
    }
    Ok(())
}

/// Whether `name` is an npm module here: recorded, or its folder on disk.
pub(crate) fn is_installed(home: &Pm2Home, name: &str) -> Result<bool> {
    check_name(name)?;
    let recorded = module_conf::load(home)
        .map(|c| module_conf::npm_modules(&c).iter().any(|m| m == name))
        .unwrap_or(false);
    Ok(recorded || home.modules().join(name).is_dir())
}

/// `pm2 uninstall` of an npm module: deletes its process, its folder and its record (its
/// settings stay, as PM2 keeps them).
pub(crate) fn uninstall(home: &Pm2Home, name: &str) -> Result<i32> {
    out::info(&format!("[Module] Uninstalling module {name}"));
    delete_process(home, name)?;
    let dir: PathBuf = home.modules().join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    let mut conf = module_conf::load(home)?;
    module_conf::uninstall(&mut conf, name);
    super::module_store::store(home, &conf)?;
    out::info(&format!("[Module] Module {name} uninstalled"));
    Ok(0)
}
