//! PM2-compatible command line, declared with clap.

pub mod bare;
pub mod extra;
pub mod inspector;
#[cfg(test)]
mod lazy_tests;

use clap::{Args, Parser, Subcommand};
use pm2_config::StartOptions;

/// The whole command line as clap sees it: for completion scripts and the man page.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command().version(pm2_proto::VERSION)
}

/// `pm2 <command> [options]`.
#[derive(Debug, Parser)]
#[command(
    name = "pm2",
    about = "Production process manager for Node.js and any other executable",
    disable_version_flag = true,
    disable_help_subcommand = true,
    arg_required_else_help = false
)]
pub struct Cli {
    /// Print the version.
    #[arg(short = 'v', long = "version", global = true)]
    pub version: bool,
    /// Disable colours (also NO_COLOR or a non-terminal output).
    #[arg(long = "no-color", global = true)]
    pub no_color: bool,
    /// Silence the `[PM2]` progress lines.
    #[arg(short = 's', long = "silent", global = true)]
    pub silent: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Every command this release knows. Each command's arguments are built only when that
/// command is parsed (`defer`): a call pays for its own flags, not for every command's
/// (building the whole tree was about a quarter of `pm2 start`'s own instructions). Help,
/// errors, completion and the man page see the same tree (`lazy_tests` holds them equal).
///
/// The argument structs below are documented with `#[doc = concat!(..)]`, not `///`: clap
/// turns a struct's doc comment into its command's `about`, and a deferred command applies
/// it after the variant's, so `pm2 stop --help` would say "One or more targets." instead
/// of the variant's line. clap reads only literal doc strings; rustdoc reads both.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Start an app (script, binary or "command string"), or restart an existing one.
    Start(Box<StartArgs>),
    /// Stop apps (id, name, namespace, all, /regex/, ecosystem file).
    Stop(TargetArgs),
    /// Start the apps of an ecosystem file that do not run, restart the others.
    #[command(name = "startOrRestart")]
    StartOrRestart(FileArgs),
    /// Start the apps of an ecosystem file that do not run, reload the others.
    #[command(name = "startOrReload", alias = "startOrGracefulReload")]
    StartOrReload(FileArgs),
    /// Write PM2's ecosystem.config.js template here.
    #[command(alias = "ecosystem")]
    Init(InitArgs),
    /// Restart apps.
    Restart(RestartArgs),
    /// Zero-downtime reload of cluster apps (a restart for others).
    Reload(RestartArgs),
    /// Run N instances of an app (`N`, `+N`, `-N`).
    Scale(ScaleArgs),
    /// Stop and remove apps.
    #[command(alias = "del")]
    Delete(TargetArgs),
    /// Zero the restart counters of apps.
    Reset(TargetArgs),
    /// List apps.
    #[command(aliases = ["ls", "l", "ps", "status"])]
    List,
    /// List apps as PM2's JSON.
    Jlist,
    /// List apps in Node's inspect syntax.
    Prettylist,
    /// Show everything about one app.
    #[command(aliases = ["desc", "info", "show"])]
    Describe(OneTarget),
    /// Print the environment of one instance.
    Env(OneTarget),
    /// Print the pid(s) of an app, or of every app.
    Pid(OptionalTarget),
    /// Print the ids of an app.
    Id(OneTarget),
    /// Send a signal to apps.
    #[command(name = "sendSignal")]
    SendSignal(SignalArgs),
    /// Check the daemon answers (starts it if needed).
    Ping,
    /// Save the process list to dump.pm2 (for resurrect and startup).
    #[command(alias = "dump")]
    Save(SaveArgs),
    /// Start again every app of dump.pm2 that does not run.
    Resurrect,
    /// Replace the running daemon with this binary's, keeping every app (save, kill,
    /// start, resurrect).
    #[command(alias = "updatePM2")]
    Update,
    /// Empty dump.pm2.
    Cleardump,
    /// Run an action an app registered (`@pm2/io` actions) and print its answer.
    Trigger(TriggerArgs),
    /// Full-screen dashboard: processes, cpu/memory, logs, metadata and custom metrics
    /// (PM2 7's `dashboard`/`dash`; `imonit`, PM2's legacy monitor, shows the same).
    #[command(aliases = ["dashboard", "dash", "imonit"])]
    Monit,
    /// Show the last lines of the logs, then stream them.
    #[command(alias = "log")]
    Logs(LogsArgs),
    /// Empty log files (every app's and pm2.log without a target).
    Flush(OptionalTargets),
    /// Reopen every log file.
    #[command(name = "reloadLogs")]
    ReloadLogs,
    /// Install a module from npm (`name[@version]`), a folder or a tarball; `pm2-logrotate`
    /// alone turns on the built-in rotation.
    #[command(aliases = ["module:install", "module:update"])]
    Install(ModuleArgs),
    /// Uninstall a module.
    #[command(alias = "module:uninstall")]
    Uninstall(ModuleArgs),
    /// Write a sample module into a new folder of the current one, ready for `pm2 install .`.
    #[command(name = "module:generate")]
    ModuleGenerate(ModuleGenerateArgs),
    /// Write the apps of an ecosystem file (or the running ones) as systemd units,
    /// Kubernetes manifests or a Compose file.
    Export(ExportArgs),
    /// Set a module setting: `pm2 set pm2-logrotate:max_size 10M` (no args: print all).
    Set(SetArgs),
    /// Set several settings at once: `pm2 multiset "app.k1 v1 app.k2 v2"`.
    Multiset(SerialArg),
    /// Remove a setting (`all`: every setting).
    Unset(KeyArg),
    /// Print a setting, or all of them.
    Get(OptionalKey),
    /// Print (or with a value, set) settings.
    Conf(SetArgs),
    /// Stop every app, then the daemon.
    Kill,
    /// Write and enable the init script that resurrects PM2 at boot (init system detected
    /// when omitted).
    Startup(StartupArgs),
    /// Disable and remove the init script `startup` wrote.
    Unstartup(StartupArgs),
    /// PM2 7's other commands (stdin, monitoring flag, PM2 Plus, system info, report...).
    #[command(flatten)]
    Extra(extra::ExtraCommand),
    /// A Node app's inspector: `inspect`, `profile:cpu`, `profile:mem`.
    #[command(flatten)]
    Inspector(inspector::InspectorCommand),
    /// Serve a directory over HTTP as an app named `static-page-server-<port>`.
    #[command(alias = "expose")]
    Serve(ServeArgs),
    /// Update an app's git work tree (fetch, then the branch's head, or a commit), then
    /// reload it.
    Pull(PullArgs),
    /// Move an app's work tree to the next commit, then reload it.
    Forward(OneTarget),
    /// Move an app's work tree to the previous commit, then reload it.
    Backward(OneTarget),
    /// Run the daemon in this process (used by the CLI to spawn it).
    #[command(name = "__daemon", hide = true)]
    Daemon,
}

