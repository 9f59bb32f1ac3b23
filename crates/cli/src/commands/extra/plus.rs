//! `pm2 plus|login|logout`: PM2 Plus. pm2-rs serves the dashboard on this machine
//! (`pm2 plus` and `pm2 open`, in `dashboard.rs`; its password in `password.rs`;
//! `opener.rs` hands the link to a browser) and links a daemon to a dashboard elsewhere
//! (`pm2 link`/`unlink`, in `link.rs`); it has no account to log in to, so `pm2 login`
//! says so and exits 1 (nothing was done) and `pm2 logout` has nothing to undo (exit 0).

use crate::args::extra::PlusArgs;
use crate::commands::usage::UsageError;
use crate::out;
use anyhow::Result;
use pm2_home::Pm2Home;

/// `pm2 plus [start|stop] [--set-password]`.
pub(super) fn plus(home: &Pm2Home, a: &PlusArgs) -> Result<i32> {
    if a.set_password {
        return super::password::set(home);
    }
    match a.command.as_deref() {
        None | Some("start") => super::dashboard::start(home, false, a.rotate_link_secret),
        Some("stop") => super::dashboard::stop(home),
        Some(other) => Err(UsageError(format!(
            "unknown `pm2 plus {other}`: `pm2 plus` starts the dashboard, `pm2 plus stop` stops \
             it, `pm2 plus --set-password` sets its password"
        ))
        .into()),
    }
}

/// PM2's prefix for its PM2 Plus lines.
const IO_PREFIX: &str = "[PM2 I/O]";

/// For a command that needs PM2 Plus: the message, and exit code 1.
pub(super) fn unavailable(command: &str) -> i32 {
    out::error(&format!(
        "`pm2 {command}` needs a PM2 Plus account, which pm2-rs does not use: nothing was \
         done. `pm2 plus` serves the dashboard on this machine, `pm2 link <secret> <url>` \
         links this daemon to one on another host; `pm2 monit` shows the apps in the terminal."
    ));
    1
}

/// For `logout`: no account is logged in, so there is nothing to end.
pub(super) fn nothing_linked() -> i32 {
    let _ = out::line(&format!(
        "{} Not linked to a PM2 Plus account (pm2-rs has none): nothing to undo",
        out::paint(IO_PREFIX, "36")
    ));
    0
}
