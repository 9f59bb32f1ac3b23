//! The one helper for a long-running child of a test (`pm2 logs`, `pm2-runtime`,
//! `unshare … pm2-runtime`): both pipes are read on their own threads into memory, so the
//! child never blocks on a full pipe unless the test pauses the reader on purpose, and the
//! child is SIGKILLed by its own pid if the test ends while it still runs.

use super::poll::try_poll;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running child whose stdout and stderr accumulate in memory.
pub struct Spawned {
    child: Child,
    /// The command line, for reports.
    pub cmd: String,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
    /// While true, the stdout reader stops reading (a paused terminal).
    paused: Arc<(Mutex<bool>, Condvar)>,
    readers: Vec<JoinHandle<()>>,
}

/// Reads `from` into `into` until EOF, waiting whenever `paused` is set.
fn collect(
    mut from: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
    paused: Arc<(Mutex<bool>, Condvar)>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            {
                let (lock, resumed) = &*paused;
                let mut stopped = lock.lock().unwrap_or_else(|p| p.into_inner());
                while *stopped {
                    // Not reading is the condition under test (a paused terminal).
                    stopped = resumed.wait(stopped).unwrap_or_else(|p| p.into_inner());
                }
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
    })
}

fn not_paused() -> Arc<(Mutex<bool>, Condvar)> {
    Arc::new((Mutex::new(false), Condvar::new()))
}

fn text(bytes: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&bytes.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

impl Spawned {
    /// Starts `cmd` with stdin closed and both pipes read on threads; `label` names it in
    /// reports.
    pub fn spawn(mut cmd: Command, label: String) -> Spawned {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {label}: {e}"));
        let (out, err) = (Arc::default(), Arc::default());
        let paused = not_paused();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let readers = vec![
            collect(stdout, Arc::clone(&out), Arc::clone(&paused)),
            collect(stderr, Arc::clone(&err), not_paused()),
        ];
        Spawned {
            child,
            cmd: label,
            out,
            err,
            paused,
            readers,
        }
    }

    /// The child's pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Stops reading stdout, like a paused terminal: once its pipe is full the child blocks
    /// (the chunk being read, if any, still arrives).
    pub fn pause(&self) {
        *self.paused.0.lock().unwrap_or_else(|p| p.into_inner()) = true;
    }

    /// Reads stdout again after [`Spawned::pause`].
    pub fn resume(&self) {
        let (lock, resumed) = &*self.paused;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = false;
        resumed.notify_all();
    }

    /// Everything printed on stdout so far (lossy UTF-8).
    pub fn stdout(&self) -> String {
        text(&self.out)
    }

    /// Everything printed on stderr so far (lossy UTF-8).
    pub fn stderr(&self) -> String {
        text(&self.err)
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

    /// Waits up to `within` for the child to exit on its own; on time-out it is killed and
    /// the error carries the report.
    pub fn wait_exit(&mut self, within: Duration) -> Result<ExitStatus, String> {
        let child = &mut self.child;
        match try_poll(within, || child.try_wait().ok().flatten()) {
            Ok(status) => Ok(status),
            Err(e) => {
                let _ = self.child.kill();
                Err(format!(
                    "{} did not exit within {:?}\n{}",
                    self.cmd,
                    e.after,
                    self.report()
                ))
            }
        }
    }

    /// Waits for the child to exit, then for both pipes to reach EOF, and returns
    /// (exit code, stdout, stderr); panics with the report after `within`.
    pub fn finish(mut self, within: Duration) -> (Option<i32>, String, String) {
        let status = self.wait_exit(within).unwrap_or_else(|e| panic!("{e}"));
        for reader in std::mem::take(&mut self.readers) {
            let _ = reader.join();
        }
        (status.code(), self.stdout(), self.stderr())
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // Child::kill signals this child's own pid only.
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
