//! Helpers shared by the logs tests: a live `pm2 logs` child (a [`Spawned`] that fails
//! through the test's [`Pm2`] report), and readers of numbered log files.

use super::child::Spawned;
use super::pm2::Pm2;
use super::poll::try_poll;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::time::Duration;

/// A running `pm2 logs ...`; stdout and stderr accumulate in memory.
pub struct LogsStream(Spawned);

impl Deref for LogsStream {
    type Target = Spawned;
    fn deref(&self) -> &Spawned {
        &self.0
    }
}

impl DerefMut for LogsStream {
    fn deref_mut(&mut self) -> &mut Spawned {
        &mut self.0
    }
}

impl LogsStream {
    /// Starts `pm2 args` (in the test folder, against the test's PM2_HOME), reading both
    /// pipes on their own threads.
    pub fn spawn(p: &Pm2, args: &[&str]) -> LogsStream {
        LogsStream(Spawned::spawn(
            p.command(args),
            format!("pm2 {}", args.join(" ")),
        ))
    }

    /// Starts `pm2 args` with its stderr on the same pipe as its stdout, so what it warns
    /// about keeps its place among the lines it prints ([`Spawned::stdout`] has both).
    pub fn spawn_merged(p: &Pm2, args: &[&str]) -> LogsStream {
        let program = p.command(&[]).get_program().to_owned();
        let mut merged = std::process::Command::new("bash");
        merged
            .args(["-c", r#"exec "$0" "$@" 2>&1"#])
            .arg(program)
            .args(args)
            .current_dir(&p.dir)
            .env("PM2_HOME", &p.home);
        LogsStream(Spawned::spawn(
            merged,
            format!("pm2 {} 2>&1", args.join(" ")),
        ))
    }

    /// Polls until `cond(stdout)` holds; fails with the stream's output after `within`.
    pub fn wait_stdout(&self, p: &Pm2, within: Duration, what: &str, cond: impl Fn(&str) -> bool) {
        if try_poll(within, || cond(&self.stdout())).is_err() {
            p.fail(
                &format!(
                    "timed out after {within:?} waiting for {what}\n{}",
                    self.report()
                ),
                None,
            );
        }
    }

    /// Waits until stdout contains `needle`.
    pub fn wait_for(&self, p: &Pm2, needle: &str, within: Duration) {
        self.wait_stdout(p, within, &format!("stdout to contain {needle:?}"), |s| {
            s.contains(needle)
        });
    }
}

/// The sequence numbers of the complete `seq <n> ...` lines of `bytes`.
pub fn seq_numbers(bytes: &[u8]) -> Vec<u64> {
    let text = String::from_utf8_lossy(bytes);
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete
        .lines()
        .filter_map(|l| l.strip_prefix("seq ")?.split(' ').next()?.parse().ok())
        .collect()
}

/// The sequence numbers of a file (empty when it cannot be read).
pub fn seq_numbers_in(path: &Path) -> Vec<u64> {
    seq_numbers(&std::fs::read(path).unwrap_or_default())
}

/// How often each of `0..total` occurs in `seen`, summarised as (missing, duplicated,
/// out of range) examples, or None when every number occurs exactly once.
pub fn exactly_once(seen: &[u64], total: u64) -> Option<String> {
    let mut count = vec![0u32; total as usize];
    let mut stray = Vec::new();
    for &n in seen {
        match count.get_mut(n as usize) {
            Some(c) => *c += 1,
            None => stray.push(n),
        }
    }
    let missing: Vec<usize> = (0..count.len()).filter(|i| count[*i] == 0).collect();
    let dup: Vec<usize> = (0..count.len()).filter(|i| count[*i] > 1).collect();
    if missing.is_empty() && dup.is_empty() && stray.is_empty() {
        return None;
    }
    let head = |v: &[usize]| v.iter().take(10).map(|n| n.to_string()).collect::<Vec<_>>();
    Some(format!(
        "{} lines seen; {} missing (first {:?}), {} duplicated (first {:?}), out of range {:?}",
        seen.len(),
        missing.len(),
        head(&missing),
        dup.len(),
        head(&dup),
        stray.iter().take(10).collect::<Vec<_>>()
    ))
}
