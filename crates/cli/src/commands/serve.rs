//! `pm2 serve|expose [path] [port]`: starts the static file server as an app (the pm2
//! binary run as `pm2 __serve`, composed by `pm2_config::resolve_serve`), then prints
//! PM2's lines and the table.

use super::caller::context;
use super::connection::connect;
use super::start::start_spec;
use super::usage::UsageError;
use super::views::print_table;
use crate::args::ServeArgs;
use crate::out;
use anyhow::{Context, Result};
use pm2_config::{resolve_serve, ServeOptions};
use pm2_home::Pm2Home;

/// PM2's port when neither a word, `--port` nor `PM2_SERVE_PORT` gives one.
const DEFAULT_PORT: &str = "8080";

/// Starts the server app; exit 1 (changing nothing) when the directory is missing or the
/// options do not make sense, or when the daemon refuses the app.
pub(crate) fn serve(home: &Pm2Home, a: ServeArgs) -> Result<i32> {
    let ctx = context()?;
    let from_env = |key: &str| ctx.env.get(key).filter(|v| !v.is_empty()).cloned();
    let port = from_env("PM2_SERVE_PORT")
        .or(a.port)
        .or(a.port_option)
        .unwrap_or_else(|| DEFAULT_PORT.into());
    let path = from_env("PM2_SERVE_PATH")
        .or(a.path)
        .unwrap_or_else(|| ".".into());
    let basic_auth = match (a.basic_auth_username, a.basic_auth_password) {
        (Some(user), Some(password)) => Some((user, password)),
        (None, None) => None,
        // PM2 would serve without authentication; refusing keeps the files private.
        _ => {
            let msg = "--basic-auth-username and --basic-auth-password go together";
            return Err(UsageError(msg.into()).into());
        }
    };
    let opts = ServeOptions {
        path: path.into(),
        port: port.clone(),
        spa: a.spa,
        basic_auth,
        name: a.name,
    };
    let spec = match resolve_serve(&opts, &ctx) {
        Ok(spec) => spec,
        Err(errors) => {
            for e in &errors {
                out::error(&format!("Error while trying to serve : {e}"));
            }
            return Ok(1);
        }
    };
    let served = spec.cwd.clone();
    let code = start_spec(home, spec, false).context("Error while trying to serve")?;
    if code != 0 {
        out::error("Error while trying to serve");
        return Ok(code);
    }
    out::info(&format!("Serving {served} on port {port}"));
    print_table(&mut connect(home)?)?;
    Ok(0)
}
