//! The `pm2` executable. One binary plays four programs, chosen here:
//!
//! - `pm2-runtime` / `pm2-docker` (by the name it is invoked as, a symlink or a copy), and
//!   `pm2 start ... --no-daemon`: the daemon in the foreground with the apps
//!   (`pm2-runtime` crate);
//! - `pm2 __daemon` (hidden; how the CLI spawns the daemon): the daemon (`pm2-daemon`);
//! - `pm2-dev` (by name): PM2's development mode, in the foreground (`pm2-runtime` crate);
//! - `pm2 __listen-exec` (hidden; how an app with `listen` sockets is started): sets
//!   `LISTEN_PID` and execs the app (`pm2-daemon`);
//! - `pm2 __serve` (hidden; the app `pm2 serve` starts): the static file server
//!   (`pm2-serve`);
//! - `pm2 __plus` (hidden; the app `pm2 plus` starts): the self-hosted dashboard
//!   (`pm2-plus`);
//! - `pm2 __plus-link` (hidden; the app `pm2 link` starts): the agent that links this
//!   daemon to a dashboard on another host (`pm2-plus`'s `link`);
//! - anything else: the CLI (`pm2-cli`), which links neither of the others.

use std::ffi::OsString;

fn main() {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let code = if is_daemon(&argv) {
        // First, and before clap: the daemon must not fault in the CLI's parser or the
        // server's code (their pages would count in its resident memory for its whole life).
        pm2_daemon::daemon_main(pm2_daemon::DaemonSettings::from_env(
            pm2_home::Pm2Home::from_env(),
        ))
    } else if argv.get(1).is_some_and(|a| a == "__listen-exec") {
        // An app with `listen` sockets: set LISTEN_PID, then exec the app in this pid.
        pm2_daemon::exec_with_listen_pid(&argv[2..])
    } else if pm2_serve::wants(&argv) {
        // `pm2 serve`'s app: the static file server, before clap for the same reason.
        pm2_serve::main(&argv[2..])
    } else if pm2_plus::wants(&argv) {
        // `pm2 plus`'s app: the dashboard, before clap for the same reason.
        pm2_plus::main()
    } else if pm2_plus::link::wants(&argv) {
        // `pm2 link`'s app: the agent, before clap for the same reason.
        pm2_plus::link::main()
    } else if invoked_as_runtime(&argv) {
        pm2_runtime::main(argv)
    } else if invoked_as(&argv) == "pm2-dev" {
        pm2_runtime::dev_main(argv)
    } else if let Some(runtime_argv) = no_daemon_start(&argv) {
        pm2_runtime::main(runtime_argv)
    } else {
        match pm2_cli::parse() {
            pm2_cli::Invocation::Command(cli) => pm2_cli::run(*cli),
            pm2_cli::Invocation::Daemon => pm2_daemon::daemon_main(
                pm2_daemon::DaemonSettings::from_env(pm2_home::Pm2Home::from_env()),
            ),
            pm2_cli::Invocation::Exit(code) => code,
        }
    };
    std::process::exit(code);
}

/// `pm2 __daemon`, exactly as the CLI spawns it.
fn is_daemon(argv: &[OsString]) -> bool {
    argv.len() == 2 && argv[1] == "__daemon"
}

/// Whether `argv[0]`'s file name is `pm2-runtime` or `pm2-docker`.
fn invoked_as_runtime(argv: &[OsString]) -> bool {
    let name = invoked_as(argv);
    name == "pm2-runtime" || name == "pm2-docker"
}

/// `argv[0]`'s file name: the program this binary is run as (through a link, a copy, or
/// one of the small `pm2-*` launchers, which set it).
fn invoked_as(argv: &[OsString]) -> String {
    argv.first()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `pm2 start <app> --no-daemon`: PM2 runs the daemon in the foreground, as `pm2-runtime`
/// does; the arguments are handed over without `start` and `--no-daemon`.
fn no_daemon_start(argv: &[OsString]) -> Option<Vec<OsString>> {
    let flag = argv.iter().position(|a| a == "--no-daemon")?;
    let dashdash = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
    if flag > dashdash || argv.get(1).is_none_or(|c| c != "start") {
        return None;
    }
    let rest = argv
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
