//! `pm2 link|unlink|plus|login|logout|open`: PM2 Plus. pm2-rs serves the dashboard on
//! this machine (`pm2 plus` and `pm2 open`, in `dashboard.rs`; its password in
//! `password.rs`; `opener.rs` hands the link to a browser); it has no
//! agent that links a daemon to a dashboard elsewhere yet, so the commands that would
//! connect or open one say so and exit 1 (nothing was done); the ones that undo a link
//! have nothing to undo and exit 0, as PM2 does when no link exists.

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
        None | Some("start") => super::dashboard::start(home, false),
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
        "`pm2 {command}` needs the PM2 Plus agent, which pm2-rs does not provide yet (no link \
         to a remote dashboard): nothing was done. `pm2 plus` serves the dashboard on this \
         machine; `pm2 monit` shows the apps in the terminal."
    ));
    1
}

/// For `unlink`, `logout` and `link delete`: no link exists, so there is nothing to end.
pub(super) fn nothing_linked() -> i32 {
    let _ = out::line(&format!(
        "{} Not linked to PM2 Plus (pm2-rs has no agent): nothing to undo",
        out::paint(IO_PREFIX, "36")
    ));
    0
}

/// `pm2 link [secret|stop|kill|info|delete] ...`.
pub(super) fn link(secret: Option<&str>) -> i32 {
    match secret {
        Some("delete") => nothing_linked(),
        _ => unavailable("link"),
    }
}
