//! `pm2 examples`: the everyday commands, each with a line saying what it is for (our own
//! words, covering the commands PM2's list covers).

use crate::out;
use anyhow::Result;

/// Each example: what it does, then the command lines.
const EXAMPLES: &[(&str, &[&str])] = &[
    (
        "Start an app and keep it running, under a name of your choice",
        &["pm2 start app.js --name app"],
    ),
    ("See every app PM2 manages", &["pm2 ls"]),
    (
        "Stop, start again or restart an app",
        &["pm2 stop app", "pm2 start app", "pm2 restart app"],
    ),
    (
        "Stop an app and remove it from the list",
        &["pm2 delete app"],
    ),
    (
        "Run one instance per CPU core, behind one port (cluster mode)",
        &["pm2 start app.js -i max"],
    ),
    ("Follow the logs of every app", &["pm2 logs"]),
    ("Start the apps again at boot", &["pm2 save", "pm2 startup"]),
    (
        "Move the daemon to a new pm2 binary without stopping the apps for long",
        &["pm2 update"],
    ),
];

/// Prints the examples; exit 0.
pub(super) fn print() -> Result<i32> {
    out::info(&out::paint("pm2 usage examples:\n", "90"));
    for (what, commands) in EXAMPLES {
        out::line(&format!("- {what}:\n"))?;
        for command in *commands {
            out::line(&out::paint(&format!("  $ {command}"), "36"))?;
        }
        out::line("")?;
    }
    out::line("Every command and option: pm2 --help")?;
    Ok(0)
}