#[doc = concat!("One or more targets.")]
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// id, name, namespace, `all`, `/regex/` or an ecosystem file.
    #[arg(required = true)]
    pub targets: Vec<String>,
    /// Ecosystem files: only these apps (comma-separated).
    #[arg(long)]
    pub only: Option<String>,
}

#[doc = concat!(
    "Restart's targets and options: the start flags too, which PM2 merges into the apps'\n",
    "definitions (`--update-env` among them); `--watch` takes no paths here and toggles.",
)]
#[derive(Debug, Args)]
#[command(mut_arg("watch", |a| a
    .num_args(0)
    .short('w')
    .help("Toggle watching (PM2's restart --watch)")))]
pub struct RestartArgs {
    /// id, name, namespace, `all`, `/regex/` or an ecosystem file.
    #[arg(required = true)]
    pub targets: Vec<String>,
    /// Ecosystem files: merge `env_<name>` over `env`.
    #[arg(long = "env")]
    pub env_name: Option<String>,
    /// Ecosystem files: only these apps (comma-separated).
    #[arg(long)]
    pub only: Option<String>,
    /// The start flags given to the restart.
    #[command(flatten)]
    pub options: StartOptions,
}

#[doc = concat!("`startOrRestart|startOrReload <file>`.")]
#[derive(Debug, Args)]
pub struct FileArgs {
    /// Ecosystem file.
    pub file: String,
    /// Merge `env_<name>` over `env`.
    #[arg(long = "env")]
    pub env_name: Option<String>,
    /// Only these apps (comma-separated).
    #[arg(long)]
    pub only: Option<String>,
}

