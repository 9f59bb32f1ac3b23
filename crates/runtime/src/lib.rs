//! `pm2-runtime`: the daemon core in the foreground, as a container's main process.
//!
//! It starts the apps (a script or an ecosystem file, with `pm2 start`'s options), streams
//! their output to its own stdout/stderr, stops every app gracefully and exits 0 on
//! SIGTERM/SIGINT, reaps orphaned grandchildren (it is a child subreaper, for when it runs
//! as PID 1), and exits when no app is left running (PM2's auto-exit) unless
//! `--no-auto-exit`.
//!
//! Its own crate because it is the one program that needs both sides: the daemon
//! (in-process) and the CLI (its `start`, its client), which otherwise never link each other.

use anyhow::Result;
use clap::Parser;
use pm2_cli::args::StartArgs;
use pm2_logfmt::{LineKind, LogEvent, LogFlags, LogView};
use pm2_proto::{LogChunk, LogChunkKind};
use session::{run_session, Foreground, Session};
use std::io::Write;

mod dev;
mod parse;
mod session;
pub use dev::dev_main;

/// `pm2-runtime <script|ecosystem> [options]`.
#[derive(Debug, Parser)]
#[command(
    name = "pm2-runtime",
    about = "Run apps in the foreground (containers)",
    version = pm2_proto::VERSION,
    disable_version_flag = true
)]
pub struct RuntimeArgs {
    /// Print the version (`-v`, `-V` or `--version`, bare, as PM2's pm2-runtime does).
    #[arg(short = 'v', long = "version", short_alias = 'V', action = clap::ArgAction::Version)]
    pub version: Option<bool>,
    /// Print logs as JSON lines.
    #[arg(long)]
    pub json: bool,
    /// Print logs as `key=value` lines.
    #[arg(long)]
    pub format: bool,
    /// Print logs without prefixes (the default).
    #[arg(long)]
    pub raw: bool,
    /// Keep running when no app is left.
    #[arg(long = "no-auto-exit")]
    pub no_auto_exit: bool,
    /// What to start, with `pm2 start`'s options.
    #[command(flatten)]
    pub start: StartArgs,
}

/// Entry point with the runtime's arguments (`argv[0]` first); returns the exit code.
pub fn main<I, T>(argv: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = match RuntimeArgs::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => return parse::parse_failure(&e),
    };
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            pm2_cli::out::error(&format!("{e:#}"));
            1
        }
    }
}

fn run(mut args: RuntimeArgs) -> Result<i32> {
    let view = RuntimeView::new(&args);
    let session = Session {
        view: Box::new(view),
        auto_exit: !args.no_auto_exit,
        banner: None,
        stopping: |sig| format!("pm2-runtime: {sig} received, stopping every app"),
        no_app_left: (2, "pm2-runtime: no app running anymore, exiting"),
    };
    run_session(std::mem::take(&mut args.start), session)
}

/// `pm2-runtime`'s view: the apps' output on our stdout (out) and stderr (err), raw unless
/// `--json`/`--format`.
struct RuntimeView(LogView);

impl RuntimeView {
    fn new(args: &RuntimeArgs) -> RuntimeView {
        RuntimeView(LogView::from_flags(&LogFlags {
            raw: !args.json && !args.format,
            json: args.json,
            format: args.format,
            timestamp: None,
            highlight: None,
            color: false,
        }))
    }
}

impl Foreground for RuntimeView {
    fn chunk(&mut self, chunk: &LogChunk) {
        let kind = match chunk.kind {
            LogChunkKind::Out => LineKind::Out,
            LogChunkKind::Err => LineKind::Err,
            _ => return,
        };
        let ev = LogEvent {
            pm_id: chunk.pm_id.unwrap_or(0),
            name: &chunk.name,
            kind,
            data: &chunk.data,
            at_ms: chunk.at as i64,
        };
        let r = self.0.render(&ev, &chrono::Local::now());
        let _ = std::io::stdout().write_all(r.stdout.as_bytes());
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().write_all(r.stderr.as_bytes());
    }
}
