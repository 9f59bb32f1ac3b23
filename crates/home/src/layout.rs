//! The `PM2_HOME` layout: every path the daemon and the CLI both read or write.
//!
//! Both programs derive each path from here, so a file the CLI looks for is the one the
//! daemon wrote (a path spelled twice drifts). PM2's `PM2_<KEY>` variables move single
//! entries elsewhere ([`Entry`]); the CLI passes them, absolute, to the daemon it spawns.

use crate::overrides::{self, Entry, Overrides};
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Paths inside `PM2_HOME` (PM2's layout, plus our socket and lock files), with the
/// entries the environment moved elsewhere.
#[derive(Debug, Clone)]
pub struct Pm2Home {
    root: PathBuf,
    overrides: Overrides,
}

impl Pm2Home {
    /// `$PM2_HOME`, else `~/.pm2`, else `/etc/.pm2` (PM2's order), with PM2's `PM2_<KEY>`
    /// overrides of single entries (relative ones against the working directory).
    pub fn from_env() -> Pm2Home {
        let root = std::env::var_os("PM2_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pm2")))
            .unwrap_or_else(|| PathBuf::from("/etc/.pm2"));
        let cwd = std::env::current_dir().ok();
        Pm2Home {
            root,
            overrides: overrides::read(|k| std::env::var_os(k), cwd.as_deref()),
        }
    }

    /// A home at an explicit path with PM2's layout and no override (tests, `--hp`).
    pub fn at(root: impl Into<PathBuf>) -> Pm2Home {
        Pm2Home {
            root: root.into(),
            overrides: Overrides::new(),
        }
    }

    /// The same home with `entry` at `path` (tests and embedders; the CLI and the daemon
    /// read the environment).
    pub fn with(mut self, entry: Entry, path: impl Into<PathBuf>) -> Pm2Home {
        self.overrides.insert(entry, path.into());
        self
    }

    /// Where `entry` is: its override, else its place in the folder.
    pub fn entry(&self, entry: Entry) -> PathBuf {
        self.overrides
            .get(&entry)
            .cloned()
            .unwrap_or_else(|| self.root.join(entry.default_name()))
    }

    /// The overridden entries as variables with absolute values, for the environment of a
    /// daemon this process spawns (so it sees the layout this process sees).
    pub fn override_vars(&self) -> Vec<(&'static str, &Path)> {
        self.overrides
            .iter()
            .map(|(entry, path)| (entry.env_var(), path.as_path()))
            .collect()
    }

    /// Where `entry` is, as a message names it: with the variable that put it there, if
    /// one did, so a wrong value is found at its source.
    pub fn describe(&self, entry: Entry) -> String {
        let path = self.entry(entry);
        match self.overrides.contains_key(&entry) {
            true => format!("{} (from {})", path.display(), entry.env_var()),
            false => path.display().to_string(),
        }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `logs/`, the apps' default log folder (`PM2_DEFAULT_LOG_PATH`).
    pub fn logs(&self) -> PathBuf {
        self.entry(Entry::Logs)
    }
    /// `modules/`: where `pm2 install` puts npm modules, one npm prefix per module.
    pub fn modules(&self) -> PathBuf {
        self.root.join("modules")
    }
    /// The installed package of module `name` (`modules/<name>/node_modules/<name>`, as PM2
    /// lays it out); the module runs from there.
    pub fn module_package(&self, name: &str) -> PathBuf {
        self.modules().join(name).join("node_modules").join(name)
    }
    /// `pids/`, the apps' default pid folder (`PM2_DEFAULT_PID_PATH`).
    pub fn pids(&self) -> PathBuf {
        self.entry(Entry::Pids)
    }
    /// The daemon's own log (`PM2_LOG_FILE_PATH`).
    pub fn daemon_log(&self) -> PathBuf {
        self.entry(Entry::DaemonLog)
    }
    /// The daemon's pid file (`PM2_PID_FILE_PATH`).
    pub fn daemon_pid(&self) -> PathBuf {
        self.entry(Entry::DaemonPid)
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
    /// `dump.pm2`: what `pm2 save` writes and `pm2 resurrect` reads (`PM2_DUMP_FILE_PATH`).
    pub fn dump(&self) -> PathBuf {
        self.entry(Entry::Dump)
    }
    /// `dump.pm2.bak`: the previous dump, kept by `pm2 save` and read by `pm2 resurrect`
    /// when the dump is broken (`PM2_DUMP_BACKUP_FILE_PATH`; PM2 leaves it in `PM2_HOME`
    /// when only the dump moved).
    pub fn dump_backup(&self) -> PathBuf {
        self.entry(Entry::DumpBackup)
    }
    /// PM2's RPC socket of its Node API (`require('pm2')`, modules, dashboards;
    /// `PM2_DAEMON_RPC_PORT` moves it).
    pub fn rpc_socket(&self) -> PathBuf {
        self.entry(Entry::RpcSocket)
    }
    /// PM2's event socket of its Node API, the bus (`PM2_DAEMON_PUB_PORT` moves it).
    pub fn pub_socket(&self) -> PathBuf {
        self.entry(Entry::PubSocket)
    }
    /// The daemon's own record of its table, removed on a clean exit: found at start, it
    /// says the previous daemon died without stopping its apps.
    pub fn daemon_state(&self) -> PathBuf {
        self.root.join("daemon-state.json")
    }
    /// The changes to [`Pm2Home::daemon_state`] since it was last written whole, one record
    /// per line, fsync'd before each reply (so a change costs the same with 1 app or 1,000);
    /// removed with it on a clean exit.
    pub fn daemon_state_journal(&self) -> PathBuf {
        self.root.join("daemon-state.journal")
    }
    /// `module_conf.json`: module settings (`pm2 set`) and installed modules
    /// (`PM2_MODULE_CONF_FILE`).
    pub fn module_conf(&self) -> PathBuf {
        self.entry(Entry::ModuleConf)
    }

    /// Creates the folder tree: the root 0700 (it holds the control socket and state files
    /// with the apps' environments), the log and pid folders wherever they are (as PM2
    /// creates them). A home shared on purpose (`PM2_RS_NODE_API_SOCKET_MODE` set: the
    /// user asks for the Node API sockets to be reachable by a group) keeps the read and
    /// traverse bits its owner gave it, never write for others.
    pub fn ensure(&self) -> io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)?;
        let current = fs::metadata(&self.root)?.permissions().mode() & 0o777;
        let wanted = if shared_on_purpose() {
            (current & 0o755) | 0o700
        } else {
            0o700
        };
        if current != wanted {
            fs::set_permissions(&self.root, fs::Permissions::from_mode(wanted))?;
        }
        for entry in [Entry::Logs, Entry::Pids] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(self.entry(entry))
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.describe(entry))))?;
        }
        Ok(())
    }
}

