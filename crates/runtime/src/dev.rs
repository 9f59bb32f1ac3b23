//! `pm2-dev`: PM2's development mode. The app starts with watch on (and a 1 s restart
//! delay), its output is printed in the foreground with `name-id |` prefixes, it restarts
//! on every change, and Ctrl-C stops everything. As PM2 does, it runs in its own home,
//! `~/.pm2-dev`, so it never touches the apps of `~/.pm2`.

use crate::session::{run_session, Banner, Foreground, Session};
use clap::Parser;
use pm2_cli::args::StartArgs;
use pm2_proto::{LogChunk, LogChunkKind};
use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::process::{Command, Stdio};

/// `pm2-dev [start] <script|ecosystem> [options]`, with PM2's options.
#[derive(Debug, Parser)]
#[command(
    name = "pm2-dev",
    about = "pm2-dev monitor for any file changes and automatically restart it",
    version = pm2_proto::VERSION,
    disable_version_flag = true
)]
pub struct DevArgs {
    /// Print the version (`-v`, `-V` or `--version`, bare, as PM2's pm2-dev does).
    #[arg(short = 'v', long = "version", short_alias = 'V', action = clap::ArgAction::Version)]
    pub version: Option<bool>,
    /// What to start (`start <file>` works too, as in PM2).
    #[arg(required = true)]
    pub targets: Vec<String>,
    /// Raw log output.
    #[arg(long)]
    pub raw: bool,
    /// Print a timestamp before each line.
    #[arg(long)]
    pub timestamp: bool,
    /// Arguments passed to node.
    #[arg(long = "node-args", allow_hyphen_values = true)]
    pub node_args: Option<String>,
    /// Files to ignore while watching (comma-separated; node_modules always is).
    #[arg(long)]
    pub ignore: Option<String>,
    /// A shell command run after each restart.
    #[arg(long = "post-exec")]
    pub post_exec: Option<String>,
    /// Do not print the post-exec command's output.
    #[arg(long = "silent-exec")]
    pub silent_exec: bool,
    /// The interpreter to run the app with.
    #[arg(long)]
    pub interpreter: Option<String>,
    /// Ecosystem files: merge `env_<name>` over `env`.
    #[arg(long)]
    pub env: Option<String>,
    /// Exit once no app is online.
    #[arg(long = "auto-exit")]
    pub auto_exit: bool,
}

/// PM2's `--timestamp` format in development mode.
const TIMESTAMP: &str = "YYYY-MM-DD-HH:mm:ss";

/// Entry point with pm2-dev's arguments (`argv[0]` first); returns the exit code.
pub fn dev_main<I, T>(argv: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = match DevArgs::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => return crate::parse::parse_failure(&e),
    };
    let home = std::env::var_os("HOME").map_or_else(
        || std::path::PathBuf::from("/etc"),
        std::path::PathBuf::from,
    );
    // Before any thread exists: the daemon and the client read PM2_HOME from here.
    std::env::set_var("PM2_HOME", home.join(".pm2-dev"));
    let ignored = ignored(args.ignore.as_deref());
    let session = Session {
        view: Box::new(DevView::new(&args)),
        auto_exit: args.auto_exit,
        banner: Some(banner(ignored.clone(), args.post_exec.clone())),
        stopping: |_| ">>>>> [PM2 DEV] Stopping current development session".to_string(),
        no_app_left: (1, "0 application online, exiting"),
    };
    match run_session(start_args(args, ignored), session) {
        Ok(code) => code,
        Err(e) => {
            pm2_cli::out::error(&format!("{e:#}"));
            1
        }
    }
}

/// What to start: PM2's development options over the user's.
fn start_args(args: DevArgs, ignored: Vec<String>) -> StartArgs {
    let mut targets = args.targets;
    if targets.len() > 1 && targets[0] == "start" {
        targets.remove(0);
    }
    let mut start = StartArgs {
        scripts: targets,
        env_name: args.env,
        ..StartArgs::default()
    };
    let o = &mut start.options;
    o.watch = Some(vec![]);
    o.restart_delay = Some("1000".to_string());
    o.ignore_watch = Some(ignored);
    o.interpreter_args = args.node_args;
    o.interpreter = args.interpreter;
    start
}

