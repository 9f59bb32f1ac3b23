//! The dashboard's files in `PM2_HOME/plus/` and its settings: what `pm2 plus` (the CLI)
//! and the dashboard app (`pm2 __plus`) both read or write. The CLI writes the secrets and
//! the one-time login token; the dashboard reads them, writes the audit log and says where
//! it listens. Secrets are written with mode 0600 in a 0700 folder.

use crate::atomic::write_atomic_mode;
use crate::layout::Pm2Home;
use crate::module_conf;
use std::io::{self, Read};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// The app name the dashboard runs under (what `pm2 list` shows).
pub const APP_NAME: &str = "pm2-plus";
/// The hidden first argument that makes the pm2 binary the dashboard.
pub const MODE_ARG: &str = "__plus";
/// PM2's dashboard port, the default.
pub const DEFAULT_PORT: u16 = 9615;
/// The default bind address: this machine only.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// How long a login link works, from `pm2 plus` printing it.
pub const LOGIN_TOKEN_TTL_MS: u64 = 10 * 60 * 1000;
/// Mode of every secret file.
const SECRET_MODE: u32 = 0o600;

/// Where the dashboard listens, from `pm2 set pm2-plus:port|host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// Address to bind.
    pub host: String,
    /// Port to bind.
    pub port: u16,
}

impl Bind {
    /// Reads `pm2-plus:host` and `pm2-plus:port` from `module_conf.json` (defaults when
    /// unset); a port that is not a number in 1..=65535 is an error naming the key.
    pub fn from_conf(home: &Pm2Home) -> Result<Bind, String> {
        let conf = module_conf::load(home).map_err(|e| e.to_string())?;
        let text = |key: &str| {
            module_conf::get(&conf, key).map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        let port = match text("pm2-plus:port") {
            None => DEFAULT_PORT,
            Some(raw) => raw.trim().parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                format!(
                    "pm2-plus:port is {raw:?}, not a port (1-65535): fix it with `pm2 set pm2-plus:port 9615`"
                )
            })?,
        };
        let host = text("pm2-plus:host").unwrap_or_else(|| DEFAULT_HOST.into());
        Ok(Bind { host, port })
    }

    /// Whether only this machine can reach the address.
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// Why the dashboard must not listen there: a public address without a password (the
    /// login link alone must not open the dashboard to the network). `None` when it may.
    pub fn refusal(&self, files: &PlusFiles) -> Option<String> {
        if self.is_loopback() || files.password().is_file() {
            return None;
        }
        Some(format!(
            "refusing to listen on {}:{} without a password: set one with `pm2 plus \
             --set-password`, or listen on this machine only with `pm2 set pm2-plus:host \
             127.0.0.1`",
            self.host, self.port
        ))
    }

    /// The base URL a browser on this machine (or, for a public address, elsewhere) uses:
    /// `https://` when the dashboard serves TLS (`pm2-plus:tls_cert`/`tls_key`).
    pub fn url(&self, tls: bool) -> String {
        let scheme = if tls { "https" } else { "http" };
        let host = match self.host.as_str() {
            "0.0.0.0" | "::" => "127.0.0.1",
            h => h,
        };
        if host.contains(':') && !host.starts_with('[') {
            format!("{scheme}://[{host}]:{}", self.port)
        } else {
            format!("{scheme}://{host}:{}", self.port)
        }
    }
}

/// The dashboard's files.
#[derive(Debug, Clone)]
pub struct PlusFiles {
    dir: PathBuf,
}

impl PlusFiles {
    /// The files of the dashboard of `home`.
    pub fn of(home: &Pm2Home) -> PlusFiles {
        PlusFiles {
            dir: home.root().join("plus"),
        }
    }

    /// The folder (created 0700 on first write).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The argon2 hash of the password (PHC string), when one was set.
    pub fn password(&self) -> PathBuf {
        self.dir.join("password")
    }

    /// The API token scripts send as `Authorization: Bearer`.
    pub fn api_token(&self) -> PathBuf {
        self.dir.join("api-token")
    }

    /// The one-time login token and its expiry (`<token> <expires_ms>`).
    pub fn login_token(&self) -> PathBuf {
        self.dir.join("login-token")
    }

