//! From what the user typed to a validated [`pm2_proto::AppSpec`].
//!
//! Everything that depends on the caller's world (cwd, PATH, the environment, CPU count) is
//! resolved here, in the CLI, so the daemon receives self-contained specs. Errors name the
//! app and the offending value, and are collected rather than stopping at the first.

pub mod dump;
mod ecosystem;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod interpreter;
mod options;
mod resolve;
mod values;

pub use ecosystem::{
    ecosystem_app_names, ecosystem_app_names_from_reader, ecosystem_template, is_ecosystem_file,
    load_ecosystem, load_ecosystem_from_reader, Ecosystem, EcosystemError, EcosystemOptions,
};
pub use interpreter::{find_in_path, is_executable, Interpreter};
pub use options::StartOptions;
pub use resolve::{resolve_start, ResolveContext};

/// The variable holding the instance index: `PM2_PROCESS_INSTANCE_VAR` when set (it wins,
/// as in PM2's `God.injectVariables`), else the app's `instance_var`, else
/// `NODE_APP_INSTANCE`.
pub(crate) fn instance_var(explicit: Option<String>) -> String {
    std::env::var("PM2_PROCESS_INSTANCE_VAR")
        .ok()
        .filter(|v| !v.is_empty())
        .or(explicit)
        .unwrap_or_else(|| "NODE_APP_INSTANCE".into())
}
pub use values::{
    parse_cron, parse_duration_ms, parse_instances, parse_memory_size, safe_file_name, Instances,
};

/// A reason a start request cannot be turned into an app.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The script is neither a file nor a command on PATH.
    #[error("Script not found: {0}")]
    ScriptNotFound(String),
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
}