/// `--ignore`'s patterns, and node_modules.
fn ignored(ignore: Option<&str>) -> Vec<String> {
    let mut patterns: Vec<String> = ignore
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect();
    patterns.push("node_modules".to_string());
    patterns
}

/// PM2's "PM2 development mode" block, printed once the apps started.
fn banner(ignored: Vec<String>, post_exec: Option<String>) -> Banner {
    Box::new(move |names| {
        let field = |key: &str, value: &str| println!("{key:<20} : {value}");
        let title = "--- PM2 development mode ";
        println!("{title}{}", "-".repeat(79 - title.len()));
        field("Apps started", &names.join(","));
        field("Processes started", &names.len().to_string());
        field("Watch and Restart", "Enabled");
        field("Ignored folder", &ignored.join(","));
        if let Some(cmd) = &post_exec {
            field("Post restart cmd", cmd);
        }
        println!("{}", "=".repeat(79));
    })
}

/// The foreground stream of pm2-dev: PM2's `name-id | line` prefixes (padded to the
/// longest name seen), `[rundev] App <name> restarted` on each restart.
struct DevView {
    raw: bool,
    timestamp: bool,
    color: bool,
    padding: usize,
    online_once: HashSet<u32>,
    post_exec: Option<(String, bool)>,
}

impl DevView {
    fn new(args: &DevArgs) -> DevView {
        DevView {
            raw: args.raw,
            timestamp: args.timestamp,
            color: std::io::stdout().is_terminal(),
            padding: 3,
            online_once: HashSet::new(),
            post_exec: args.post_exec.clone().map(|c| (c, args.silent_exec)),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[39m")
        } else {
            text.to_string()
        }
    }

    fn event(&mut self, chunk: &LogChunk) {
        let Some(pm_id) = chunk.pm_id else { return };
        if chunk.data != "online" || self.online_once.insert(pm_id) {
            return;
        }
        let line = format!("[rundev] App {} restarted", chunk.name);
        println!("{}", self.paint("32", &line));
        if let Some((cmd, silent)) = &self.post_exec {
            run_post_exec(cmd, *silent);
        }
    }

    fn lines(&mut self, chunk: &LogChunk, err: bool) {
        let name = format!("{}-{}", chunk.name, chunk.pm_id.unwrap_or(0));
        self.padding = self.padding.max(name.len() + 1);
        let mut out = String::new();
        for line in chunk.data.split('\n').filter(|l| !l.is_empty()) {
            if !self.raw {
                if self.timestamp {
                    let now = pm2_logfmt::format_date(TIMESTAMP, &chrono::Local::now());
                    out.push_str(&self.paint("90", &format!("{now} ")));
                }
                let prefix = format!("{name:<width$} | ", width = self.padding);
                out.push_str(&self.paint(if err { "31" } else { "32" }, &prefix));
            }
            out.push_str(line);
            out.push('\n');
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
    }
}

impl Foreground for DevView {
    fn chunk(&mut self, chunk: &LogChunk) {
        match chunk.kind {
            LogChunkKind::Out => self.lines(chunk, false),
            LogChunkKind::Err => self.lines(chunk, true),
            LogChunkKind::Event => self.event(chunk),
            _ => {}
        }
    }
}

/// `--post-exec`: the user's shell command (it is one by definition, as in PM2), run
/// after a restart; its output is shown unless `--silent-exec`.
fn run_post_exec(cmd: &str, silent: bool) {
    let mut command = Command::new("sh");
    command.arg("-c").arg(cmd).stdin(Stdio::null());
    if silent {
        command.stdout(Stdio::null()).stderr(Stdio::null());
    }
    match command.spawn() {
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(e) => eprintln!("pm2-dev: cannot run the post-exec command: {e}"),
    }
}