    /// Every action taken through the dashboard, one JSON object a line.
    pub fn audit_log(&self) -> PathBuf {
        self.dir.join("audit.log")
    }

    /// Written by the dashboard once bound: `{"pid":..,"url":..}`.
    pub fn listening(&self) -> PathBuf {
        self.dir.join("listening.json")
    }

    /// Creates the folder, private to this user.
    pub fn ensure(&self) -> io::Result<()> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
    }

    /// Writes a secret file with mode 0600, atomically.
    pub fn write_secret(&self, path: &Path, contents: &[u8]) -> io::Result<()> {
        self.ensure()?;
        write_atomic_mode(path, contents, SECRET_MODE)
    }

    /// The API token, created on first use.
    pub fn ensure_api_token(&self) -> io::Result<String> {
        if let Some(token) = read_trimmed(&self.api_token()) {
            return Ok(token);
        }
        let token = random_token()?;
        self.write_secret(&self.api_token(), token.as_bytes())?;
        Ok(token)
    }

    /// A new one-time login token, valid [`LOGIN_TOKEN_TTL_MS`]; replaces any earlier one.
    pub fn issue_login_token(&self, now_ms: u64) -> io::Result<String> {
        let token = random_token()?;
        let line = format!("{token} {}", now_ms + LOGIN_TOKEN_TTL_MS);
        self.write_secret(&self.login_token(), line.as_bytes())?;
        Ok(token)
    }

    /// Spends the login token: true when `given` is the current one and not expired. The
    /// file is removed either way a token was there, so a link works once.
    pub fn consume_login_token(&self, given: &str, now_ms: u64) -> bool {
        let Some(line) = read_trimmed(&self.login_token()) else {
            return false;
        };
        let (token, expires) = line.split_once(' ').unwrap_or((line.as_str(), "0"));
        if !constant_time_eq(token.as_bytes(), given.as_bytes()) {
            return false;
        }
        // Whoever removes it first is the one login it grants.
        std::fs::remove_file(self.login_token()).is_ok()
            && expires.parse::<u64>().is_ok_and(|e| now_ms <= e)
    }
}

/// A file's text without surrounding whitespace; `None` when missing or empty.
pub fn read_trimmed(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// 32 random bytes from the kernel, as hex.
pub fn random_token() -> io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares secrets without an early exit on the first differing byte.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home(tag: &str) -> Pm2Home {
        let dir = std::env::temp_dir().join(format!("pm2-plus-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Pm2Home::at(dir)
    }

    #[test]
    fn loopback_hosts() {
        let bind = |h: &str| Bind {
            host: h.into(),
            port: 1,
        };
        assert!(bind("127.0.0.1").is_loopback());
        assert!(bind("::1").is_loopback());
        assert!(bind("localhost").is_loopback());
        assert!(!bind("0.0.0.0").is_loopback());
        assert!(!bind("192.168.1.2").is_loopback());
        assert_eq!(bind("::1").url(false), "http://[::1]:1");
        assert_eq!(bind("0.0.0.0").url(true), "https://127.0.0.1:1");
    }

    #[test]
    fn a_login_token_works_once_and_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let files = PlusFiles::of(&home("token"));
        let token = files.issue_login_token(1000).unwrap();
        let mode = std::fs::metadata(files.login_token())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!files.consume_login_token("wrong", 1000));
        assert!(files.consume_login_token(&token, 1000));
        assert!(!files.consume_login_token(&token, 1000));
        let late = files.issue_login_token(0).unwrap();
        assert!(!files.consume_login_token(&late, LOGIN_TOKEN_TTL_MS + 1));
    }

    #[test]
    fn the_port_setting_is_checked() {
        let h = home("port");
        assert_eq!(Bind::from_conf(&h).unwrap().port, DEFAULT_PORT);
        std::fs::write(
            h.module_conf(),
            r#"{"pm2-plus":{"port":"x","host":"0.0.0.0"}}"#,
        )
        .unwrap();
        assert!(Bind::from_conf(&h).unwrap_err().contains("pm2-plus:port"));
        std::fs::write(h.module_conf(), r#"{"pm2-plus":{"port":"9700"}}"#).unwrap();
        assert_eq!(Bind::from_conf(&h).unwrap().port, 9700);
    }
}
