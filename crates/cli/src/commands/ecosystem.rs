//! Ecosystem files: `start|restart|reload|stop|delete <file>`, `startOrRestart`,
//! `startOrReload`, and `init`.

use super::actions::{apply as apply_action, apply_quietly, report};
use super::caller::context;
use super::connection::{connect, expect};
use super::views::print_table;
use crate::out;
use anyhow::{bail, Context, Result};
use pm2_config::{ecosystem_app_order, ecosystem_template, load_ecosystem, EcosystemOptions};
use pm2_home::Pm2Home;
use pm2_proto::{Action, ApplyMode, ApplyRequest, Request, Response};

/// `--env` and `--only` as the loader takes them.
pub(crate) fn options(env_name: Option<&str>, only: Option<&str>) -> EcosystemOptions {
    EcosystemOptions {
        env_name: env_name.map(String::from),
        only: only
            .map(|o| {
                o.split([',', ' '])
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        env_files: vec![],
    }
}

fn print_errors(errors: &[pm2_config::EcosystemError]) {
    for e in errors {
        out::error(&e.to_string());
    }
}

/// Loads the file, starts the apps that do not run and restarts or reloads the others with
/// the file's new definition. Nothing happens when the file has any error.
pub(crate) fn apply(
    home: &Pm2Home,
    file: &str,
    opts: &EcosystemOptions,
    mode: ApplyMode,
) -> Result<i32> {
    let eco = match load_ecosystem(file, opts, &context()?) {
        Ok(eco) => eco,
        Err(errors) => {
            print_errors(&errors);
            return Ok(1);
        }
    };
    for w in &eco.warnings {
        out::warn(w);
    }
    if eco.apps.is_empty() {
        bail!("{}: no app to start (check --only)", eco.file.display());
    }
    let mut apps = eco.apps;
    for app in &mut apps {
        // PM2 adds the app's settings, and `<name>` (`{}` without settings), to the env.
        let settings = super::module_store::app_env(home, &app.name);
        app.env.extend(settings);
        app.env
            .entry(app.name.clone())
            .or_insert_with(|| "{}".into());
    }
    let mut client = connect(home)?;
    for app in &mut apps {
        super::placement::place_files(app, home);
    }
    let names: Vec<String> = apps.iter().map(|a| a.name.clone()).collect();
    let limited = apps.iter().any(|a| !a.limits.is_empty());
    let (outcomes, left_out) = send(&mut client, apps, mode)?;
    if limited {
        super::limit_warnings::print(&mut client, &outcomes)?;
    }
    for name in &names {
        let n = outcomes
            .iter()
            .filter(|o| &o.name == name && o.error.is_none())
            .count();
        if n == 0 && left_out > 0 {
            continue;
        }
        out::info(&format!(
            "App [{name}] applied ({n} instance{})",
            if n == 1 { "" } else { "s" }
        ));
    }
    let failed: Vec<_> = outcomes.into_iter().filter(|o| o.error.is_some()).collect();
    let code = if left_out > 0 { 1 } else { report(&failed) };
    print_table(&mut client)?;
    Ok(code)
}

/// Has the daemon apply `apps`: in one request, or layer by layer when some depend on
/// others; the outcomes, and how many apps were left out for a dependency.
fn send(
    client: &mut crate::client::Client,
    apps: Vec<pm2_proto::AppSpec>,
    mode: ApplyMode,
) -> Result<(Vec<pm2_proto::InstanceOutcome>, usize)> {
    if apps.iter().any(|a| !a.depends_on.is_empty()) {
        return super::depends::apply_in_order(client, apps, mode);
    }
    let request = Request::Apply(ApplyRequest {
        apps,
        running: mode,
    });
    let Response::Outcomes { outcomes } = expect(client, request)? else {
        bail!("unexpected reply to an ecosystem action");
    };
    Ok((outcomes, 0))
}

/// `stop|delete|reset <file>`: the action on the file's apps that exist.
pub(crate) fn act_on_apps(
    home: &Pm2Home,
    file: &str,
    opts: &EcosystemOptions,
    action: Action,
) -> Result<i32> {
    let (names, dependent) = match ecosystem_app_order(file, opts, &context()?) {
        Ok(found) => found,
        Err(errors) => {
            print_errors(&errors);
            return Ok(1);
        }
    };
    let mut client = connect(home)?;
    let running = super::views::fetch_list(&mut client)?;
    let present: Vec<String> = names
        .into_iter()
        .filter(|n| running.iter().any(|p| &p.spec.name == n))
        .collect();
    if present.is_empty() {
        bail!("none of the apps of {file} is registered");
    }
    if dependent && matches!(action, Action::Stop | Action::Delete) {
        // Dependents first: one app at a time, in the reverse of the start order.
        let mut code = 0;
        for name in present.iter().rev() {
            let one = std::slice::from_ref(name);
            code = code.max(apply_quietly(
                home,
                &mut client,
                action,
                one,
                Default::default(),
            )?);
        }
        print_table(&mut client)?;
        return Ok(code);
    }
    apply_action(home, &mut client, action, &present, Default::default())
}

/// `pm2 init [simple]` / `pm2 ecosystem [simple]`: writes the template (over an existing
/// `ecosystem.config.js`, as PM2 does).
pub(crate) fn init(kind: Option<&str>) -> Result<i32> {
    let simple = matches!(kind, Some("simple"));
    let path = std::env::current_dir()
        .context("cannot read the current directory")?
        .join("ecosystem.config.js");
    // PM2 writes the template over whatever file is there.
    std::fs::write(&path, ecosystem_template(simple))
        .with_context(|| format!("cannot write {}", path.display()))?;
    out::info(&format!("File {} generated", path.display()));
    Ok(0)
}
