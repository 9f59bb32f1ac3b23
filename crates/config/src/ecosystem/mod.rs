//! Ecosystem files: `pm2 start ecosystem.config.js` and friends.
//!
//! A file (`.json` or stdin as a JavaScript expression, YAML, CommonJS or ESM JavaScript) is read into a JSON
//! value, each app object under `apps` (or `pm2`) is mapped to [`crate::StartOptions`] and
//! resolved with [`crate::resolve_start`], so files and the command line behave alike.
//! Every problem in the file is reported at once; unknown keys and options pm2-rs accepts
//! but does not act on yet are warnings.

mod apps;
mod bounds;
mod depends;
mod expr;
mod fields;
mod health;
mod keys;
mod listen;
pub(crate) use listen::listen_addresses;
mod load;
mod node;
mod reader;
mod scan;
mod template;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_js;

pub use template::ecosystem_template;

use crate::error::EcosystemError;
use crate::resolve::ResolveContext;
use apps::{app_name, resolve_app, FileScope};
use load::{load_file, parse_text, Format};
use pm2_proto::AppSpec;
use reader::AppReader;
use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;

/// How messages name stdin.
const STDIN_LABEL: &str = "<stdin>";

/// Whether a start argument names an ecosystem file (PM2's rule: contains `.json`, `.yml`,
/// `.yaml`, `.config.js`, `.config.cjs` or `.config.mjs`; plus `-` for JSON on stdin).
pub fn is_ecosystem_file(arg: &str) -> bool {
    arg == "-"
        || [
            ".json",
            ".yml",
            ".yaml",
            ".config.js",
            ".config.cjs",
            ".config.mjs",
        ]
        .iter()
        .any(|ext| arg.contains(ext))
}

/// Options of an ecosystem action.
#[derive(Debug, Clone, Default)]
pub struct EcosystemOptions {
    /// `--env <name>`: merge `env_<name>` (and `deploy.<name>.env`) over `env`.
    pub env_name: Option<String>,
    /// `--only a,b`: the app names to act on, already split on commas and spaces; empty
    /// means all.
    pub only: Vec<String>,
    /// `--env-file`s given on the command line (absolute), read after each app's own
    /// `env_file`, under its `env`.
    pub env_files: Vec<PathBuf>,
}

/// The outcome: every app resolved, plus warnings (unknown keys with suggestions, missing
/// `env_<name>`, options accepted but not yet acted on).
#[derive(Debug, Clone)]
pub struct Ecosystem {
    /// The apps to act on, in file order, after `--only`.
    pub apps: Vec<AppSpec>,
    /// Messages to show without failing, e.g. `apps[0].instanses: unknown option (did you
    /// mean instances?)`.
    pub warnings: Vec<String>,
    /// The file read (absolute), or `-` for stdin.
    pub file: PathBuf,
}

/// Loads and resolves a file, or JSON on stdin for `-`. Relative paths follow PM2: the file
/// is found from `ctx.cwd`, a relative `cwd` in it resolves against `ctx.cwd`, and `script`
/// and log/pid paths against the app's `cwd`. All errors are collected; `Err` means nothing
/// may be started.
pub fn load_ecosystem(
    arg: &str,
    opts: &EcosystemOptions,
    ctx: &ResolveContext,
) -> Result<Ecosystem, Vec<EcosystemError>> {
    if arg == "-" {
        return load_ecosystem_from_reader(std::io::stdin().lock(), opts, ctx);
    }
    let (file, config) = read_file(arg, ctx)?;
    resolve_config(&config, arg, file, opts, ctx)
}

/// [`load_ecosystem`] for `-`: JSON (read leniently) from `input`.
pub fn load_ecosystem_from_reader(
    input: impl Read,
    opts: &EcosystemOptions,
    ctx: &ResolveContext,
) -> Result<Ecosystem, Vec<EcosystemError>> {
    let config = read_stdin(input, Some(ctx))?;
    resolve_config(&config, STDIN_LABEL, PathBuf::from("-"), opts, ctx)
}

/// The app names a file declares (after `--only`, with `append_env_to_name` and
/// `name_prefix` applied), for stop/delete/restart `<file>` without resolving scripts;
/// in start order (`depends_on`: each after what it depends on).
pub fn ecosystem_app_names(
    arg: &str,
    opts: &EcosystemOptions,
    ctx: &ResolveContext,
) -> Result<Vec<String>, Vec<EcosystemError>> {
    ecosystem_app_order(arg, opts, ctx).map(|(names, _)| names)
}

