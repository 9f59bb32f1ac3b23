//! The commands of PM2 7 that reach beyond the process list: an app's stdin, the
//! dashboard's monitoring flag, PM2 Plus, the logrotate config and examples. Declared apart from [`super::Command`] (which
//! flattens them in) so each family stays in one place.

use clap::{Args, Subcommand};

/// PM2 7's remaining commands (flattened into `pm2 <command>`).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ExtraCommand {
    /// Write a line to the stdin of the app with this id.
    Send(SendArgs),
    /// Stream an app's output and send each typed line to its stdin.
    Attach(AttachArgs),
    /// Mark apps as monitored by the web dashboard (`_km_monitored`).
    Monitor(MonitorArgs),
    /// Mark apps as not monitored by the web dashboard.
    Unmonitor(MonitorArgs),
    /// Link this daemon to a dashboard on another host (`pm2 link <secret> <url>
    /// [name]`, the command `pm2 plus` prints there); without arguments, the link's status.
    Link(LinkArgs),
    /// Unlink this daemon from its dashboard (the agent stops, the link is removed).
    Unlink,
    /// Start the self-hosted web dashboard and print its login link (`pm2 plus stop`
    /// stops it, `--set-password` sets the password a non-loopback address needs).
    #[command(alias = "register")]
    Plus(PlusArgs),
    /// Log in to PM2 Plus (not available yet in pm2-rs).
    Login,
    /// Log out from PM2 Plus.
    Logout,
    /// Start the web dashboard if needed and open its login link in a browser.
    Open,
    /// Print usage examples.
    Examples,
    /// Deploy an app to remote hosts over ssh and git (the ecosystem file's `deploy`
    /// section): `pm2 deploy <file> <env> [setup|update|revert [n]|curr|prev|list|exec
    /// <cmd>|ref <ref>]`; `pm2 deploy help` for more.
    Deploy(DeployArgs),
    /// Write a logrotate configuration for PM2's logs to `/etc/logrotate.d/pm2-<user>`.
    Logrotate(LogrotateArgs),
    /// PM2's service auto-detection (PM2 7 no longer ships it).
    Autoinstall,
    /// Update PM2 itself, then the daemon.
    #[command(name = "deepUpdate")]
    DeepUpdate,
    /// A diagnostic report to paste into an issue: versions, daemon, apps, last log lines.
    Report,
    /// Print the host's metrics (cpu, memory, network, disks) in PM2's shape.
    #[command(alias = "sysinfos")]
    Slist(SlistArgs),
    /// Removed in PM2 7 (host metrics are built in): says so.
    #[command(hide = true)]
    Sysmonit,
    /// Print a shell completion script (bash by default), or install it in ~/.bashrc or
    /// ~/.zshrc (`install`, `uninstall`).
    Completion(CompletionArgs),
    /// The names of the apps of the running daemon, one per line (for completion scripts;
    /// never starts a daemon).
    #[command(name = "__names", hide = true)]
    Names,
}

#[doc = concat!("`deploy [file] <env> [action [args]] [--force] [--parallel N]`.")]
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The ecosystem file (else one found in the working directory), the environment,
    /// then the action and its arguments.
    pub words: Vec<String>,
    /// Deploy even with uncommitted or unpushed local changes.
    #[arg(long)]
    pub force: bool,
    /// At most this many hosts at a time (default: all at once).
    #[arg(long, value_name = "N")]
    pub parallel: Option<usize>,
}

#[doc = concat!("`completion [bash|zsh|fish|install|uninstall]`.")]
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell, or `install`/`uninstall` (the rc file of `$SHELL`).
    #[arg(value_parser = ["bash", "zsh", "fish", "install", "uninstall"])]
    pub shell: Option<String>,
}

#[doc = concat!("`send <pm_id> <line>`.")]
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The app's id (PM2 takes no name here).
    pub pm_id: String,
    /// The line (a newline is added).
    pub line: String,
}

#[doc = concat!("`attach <pm_id> [separator]`.")]
#[derive(Debug, Args)]
pub struct AttachArgs {
    /// The app's id (a number).
    pub pm_id: String,
    /// What ends each line sent (default: a newline).
    pub separator: Option<String>,
}

#[doc = concat!("`monitor|unmonitor <id|name|all>`.")]
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// id, name, namespace, `all` or `/regex/`.
    pub target: Option<String>,
}

#[doc = concat!(
    "`link [secret] [url] [name]` (PM2 7's `link <secret> <public> [name]`, the public key's\n",
    "place taken by the dashboard's URL).",
)]
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The dashboard's link secret (or `info`, `delete`, `stop`, `kill`).
    pub secret: Option<String>,
    /// The dashboard's URL (`http://host:port`, as `pm2 plus` prints it).
    pub public: Option<String>,
    /// This host's name on the dashboard (default: the machine's host name).
    pub name: Option<String>,
    /// URL of an on-premise PM2 Plus node.
    #[arg(long = "info-node", num_args = 0..=1)]
    pub info_node: Option<String>,
    /// A private CA (PEM) the https:// dashboard's certificate is signed by (on top of the
    /// system's CAs).
    #[arg(long = "ca", value_name = "PEM")]
    pub ca: Option<std::path::PathBuf>,
}

#[doc = concat!("`plus [start|stop] [--set-password]` (PM2's other words are accepted and refused).")]
#[derive(Debug, Args)]
pub struct PlusArgs {
    /// `start` (the default) or `stop`.
    pub command: Option<String>,
    /// Its option.
    pub option: Option<String>,
    /// URL of an on-premise PM2 Plus node.
    #[arg(long = "info-node", num_args = 0..=1)]
    pub info_node: Option<String>,
    /// Silent mode.
    #[arg(short = 'd', long)]
    pub discrete: bool,
    /// Install every module without asking.
    #[arg(short = 'a', long = "install-all")]
    pub install_all: bool,
    /// Set the dashboard's password (read from the terminal, or a line of stdin).
    #[arg(long = "set-password")]
    pub set_password: bool,
    /// Make a new link secret (hosts linked with the old one are refused from their next
    /// connection on).
    #[arg(long = "rotate-link-secret")]
    pub rotate_link_secret: bool,
}

#[doc = concat!("`logrotate [-u user]`.")]
#[derive(Debug, Args)]
pub struct LogrotateArgs {
    /// The user the rotated files belong to (default: root).
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// For packaging and tests: write under this folder instead of `/` (also the
    /// PM2_LOGROTATE_ROOT environment variable); root rights are then not required.
    #[arg(long = "root", hide = true)]
    pub root: Option<String>,
}

#[doc = concat!("`slist [--tree]`.")]
#[derive(Debug, Args)]
pub struct SlistArgs {
    /// Print as a tree.
    #[arg(short = 't', long)]
    pub tree: bool,
}
