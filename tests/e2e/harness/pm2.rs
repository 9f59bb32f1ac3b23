//! One test's private pm2 world: the real `pm2` binary against a private `PM2_HOME`,
//! fixture apps copied into a private folder, waits with a deadline, and failure reports that carry the command, its output, `pm2 jlist` and the daemon log.
//!
//! Every [`Pm2`] stops its daemon on drop (`pm2 kill`, then SIGKILL to that daemon's pid
//! only, then SIGKILL to any app pid the test saw), so a failing test never leaks processes.

use super::child::Spawned;
use super::jlist::st;
use super::poll::{try_poll, Ready};
use super::procs::{alive, is_daemon_of, sigkill, start_time};
use super::turns::{self, Turn};
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The fixture apps shipped with the tests.
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/fixtures");
/// How long one CLI call may take before the test gives up on it.
const CLI_TIMEOUT: Duration = Duration::from_secs(60);

/// The `pm2` binary under test: cargo's build of this checkout, or `$PM2_RS_BIN` (e.g. a
/// release build, to run tests against what the release profile and link mode make).
pub fn bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("PM2_RS_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_pm2").to_string())
    })
}

/// One finished CLI call.
#[derive(Debug, Clone)]
pub struct Output {
    /// The command line, for reports.
    pub cmd: String,
    /// Exit code (None when killed by a signal).
    pub code: Option<i32>,
    /// Captured stdout.
    pub stdout: String,
    /// Captured stderr.
    pub stderr: String,
    /// Wall time of the call.
    pub elapsed: Duration,
}

impl Output {
    /// The finished `output` of `cmd` (a command line for reports), which took `elapsed`.
    pub fn of(cmd: String, output: std::process::Output, elapsed: Duration) -> Output {
        Output {
            cmd,
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            elapsed,
        }
    }

    /// Panics with the report unless the command exited 0 (for tests without a [`Pm2`]).
    pub fn ok(&self) {
        assert_eq!(self.code, Some(0), "{}", self.report());
    }

