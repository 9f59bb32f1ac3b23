//! Init systems: names and PM2's aliases, detection, and for each one where its script
//! goes and which commands enable or disable it (PM2's `lib/API/Startup.js`).

use super::templates;
use std::path::{Path, PathBuf};

/// An init system `pm2 startup` can write for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// systemd unit in /etc/systemd/system.
    Systemd,
    /// LSB script in /etc/init.d enabled with update-rc.d.
    Upstart,
    /// LSB script in /etc/init.d enabled with chkconfig.
    Systemv,
    /// OpenRC script /etc/init.d/pm2.
    Openrc,
    /// launchd agent in ~/Library/LaunchAgents.
    Launchd,
    /// FreeBSD rc.d script.
    Rcd,
    /// OpenBSD rc.d script.
    RcdOpenbsd,
    /// Solaris/illumos SMF manifest.
    Smf,
}

/// PM2's detection order: the first of these commands found on PATH names the init system.
const DETECTION: [(&str, Platform); 8] = [
    ("systemctl", Platform::Systemd),
    ("update-rc.d", Platform::Upstart),
    ("chkconfig", Platform::Systemv),
    ("rc-update", Platform::Openrc),
    ("launchctl", Platform::Launchd),
    ("sysrc", Platform::Rcd),
    ("rcctl", Platform::RcdOpenbsd),
    ("svcadm", Platform::Smf),
];

/// The names PM2 accepts besides the canonical ones.
const ALIASES: [(&str, Platform); 14] = [
    ("ubuntu", Platform::Systemd),
    ("centos", Platform::Systemd),
    ("arch", Platform::Systemd),
    ("oracle", Platform::Systemd),
    ("ubuntu14", Platform::Upstart),
    ("ubuntu12", Platform::Upstart),
    ("amazon", Platform::Systemv),
    ("centos6", Platform::Systemv),
    ("macos", Platform::Launchd),
    ("darwin", Platform::Launchd),
    ("freebsd", Platform::Rcd),
    ("openbsd", Platform::RcdOpenbsd),
    ("sunos", Platform::Smf),
    ("solaris", Platform::Smf),
];

impl Platform {
    /// Every platform, in detection order.
    pub const ALL: [Platform; 8] = [
        Platform::Systemd,
        Platform::Upstart,
        Platform::Systemv,
        Platform::Openrc,
        Platform::Launchd,
        Platform::Rcd,
        Platform::RcdOpenbsd,
        Platform::Smf,
    ];

    /// PM2's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Systemd => "systemd",
            Platform::Upstart => "upstart",
            Platform::Systemv => "systemv",
            Platform::Openrc => "openrc",
            Platform::Launchd => "launchd",
            Platform::Rcd => "rcd",
            Platform::RcdOpenbsd => "rcd-openbsd",
            Platform::Smf => "smf",
        }
    }

    /// A canonical name or one of PM2's aliases (`ubuntu`, `centos6`, `macos`, `solaris`...).
    pub fn parse(name: &str) -> Option<Platform> {
        Platform::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .or_else(|| ALIASES.iter().find(|(a, _)| *a == name).map(|(_, p)| *p))
    }

    /// The canonical names, for error messages.
    pub fn names() -> String {
        Platform::ALL.map(Platform::name).join(", ")
    }
}

/// The init system whose command is found first on PATH, as PM2 detects it.
pub fn detect() -> Option<Platform> {
    DETECTION
        .iter()
        .find(|(cmd, _)| pm2_config::which(cmd).is_some())
        .map(|(_, p)| *p)
}

/// The commands detection looks for, for error messages.
pub fn probes() -> String {
    DETECTION.map(|(cmd, _)| cmd).join(", ")
}

/// Who the script is for, which decides names and paths.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// `-u`, else the current user.
    pub user: &'a str,
    /// `--service-name`.
    pub service_name: Option<&'a str>,
    /// `--wait-ip`.
    pub wait_ip: bool,
    /// $HOME (launchd agents live under it).
    pub home_dir: &'a Path,
    /// The temporary folder (SMF manifests are written there before `svccfg import`).
    pub tmp_dir: &'a Path,
}

/// What `startup` writes and runs for one platform, and what `unstartup` undoes.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The platform this plan is for (`None`: PM2's old `pm2-init.sh` layout).
    pub platform: Option<Platform>,
    /// The service name.
    pub service_name: String,
    /// The template to fill.
    pub template: &'static str,
    /// Where the script goes (an absolute path on the target system).
    pub destination: PathBuf,
    /// File mode: 0644 for units and manifests, 0755 for scripts.
    pub mode: u32,
    /// Shell commands that enable it, in order.
    pub enable: Vec<String>,
    /// Shell commands that stop and disable it before the file is removed.
    pub disable: Vec<String>,
}

