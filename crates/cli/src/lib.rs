//! The `pm2` command line: PM2's commands and outputs on top of the Rust daemon.
//!
//! Parsing lives in [`args`], the daemon connection in [`client`], each command family in
//! its own module, and every PM2 view (table, describe, prettylist) in [`render`].

pub mod args;
pub mod client;
mod clock;
mod commands;
pub mod monit;
pub mod out;
pub mod render;
pub mod runtime;
pub mod startup;

use args::Cli;
use clap::Parser;

/// Runs the CLI with the process arguments and returns the exit code: 0 ok, 1 failed or
/// refused, 2 usage error.
pub fn main() -> i32 {
    let invoked_as = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    if invoked_as == "pm2-runtime" || invoked_as == "pm2-docker" {
        return runtime::main(std::env::args_os());
    }
    if let Some(args) = no_daemon_start() {
        return runtime::main(args);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    if cli.version {
        println!("{}", pm2_proto::VERSION);
        return 0;
    }
    out::configure(cli.no_color, cli.silent);
    let Some(command) = cli.command else {
        // No command is a usage error, as a missing argument is for clap.
        let _ = <Cli as clap::CommandFactory>::command().print_help();
        return 2;
    };
    match commands::run(command) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            out::error(&format!("{e:#}"));
            commands::usage::exit_code(&e)
        }
    }
}

/// `pm2 start <app> --no-daemon`: PM2 runs the daemon in the foreground, as `pm2-runtime`
/// does; the arguments are handed over without `start` and `--no-daemon`.
fn no_daemon_start() -> Option<Vec<std::ffi::OsString>> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let flag = args.iter().position(|a| a == "--no-daemon")?;
    let dashdash = args.iter().position(|a| a == "--").unwrap_or(args.len());
    if flag > dashdash || args.get(1).is_none_or(|c| c != "start") {
        return None;
    }
    let rest = args
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1 && *i != flag)
        .map(|(_, a)| a.clone());
    Some(
        std::iter::once("pm2-runtime".into())
            .chain(rest.skip(1))
            .collect(),
    )
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
