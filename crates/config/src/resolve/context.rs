//! What resolution needs to know about the caller.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What resolution needs to know about the caller: relative paths, PATH look-ups, `-i max`
/// and the app's environment all depend on it, and the daemon must not guess them.
#[derive(Debug, Clone)]
pub struct ResolveContext {
    /// The directory the CLI runs in.
    pub cwd: PathBuf,
    /// The CLI's environment (the app inherits it).
    pub env: BTreeMap<String, String>,
    /// CPUs available, for `-i max`.
    pub cpus: u32,
    /// The invoking user's name.
    pub username: String,
    /// The pm2 executable: `pm2 serve` and an ecosystem app with `script: "serve"` run it
    /// as `pm2 __serve` (the static file server is the pm2 binary itself).
    pub pm2_exe: PathBuf,
}

impl ResolveContext {
    /// Whether the caller asked for PM2's deep monitoring (`PM2_DEEP_MONITORING` set to
    /// anything but the empty string, as PM2 tests it): the apps it starts or restarts
    /// get `deep_monitoring: true`.
    pub(crate) fn deep_monitoring(&self) -> bool {
        self.env
            .get("PM2_DEEP_MONITORING")
            .is_some_and(|v| !v.is_empty())
    }

    /// The caller's PATH, where interpreters and bare commands are looked up.
    pub(crate) fn path_var(&self) -> &str {
        self.env.get("PATH").map(String::as_str).unwrap_or("")
    }

    /// `p` made absolute against the caller's directory; PM2's `NULL` and `/dev/null` both
    /// mean no file.
    pub(crate) fn absolute(&self, p: &str) -> String {
        if p == "NULL" || p == "/dev/null" {
            return "/dev/null".into();
        }
        let path = Path::new(p);
        if path.is_absolute() {
            p.to_string()
        } else {
            self.cwd.join(path).to_string_lossy().into_owned()
        }
    }
}
