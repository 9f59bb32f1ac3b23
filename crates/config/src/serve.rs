//! `pm2 serve` / `pm2 expose`, and an ecosystem app with `script: "serve"`: both become an
//! app that runs the pm2 executable as `pm2 __serve` (interpreter none), configured by
//! PM2's `PM2_SERVE_*` variables, so the daemon supervises the static server like any app.

use crate::error::ConfigError;
use crate::options::StartOptions;
use crate::resolve::{resolve_start, ResolveContext};
use pm2_proto::node_path;
use pm2_proto::{AppSpec, SERVE_MODE_ARG};
use std::path::PathBuf;

/// The ecosystem `script` that PM2 replaces with its static server.
pub const SERVE_SCRIPT: &str = "serve";

/// What a `pm2 serve` asks for, once PM2's `PM2_SERVE_PATH`/`PM2_SERVE_PORT` overrides
/// are applied.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// The directory to serve, absolute or relative to the caller's directory (made
    /// absolute as Node's `path.resolve` does; it is the app's working directory too).
    pub path: PathBuf,
    /// The port, as given (PM2 names the app after it: `static-page-server-<port>`).
    pub port: String,
    /// `--spa`.
    pub spa: bool,
    /// `--basic-auth-username` and `--basic-auth-password` (PM2 needs both).
    pub basic_auth: Option<(String, String)>,
    /// `--name`.
    pub name: Option<String>,
}

/// The app of a `pm2 serve`: the same spec PM2 builds (name, cwd, the `PM2_SERVE_*`
/// variables on top of the caller's environment), running this pm2 binary.
pub fn resolve_serve(
    opts: &ServeOptions,
    ctx: &ResolveContext,
) -> Result<AppSpec, Vec<ConfigError>> {
    let path = node_path::resolve(&ctx.cwd, &opts.path);
    if !path.is_dir() {
        return Err(vec![ConfigError::InvalidValue {
            flag: "path".into(),
            value: path.display().to_string(),
            why: "no such directory".into(),
        }]);
    }
    let path = path.to_string_lossy().into_owned();
    let mut env = ctx.env.clone();
    env.insert("PM2_SERVE_PORT".into(), opts.port.clone());
    env.insert("PM2_SERVE_PATH".into(), path.clone());
    env.insert("PM2_SERVE_SPA".into(), opts.spa.to_string());
    if let Some((user, password)) = &opts.basic_auth {
        env.insert("PM2_SERVE_BASIC_AUTH".into(), "true".into());
        env.insert("PM2_SERVE_BASIC_AUTH_USERNAME".into(), user.clone());
        env.insert("PM2_SERVE_BASIC_AUTH_PASSWORD".into(), password.clone());
    }
    let mut start = StartOptions {
        script: SERVE_SCRIPT.into(),
        name: Some(
            opts.name
                .clone()
                .unwrap_or_else(|| format!("static-page-server-{}", opts.port)),
        ),
        cwd: Some(path),
        ..StartOptions::default()
    };
    as_static_server(&mut start, ctx);
    let ctx = ResolveContext { env, ..ctx.clone() };
    resolve_start(&start, &ctx)
}

/// Makes `script: "serve"` the pm2 binary's static server (PM2 swaps in its `Serve.js`);
/// the app's own `args` stay PM2's positional `path port host`.
pub(crate) fn as_static_server(opts: &mut StartOptions, ctx: &ResolveContext) {
    if opts.script != SERVE_SCRIPT {
        return;
    }
    opts.script = ctx.pm2_exe.to_string_lossy().into_owned();
    opts.interpreter = Some("none".into());
    opts.args.insert(0, SERVE_MODE_ARG.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ResolveContext {
        ResolveContext {
            cwd: std::env::temp_dir(),
            env: [("KEEP".to_string(), "1".to_string())].into(),
            cpus: 1,
            username: "u".into(),
            pm2_exe: std::env::current_exe().unwrap(),
        }
    }

    #[test]
    fn serve_runs_the_pm2_binary_with_pm2s_variables() {
        let dir = std::env::temp_dir().canonicalize().unwrap();
        let opts = ServeOptions {
            path: dir.clone(),
            port: "9000".into(),
            spa: true,
            basic_auth: Some(("u".into(), "p".into())),
            name: None,
        };
        let spec = resolve_serve(&opts, &ctx()).unwrap();
        assert_eq!(spec.name, "static-page-server-9000");
        assert_eq!(spec.interpreter, "none");
        assert_eq!(spec.args, vec![SERVE_MODE_ARG]);
        assert_eq!(spec.cwd, dir.to_string_lossy());
        let exe = std::env::current_exe().unwrap().canonicalize().unwrap();
        assert_eq!(spec.script, exe.to_string_lossy());
        for (k, v) in [
            ("PM2_SERVE_PORT", "9000"),
            ("PM2_SERVE_SPA", "true"),
            ("PM2_SERVE_BASIC_AUTH", "true"),
            ("PM2_SERVE_BASIC_AUTH_USERNAME", "u"),
            ("PM2_SERVE_BASIC_AUTH_PASSWORD", "p"),
            ("KEEP", "1"),
        ] {
            assert_eq!(spec.env.get(k).map(String::as_str), Some(v), "{k}");
        }
    }

    #[test]
    fn a_missing_directory_is_refused_by_name() {
        let opts = ServeOptions {
            path: "/no/such/site".into(),
            port: "8080".into(),
            ..ServeOptions::default()
        };
        let errors = resolve_serve(&opts, &ctx()).unwrap_err();
        assert!(
            errors[0].to_string().contains("/no/such/site"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_relative_path_resolves_against_the_callers_directory() {
        let base = std::env::temp_dir().canonicalize().unwrap();
        let sub = base.join(format!("pm2-serve-rel-{}", std::process::id()));
        std::fs::create_dir_all(&sub).unwrap();
        let ctx = ResolveContext {
            cwd: sub.clone(),
            ..ctx()
        };
        let opts = ServeOptions {
            path: "../.".into(),
            port: "1".into(),
            ..ServeOptions::default()
        };
        let spec = resolve_serve(&opts, &ctx).unwrap();
        assert_eq!(spec.cwd, base.to_string_lossy());
        assert_eq!(spec.env["PM2_SERVE_PATH"], base.to_string_lossy());
        let _ = std::fs::remove_dir(sub);
    }
}
