//! Requests the CLI sends and the replies the daemon gives, one struct per variant.

use crate::model::{AppSpec, ProcessInfo};
use crate::patch::SpecPatch;
use serde::{Deserialize, Serialize};

pub use crate::emit::EmitRequest;

/// Every request travels inside an envelope that names the client's version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    /// The CLI's [`crate::VERSION`].
    pub client_version: String,
    /// The [`crate::PROTOCOL`] revision the client reads (1 when absent: clients before
    /// revision 2 did not send it, and a daemon before it ignores it).
    #[serde(default = "first_protocol")]
    pub protocol: u32,
    /// What the client asks for.
    pub request: Request,
}

fn first_protocol() -> u32 {
    1
}

/// What the CLI can ask the daemon.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Liveness check; answered with [`Response::Pong`].
    Ping,
    /// Register and launch apps.
    Start(StartRequest),
    /// Apply stop/restart/delete/reset to targets.
    Action(ActionRequest),
    /// Send a signal to targets.
    Signal(SignalRequest),
    /// Snapshot of every instance.
    List,
    /// The same snapshot without each app's environment (what the table needs; the
    /// environments are most of the bytes with many apps).
    Summary,
    /// Only the table's columns of every instance ([`crate::TableRow`]): what the table
    /// printed after `list`, `start`, `stop`, `restart`... asks for.
    Table {
        /// Show each running instance's reading as the sampler kept it, whatever its age,
        /// and read now only an instance that has none of its current process (one just
        /// started or restarted): the table printed after a command asks only for what
        /// the command changed, so it costs the same with 1 app or 1,000. Without it (a
        /// `list`), every reading older than a second is taken again. Absent means false,
        /// and a daemon from before it ignores it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        kept: bool,
    },
    /// Each instance's per-second readings and the registry's revision
    /// ([`crate::readings`]): the dashboard's poll, which fetches [`Request::Summary`]
    /// again only when the revision changed. Answered with [`Response::Readings`].
    Readings(crate::readings::ReadingsRequest),
    /// Resolve targets to ids without acting (for `pm2 pid`, `pm2 id`).
    Resolve(ResolveRequest),
    /// Stop every app gracefully, then the daemon.
    Kill,
    /// Stream log chunks and process events until the client hangs up: answered by many
    /// [`Response::Log`] frames (and [`Response::LogsMissed`] when the reader fell behind).
    Logs(LogsRequest),
    /// Truncate log files (`pm2 flush`); no targets means every app and `pm2.log`.
    Flush(FlushRequest),
    /// Reopen every log file (`pm2 reloadLogs`).
    ReloadLogs,
    /// `module_conf.json` changed (`pm2 set`, `pm2 install`): re-read it.
    ReloadModuleConf,
    /// Change how many instances an app runs (`pm2 scale`).
    Scale(ScaleRequest),
    /// Ecosystem actions: start the apps that do not run, restart or reload the others with
    /// their new definition.
    Apply(ApplyRequest),
    /// Run an action an app registered over IPC (`pm2 trigger`).
    Trigger(TriggerRequest),
    /// Write `dump.pm2` (`pm2 save`); an empty list needs `force`.
    Save {
        /// Save even when no app is managed.
        force: bool,
        /// Where the caller's environment puts the dump and its backup
        /// (`PM2_DUMP_FILE_PATH`, `PM2_DUMP_BACKUP_FILE_PATH`): PM2 saves from the CLI, so
        /// the shell that saves is the one whose `resurrect` finds it. `None`: the daemon's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<DumpPaths>,
    },
    /// Write a line to one instance's stdin (`pm2 send`, `pm2 attach`).
    SendLine(SendLineRequest),
    /// Set or clear `_km_monitored` (`pm2 monitor`, `pm2 unmonitor`).
    Monitor(MonitorRequest),
    /// Publish a daemon-level event, as PM2's custom bus events: what a command that runs
    /// outside the daemon tells the daemon's readers (`pm2 deploy` finished). The daemon
    /// publishes its own `pm2:reload` when a reload request completes.
    Emit(EmitRequest),
}

/// `pm2 trigger <target> <action> [param]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TriggerRequest {
    /// Which instances.
    pub targets: Vec<Target>,
    /// The action name.
    pub action: String,
    /// Its parameter.
    pub param: Option<String>,
}

/// One instance's answer to a trigger.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TriggerReply {
    /// Instance id.
    pub pm_id: u32,
    /// App name.
    pub name: String,
    /// What the action returned.
    pub value: Option<serde_json::Value>,
    /// Why there is no answer.
    pub error: Option<String>,
}

