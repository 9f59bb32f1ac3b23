//! The server's configuration: PM2's `PM2_SERVE_*` variables, else the positional
//! arguments, else PM2's defaults (port 8080, host 0.0.0.0, the working directory,
//! homepage `/index.html`).

use crate::auth::Credentials;
use pm2_proto::node_path;
use std::path::{Path, PathBuf};

/// PM2's port when none is given (or the one given is not a number).
pub const DEFAULT_PORT: u16 = 8080;
/// PM2's bind address when none is given: every interface.
pub const DEFAULT_HOST: &str = "0.0.0.0";
/// What `/` serves, and the SPA fallback.
pub const DEFAULT_HOMEPAGE: &str = "/index.html";

/// Everything one server needs, read once at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The served directory as given, made absolute (shown in the start line).
    pub shown_path: PathBuf,
    /// The served directory with symlinks resolved: nothing outside it is ever served.
    pub root: PathBuf,
    /// The address to bind.
    pub host: String,
    /// The port to bind.
    pub port: u16,
    /// `--spa`: a missing file falls back to the file of that basename at the root, then
    /// to the homepage.
    pub spa: bool,
    /// The URL path `/` serves (`PM2_SERVE_HOMEPAGE`), split into its segments.
    pub homepage: Vec<String>,
    /// Basic auth credentials when `PM2_SERVE_BASIC_AUTH=true`.
    pub basic_auth: Option<Credentials>,
}

impl Settings {
    /// Reads the settings through `env` (a variable's non-empty value), with the
    /// positional `args` (`path`, `port`, `host`) as fallbacks and `cwd` for relative paths.
    pub fn from_lookup(
        env: impl Fn(&str) -> Option<String>,
        args: &[String],
        cwd: &Path,
    ) -> Result<Settings, String> {
        let arg = |i: usize| args.get(i).filter(|a| !a.is_empty()).cloned();
        let path = env("PM2_SERVE_PATH")
            .or_else(|| arg(0))
            .unwrap_or_else(|| ".".into());
        let shown_path = node_path::resolve(cwd, Path::new(&path));
        let root = std::fs::canonicalize(&shown_path)
            .map_err(|e| format!("cannot serve {}: {e}", shown_path.display()))?;
        if !root.is_dir() {
            return Err(format!("cannot serve {}: not a directory", root.display()));
        }
        let port = env("PM2_SERVE_PORT").or_else(|| arg(1));
        let homepage = env("PM2_SERVE_HOMEPAGE").unwrap_or_else(|| DEFAULT_HOMEPAGE.into());
        Ok(Settings {
            shown_path,
            root,
            host: env("PM2_SERVE_HOST")
                .or_else(|| arg(2))
                .unwrap_or_else(|| DEFAULT_HOST.into()),
            port: parse_port(port.as_deref())?,
            spa: env("PM2_SERVE_SPA").as_deref() == Some("true"),
            homepage: homepage
                .split('/')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            basic_auth: (env("PM2_SERVE_BASIC_AUTH").as_deref() == Some("true")).then(|| {
                Credentials {
                    username: env("PM2_SERVE_BASIC_AUTH_USERNAME"),
                    password: env("PM2_SERVE_BASIC_AUTH_PASSWORD"),
                }
            }),
        })
    }
}

/// PM2's `parseInt(port) || 8080`: the leading digits, 8080 when there are none or they
/// make 0; a number above 65535 is refused (Node throws on it).
fn parse_port(raw: Option<&str>) -> Result<u16, String> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_PORT);
    };
    let digits: String = raw
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    match digits.parse::<u64>() {
        Err(_) | Ok(0) => Ok(DEFAULT_PORT),
        Ok(n) => u16::try_from(n).map_err(|_| format!("invalid port {raw:?}: above 65535")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)], args: &[&str]) -> Result<Settings, String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        Settings::from_lookup(|k| vars.get(k).cloned(), &args, Path::new("/tmp"))
    }

    #[test]
    fn defaults_are_pm2s() {
        let s = settings(&[], &[]).unwrap();
        assert_eq!(s.port, 8080);
        assert_eq!(s.host, "0.0.0.0");
        assert_eq!(s.shown_path, Path::new("/tmp"));
        assert_eq!(s.homepage, vec!["index.html"]);
        assert!(!s.spa && s.basic_auth.is_none());
    }

    #[test]
    fn variables_win_over_arguments() {
        let s = settings(
            &[("PM2_SERVE_PORT", "9001"), ("PM2_SERVE_HOST", "127.0.0.1")],
            &["/", "9000", "::1"],
        )
        .unwrap();
        assert_eq!((s.port, s.host.as_str()), (9001, "127.0.0.1"));
        assert_eq!(s.root, Path::new("/"));
        let s = settings(&[], &["..", "9000"]).unwrap();
        assert_eq!((s.port, s.shown_path.as_path()), (9000, Path::new("/")));
    }

    #[test]
    fn ports_parse_as_parse_int_does() {
        assert_eq!(parse_port(Some("123abc")), Ok(123));
        assert_eq!(parse_port(Some("abc")), Ok(8080));
        assert_eq!(parse_port(Some("0")), Ok(8080));
        assert!(parse_port(Some("70000")).is_err());
    }

    #[test]
    fn a_missing_directory_is_refused_with_its_path() {
        let e = settings(&[("PM2_SERVE_PATH", "/no/such/dir")], &[]).unwrap_err();
        assert!(e.contains("/no/such/dir"), "{e}");
    }

    #[test]
    fn spa_and_auth_need_the_word_true() {
        let s = settings(
            &[
                ("PM2_SERVE_SPA", "1"),
                ("PM2_SERVE_BASIC_AUTH", "true"),
                ("PM2_SERVE_BASIC_AUTH_USERNAME", "u"),
            ],
            &[],
        )
        .unwrap();
        assert!(!s.spa);
        let auth = s.basic_auth.unwrap();
        assert_eq!(auth.username.as_deref(), Some("u"));
        assert_eq!(auth.password, None);
    }
}
