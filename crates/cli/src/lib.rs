//! The `pm2` command line: PM2's commands and outputs on top of the Rust daemon.
//!
//! Parsing lives in [`args`], the daemon connection in [`client`], each command family in
//! its own module, and every PM2 view (table, describe, prettylist) in [`render`].
//!
//! The crate links neither the daemon nor the supervisor: it speaks to the daemon over its
//! socket (`pm2-proto`) and shares files with it through `pm2-home`. The binary chooses
//! between this CLI, the daemon ([`Invocation::Daemon`]) and `pm2-runtime`.

pub mod args;
pub mod client;
mod commands;
pub mod monit;
pub mod out;
pub mod render;
pub mod startup;

use args::{Cli, Command, StartArgs};
use clap::Parser;
use pm2_home::Pm2Home;

/// What a `pm2` command line asks of the binary: the CLI never runs the daemon itself (it
/// does not link it), so `pm2 __daemon` is handed back to the binary, which does.
#[derive(Debug)]
pub enum Invocation {
    /// A CLI command: give it to [`run`].
    Command(Box<Cli>),
    /// `pm2 __daemon` (hidden; how the CLI spawns the daemon): run the daemon in this
    /// process for the `PM2_HOME` of the environment.
    Daemon,
    /// Help, or a usage error, already printed: exit with this code (0, or 2).
    Exit(i32),
}

/// Parses the process arguments as `pm2` does.
pub fn parse() -> Invocation {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(cli) = args::bare::parse(&argv) {
        return Invocation::Command(Box::new(cli));
    }
    match Cli::try_parse_from(argv) {
        Ok(cli) if !cli.version && matches!(cli.command, Some(Command::Daemon)) => {
            Invocation::Daemon
        }
        Ok(cli) => Invocation::Command(Box::new(cli)),
        Err(e) => {
            let _ = e.print();
            Invocation::Exit(if e.use_stderr() { 2 } else { 0 })
        }
    }
}

/// Runs a parsed CLI command and returns the exit code: 0 ok, 1 failed or refused.
pub fn run(cli: Cli) -> i32 {
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

/// `pm2 start` as `pm2-runtime` runs it, once its in-process daemon listens: the same
/// options, the same outputs; returns the exit code.
pub fn start_for_runtime(home: &Pm2Home, args: StartArgs) -> anyhow::Result<i32> {
    commands::start_for_runtime(home, args)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
