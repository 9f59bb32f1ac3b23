//! `pm2 serve`'s static file server. The pm2 binary runs it as an ordinary app
//! (`pm2 __serve [path] [port] [host]`, configured by PM2's `PM2_SERVE_*` variables), so
//! the daemon supervises it like any other process: it shows in `pm2 list`, its output
//! goes to its log files and a crash restarts it. Neither the CLI nor the daemon links
//! this crate's code into their paths: only `src/main.rs` calls [`main`].

mod auth;
mod body;
mod conditional;
mod files;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod handler;
mod log;
mod lookup;
mod mime;
mod server;
mod settings;
mod url_path;

use std::ffi::OsString;

/// Whether `argv` is `pm2 __serve ...`, the app `pm2 serve` and ecosystem `script: "serve"`
/// start.
pub fn wants(argv: &[OsString]) -> bool {
    argv.get(1).is_some_and(|a| a == pm2_proto::SERVE_MODE_ARG)
}

/// Runs the server until it is stopped; returns the exit code (1 when the configuration is
/// invalid or the address cannot be bound, as PM2's server exits).
///
/// `args` are the words after `__serve`: PM2's positional `path`, `port` and `host`, each
/// overridden by its `PM2_SERVE_*` variable.
pub fn main(args: &[OsString]) -> i32 {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(e) => return log::fatal(&format!("cannot read the current directory: {e}")),
    };
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match settings::Settings::from_lookup(env, &args, &cwd) {
        Ok(settings) => server::run(settings),
        Err(e) => log::fatal(&e),
    }
}