/// [`ecosystem_app_names`], and whether any app of the file has a `depends_on` (then
/// stop and delete go one app at a time, in the reverse order).
pub fn ecosystem_app_order(
    arg: &str,
    opts: &EcosystemOptions,
    ctx: &ResolveContext,
) -> Result<(Vec<String>, bool), Vec<EcosystemError>> {
    let (label, config) = if arg == "-" {
        (STDIN_LABEL, read_stdin(std::io::stdin().lock(), Some(ctx))?)
    } else {
        (arg, read_file(arg, ctx)?.1)
    };
    names_in(&config, label, opts)
}

/// [`ecosystem_app_names`] for `-`, reading from `input`; without a context, text only
/// JavaScript can read is an error.
pub fn ecosystem_app_names_from_reader(
    input: impl Read,
    opts: &EcosystemOptions,
) -> Result<Vec<String>, Vec<EcosystemError>> {
    names_in(&read_stdin(input, None)?, STDIN_LABEL, opts).map(|(names, _)| names)
}

/// The whole file as read (JSON, YAML or JavaScript, evaluated as `pm2 start` would), with
/// its absolute path: for sections other than `apps`, such as `pm2 deploy`'s `deploy`.
pub fn load_ecosystem_value(
    arg: &str,
    ctx: &ResolveContext,
) -> Result<(PathBuf, Value), Vec<EcosystemError>> {
    read_file(arg, ctx)
}

fn read_file(arg: &str, ctx: &ResolveContext) -> Result<(PathBuf, Value), Vec<EcosystemError>> {
    let path = ctx.cwd.join(arg);
    let config = load_file(&path, arg, ctx).map_err(|e| vec![e])?;
    Ok((std::fs::canonicalize(&path).unwrap_or(path), config))
}

fn read_stdin(
    mut input: impl Read,
    ctx: Option<&ResolveContext>,
) -> Result<Value, Vec<EcosystemError>> {
    let text =
        load::read_bounded(&mut input, STDIN_LABEL, "standard input holds").map_err(|e| vec![e])?;
    parse_text(&text, Format::Json, STDIN_LABEL, ctx).map_err(|e| vec![e])
}

/// One app object and the path messages use for it (`apps[1]`).
type AppObject<'a> = (String, &'a serde_json::Map<String, Value>);

/// The app objects of a config (`apps`, else `pm2`, else the config itself; one object or
/// an array), each with the path messages use for it.
fn app_objects(config: &Value) -> Result<Vec<AppObject<'_>>, Vec<String>> {
    let (key, list) = match config {
        Value::Object(top) if top.contains_key("apps") => ("apps", &top["apps"]),
        Value::Object(top) if top.contains_key("pm2") => ("pm2", &top["pm2"]),
        Value::Object(_) | Value::Array(_) => ("apps", config),
        other => {
            return Err(vec![format!(
                "expected an object with an `apps` list, got {}",
                fields::show(other)
            )])
        }
    };
    let items: Vec<&Value> = match list {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![list],
        other => {
            return Err(vec![format!(
                "{key}: expected an app object or an array of them, got {}",
                fields::show(other)
            )])
        }
    };
    let mut apps = Vec::new();
    let mut errors = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Value::Object(obj) => apps.push((format!("{key}[{i}]"), obj)),
            other => errors.push(format!(
                "{key}[{i}]: expected an app object, got {}",
                fields::show(other)
            )),
        }
    }
    errors.is_empty().then_some(apps).ok_or(errors)
}

/// `deploy.<env>.env`, when `--env` names a deploy target that has one.
fn deploy_env(
    config: &Value,
    env_name: Option<&str>,
) -> Result<std::collections::BTreeMap<String, String>, String> {
    let Some(block) = env_name.and_then(|name| config.get("deploy")?.get(name)?.get("env")) else {
        return Ok(Default::default());
    };
    fields::env_object(block).map_err(|msg| format!("deploy.{}.env: {msg}", env_name.unwrap_or("")))
}

fn selected(opts: &EcosystemOptions, base: &str, full: &str) -> bool {
    opts.only.is_empty() || opts.only.iter().any(|o| o == base || o == full)
}

fn with_label(label: &str, messages: Vec<String>) -> Vec<EcosystemError> {
    messages
        .into_iter()
        .map(|m| EcosystemError(format!("{label}: {m}")))
        .collect()
}

