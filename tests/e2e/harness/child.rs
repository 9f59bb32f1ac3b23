//! The one helper for a child process of a test: a CLI call (`Pm2::run`) and a long-running
//! child (`pm2 logs`, `pm2-runtime`, `unshare … pm2-runtime`) alike. Both pipes are read on
//! their own threads into memory, so the child never blocks on a full pipe unless the test
//! pauses the reader on purpose; a waiter thread reports its exit, so waits are events, not polls;
//! and the child is SIGKILLed by its own pid if the test ends while it still runs.

use nix::sys::wait::{waitid, Id, WaitPidFlag};
use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A running child whose stdout and stderr accumulate in memory.
pub struct Spawned {
    child: Child,
    /// The command line, for reports.
    pub cmd: String,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
    /// While true, the stdout reader stops reading (a paused terminal).
    paused: Arc<(Mutex<bool>, Condvar)>,
    /// Sent by the waiter thread once the child has exited (a zombie not reaped yet, so its
    /// pid cannot be reused before [`Child::wait`] here reaps it).
    exited: Receiver<()>,
    status: Option<ExitStatus>,
    /// Disconnected once both readers reached EOF (each holds a sender).
    eof: Receiver<()>,
}

/// Reads `from` into `into` until EOF, waiting whenever `paused` is set; `done` is dropped
/// at EOF.
fn collect(
    mut from: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
    paused: Arc<(Mutex<bool>, Condvar)>,
    done: mpsc::Sender<()>,
) {
    std::thread::spawn(move || {
        let _done = done;
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
    });
}

fn not_paused() -> Arc<(Mutex<bool>, Condvar)> {
    Arc::new((Mutex::new(false), Condvar::new()))
}

fn text(bytes: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&bytes.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

impl Spawned {
    /// Starts `cmd` with stdin closed and both pipes read on threads; `label` names it in
    /// reports. Panics when it cannot be started.
    pub fn spawn(cmd: Command, label: String) -> Spawned {
        Spawned::start(cmd, label).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Spawned::spawn`], with the error as a message naming `label`.
    pub fn start(cmd: Command, label: String) -> Result<Spawned, String> {
        Spawned::start_with_stdin(cmd, label, None)
    }

    /// [`Spawned::start`], with `input` written to the child's stdin (then closed) instead
    /// of a closed stdin.
    pub fn start_with_stdin(
        mut cmd: Command,
        label: String,
        input: Option<Vec<u8>>,
    ) -> Result<Spawned, String> {
        let stdin = if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        let mut child = cmd
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {label}: {e}"))?;
        if let (Some(input), Some(mut pipe)) = (input, child.stdin.take()) {
            // On its own thread: a child that does not read must not block the test here.
            std::thread::spawn(move || {
                let _ = pipe.write_all(&input);
            });
        }
        let (out, err) = (Arc::default(), Arc::default());
        let paused = not_paused();
        let (done, eof) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        collect(stdout, Arc::clone(&out), Arc::clone(&paused), done.clone());
        collect(stderr, Arc::clone(&err), not_paused(), done);
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let (exit, exited) = mpsc::channel();
        std::thread::spawn(move || {
            let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
            while waitid(Id::Pid(pid), flags) == Err(nix::errno::Errno::EINTR) {}
            let _ = exit.send(());
        });
        Ok(Spawned {
            child,
            cmd: label,
            out,
            err,
            paused,
            exited,
            status: None,
            eof,
        })
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
        self.wait_exit_for(Duration::ZERO).is_err()
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

    /// The exit status once the child exited within `within` (it is reaped then), else Err
    /// with why not.
    fn wait_exit_for(&mut self, within: Duration) -> Result<ExitStatus, String> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        match self.exited.recv_timeout(within) {
            // The waiter stops on exit or when waitid fails (then wait() says why).
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                let status = self
                    .child
                    .wait()
                    .map_err(|e| format!("{}: wait failed: {e}", self.cmd))?;
                self.status = Some(status);
                Ok(status)
            }
            Err(RecvTimeoutError::Timeout) => {
                Err(format!("{} did not finish within {within:?}", self.cmd))
            }
        }
    }

    /// Waits up to `within` in all for the child to exit and both pipes to reach EOF, and
    /// returns (exit code, stdout, stderr); on time-out the child is killed.
    pub fn try_finish(
        &mut self,
        within: Duration,
    ) -> Result<(Option<i32>, String, String), String> {
        let deadline = Instant::now() + within;
        let status = self.wait_exit_for(within).inspect_err(|_| self.kill())?;
        let left = deadline.saturating_duration_since(Instant::now());
        if let Err(RecvTimeoutError::Timeout) = self.eof.recv_timeout(left) {
            return Err(format!("{}: output still open after {within:?}", self.cmd));
        }
        Ok((status.code(), self.stdout(), self.stderr()))
    }

    /// [`Spawned::try_finish`], panicking with the report after `within`.
    pub fn finish(mut self, within: Duration) -> (Option<i32>, String, String) {
        self.try_finish(within)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.report()))
    }

    /// SIGKILL to this child (by its own pid, never reused before it is reaped here).
    fn kill(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