    /// The command, its exit code and both outputs, for failure messages.
    pub fn report(&self) -> String {
        format!(
            "command: {}\nexit code: {:?} (took {:?})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.cmd, self.code, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// A private pm2 world: a temp folder for fixtures and `PM2_HOME` inside it.
pub struct Pm2 {
    /// The binary every call runs: pm2-rs, or real PM2 in a reference run.
    bin: PathBuf,
    /// The test's own folder (the CLI's working directory by default).
    pub dir: PathBuf,
    /// `PM2_HOME`.
    pub home: PathBuf,
    /// App pids seen by this test, with their start times (so a reused pid is never hit).
    recorded: Mutex<HashSet<(i32, u64)>>,
    /// The last CLI call other than jlist, reported when a plain `assert!` fails.
    last: Mutex<Option<Output>>,
    /// Set once [`Pm2::fail`] printed the full report, so the drop guard does not repeat it.
    reported: AtomicBool,
    /// This test's turn, given back after the drop guard cleaned up.
    _turn: Turn,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Pm2 {
    /// A fresh world; `tag` names its folder.
    pub fn new(tag: &str) -> Pm2 {
        Pm2::with_turn(tag, turns::shared())
    }

    /// A fresh world that exists alone: it waits until no other test has a world, and no
    /// other starts until it is dropped (for a test that measures a CPU share).
    pub fn alone(tag: &str) -> Pm2 {
        Pm2::with_turn(tag, turns::exclusive())
    }

    /// A fresh world run by real PM2 (the binary at `$PM2_REF`, e.g.
    /// `node_modules/.bin/pm2` of an `npm install pm2@7` as `bench/pm2bench/context.py`
    /// does), so a scenario's assertions are checked against PM2 itself. Reference tests
    /// are `#[ignore]`d: run them with `PM2_REF=... cargo test -- --ignored`; without
    /// `$PM2_REF` they fail rather than pass.
    pub fn reference(tag: &str) -> Pm2 {
        let bin = std::env::var_os("PM2_REF").map(PathBuf::from);
        let found = bin.as_ref().is_some_and(|b| b.is_file());
        super::require(found, "reference run: set PM2_REF to PM2 7's bin/pm2");
        let mut p = Pm2::with_turn(tag, turns::shared());
        p.bin = bin.unwrap_or_default();
        p
    }

    fn with_turn(tag: &str, turn: Turn) -> Pm2 {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let tag: String = tag.chars().take(20).collect();
        let dir = std::env::temp_dir()
            .join("pm2rs-e2e")
            .join(format!("{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the test folder");
        let dir = dir.canonicalize().expect("canonical test folder");
        let home = dir.join("home");
        Pm2 {
            bin: PathBuf::from(bin()),
            dir,
            home,
            recorded: Mutex::new(HashSet::new()),
            last: Mutex::new(None),
            reported: AtomicBool::new(false),
            _turn: turn,
        }
    }

    /// The binary this world runs (pm2-rs, or PM2 7 in a reference run), for tests that
    /// run it in their own way (in a network namespace, say).
    pub fn bin_path(&self) -> &Path {
        &self.bin
    }

    /// Copies a fixture into the test folder and returns its path there.
    pub fn fixture(&self, name: &str) -> PathBuf {
        let dest = self.dir.join(name);
        std::fs::copy(Path::new(FIXTURES).join(name), &dest).expect("copy fixture");
        dest
    }

    /// Writes a light shell app at `rel` in the test folder (subfolders created) and returns
    /// its path: it sleeps until stopped, so tests can name it as a file target.
    pub fn sleeper_script(&self, rel: &str) -> PathBuf {
        let dest = self.dir.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).expect("create the script's folder");
        }
        std::fs::write(&dest, "exec sleep 1000\n").expect("write the script");
        dest
    }

    /// A `pm2 args` command in the test folder against this `PM2_HOME`, for tests that
    /// spawn it themselves (stdin and pipes are theirs to set).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .current_dir(&self.dir)
            .env("PM2_HOME", &self.home);
        cmd
    }

    /// Runs `pm2 args` in the test folder.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(&self.dir, &[], args)
    }

    /// Runs `pm2 args` in `dir`.
    pub fn run_in(&self, dir: &Path, args: &[&str]) -> Output {
        self.run_with(dir, &[], args)
    }

    /// Runs `pm2 args` with extra environment variables.
    pub fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        self.run_with(&self.dir, env, args)
    }

    /// Runs `pm2 args` in `dir` with extra environment variables.
    pub fn run_with(&self, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
        self.record_run(args, self.try_run(dir, env, args, None, CLI_TIMEOUT))
    }

    /// Runs `pm2 args` in the test folder with `input` on its stdin (other calls get a
    /// closed stdin).
    pub fn run_stdin(&self, input: &str, args: &[&str]) -> Output {
        let run = self.try_run(&self.dir, &[], args, Some(input), CLI_TIMEOUT);
        self.record_run(args, run)
    }

    /// Keeps `run` as the last command for reports, or fails the test with its error.
    fn record_run(&self, args: &[&str], run: Result<Output, String>) -> Output {
        match run {
            Ok(out) => {
                // jlist polls would hide the command that matters (and are huge).
                if args.first() != Some(&"jlist") {
                    *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(out.clone());
                }
                out
            }
            Err(msg) => self.fail(&msg, None),
        }
    }

    fn try_run(
        &self,
        dir: &Path,
        env: &[(&str, &str)],
        args: &[&str],
        input: Option<&str>,
        timeout: Duration,
    ) -> Result<Output, String> {
        let mut cmd_line = format!("(cd {} && pm2 {})", dir.display(), shell_words(args));
        if let Some(input) = input {
            cmd_line = format!("{} <<< {input:?})", cmd_line.trim_end_matches(')'));
        }
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .current_dir(dir)
            .env("PM2_HOME", &self.home)
            .envs(env.iter().copied());
        let started = Instant::now();
        let input = input.map(|i| i.as_bytes().to_vec());
        let mut child = Spawned::start_with_stdin(cmd, cmd_line.clone(), input)?;
        let (code, stdout, stderr) = child.try_finish(timeout)?;
        Ok(Output {
            cmd: cmd_line,
            code,
            stdout,
            stderr,
            elapsed: started.elapsed(),
        })
    }

