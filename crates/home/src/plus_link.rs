//! A link from this daemon to a dashboard elsewhere (`pm2 link <secret> <url> [name]`):
//! what the CLI stores and the agent app (`pm2 __plus-link`, named `pm2-link`) reads, the
//! dashboard's link secret, and the checks both sides apply to a URL and a host name.
//!
//! The link lives where PM2 7 keeps its own (`$PM2_HOME/agent.json5`, with PM2's key
//! names: `secret_key`, `info_node` for the dashboard's URL, `machine_name`), as JSON
//! (valid JSON5), mode 0600: it holds a secret. The agent's state (connected, refused, the
//! last error) is `plus/link-status.json`, which `pm2 link` reads to say how it went.
//!
//! An `https://` dashboard is verified against the system's CA store, plus the private
//! CA of `pm2 link ... --ca <pem>` when one is given (kept in the same file as `ca_file`,
//! so `pm2 unlink` forgets it with the link).

use crate::atomic::write_atomic_mode;
use crate::layout::Pm2Home;
use crate::plus::{random_token, read_trimmed, PlusFiles};
use std::io;
use std::path::PathBuf;

/// The agent's app name (what `pm2 list` shows).
pub const AGENT_APP: &str = "pm2-link";
/// The hidden first argument that makes the pm2 binary the agent.
pub const AGENT_ARG: &str = "__plus-link";
/// The upgrade protocol the agent asks the dashboard for on `GET /api/link`.
/// Revision 2 adds the `event` message (exits and `process:exception`, with the lines
/// before); the dashboard still accepts revision 1 agents, without their issues.
pub const PROTOCOL: &str = "pm2-link/2";
/// Every revision a dashboard accepts.
pub const PROTOCOLS: &[&str] = &["pm2-link/1", PROTOCOL];
/// The request header that names the linking host.
pub const HOST_HEADER: &str = "x-pm2-link-host";
/// The longest host name a link may have.
const MAX_HOST: usize = 64;

/// A stored link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The dashboard's link secret.
    pub secret: String,
    /// The dashboard's base URL (`http://host:port`).
    pub url: String,
    /// The name this host has on the dashboard.
    pub host: String,
    /// A private CA (PEM) an `https://` dashboard's certificate may be signed by, on top
    /// of the system's roots (`pm2 link ... --ca <pem>`; absolute).
    pub ca: Option<PathBuf>,
}

/// Where a dashboard URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://` (needs a TLS connector).
    pub tls: bool,
    /// Host name or address (brackets kept off an IPv6 one).
    pub host: String,
    /// Port (80 or 443 when absent).
    pub port: u16,
    /// The `Host` header.
    pub authority: String,
}

impl Link {
    /// A link from `pm2 link`'s words, checked: a non-empty secret without spaces, an
    /// `http(s)://host[:port]` URL, a host name of letters, digits, `.`, `_`, `-`.
    pub fn new(secret: &str, url: &str, host: &str) -> Result<Link, String> {
        let secret = secret.trim();
        if secret.is_empty() || secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(
                "the link secret is empty or has spaces: copy it from the `pm2 link ...` line \
                 that `pm2 plus` prints on the dashboard's host"
                    .into(),
            );
        }
        endpoint(url)?;
        check_host_name(host)?;
        Ok(Link {
            secret: secret.into(),
            url: url.trim_end_matches('/').into(),
            host: host.into(),
            ca: None,
        })
    }

    /// The link with the private CA `ca` (an absolute path to a PEM file; checked to be
    /// readable and to hold a certificate, for an `https://` URL only).
    pub fn with_ca(mut self, ca: &std::path::Path) -> Result<Link, String> {
        if !endpoint(&self.url).is_ok_and(|e| e.tls) {
            return Err(format!(
                "--ca is for an https:// dashboard, and {} is not one",
                self.url
            ));
        }
        if !ca.is_absolute() {
            return Err(format!("--ca {} is not an absolute path", ca.display()));
        }
        let text = std::fs::read_to_string(ca)
            .map_err(|e| format!("--ca {}: cannot read it: {e}", ca.display()))?;
        if !text.contains("-----BEGIN CERTIFICATE-----") {
            return Err(format!(
                "--ca {}: not a PEM file with a CERTIFICATE block (give the CA certificate \
                 that signed the dashboard's certificate)",
                ca.display()
            ));
        }
        self.ca = Some(ca.to_path_buf());
        Ok(self)
    }

    /// The stored link; `None` when there is none (or it is PM2 7's, without a URL).
    pub fn load(home: &Pm2Home) -> Result<Option<Link>, String> {
        let path = link_file(home);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not JSON: {e} (`pm2 unlink` removes it)",
                path.display()
            )
        })?;
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let (Some(secret), Some(url)) = (field("secret_key"), field("info_node")) else {
            return Ok(None);
        };
        let host = field("machine_name").unwrap_or_else(local_host_name);
        let mut link = Link::new(&secret, &url, &host)
            .map_err(|e| format!("{}: {e} (`pm2 unlink` removes it)", path.display()))?;
        // Not re-checked here: a CA file gone since is the agent's error to report.
        link.ca = field("ca_file").map(PathBuf::from);
        Ok(Some(link))
    }

    /// Stores the link, mode 0600.
    pub fn save(&self, home: &Pm2Home) -> io::Result<()> {
        let body = serde_json::json!({
            "secret_key": self.secret,
            "info_node": self.url,
            "machine_name": self.host,
            "ca_file": self.ca,
            "pm2_version": env!("CARGO_PKG_VERSION"),
            "linked_by": "pm2-rs",
        });
        let text = serde_json::to_string_pretty(&body).unwrap_or_default();
        write_atomic_mode(&link_file(home), text.as_bytes(), 0o600)
    }

    /// Removes the stored link; whether there was one.
    pub fn remove(home: &Pm2Home) -> io::Result<bool> {
        match std::fs::remove_file(link_file(home)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// PM2 7's file for the link, which pm2-rs uses with PM2's key names.
pub fn link_file(home: &Pm2Home) -> PathBuf {
    home.root().join("agent.json5")
}

/// The agent's state, written by the agent: `{"pid", "state", "since", "error"}`.
pub fn status_file(home: &Pm2Home) -> PathBuf {
    PlusFiles::of(home).dir().join("link-status.json")
}

/// The dashboard's link secret file (`plus/link-secret`, 0600).
pub fn secret_file(files: &PlusFiles) -> PathBuf {
    files.dir().join("link-secret")
}

/// The dashboard's link secret, created on first use.
pub fn ensure_secret(files: &PlusFiles) -> io::Result<String> {
    if let Some(s) = read_trimmed(&secret_file(files)) {
        return Ok(s);
    }
    rotate_secret(files)
}

/// A new link secret (hosts linked with the old one are refused from their next
/// connection on).
pub fn rotate_secret(files: &PlusFiles) -> io::Result<String> {
    let secret = random_token()?;
    files.write_secret(&secret_file(files), secret.as_bytes())?;
    Ok(secret)
}

/// Parses a dashboard URL: `http://` or `https://`, a host, an optional port, and
/// nothing after but an optional `/`.
pub fn endpoint(url: &str) -> Result<Endpoint, String> {
    let not_url = || {
        format!(
            "{url:?} is not a dashboard URL: give the one `pm2 plus` prints on the dashboard's \
             host, e.g. http://10.0.0.5:9615"
        )
    };
    let (tls, rest) = if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else {
        return Err(not_url());
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
        return Err(not_url());
    }
    let default = if tls { 443 } else { 80 };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !authority.ends_with(']') => {
            let port = p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(not_url)?;
            (h, port)
        }
        _ => (authority, default),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(not_url());
    }
    Ok(Endpoint {
        tls,
        host: host.into(),
        port,
        authority: authority.into(),
    })
}

/// Whether `name` may name a host on a dashboard (it is part of URLs and labels).
pub fn check_host_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_HOST
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} cannot name a host: 1 to {MAX_HOST} letters, digits, `.`, `_` or `-`"
        ))
    }
}

