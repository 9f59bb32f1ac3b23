//! The `ssh` command for one host, as an argument vector: the system OpenSSH client (so
//! `~/.ssh/config`, agents, `ProxyJump` and known_hosts work as the user expects), never a
//! shell line. The remote command is fixed (`bash -l -s`: a login shell reading the
//! script from stdin); no config value is part of it.

use crate::config::Target;
use std::path::Path;
use std::process::Command;

/// What the remote side runs: a login bash that reads the script on stdin.
pub const REMOTE_COMMAND: &str = "bash -l -s";

/// The arguments after `ssh` for `host`: `-o` options, `-A`, `-p`, `-i`, then the
/// destination after `--` (so a name can never be read as an option) and the command.
pub fn args(target: &Target, host: &str, home: Option<&Path>) -> Vec<String> {
    let mut args = Vec::new();
    for opt in &target.ssh_options {
        args.push("-o".to_string());
        args.push(opt.clone());
    }
    // No terminal: the script comes on stdin.
    args.push("-T".into());
    if target.forward_agent {
        args.push("-A".into());
    }
    if let Some(port) = target.port {
        args.push("-p".into());
        args.push(port.to_string());
    }
    if let Some(key) = &target.key {
        args.push("-i".into());
        args.push(expand_home(key, home));
    }
    args.push("--".into());
    args.push(match &target.user {
        Some(user) => format!("{user}@{host}"),
        None => host.to_string(),
    });
    args.push(REMOTE_COMMAND.into());
    args
}

/// The command to spawn (stdin, stdout and stderr are the caller's to set).
pub fn command(target: &Target, host: &str) -> Command {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let mut cmd = Command::new("ssh");
    cmd.args(args(target, host, home.as_deref()));
    cmd
}

/// A leading `~/` is the local home, as PM2 does for `key`.
fn expand_home(path: &str, home: Option<&Path>) -> String {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest).to_string_lossy().into_owned(),
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_its_own_argument() {
        let target = Target {
            user: Some("deploy".into()),
            port: Some(2222),
            key: Some("~/.ssh/id".into()),
            ssh_options: vec!["StrictHostKeyChecking=no".into(), "A=b c".into()],
            forward_agent: true,
            ..Target::default()
        };
        let args = args(&target, "h1", Some(Path::new("/home/u")));
        assert_eq!(
            args,
            [
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "A=b c",
                "-T",
                "-A",
                "-p",
                "2222",
                "-i",
                "/home/u/.ssh/id",
                "--",
                "deploy@h1",
                "bash -l -s"
            ]
        );
    }
}