#[doc = concat!("`init [simple]`.")]
#[derive(Debug, Args)]
pub struct InitArgs {
    /// `simple` writes the short template.
    pub kind: Option<String>,
}

#[doc = concat!("Zero or more targets.")]
#[derive(Debug, Args)]
pub struct OptionalTargets {
    /// id, name, namespace, `all` or `/regex/`.
    pub targets: Vec<String>,
}

#[doc = concat!("`pm2 logs` options.")]
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// id, name, namespace, `all` or `/regex/` (default: all).
    pub target: Option<String>,
    /// Lines to show from each file first (0: stream only).
    #[arg(long, default_value_t = 15)]
    pub lines: usize,
    /// No prefixes; error lines go to stderr.
    #[arg(long)]
    pub raw: bool,
    /// Only stdout.
    #[arg(long)]
    pub out: bool,
    /// Only stderr.
    #[arg(long)]
    pub err: bool,
    /// Print the last lines and exit.
    #[arg(long)]
    pub nostream: bool,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// `key=value` lines.
    #[arg(long)]
    pub format: bool,
    /// Prefix each line with the time (default format `YYYY-MM-DD-HH:mm:ss`).
    #[arg(long, num_args = 0..=1, default_missing_value = "YYYY-MM-DD-HH:mm:ss")]
    pub timestamp: Option<String>,
    /// Highlight this text.
    #[arg(long, num_args = 0..=1, default_missing_value = "")]
    pub highlight: Option<String>,
}

#[doc = concat!("`scale <app> <N|+N|-N>`.")]
#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// App name.
    pub name: String,
    /// `N`, `+N` or `-N`.
    #[arg(allow_hyphen_values = true)]
    pub count: String,
}

#[doc = concat!("`trigger <target> <action> [param]`.")]
#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// id, name, namespace, `all` or `/regex/`.
    pub target: String,
    /// Action name.
    pub action: String,
    /// Parameter passed to the action.
    pub param: Option<String>,
}

#[doc = concat!("`save [--force]`.")]
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Save even when no app is managed.
    #[arg(short = 'f', long)]
    pub force: bool,
}

#[doc = concat!("A module name.")]
#[derive(Debug, Args)]
pub struct ModuleArgs {
    /// Module: an npm `name[@version]`, a folder or a .tgz (install); its name (uninstall).
    pub module: String,
}

#[doc = concat!("`module:generate [name]`.")]
#[derive(Debug, Args)]
pub struct ModuleGenerateArgs {
    /// The module's name: its folder and package name (asked for when left out).
    pub name: Option<String>,
}

#[doc = concat!("`export <systemd|k8s|compose> [file]`.")]
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to write: `systemd`, `k8s` (or `kubernetes`), `compose`.
    #[arg(value_parser = ["systemd", "k8s", "kubernetes", "compose"])]
    pub target: String,
    /// An ecosystem file; without it, the apps this daemon runs.
    pub file: Option<String>,
    /// Ecosystem files: merge `env_<name>` over `env`.
    #[arg(long = "env")]
    pub env: Option<String>,
    /// Ecosystem files: only these apps (comma-separated).
    #[arg(long)]
    pub only: Option<String>,
    /// Write the files into this folder (created if missing) instead of printing them.
    #[arg(short = 'o', long = "output")]
    pub output: Option<String>,
}

#[doc = concat!("`set [key] [value]`.")]
#[derive(Debug, Args)]
pub struct SetArgs {
    /// `module:key`.
    pub key: Option<String>,
    /// Value.
    pub value: Option<String>,
}

#[doc = concat!(
    "`multiset \"<key> <value> ...\"`.",
)]
#[derive(Debug, Args)]
pub struct SerialArg {
    /// Keys and values separated by spaces (`"..."` keeps spaces, quotes included).
    pub serial: String,
}

#[doc = concat!("One key.")]
#[derive(Debug, Args)]
pub struct KeyArg {
    /// `module:key`.
    pub key: String,
}

#[doc = concat!("An optional key.")]
#[derive(Debug, Args)]
pub struct OptionalKey {
    /// `module:key`.
    pub key: Option<String>,
}

#[doc = concat!("Exactly one target.")]
#[derive(Debug, Args)]
pub struct OneTarget {
    /// id or name.
    pub target: String,
}

