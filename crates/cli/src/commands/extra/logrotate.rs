//! `pm2 logrotate [-u user]`: a configuration for the system's logrotate that rotates
//! `pm2.log` and every app log of this `PM2_HOME` weekly (12 kept, compressed, copied then
//! truncated so the daemon keeps writing to the same file), as PM2 writes it, to
//! `/etc/logrotate.d/pm2-<user>`.
//!
//! Like PM2, it needs root rights on the real `/`. For packaging and tests, the hidden
//! `--root <dir>` (or `PM2_LOGROTATE_ROOT`) writes under another folder instead, without
//! root rights: a test never writes the machine's `/etc`.

use crate::args::extra::LogrotateArgs;
use crate::out;
use anyhow::{Context, Result};
use pm2_home::Pm2Home;
use std::path::{Path, PathBuf};

/// The environment variable that moves `/` (packaging and tests).
pub const ROOT_ENV: &str = "PM2_LOGROTATE_ROOT";

/// Writes the configuration; exit 1 without root rights or without `/etc/logrotate.d`.
pub(super) fn logrotate(home: &Pm2Home, args: &LogrotateArgs) -> Result<i32> {
    let root = target_root(args.root.as_deref())?;
    if root == Path::new("/") && !nix::unistd::geteuid().is_root() {
        print_sudo_hint();
        return Ok(1);
    }
    let dir = root.join("etc/logrotate.d");
    if !dir.is_dir() {
        out::error(&format!(
            "{} does not exist: there is no logrotate configuration folder to write to",
            dir.display()
        ));
        return Ok(1);
    }
    let user = args.user.as_deref().unwrap_or("root");
    let path = dir.join(format!("pm2-{user}"));
    let text = config(home.root(), user);
    pm2_home::write_atomic(&path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    out::info(&format!(
        "Logrotate configuration added to {}",
        path.display()
    ));
    Ok(0)
}

/// The logrotate stanza for the logs of `home`, owned by `user`.
fn config(home: &Path, user: &str) -> String {
    let home = home.display();
    format!(
        "{home}/pm2.log {home}/logs/*.log {{\n\
         \x20       rotate 12\n\
         \x20       weekly\n\
         \x20       missingok\n\
         \x20       notifempty\n\
         \x20       compress\n\
         \x20       delaycompress\n\
         \x20       copytruncate\n\
         \x20       create 0640 {user} {user}\n\
         }}\n"
    )
}

/// PM2's advice when run without root rights.
fn print_sudo_hint() {
    let me = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| "root".into());
    let bin_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    out::error("You have to run this command as root. Execute the following command:");
    out::error(&format!(
        "      sudo env PATH=$PATH:{} pm2 logrotate -u {me}",
        bin_dir.display()
    ));
}

/// `--root`, else `PM2_LOGROTATE_ROOT`, else `/`; made absolute.
fn target_root(flag: Option<&str>) -> Result<PathBuf> {
    let root = flag
        .map(str::to_string)
        .or_else(|| std::env::var(ROOT_ENV).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "/".into());
    std::path::absolute(&root).with_context(|| format!("bad logrotate root {root:?}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stanza_names_both_logs_and_the_owner() {
        let text = super::config(std::path::Path::new("/h/.pm2"), "deploy");
        assert!(text.starts_with("/h/.pm2/pm2.log /h/.pm2/logs/*.log {\n        rotate 12\n"));
        assert!(
            text.ends_with("        create 0640 deploy deploy\n}\n"),
            "{text}"
        );
    }
}