/// This machine's name (`/proc/sys/kernel/hostname`), the default host name of a link.
pub fn local_host_name() -> String {
    read_trimmed(std::path::Path::new("/proc/sys/kernel/hostname"))
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn urls_are_checked() {
        let e = endpoint("http://127.0.0.1:9615").unwrap();
        assert_eq!((e.tls, e.host.as_str(), e.port), (false, "127.0.0.1", 9615));
        assert_eq!(endpoint("https://dash.example/").unwrap().port, 443);
        assert_eq!(endpoint("http://[::1]:9").unwrap().host, "::1");
        for bad in [
            "pub",
            "",
            "http://",
            "ftp://x",
            "http://h:0",
            "http://h/x",
            "http://h:p",
        ] {
            assert!(endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_ca_is_for_https_only_and_must_hold_a_certificate() {
        let dir = std::env::temp_dir().join(format!("pm2-link-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("ca.pem");
        std::fs::write(
            &ca,
            "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let key = dir.join("key.pem");
        std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\n").unwrap();
        let https = Link::new("s", "https://h:1", "a").unwrap();
        let http = Link::new("s", "http://h:1", "a").unwrap();
        assert!(http.with_ca(&ca).unwrap_err().contains("https://"));
        assert!(https
            .clone()
            .with_ca(&key)
            .unwrap_err()
            .contains("CERTIFICATE"));
        assert!(https
            .clone()
            .with_ca(&dir.join("none"))
            .unwrap_err()
            .contains("cannot read"));
        assert!(
            https.clone().with_ca(Path::new("ca.pem")).is_err(),
            "relative"
        );
        let home = Pm2Home::at(dir.clone());
        let linked = https.with_ca(&ca).unwrap();
        linked.save(&home).unwrap();
        assert_eq!(Link::load(&home).unwrap().and_then(|l| l.ca), Some(ca));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn links_are_checked_and_stored_privately() {
        use std::os::unix::fs::PermissionsExt;
        assert!(Link::new("", "http://h:1", "a").is_err());
        assert!(Link::new("a b", "http://h:1", "a").is_err());
        assert!(Link::new("s", "nope", "a").is_err());
        assert!(Link::new("s", "http://h:1", "a/b").is_err());
        let dir = std::env::temp_dir().join(format!("pm2-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let home = Pm2Home::at(dir);
        assert_eq!(Link::load(&home).unwrap(), None);
        let link = Link::new("s3cret", "http://h:1/", "b-1").unwrap();
        assert_eq!(link.url, "http://h:1");
        link.save(&home).unwrap();
        let mode = std::fs::metadata(link_file(&home))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(Link::load(&home).unwrap(), Some(link));
        assert!(Link::remove(&home).unwrap());
        assert!(!Link::remove(&home).unwrap());
    }
}