#[doc = concat!("`pull <name> [commit_id]`.")]
#[derive(Debug, Args)]
pub struct PullArgs {
    /// App name or id.
    pub name: String,
    /// Commit to move to (hex).
    pub commit_id: Option<String>,
}

#[doc = concat!("An optional target.")]
#[derive(Debug, Args)]
pub struct OptionalTarget {
    /// id or name.
    pub target: Option<String>,
}

#[doc = concat!("`startup|unstartup [platform]` options (PM2's names).")]
#[derive(Debug, Args)]
pub struct StartupArgs {
    /// systemd, upstart, systemv, openrc, launchd, rcd, rcd-openbsd or smf (PM2's aliases
    /// such as ubuntu, centos, macos or freebsd work too); detected when omitted.
    pub platform: Option<String>,
    /// User the apps run as (default: $USER, else $LOGNAME, else the current user).
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Home folder of that user: PM2_HOME becomes `<hp>/.pm2` (default: PM2_HOME).
    #[arg(long = "hp")]
    pub hp: Option<String>,
    /// Service name (default: `pm2-<user>`; `pm2_<user>` for rcd, rcd-openbsd and smf;
    /// `pm2.<user>` for launchd; openrc always uses pm2).
    #[arg(
        long = "service-name",
        help = "Service name (default: pm2-<user>; pm2_<user> for rcd, rcd-openbsd and smf; \
                pm2.<user> for launchd; openrc always uses pm2)"
    )]
    pub service_name: Option<String>,
    /// systemd: start once the network is online (network-online.target).
    #[arg(long = "wait-ip")]
    pub wait_ip: bool,
    /// For packaging and tests: write under this folder instead of `/` (also the
    /// PM2_STARTUP_ROOT environment variable). With any root but `/`, the enable and
    /// disable commands (systemctl, update-rc.d, ...) are printed, never run, and root
    /// rights are not required.
    #[arg(long = "root", hide = true)]
    pub root: Option<String>,
}

#[doc = concat!(
    "`serve|expose [path] [port]` (PM2's options; `PM2_SERVE_PATH` and `PM2_SERVE_PORT` in\n",
    "the environment win over both words, as in PM2).",
)]
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Directory to serve (default: the current directory).
    pub path: Option<String>,
    /// Port to listen on (default: 8080).
    pub port: Option<String>,
    /// Port to listen on, when the second word is not given.
    #[arg(long = "port", value_name = "PORT")]
    pub port_option: Option<String>,
    /// Serve a file of the same name at the root, then index.html, for any missing path
    /// (single-page apps).
    #[arg(long)]
    pub spa: bool,
    /// Basic auth user name (needs --basic-auth-password).
    #[arg(long = "basic-auth-username", value_name = "USERNAME")]
    pub basic_auth_username: Option<String>,
    /// Basic auth password (needs --basic-auth-username).
    #[arg(long = "basic-auth-password", value_name = "PASSWORD")]
    pub basic_auth_password: Option<String>,
    /// App name (default: `static-page-server-<port>`).
    #[arg(long)]
    pub name: Option<String>,
}

#[doc = concat!("`sendSignal <signal> <target>`.")]
#[derive(Debug, Args)]
pub struct SignalArgs {
    /// Signal name or number.
    pub signal: String,
    /// Targets.
    #[arg(required = true)]
    pub targets: Vec<String>,
}

#[doc = concat!(
    "`pm2 start` arguments: what to start, the ecosystem-file options, and every start flag\n",
    "(declared once, in [`StartOptions`]).",
)]
#[derive(Debug, Default, Args)]
pub struct StartArgs {
    /// Scripts, binaries, "command strings", ecosystem files, or names/ids of existing apps,
    /// each started with the same options and `--` arguments (default: ecosystem.config.js).
    pub scripts: Vec<String>,
    /// Ecosystem files: merge `env_<name>` over `env`.
    #[arg(long = "env")]
    pub env_name: Option<String>,
    /// Ecosystem files: only these apps (comma-separated).
    #[arg(long)]
    pub only: Option<String>,
    /// The start flags, with `script` left empty (the CLI fills it once it knows what to
    /// start).
    #[command(flatten)]
    pub options: StartOptions,
}
