//! `pm2 link|unlink|plus|login|logout|open`: PM2 Plus, the hosted dashboard. pm2-rs has
//! no agent and no web dashboard yet, so the commands that would connect or open one say
//! so and exit 1 (nothing was done); the ones that undo a link have nothing to undo and
//! exit 0, as PM2 does when no link exists.

use crate::out;

/// PM2's prefix for its PM2 Plus lines.
const IO_PREFIX: &str = "[PM2 I/O]";

/// For a command that needs PM2 Plus: the message, and exit code 1.
pub(super) fn unavailable(command: &str) -> i32 {
    out::error(&format!(
        "`pm2 {command}` needs PM2 Plus, which pm2-rs does not provide yet (no agent, no web \
         dashboard): nothing was done. `pm2 monit` shows the apps in the terminal."
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