    /// Runs and requires exit code 0.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        self.expect_code(&out, 0);
        out
    }

    /// Runs with extra env and requires exit code 0.
    pub fn ok_env(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        let out = self.run_env(env, args);
        self.expect_code(&out, 0);
        out
    }

    /// Runs and requires exit code `code`.
    pub fn fails(&self, args: &[&str], code: i32) -> Output {
        let out = self.run(args);
        self.expect_code(&out, code);
        out
    }

    /// Fails the test unless `out` exited with `code`.
    pub fn expect_code(&self, out: &Output, code: i32) {
        if out.code != Some(code) {
            self.fail(&format!("expected exit code {code}"), Some(out));
        }
    }

    /// Fails the test with the command's report unless `cond` holds.
    pub fn check(&self, cond: bool, what: &str, out: &Output) {
        if !cond {
            self.fail(what, Some(out));
        }
    }

    /// Fails the test unless `out`'s stdout or stderr contains `needle`.
    pub fn expect_output(&self, out: &Output, needle: &str) {
        let found = out.stdout.contains(needle) || out.stderr.contains(needle);
        self.check(found, &format!("output should contain {needle:?}"), out);
    }

    /// `pm2 jlist` parsed; every app pid seen is recorded for the drop guard.
    pub fn jlist(&self) -> Value {
        let out = self.run(&["jlist"]);
        self.expect_code(&out, 0);
        let json: Value = match serde_json::from_str(&out.stdout) {
            Ok(v) => v,
            Err(e) => self.fail(&format!("jlist is not JSON: {e}"), Some(&out)),
        };
        for app in json.as_array().into_iter().flatten() {
            if let Some(pid) = app["pid"].as_i64().filter(|p| *p > 0) {
                self.record_pid(pid as i32);
            }
        }
        json
    }

    /// The jlist elements.
    pub fn apps(&self) -> Vec<Value> {
        self.jlist().as_array().cloned().unwrap_or_default()
    }

    /// How many apps are registered; 0 when no daemon runs (and none is spawned to ask).
    pub fn app_count(&self) -> usize {
        if self.daemon_pid().is_some_and(alive) {
            self.apps().len()
        } else {
            0
        }
    }

    /// The jlist element with `pm_id == id`, if any.
    pub fn find(&self, id: u64) -> Option<Value> {
        self.apps()
            .into_iter()
            .find(|a| a["pm_id"].as_u64() == Some(id))
    }

    /// The jlist element with `pm_id == id`; fails when it is not there.
    pub fn app(&self, id: u64) -> Value {
        match self.find(id) {
            Some(a) => a,
            None => self.fail(&format!("no app with pm_id {id}"), None),
        }
    }

    /// Polls `cond` (a `bool`, or an `Option` whose value is returned) every ~25 ms until it
    /// holds; after `within`, fails printing `what`, the last jlist and the daemon log tail.
    pub fn wait_until<R: Ready>(
        &self,
        within: Duration,
        what: &str,
        cond: impl FnMut() -> R,
    ) -> R::Out {
        match try_poll(within, cond) {
            Ok(out) => out,
            Err(e) => self.fail(
                &format!("timed out after {:?} waiting for: {what}", e.after),
                None,
            ),
        }
    }

    /// Waits until app `id` shows `status`, and returns its jlist element.
    pub fn wait_status(&self, id: u64, status: &str, within: Duration) -> Value {
        let mut last = Value::Null;
        self.wait_until(within, &format!("app {id} to be {status}"), || {
            last = self.find(id).unwrap_or(Value::Null);
            st(&last) == status
        });
        last
    }

    /// Waits until app `id` is online and returns its pid.
    pub fn wait_online(&self, id: u64) -> i32 {
        let app = self.wait_status(id, "online", Duration::from_secs(10));
        app["pid"].as_i64().unwrap_or(0) as i32
    }

    /// Waits until `path` contains `needle`.
    pub fn wait_file_contains(&self, path: &Path, needle: &str, within: Duration) {
        let what = format!("{} to contain {needle:?}", path.display());
        self.wait_until(within, &what, || {
            std::fs::read_to_string(path).is_ok_and(|t| t.contains(needle))
        });
    }

    /// Remembers an app (or grandchild) pid so the drop guard kills it if it survives.
    pub fn record_pid(&self, pid: i32) {
        if let Some(start) = start_time(pid) {
            self.recorded
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert((pid, start));
        }
    }

    /// The pid in `$PM2_HOME/pm2.pid`.
    pub fn daemon_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.home.join("pm2.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// `$PM2_HOME/logs/<file>`.
    pub fn log_path(&self, file: &str) -> PathBuf {
        self.home.join("logs").join(file)
    }

    /// The last `n` lines of the daemon log.
    pub fn daemon_log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(self.home.join("pm2.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Panics with `msg`, the command report, the current jlist and the daemon log tail.
    pub fn fail(&self, msg: &str, out: Option<&Output>) -> ! {
        self.reported.store(true, Ordering::SeqCst);
        let mut report = format!("\n=== E2E FAILURE: {msg}\n");
        if let Some(out) = out {
            report.push_str(&out.report());
            report.push('\n');
        }
        report.push_str(&self.state_report());
        panic!("{report}");
    }

    /// The current jlist and the daemon log tail, for failure reports.
    fn state_report(&self) -> String {
        let mut report = String::new();
        report.push_str(&format!("--- pm2 jlist ---\n{}\n", self.jlist_summary()));
        report.push_str(&format!(
            "--- {}/pm2.log (tail) ---\n{}\n",
            self.home.display(),
            self.daemon_log_tail(40)
        ));
        report
    }

    /// One line per app, or why there is none (never spawns a daemon).
    fn jlist_summary(&self) -> String {
        if !self.daemon_pid().is_some_and(alive) {
            return "(daemon not running)".into();
        }
        let out = match self.try_run(&self.dir, &[], &["jlist"], None, Duration::from_secs(10)) {
            Ok(out) => out,
            Err(e) => return e,
        };
        match serde_json::from_str::<Value>(&out.stdout) {
            Ok(Value::Array(apps)) => {
                apps.iter()
                    .map(|a| {
                        let e = &a["pm2_env"];
                        format!(
                        "id={} name={} status={} pid={} restart_time={} exit_code={} pm_uptime={}",
                        a["pm_id"], a["name"], e["status"], a["pid"], e["restart_time"],
                        e["exit_code"], e["pm_uptime"]
                    )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            _ => out.report(),
        }
    }
}

impl Drop for Pm2 {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.reported.load(Ordering::SeqCst) {
            // A plain assert failed: add what `fail` would have printed.
            let last = self.last.lock().unwrap_or_else(|p| p.into_inner()).clone();
            if let Some(out) = last {
                eprintln!("--- last pm2 command ---\n{}", out.report());
            }
            eprintln!("{}", self.state_report());
        }
        let daemon = self.daemon_pid();
        let _ = self.try_run(&self.dir, &[], &["kill"], None, Duration::from_secs(30));
        if let Some(pid) = daemon.filter(|p| is_daemon_of(*p, &self.home)) {
            sigkill(pid);
        }
        let recorded = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
        for &(pid, start) in recorded.iter() {
            if start_time(pid) == Some(start) && alive(pid) {
                sigkill(pid);
            }
        }
        if std::thread::panicking() {
            eprintln!("e2e: kept {} for inspection", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn shell_words(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'') {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
