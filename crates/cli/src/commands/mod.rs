//! One module per command family; [`run`] dispatches.

mod actions;
mod logs;
mod modules;
mod start;
mod views;

use crate::args::Command;
use crate::client::{self, Client};
use anyhow::{bail, Result};
use pm2_daemon::Pm2Home;
use pm2_proto::{Request, Response};

/// Runs one parsed command; returns the exit code.
pub fn run(command: Command) -> Result<i32> {
    let home = Pm2Home::from_env();
    match command {
        Command::Daemon => Ok(pm2_daemon::daemon_main(
            pm2_daemon::DaemonSettings::from_env(home),
        )),
        Command::Start(args) => start::start(&home, *args),
        Command::Stop(t) => actions::action(&home, pm2_proto::Action::Stop, &t.targets, false),
        Command::Restart(r) => {
            actions::action(&home, pm2_proto::Action::Restart, &r.targets, r.update_env)
        }
        Command::Reload(r) => {
            actions::action(&home, pm2_proto::Action::Reload, &r.targets, r.update_env)
        }
        Command::Scale(a) => actions::scale(&home, &a.name, &a.count),
        Command::Delete(t) => actions::action(&home, pm2_proto::Action::Delete, &t.targets, false),
        Command::Reset(t) => actions::action(&home, pm2_proto::Action::Reset, &t.targets, false),
        Command::SendSignal(s) => actions::send_signal(&home, &s.signal, &s.targets),
        Command::Kill => actions::kill(&home),
        Command::Ping => views::ping(&home),
        Command::Flush(t) => logs::flush(&home, &t.targets),
        Command::ReloadLogs => logs::reload(&home),
        Command::Install(m) => modules::install(&home, &m.module),
        Command::Uninstall(m) => modules::uninstall(&home, &m.module),
        Command::Set(a) => modules::set(&home, a.key.as_deref(), a.value.as_deref()),
        Command::Conf(a) => modules::set(&home, a.key.as_deref(), a.value.as_deref()),
        Command::Unset(k) => modules::unset(&home, &k.key),
        Command::Get(k) => modules::get(&home, k.key.as_deref()),
        Command::Logs(args) => logs::logs(&home, args),
        Command::List => views::list(&home),
        Command::Jlist => views::jlist(&home),
        Command::Prettylist => views::prettylist(&home),
        Command::Describe(t) => views::describe(&home, &t.target),
        Command::Env(t) => views::env(&home, &t.target),
        Command::Pid(t) => views::pid(&home, t.target.as_deref()),
        Command::Id(t) => views::id(&home, &t.target),
    }
}

/// Connects (starting the daemon when needed).
fn connect(home: &Pm2Home) -> Result<Client> {
    client::connect(home, false)
}

/// Sends a request and turns an error response into an error.
fn expect(client: &mut Client, request: Request) -> Result<Response> {
    match client.request(request)? {
        Response::Error { message } => bail!("{message}"),
        other => Ok(other),
    }
}

/// Current wall-clock time in ms since the epoch.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