/// `pm2 start|restart|reload <ecosystem file>` and the `startOr*` commands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyRequest {
    /// The apps, resolved.
    pub apps: Vec<AppSpec>,
    /// What happens to apps that already run.
    pub running: ApplyMode,
}

/// What an ecosystem action does to an app that already runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyMode {
    /// Restart it with the new definition.
    Restart,
    /// Reload it (zero-downtime in cluster mode) with the new definition.
    Reload,
}

/// `pm2 scale <app> <N|+N|-N>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScaleRequest {
    /// App name.
    pub name: String,
    /// The change.
    pub change: ScaleChange,
}

/// How many instances `pm2 scale` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "n", rename_all = "snake_case")]
pub enum ScaleChange {
    /// Exactly this many.
    To(u32),
    /// This many more.
    Up(u32),
    /// This many fewer.
    Down(u32),
}

impl ScaleChange {
    /// Parses `N`, `+N` or `-N`.
    pub fn parse(raw: &str) -> Option<ScaleChange> {
        let n = |s: &str| s.parse::<u32>().ok();
        if let Some(rest) = raw.strip_prefix('+') {
            n(rest).map(ScaleChange::Up)
        } else if let Some(rest) = raw.strip_prefix('-') {
            n(rest).map(ScaleChange::Down)
        } else {
            n(raw).map(ScaleChange::To)
        }
    }

    /// The instance count after the change, from `current`.
    pub fn target(self, current: u32) -> u32 {
        match self {
            ScaleChange::To(n) => n,
            ScaleChange::Up(n) => current.saturating_add(n),
            ScaleChange::Down(n) => current.saturating_sub(n),
        }
    }
}

/// Stream logs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogsRequest {
    /// Targets (empty: every app, including ones started later).
    pub targets: Vec<Target>,
    /// Include the daemon's own log lines.
    pub daemon: bool,
}

/// Truncate log files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlushRequest {
    /// Targets (empty: everything, `pm2.log` included).
    pub targets: Vec<Target>,
}

/// What a streamed log chunk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogChunkKind {
    /// App stdout.
    Out,
    /// App stderr.
    Err,
    /// The daemon's own log.
    Pm2,
    /// A process event; the data is its name (`online`, `exit`, `stop`...).
    Event,
    /// A message the app sent over IPC (PM2's `process:msg`); the data is its JSON.
    Message,
}

/// One streamed chunk (may hold several lines or part of one).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogChunk {
    /// Instance id (None for daemon lines).
    pub pm_id: Option<u32>,
    /// App name (`PM2` for daemon lines).
    pub name: String,
    /// What it is.
    pub kind: LogChunkKind,
    /// When the daemon read it, ms since the epoch.
    pub at: u64,
    /// The text (invalid UTF-8 replaced; the files keep the raw bytes).
    pub data: String,
    /// For an `exit` event: how the process ended (absent from daemons before it, and
    /// on every other chunk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<ExitNote>,
}

/// How a process that exited on its own ended, on its `exit` event: what the dashboard
/// needs to tell a crash (non-zero code or a signal) from a clean exit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitNote {
    /// The exit code (0 when a signal ended it).
    pub code: i32,
    /// The signal's name (`SIGKILL`...), when one ended it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
}

/// Register and launch apps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartRequest {
    /// Apps to start, each with its instance count.
    pub apps: Vec<AppSpec>,
    /// Start even when an app of that name already exists (`-f`).
    pub force: bool,
}

/// The actions that apply to targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Graceful stop; the instance stays registered.
    Stop,
    /// Stop then start (or just start when stopped).
    Restart,
    /// Zero-downtime replacement in cluster mode; a restart otherwise.
    Reload,
    /// Graceful stop, then unregister.
    Delete,
    /// Zero `restart_time` and `unstable_restarts`.
    Reset,
}

impl Action {
    /// PM2's internal method name, printed in `Applying action ... on app`.
    pub fn pm2_method(self) -> &'static str {
        match self {
            Action::Stop => "stopProcessId",
            Action::Restart => "restartProcessId",
            Action::Reload => "reloadProcessId",
            Action::Delete => "deleteProcessId",
            Action::Reset => "resetMetaProcessId",
        }
    }
}