/// Whether the user asked for a home others may enter (see [`Pm2Home::ensure`]).
fn shared_on_purpose() -> bool {
    std::env::var_os("PM2_RS_NODE_API_SOCKET_MODE").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_moves_only_its_entry_and_is_named_in_messages() {
        let home = Pm2Home::at("/h").with(Entry::Dump, "/backups/apps.dump");
        assert_eq!(home.dump(), PathBuf::from("/backups/apps.dump"));
        assert_eq!(home.dump_backup(), PathBuf::from("/h/dump.pm2.bak"));
        assert_eq!(home.daemon_log(), PathBuf::from("/h/pm2.log"));
        assert_eq!(home.rpc_socket(), PathBuf::from("/h/rpc.sock"));
        assert_eq!(
            home.describe(Entry::Dump),
            "/backups/apps.dump (from PM2_DUMP_FILE_PATH)"
        );
        assert_eq!(home.describe(Entry::DaemonLog), "/h/pm2.log");
        let vars = home.override_vars();
        assert_eq!(
            vars,
            vec![("PM2_DUMP_FILE_PATH", Path::new("/backups/apps.dump"))]
        );
    }

    #[test]
    fn ensure_creates_moved_folders_and_names_the_variable_when_it_cannot() {
        let dir = std::env::temp_dir().join(format!("pm2-home-layout-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let home = Pm2Home::at(dir.join("home")).with(Entry::Logs, dir.join("elsewhere/logs"));
        home.ensure().expect("create the tree");
        assert!(dir.join("elsewhere/logs").is_dir() && dir.join("home/pids").is_dir());
        fs::write(dir.join("file"), "").expect("write a file");
        let blocked = Pm2Home::at(dir.join("home")).with(Entry::Pids, dir.join("file/pids"));
        let err = blocked.ensure().expect_err("a folder under a file");
        assert!(err.to_string().contains("PM2_DEFAULT_PID_PATH"), "{err}");
        let _ = fs::remove_dir_all(&dir);
    }
}
