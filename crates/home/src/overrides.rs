//! PM2's `PM2_<KEY>` overrides of its file structure: the entries of the `PM2_HOME` layout
//! that the environment may move elsewhere (`PM2_DUMP_FILE_PATH`, `PM2_DEFAULT_LOG_PATH`,
//! ...), read once when the layout is made.
//!
//! PM2 takes each variable as it is: an empty one is ignored, a relative one is relative to
//! the reading process's working directory. Here a relative value is made absolute against
//! the working directory of the process that reads it (the CLI), and the CLI hands the
//! absolute values to the daemon it spawns, so both agree even if a later CLI runs
//! elsewhere.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// An entry of the layout that PM2 lets the environment override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Entry {
    /// The daemon's pid file (`pm2.pid`).
    DaemonPid,
    /// The daemon's own log (`pm2.log`).
    DaemonLog,
    /// `module_conf.json`.
    ModuleConf,
    /// `dump.pm2`.
    Dump,
    /// `dump.pm2.bak` (PM2 keeps it in `PM2_HOME` even when the dump moved).
    DumpBackup,
    /// The apps' default log folder (`logs/`).
    Logs,
    /// The apps' default pid folder (`pids/`).
    Pids,
    /// PM2's RPC socket (`rpc.sock`): served by the daemon for the Node API.
    RpcSocket,
    /// PM2's event socket (`pub.sock`): served by the daemon for the Node API.
    PubSocket,
}

impl Entry {
    /// Every entry, in PM2's order of its file structure.
    pub const ALL: [Entry; 9] = [
        Entry::ModuleConf,
        Entry::DaemonLog,
        Entry::DaemonPid,
        Entry::Pids,
        Entry::Logs,
        Entry::Dump,
        Entry::DumpBackup,
        Entry::RpcSocket,
        Entry::PubSocket,
    ];

    /// The variable that overrides it (PM2's key, with `PM2_` before it when the key has
    /// none).
    pub fn env_var(self) -> &'static str {
        match self {
            Entry::DaemonPid => "PM2_PID_FILE_PATH",
            Entry::DaemonLog => "PM2_LOG_FILE_PATH",
            Entry::ModuleConf => "PM2_MODULE_CONF_FILE",
            Entry::Dump => "PM2_DUMP_FILE_PATH",
            Entry::DumpBackup => "PM2_DUMP_BACKUP_FILE_PATH",
            Entry::Logs => "PM2_DEFAULT_LOG_PATH",
            Entry::Pids => "PM2_DEFAULT_PID_PATH",
            Entry::RpcSocket => "PM2_DAEMON_RPC_PORT",
            Entry::PubSocket => "PM2_DAEMON_PUB_PORT",
        }
    }

    /// Its name inside `PM2_HOME` when not overridden.
    pub(crate) fn default_name(self) -> &'static str {
        match self {
            Entry::DaemonPid => "pm2.pid",
            Entry::DaemonLog => "pm2.log",
            Entry::ModuleConf => "module_conf.json",
            Entry::Dump => "dump.pm2",
            Entry::DumpBackup => "dump.pm2.bak",
            Entry::Logs => "logs",
            Entry::Pids => "pids",
            Entry::RpcSocket => "rpc.sock",
            Entry::PubSocket => "pub.sock",
        }
    }
}

/// Variables of PM2's file structure that are accepted and mean nothing here (PM2 Plus,
/// the embedded Node, modules, the reload lock): listed in `docs/MIGRATION.md`.
pub const WITHOUT_MEANING: [&str; 11] = [
    "PM2_CONF_FILE",
    "PM2_RELOAD_LOCKFILE",
    "PM2_DEFAULT_MODULE_PATH",
    "PM2_IO_ACCESS_TOKEN",
    "PM2_INTERACTOR_RPC_PORT",
    "PM2_INTERACTOR_LOG_FILE_PATH",
    "PM2_INTERACTOR_PID_PATH",
    "PM2_INTERACTION_CONF",
    "PM2_HAS_NODE_EMBEDDED",
    "PM2_BUILTIN_NODE_PATH",
    "PM2_BUILTIN_NPM_PATH",
];

/// The overridden entries, each an absolute path.
pub(crate) type Overrides = BTreeMap<Entry, PathBuf>;

/// Reads the overrides through `var` (the environment, or a test's table); relative values
/// are made absolute against `cwd`.
pub(crate) fn read(var: impl Fn(&str) -> Option<OsString>, cwd: Option<&Path>) -> Overrides {
    Entry::ALL
        .iter()
        .filter_map(|&entry| {
            let value = var(entry.env_var()).filter(|v| !v.is_empty())?;
            Some((entry, absolute(PathBuf::from(value), cwd)))
        })
        .collect()
}

/// `path` against `cwd` when relative (as PM2's `path.resolve` of a relative value); kept
/// as it is when the working directory is unknown.
fn absolute(path: PathBuf, cwd: Option<&Path>) -> PathBuf {
    match cwd {
        Some(cwd) if path.is_relative() => cwd.join(path),
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn empty_values_are_ignored_and_relative_ones_made_absolute() {
        let vars = table(&[
            ("PM2_DUMP_FILE_PATH", ""),
            ("PM2_DEFAULT_LOG_PATH", "applogs"),
            ("PM2_PID_FILE_PATH", "/run/pm2.pid"),
        ]);
        let o = read(vars, Some(Path::new("/srv")));
        assert_eq!(o.get(&Entry::Dump), None);
        assert_eq!(o[&Entry::Logs], PathBuf::from("/srv/applogs"));
        assert_eq!(o[&Entry::DaemonPid], PathBuf::from("/run/pm2.pid"));
        assert_eq!(o.len(), 2);
    }

    #[test]
    fn each_entry_has_its_own_variable() {
        let mut vars: Vec<&str> = Entry::ALL.iter().map(|e| e.env_var()).collect();
        vars.extend(WITHOUT_MEANING);
        let count = vars.len();
        vars.sort_unstable();
        vars.dedup();
        assert_eq!(vars.len(), count);
    }
}
