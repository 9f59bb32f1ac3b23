//! Helpers shared by the logs tests: a live `pm2 logs` child whose output is collected on
//! threads (and which is killed by its own pid when dropped), and readers of numbered log
//! files.
#![allow(dead_code)] // each test binary uses a different part

use crate::common::{bin, Pm2};
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `pm2 logs ...`; stdout and stderr accumulate in memory.
pub struct LogsStream {
    child: Child,
    cmd: String,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
    /// While set, the stdout thread stops reading.
    paused: Arc<AtomicBool>,
}

fn collect(
    mut from: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
    paused: Arc<AtomicBool>,
) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            while paused.load(Ordering::SeqCst) {
                // Not reading is the condition under test (a paused terminal).
                std::thread::sleep(Duration::from_millis(10));
            }
            let Ok(n) = from.read(&mut buf) else {
                break;
            };
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(&buf[..n]);
        }
    });
}

impl LogsStream {
    /// Starts `pm2 args` (in the test folder, against the test's PM2_HOME), reading both
    /// pipes on their own threads.
    pub fn spawn(p: &Pm2, args: &[&str]) -> LogsStream {
        let mut child = Command::new(bin())
            .args(args)
            .current_dir(&p.dir)
            .env("PM2_HOME", &p.home)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn pm2 logs");
        let err = Arc::new(Mutex::new(Vec::new()));
        let (out, paused) = (
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(AtomicBool::new(false)),
        );
        let stdout = child.stdout.take().expect("piped stdout");
        collect(stdout, Arc::clone(&out), Arc::clone(&paused));
        let stderr = child.stderr.take().expect("piped stderr");
        collect(stderr, Arc::clone(&err), Arc::new(AtomicBool::new(false)));
        LogsStream {
            child,
            cmd: format!("pm2 {}", args.join(" ")),
            out,
            err,
            paused,
        }
    }

    /// Reads stdout again after [`LogsStream::pause`].
    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }

    /// Stops reading stdout, like a paused terminal: once its pipe is full the child blocks
    /// (the chunk being read, if any, still arrives).
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    /// Everything printed on stdout so far (lossy UTF-8).
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// Everything printed on stderr so far (lossy UTF-8).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// Whether the child is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What the child printed, for failure reports (the last 4000 characters of each pipe).
    pub fn report(&self) -> String {
        let tail = |s: String| {
            let cut = s.len().saturating_sub(4000);
            let cut = (cut..s.len()).find(|i| s.is_char_boundary(*i)).unwrap_or(0);
            s[cut..].to_string()
        };
        format!(
            "--- {} stdout (tail) ---\n{}\n--- stderr ---\n{}",
            self.cmd,
            tail(self.stdout()),
            tail(self.stderr())
        )
    }

    /// Polls until `cond(stdout)` holds; fails with the stream's output after `within`.
    pub fn wait_stdout(&self, p: &Pm2, within: Duration, what: &str, cond: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + within;
        while !cond(&self.stdout()) {
            if Instant::now() >= deadline {
                p.fail(
                    &format!(
                        "timed out after {within:?} waiting for {what}\n{}",
                        self.report()
                    ),
                    None,
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Waits until stdout contains `needle`.
    pub fn wait_for(&self, p: &Pm2, needle: &str, within: Duration) {
        self.wait_stdout(p, within, &format!("stdout to contain {needle:?}"), |s| {
            s.contains(needle)
        });
    }

    /// Waits for the child to exit on its own (it is killed after `within`).
    pub fn wait_exit(&mut self, p: &Pm2, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                p.fail(
                    &format!(
                        "{} did not exit within {within:?}\n{}",
                        self.cmd,
                        self.report()
                    ),
                    None,
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for LogsStream {
    fn drop(&mut self) {
        // Child::kill signals this child's own pid only.
        let _ = self.child.kill();
        let _ = self.child.wait();
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
