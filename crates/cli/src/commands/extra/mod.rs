//! PM2 7's commands beyond the process list ([`ExtraCommand`]); one file per family.

mod completion;
mod dashboard;
mod dashboard_tls;
mod deploy;
mod examples;
mod link;
mod logrotate;
mod monitor;
mod opener;
mod own_app;
mod password;
mod plus;
mod report;
mod stdin;
mod sysinfo;

use crate::args::extra::ExtraCommand;
use crate::out;
use anyhow::Result;
use pm2_home::Pm2Home;

/// Runs one of them; returns the exit code.
pub(crate) fn run(home: &Pm2Home, command: ExtraCommand) -> Result<i32> {
    match command {
        ExtraCommand::Send(a) => stdin::send(home, &a.pm_id, &a.line),
        ExtraCommand::Attach(a) => stdin::attach(home, &a.pm_id, a.separator.as_deref()),
        ExtraCommand::Monitor(a) => monitor::set(home, a.target.as_deref(), true),
        ExtraCommand::Unmonitor(a) => monitor::set(home, a.target.as_deref(), false),
        ExtraCommand::Link(a) => link::link(
            home,
            a.secret.as_deref(),
            a.public.as_deref(),
            a.name.as_deref(),
            a.ca.as_deref(),
        ),
        ExtraCommand::Unlink => link::unlink(home),
        ExtraCommand::Logout => Ok(plus::nothing_linked()),
        ExtraCommand::Plus(a) => plus::plus(home, &a),
        ExtraCommand::Login => Ok(plus::unavailable("login")),
        ExtraCommand::Open => dashboard::start(home, true, false),
        ExtraCommand::Examples => examples::print(),
        ExtraCommand::Deploy(a) => deploy::deploy(&a),
        ExtraCommand::Logrotate(a) => logrotate::logrotate(home, &a),
        ExtraCommand::Autoinstall => Ok(autoinstall()),
        ExtraCommand::DeepUpdate => deep_update(home),
        ExtraCommand::Report => report::report(home),
        ExtraCommand::Slist(a) => sysinfo::slist(a.tree),
        ExtraCommand::Sysmonit => Ok(sysmonit()),
        ExtraCommand::Completion(a) => completion::run(a.shell.as_deref()),
        ExtraCommand::Names => completion::names(home),
    }
}

/// PM2 7 starts a service-detection script it no longer ships, and fails: say so, exit 1.
fn autoinstall() -> i32 {
    out::error(
        "autoinstall is not available: PM2 7 no longer ships its service detection, and \
         pm2-rs has none; nothing was started",
    );
    1
}

/// PM2 runs `npm i -g pm2@latest` then `pm2 update`. pm2-rs is not an npm package: the
/// binary is upgraded by whatever installed it; what follows is `pm2 update`, which moves
/// the apps to this binary's daemon.
fn deep_update(home: &Pm2Home) -> Result<i32> {
    out::info(
        "pm2-rs is not installed by npm: upgrade the pm2 binary with the tool that installed \
         it; now updating the in-memory daemon to this binary",
    );
    super::dump::update(home)
}

/// PM2 7 removed `sysmonit` (host metrics are gathered by the daemon): its CLI answers
/// "Command not found" with exit 1, and so does this, with the reason.
fn sysmonit() -> i32 {
    out::error("Command not found: sysmonit (PM2 7 gathers host metrics in the daemon; no module to start: see `pm2 slist`)");
    1
}
