//! The `PM2_HOME` layout: every path the daemon and the CLI both read or write.
//!
//! Both programs derive each path from here, so a file the CLI looks for is the one the
//! daemon wrote (a path spelled twice drifts).

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Paths inside `PM2_HOME` (PM2's layout, plus our socket and lock files).
#[derive(Debug, Clone)]
pub struct Pm2Home {
    root: PathBuf,
}

impl Pm2Home {
    /// `$PM2_HOME`, else `~/.pm2`, else `/etc/.pm2` (PM2's order).
    pub fn from_env() -> Pm2Home {
        let root = std::env::var_os("PM2_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pm2")))
            .unwrap_or_else(|| PathBuf::from("/etc/.pm2"));
        Pm2Home { root }
    }

    /// A home at an explicit path (tests, `--hp`).
    pub fn at(root: impl Into<PathBuf>) -> Pm2Home {
        Pm2Home { root: root.into() }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `logs/`.
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }
    /// `pids/`.
    pub fn pids(&self) -> PathBuf {
        self.root.join("pids")
    }
    /// The daemon's own log.
    pub fn daemon_log(&self) -> PathBuf {
        self.root.join("pm2.log")
    }
    /// The daemon's pid file.
    pub fn daemon_pid(&self) -> PathBuf {
        self.root.join("pm2.pid")
    }
    /// The control socket.
    pub fn socket(&self) -> PathBuf {
        self.root.join(pm2_proto::SOCKET_NAME)
    }
    /// Held (flock) by the live daemon for its whole life: a free lock means any socket or
    /// pid file left behind is stale.
    pub fn daemon_lock(&self) -> PathBuf {
        self.root.join("daemon.lock")
    }
    /// Held by a CLI while it spawns a daemon, so concurrent CLIs start only one.
    pub fn spawn_lock(&self) -> PathBuf {
        self.root.join("spawn.lock")
    }
    /// `dump.pm2`: what `pm2 save` writes and `pm2 resurrect` reads (`PM2_DUMP_FILE_PATH`
    /// overrides it, as PM2 allows).
    pub fn dump(&self) -> PathBuf {
        std::env::var_os("PM2_DUMP_FILE_PATH")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.root.join("dump.pm2"))
    }
    /// PM2's RPC socket of its Node API (`require('pm2')`, modules, dashboards).
    pub fn rpc_socket(&self) -> PathBuf {
        self.root.join("rpc.sock")
    }
    /// PM2's event socket of its Node API (the bus).
    pub fn pub_socket(&self) -> PathBuf {
        self.root.join("pub.sock")
    }
    /// The daemon's own record of its table, removed on a clean exit: found at start, it
    /// says the previous daemon died without stopping its apps.
    pub fn daemon_state(&self) -> PathBuf {
        self.root.join("daemon-state.json")
    }
    /// `module_conf.json`: module settings (`pm2 set`) and installed modules.
    pub fn module_conf(&self) -> PathBuf {
        self.root.join("module_conf.json")
    }

    /// Creates the folder tree: the root 0700 (it holds the control socket), `logs/`, `pids/`.
    pub fn ensure(&self) -> io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)?;
        fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700))?;
        for dir in [self.logs(), self.pids()] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(dir)?;
        }
        Ok(())
    }
}
