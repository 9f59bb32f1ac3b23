//! Why a start request, an ecosystem file or a dump entry cannot become an app.

use std::path::PathBuf;

/// A reason a start request cannot be turned into an app.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The script is neither a file nor a command on PATH.
    #[error("Script not found: {}", .0.display())]
    ScriptNotFound(PathBuf),
    /// The working directory the app should run in does not exist.
    #[error("invalid value {:?} for --cwd: no such directory", .0.display().to_string())]
    CwdNotFound(PathBuf),
    /// The interpreter chosen for the script is not installed.
    #[error("Interpreter {0} is NOT AVAILABLE in PATH. (type 'which {0}' to double check.)")]
    InterpreterMissing(String),
    /// A flag value does not parse.
    #[error("invalid value {value:?} for {flag}: {why}")]
    InvalidValue {
        /// The flag, e.g. `--kill-timeout`.
        flag: String,
        /// What the user gave.
        value: String,
        /// What was expected.
        why: String,
    },
    /// An env file (`--env-file`, `env_file`) is missing or not dotenv syntax.
    #[error("app {app}: {error}")]
    EnvFile {
        /// The app's name.
        app: String,
        /// What is wrong with which file (and line).
        error: crate::EnvFileError,
    },
}

/// One problem of an ecosystem file, already formatted for the user:
/// `<file>:<line>:<col>: <message>` for syntax errors,
/// `<file>: apps[1].max_memory_restart: "10X" is not a size …` for values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EcosystemError(pub String);

/// A `cron_restart` pattern that croner refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{raw:?} is not a cron pattern ({reason})")]
pub struct InvalidCron {
    /// The pattern as given.
    pub raw: String,
    /// What croner objects to.
    pub reason: String,
}

/// Why a `dump.pm2` entry cannot be restored; each names the app when it has a name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DumpError {
    /// The entry has no `name`.
    #[error("an entry has no name")]
    NoName,
    /// A key the app cannot run without is absent (`pm_exec_path`, `pm_cwd`).
    #[error("app {app}: no {key}")]
    Missing {
        /// The app's name.
        app: String,
        /// The absent key.
        key: &'static str,
    },
    /// The entry names an interpreter that is not on PATH.
    #[error("app {app}: interpreter {interpreter} is not available in PATH")]
    InterpreterMissing {
        /// The app's name.
        app: String,
        /// The interpreter's name, e.g. `node`.
        interpreter: String,
    },
}
