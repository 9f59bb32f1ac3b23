//! The apps that are the pm2 binary itself in a hidden mode (the dashboard `pm2-plus`,
//! `pm2 __plus`; the link agent `pm2-link`, `pm2 __plus-link`): composed, found, acted
//! on by name, the same way for each, as ordinary supervised apps.

use crate::client::Client;
use crate::commands::caller::context;
use crate::commands::connection::expect;
use anyhow::{anyhow, bail, Result};
use pm2_config::{resolve_start, StartOptions};
use pm2_home::Pm2Home;
use pm2_proto::{Action, ActionRequest, ProcessInfo, Request, Response, StartRequest, Target};

/// The app `name`: this pm2 binary run as `pm2 <mode>`, interpreter none, working in
/// `PM2_HOME` (not the caller's folder, which may be gone by its next restart).
pub(super) fn spec(home: &Pm2Home, name: &str, mode: &str) -> Result<pm2_proto::AppSpec> {
    let ctx = context()?;
    let options = StartOptions {
        script: ctx.pm2_exe.to_string_lossy().into_owned(),
        name: Some(name.into()),
        interpreter: Some("none".into()),
        args: vec![mode.into()],
        cwd: Some(home.root().to_string_lossy().into_owned()),
        ..StartOptions::default()
    };
    resolve_start(&options, &ctx).map_err(|errors| {
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow!("cannot compose the {name} app: {}", text.join("; "))
    })
}

/// Starts the app `name` as `pm2 <mode>`.
pub(super) fn start(client: &mut Client, home: &Pm2Home, name: &str, mode: &str) -> Result<()> {
    let request = Request::Start(StartRequest {
        apps: vec![spec(home, name, mode)?],
        force: false,
    });
    failed(expect(client, request)?, name)
}

/// `action` on the app `name`.
pub(super) fn action(action: Action, name: &str) -> Request {
    Request::Action(ActionRequest {
        action,
        targets: vec![Target::Name(name.into())],
        update_env: None,
        toggle_watch: false,
        patch: Default::default(),
    })
}

/// An error naming the instance of `name` that failed, if one did.
pub(super) fn failed(response: Response, name: &str) -> Result<()> {
    if let Response::Outcomes { outcomes } = response {
        if let Some(e) = outcomes.iter().find_map(|o| o.error.as_ref()) {
            bail!("cannot start {name}: {e}");
        }
    }
    Ok(())
}

/// The first instance of `name`, if registered.
pub(super) fn find(client: &mut Client, name: &str) -> Result<Option<ProcessInfo>> {
    match expect(client, Request::Summary)? {
        Response::List { processes } => Ok(processes.into_iter().find(|p| p.spec.name == name)),
        other => bail!("unexpected reply to list: {other:?}"),
    }
}