/// PM2's layout for `platform`.
pub fn plan(platform: Platform, t: &Target) -> Plan {
    let named = |default: String| t.service_name.map_or(default, str::to_string);
    let user = t.user;
    match platform {
        Platform::Systemd => {
            let name = named(format!("pm2-{user}"));
            Plan {
                platform: Some(platform),
                template: if t.wait_ip {
                    templates::SYSTEMD_ONLINE
                } else {
                    templates::SYSTEMD
                },
                destination: format!("/etc/systemd/system/{name}.service").into(),
                mode: 0o644,
                enable: vec![format!("systemctl enable {name}")],
                disable: vec![
                    format!("systemctl stop {name}"),
                    format!("systemctl disable {name}"),
                ],
                service_name: name,
            }
        }
        Platform::Upstart | Platform::Systemv => lsb(platform, named(format!("pm2-{user}"))),
        Platform::Openrc => Plan {
            platform: Some(platform),
            template: templates::OPENRC,
            destination: "/etc/init.d/pm2".into(),
            mode: 0o755,
            enable: vec![
                "chmod +x /etc/init.d/pm2".into(),
                "rc-update add pm2 default".into(),
            ],
            disable: vec![
                "/etc/init.d/pm2 stop".into(),
                "rc-update delete pm2 default".into(),
            ],
            service_name: "pm2".into(),
        },
        Platform::Launchd => {
            let name = named(format!("pm2.{user}"));
            let destination = t
                .home_dir
                .join(format!("Library/LaunchAgents/{name}.plist"));
            Plan {
                platform: Some(platform),
                template: templates::LAUNCHD,
                mode: 0o644,
                enable: vec![format!("launchctl load -w {}", destination.display())],
                disable: vec![format!("launchctl remove {name} || true")],
                destination,
                service_name: name,
            }
        }
        Platform::Rcd | Platform::RcdOpenbsd | Platform::Smf => bsd(platform, t),
    }
}

/// upstart and systemv: the same LSB script, enabled by update-rc.d or chkconfig.
fn lsb(platform: Platform, name: String) -> Plan {
    let dest = format!("/etc/init.d/{name}");
    let mut enable = vec![
        format!("chmod +x {dest}"),
        "mkdir -p /var/lock/subsys".into(),
        format!("touch /var/lock/subsys/{name}"),
    ];
    let disable = if platform == Platform::Upstart {
        enable.push(format!("update-rc.d {name} defaults"));
        vec![
            format!("update-rc.d {name} disable"),
            format!("update-rc.d -f {name} remove"),
        ]
    } else {
        enable.push(format!("chkconfig --add {name}"));
        enable.push(format!("chkconfig {name} on"));
        enable.push("initctl list".into());
        vec![format!("chkconfig {name} off")]
    };
    Plan {
        platform: Some(platform),
        template: templates::UPSTART,
        destination: dest.into(),
        mode: 0o755,
        enable,
        disable,
        service_name: name,
    }
}

/// The BSDs and SMF, whose default service name is `pm2_<user>`.
fn bsd(platform: Platform, t: &Target) -> Plan {
    let name = t
        .service_name
        .map_or_else(|| format!("pm2_{}", t.user), str::to_string);
    let (template, destination, mode, enable, disable) = match platform {
        Platform::Rcd => {
            let dest = format!("/usr/local/etc/rc.d/{name}");
            let enable = vec![
                format!("chmod 755 {dest}"),
                format!("sysrc {name}_enable=YES"),
            ];
            let disable = vec![format!("{dest} stop"), format!("sysrc -x {name}_enable")];
            (templates::RCD, PathBuf::from(dest), 0o755, enable, disable)
        }
        Platform::RcdOpenbsd => {
            let dest = format!("/etc/rc.d/{name}");
            let enable = vec![
                format!("chmod 755 {dest}"),
                format!("rcctl enable {name}"),
                format!("rcctl start {name}"),
            ];
            let disable = vec![
                format!("rcctl stop {name}"),
                format!("rcctl disable {name}"),
            ];
            (templates::RCD_OPENBSD, dest.into(), 0o755, enable, disable)
        }
        _ => {
            let dest = t.tmp_dir.join(format!("{name}.xml"));
            let enable = vec![
                format!("svccfg import {}", dest.display()),
                format!("svcadm enable {name}"),
            ];
            let disable = vec![
                format!("svcadm disable {name}"),
                format!("svccfg delete -f {name}"),
            ];
            (templates::SMF, dest, 0o644, enable, disable)
        }
    };
    Plan {
        platform: Some(platform),
        service_name: name,
        template,
        destination,
        mode,
        enable,
        disable,
    }
}

/// PM2's pre-2.x `/etc/init.d/pm2-init.sh`, which `unstartup` removes when it finds it.
pub fn old_system() -> Plan {
    Plan {
        platform: None,
        service_name: "pm2-init.sh".into(),
        template: "",
        destination: "/etc/init.d/pm2-init.sh".into(),
        mode: 0o755,
        enable: Vec::new(),
        disable: vec![
            "update-rc.d pm2-init.sh disable".into(),
            "update-rc.d -f pm2-init.sh remove".into(),
        ],
    }
}