/// Something a user names on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Target {
    /// Every instance.
    All,
    /// One pm_id.
    Id(u32),
    /// An app name, or a namespace when no app has that name.
    Name(String),
    /// `/regex/` matched against app names.
    Regex(String),
    /// A word typed on the command line, as PM2's CLI takes it: the apps named `word` or
    /// whose script is `path` (the word resolved against the CLI's directory, which only
    /// the CLI knows), else the namespace `word`, else, for a number, the id.
    Word {
        /// The word as typed.
        word: String,
        /// The file the word names from the CLI's directory (absolute; it need not exist).
        path: String,
    },
}

impl Target {
    /// Parses a command-line word the way PM2 does: `all`, a number, `/re/`, else a name.
    pub fn parse(word: &str) -> Target {
        if word == "all" {
            return Target::All;
        }
        if let Ok(id) = word.parse::<u32>() {
            return Target::Id(id);
        }
        if word.len() >= 2 && word.starts_with('/') && word.ends_with('/') {
            return Target::Regex(word[1..word.len() - 1].to_string());
        }
        Target::Name(word.to_string())
    }

    /// A command-line word as PM2's CLI takes it for actions: `all` and `/re/` as in
    /// [`Target::parse`], anything else a [`Target::Word`] with `path`, the word resolved
    /// against the CLI's directory by the caller (this crate does no I/O).
    pub fn word(word: &str, path: impl FnOnce(&str) -> String) -> Target {
        match Target::parse(word) {
            Target::Name(_) | Target::Id(_) => Target::Word {
                word: word.to_string(),
                path: path(word),
            },
            other => other,
        }
    }

    /// The word as the user typed it, for messages.
    pub fn display(&self) -> String {
        match self {
            Target::All => "all".into(),
            Target::Id(id) => id.to_string(),
            Target::Name(n) => n.clone(),
            Target::Regex(r) => format!("/{r}/"),
            Target::Word { word, .. } => word.clone(),
        }
    }
}

/// Apply an action to targets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionRequest {
    /// What to do.
    pub action: Action,
    /// What to do it to; all must resolve or nothing is done.
    pub targets: Vec<Target>,
    /// With restart: merge this environment into each app's env (`--update-env`).
    pub update_env: Option<std::collections::BTreeMap<String, String>>,
    /// With restart/reload: toggle watching (`restart --watch`).
    #[serde(default)]
    pub toggle_watch: bool,
    /// With restart/reload: start options merged into each app's definition first.
    #[serde(default, skip_serializing_if = "SpecPatch::is_empty")]
    pub patch: Box<SpecPatch>,
}

/// Send a signal to targets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignalRequest {
    /// Signal name (`SIGUSR2`, `USR2`) or number.
    pub signal: String,
    /// Targets.
    pub targets: Vec<Target>,
}

/// Resolve targets to ids.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResolveRequest {
    /// Targets.
    pub targets: Vec<Target>,
}

/// The outcome of an action on one instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceOutcome {
    /// Instance id.
    pub pm_id: u32,
    /// App name.
    pub name: String,
    /// None on success, else why it failed.
    pub error: Option<String>,
}

/// What the daemon answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    /// Answer to [`Request::Ping`], with the daemon's version and pid.
    Pong {
        /// Daemon version.
        version: String,
        /// Daemon pid.
        pid: u32,
    },
    /// Per-instance outcomes of a start or an action.
    Outcomes {
        /// One entry per instance touched, in id order.
        outcomes: Vec<InstanceOutcome>,
    },
    /// Every instance, sorted by id.
    List {
        /// The instances.
        processes: Vec<ProcessInfo>,
    },
    /// [`Response::List`] with each environment once (protocol revision 2: the answer to
    /// [`Request::List`] and [`Request::Summary`] for a client that reads it); see
    /// [`crate::shared_list`].
    SharedList(crate::shared_list::SharedList),
    /// Answer to [`Request::Table`]: one row per instance, sorted by id.
    Table {
        /// The rows.
        rows: Vec<crate::TableRow>,
    },
    /// Answer to [`Request::Readings`].
    Readings(crate::readings::Readings),
    /// Answers to a trigger, in id order.
    TriggerReplies {
        /// One per targeted instance.
        replies: Vec<TriggerReply>,
    },
    /// `pm2 save` wrote this many apps to this file.
    Saved {
        /// Where.
        path: String,
        /// How many entries.
        count: usize,
    },
    /// Resolved ids.
    Ids {
        /// Instance ids in order.
        ids: Vec<u32>,
    },
    /// A streamed log chunk.
    Log(LogChunk),
    /// The reader fell behind and this many lines were skipped for it.
    LogsMissed {
        /// Lines skipped.
        lines: u64,
    },
    /// The request was refused or failed as a whole; nothing was changed.
    Error {
        /// A message for the user that says what to do.
        message: String,
    },
}

