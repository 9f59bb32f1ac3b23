//! The hint PM2 prints to a user without root rights: the `sudo` command that would
//! do the job.

use std::path::Path;

/// PM2's hint for a user without root rights.
#[derive(Debug)]
pub(super) struct NotRoot<'a> {
    /// `startup` or `unstartup`.
    pub verb: &'a str,
    /// The platform name.
    pub platform: &'a str,
    /// `-u`, else the current user.
    pub user: &'a str,
    /// `--hp`, else $HOME.
    pub home: &'a str,
    /// node's folder (else pm2's), added to PATH.
    pub node_dir: &'a Path,
    /// This binary.
    pub pm2: &'a Path,
    /// `--service-name`.
    pub service_name: Option<&'a str>,
    /// `--wait-ip`.
    pub wait_ip: bool,
}

impl NotRoot<'_> {
    /// `To setup the Startup Script, copy/paste the following command:` (`unsetup` for
    /// unstartup).
    pub fn heading(&self) -> String {
        let mode = if self.verb == "unstartup" {
            "unsetup"
        } else {
            "setup"
        };
        format!("To {mode} the Startup Script, copy/paste the following command:")
    }

    /// `sudo env PATH=$PATH:<nodedir> <pm2> <verb> <platform> -u <user> --hp <home>`, plus
    /// `--service-name`/`--wait-ip` when given (PM2 drops them, and the hint then writes
    /// a different service).
    pub fn command(&self) -> String {
        let mut line = format!(
            "sudo env PATH=$PATH:{} {} {} {} -u {} --hp {}",
            self.node_dir.display(),
            self.pm2.display(),
            self.verb,
            self.platform,
            self.user,
            self.home
        );
        if let Some(name) = self.service_name {
            line.push_str(&format!(" --service-name {name}"));
        }
        if self.wait_ip {
            line.push_str(" --wait-ip");
        }
        line
    }
}
