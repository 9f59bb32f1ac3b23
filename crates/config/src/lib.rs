//! From what the user typed to a validated [`pm2_proto::AppSpec`].
//!
//! Everything that depends on the caller's world (cwd, PATH, the environment, CPU count) is
//! resolved here, in the CLI, so the daemon receives self-contained specs. Errors name the
//! app and the offending value, and are collected rather than stopping at the first.

pub mod dump;
mod ecosystem;
mod env_file;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod interpreter;
mod limits;
mod module_app;
mod options;
mod resolve;
mod serve;
mod values;

pub use ecosystem::{
    ecosystem_app_names, ecosystem_app_names_from_reader, ecosystem_app_order, ecosystem_template,
    is_ecosystem_file, load_ecosystem, load_ecosystem_from_reader, load_ecosystem_value, Ecosystem,
    EcosystemOptions,
};
pub use env_file::{read_env_files, EnvFileError};
pub use error::{ConfigError, DumpError, EcosystemError, InvalidCron};
pub use interpreter::{find_in_path, is_executable, which, Interpreter};
pub use limits::{parse_cpu_limit, parse_memory_limit, parse_pids_limit};
pub use module_app::{module_app, read_package, ModuleAppError};
pub use options::{Patterns, StartOptions};
pub use resolve::{package_version, resolve_patch, resolve_start, ResolveContext};
pub use serve::{resolve_serve, ServeOptions, SERVE_SCRIPT};

pub use values::{
    parse_cron, parse_duration_ms, parse_instances, parse_memory_size, safe_file_name, Instances,
};