/// Where `pm2 save` writes: the dump and the copy of the previous one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpPaths {
    /// `dump.pm2`.
    pub dump: String,
    /// `dump.pm2.bak`.
    pub backup: String,
}

/// What the daemon sends back: its version plus the response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reply {
    /// The daemon's [`crate::VERSION`].
    pub daemon_version: String,
    /// The answer.
    pub response: Response,
}

// `pm2 send|attach` and `pm2 monitor|unmonitor`.

/// `pm2 send <pm_id> <line>`: bytes for one instance's stdin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendLineRequest {
    /// The instance (PM2 takes an id only, never a name).
    pub pm_id: u32,
    /// What to write, separator included (`\n` unless `attach` was given another).
    pub line: String,
}

/// `pm2 monitor|unmonitor <id|name|all>`: set `_km_monitored` on the instances named.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MonitorRequest {
    /// Which instances; all must resolve or nothing changes.
    pub targets: Vec<Target>,
    /// `true` for `monitor`, `false` for `unmonitor`.
    pub monitored: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets_like_pm2() {
        assert_eq!(Target::parse("all"), Target::All);
        assert_eq!(Target::parse("3"), Target::Id(3));
        assert_eq!(Target::parse("/^api/"), Target::Regex("^api".into()));
        assert_eq!(Target::parse("api"), Target::Name("api".into()));
        assert_eq!(Target::parse("/"), Target::Name("/".into()));
    }

    #[test]
    fn a_word_keeps_all_and_regexes_and_carries_its_path_otherwise() {
        let path = |w: &str| format!("/cwd/{w}");
        assert_eq!(Target::word("all", path), Target::All);
        assert_eq!(Target::word("/^a/", path), Target::Regex("^a".into()));
        for w in ["app.js", "123", "api"] {
            let want = Target::Word {
                word: w.into(),
                path: format!("/cwd/{w}"),
            };
            assert_eq!(Target::word(w, path), want);
            assert_eq!(want.display(), w);
        }
    }

    #[test]
    fn parses_scale_changes() {
        assert_eq!(ScaleChange::parse("3"), Some(ScaleChange::To(3)));
        assert_eq!(ScaleChange::parse("+2").map(|c| c.target(3)), Some(5));
        assert_eq!(ScaleChange::parse("-5").map(|c| c.target(3)), Some(0));
        assert_eq!(ScaleChange::parse("x"), None);
    }

    #[test]
    fn a_table_request_reads_the_same_for_daemons_and_clients_before_kept() {
        // The shape of `Request::Table` before `kept`: a unit variant.
        #[derive(Deserialize, PartialEq, Debug)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Before {
            Table,
        }
        let kept = serde_json::to_string(&Request::Table { kept: true }).unwrap();
        assert_eq!(
            serde_json::from_str::<Before>(&kept).unwrap(),
            Before::Table
        );
        let now = serde_json::to_string(&Request::Table { kept: false }).unwrap();
        assert_eq!(now, r#"{"type":"table"}"#, "as a client before it sent");
        let read: Request = serde_json::from_str(r#"{"type":"table"}"#).unwrap();
        assert!(matches!(read, Request::Table { kept: false }), "{read:?}");
    }

    #[test]
    fn a_readings_request_is_small_and_an_older_daemon_refuses_it_by_type() {
        let all = Request::Readings(crate::readings::ReadingsRequest::default());
        assert_eq!(
            serde_json::to_string(&all).unwrap(),
            r#"{"type":"readings"}"#
        );
        let some = crate::readings::ReadingsRequest {
            fresh_all: false,
            fresh: vec![3],
            since: Some(7),
        };
        let text = serde_json::to_string(&Request::Readings(some.clone())).unwrap();
        let Request::Readings(read) = serde_json::from_str(&text).unwrap() else {
            panic!("{text}")
        };
        assert_eq!(read, some);
        assert!(read.wants_fresh(3) && !read.wants_fresh(4));
        // A daemon before it knows no such type: its decoder fails, it answers an error.
        #[derive(Debug, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        #[allow(dead_code)]
        enum Before {
            Summary,
        }
        assert!(serde_json::from_str::<Before>(&text).is_err());
    }
}