fn resolve_config(
    config: &Value,
    label: &str,
    file: PathBuf,
    opts: &EcosystemOptions,
    ctx: &ResolveContext,
) -> Result<Ecosystem, Vec<EcosystemError>> {
    let objects = app_objects(config).map_err(|e| with_label(label, e))?;
    let mut errors = Vec::new();
    let deploy_env = deploy_env(config, opts.env_name.as_deref()).unwrap_or_else(|e| {
        errors.push(e);
        Default::default()
    });
    let scope = FileScope {
        env_name: opts.env_name.as_deref(),
        env_files: &opts.env_files,
        deploy_env,
    };
    let mut apps = Vec::new();
    let mut warnings = Vec::new();
    let mut seen = Vec::new();
    let mut declared = Vec::new();
    for (prefix, obj) in objects {
        let mut r = AppReader::new(prefix, obj);
        let named = app_name(&mut r, &scope);
        if let Some((base, full)) = &named {
            seen.extend([base.clone(), full.clone()]);
            declared.push(declare(&mut r, base, full));
            if !selected(opts, base, full) {
                continue;
            }
        }
        let spec = named.and_then(|(_, full)| resolve_app(&mut r, full, &scope, ctx));
        apps.extend(spec);
        errors.append(&mut r.errors);
        warnings.append(&mut r.warnings);
    }
    warnings.extend(unmatched_only(opts, &seen, label));
    if errors.is_empty() {
        match depends::resolve(&declared) {
            Ok(deps) => apps = in_start_order(apps, &declared, deps),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(with_label(label, errors));
    }
    Ok(Ecosystem {
        apps,
        warnings,
        file,
    })
}

/// What the ordering needs of an app object (its `depends_on` read as written).
fn declare(r: &mut AppReader, base: &str, full: &str) -> depends::Declared {
    depends::Declared {
        prefix: r.prefix.clone(),
        base: base.to_string(),
        full: full.to_string(),
        deps: r.get("depends_on", depends::depends_on).unwrap_or_default(),
        checked: r.has("health_check"),
    }
}

/// The apps, each with its resolved `depends_on`, in start order.
fn in_start_order(
    apps: Vec<AppSpec>,
    declared: &[depends::Declared],
    deps: Vec<Vec<pm2_proto::Dependency>>,
) -> Vec<AppSpec> {
    let mut apps: Vec<Option<AppSpec>> = apps.into_iter().map(Some).collect();
    let mut app_deps = Vec::new();
    for app in apps.iter_mut().flatten() {
        let i = declared.iter().position(|d| d.full == app.name);
        app.depends_on = i.map(|i| deps[i].clone()).unwrap_or_default();
        app_deps.push(app.depends_on.clone());
    }
    let names: Vec<String> = apps.iter().flatten().map(|a| a.name.clone()).collect();
    depends::start_order(&names, &app_deps)
        .into_iter()
        .filter_map(|i| apps[i].take())
        .collect()
}

fn unmatched_only(opts: &EcosystemOptions, seen: &[String], label: &str) -> Vec<String> {
    opts.only
        .iter()
        .filter(|o| !seen.contains(o))
        .map(|o| format!("--only {o}: no app of that name in {label}"))
        .collect()
}

fn names_in(
    config: &Value,
    label: &str,
    opts: &EcosystemOptions,
) -> Result<(Vec<String>, bool), Vec<EcosystemError>> {
    let objects = app_objects(config).map_err(|e| with_label(label, e))?;
    let scope = FileScope {
        env_name: opts.env_name.as_deref(),
        env_files: &opts.env_files,
        deploy_env: Default::default(),
    };
    let mut names = Vec::new();
    let mut errors = Vec::new();
    let mut declared = Vec::new();
    for (prefix, obj) in objects {
        let mut r = AppReader::new(prefix, obj);
        if let Some((base, full)) = app_name(&mut r, &scope) {
            declared.push(declare(&mut r, &base, &full));
            if selected(opts, &base, &full) {
                names.push(full);
            }
        }
        errors.append(&mut r.errors);
    }
    if errors.is_empty() {
        match depends::resolve(&declared) {
            Ok(deps) => {
                let deps_of = |n: &String| {
                    let i = declared.iter().position(|d| &d.full == n);
                    i.map(|i| deps[i].clone()).unwrap_or_default()
                };
                let app_deps: Vec<_> = names.iter().map(deps_of).collect();
                let order = depends::start_order(&names, &app_deps);
                names = order.into_iter().map(|i| names[i].clone()).collect();
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    let dependent = declared.iter().any(|d| !d.deps.is_empty());
    errors
        .is_empty()
        .then_some((names, dependent))
        .ok_or_else(|| with_label(label, errors))
}
