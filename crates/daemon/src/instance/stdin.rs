//! `pm2 send` / `pm2 attach`: writing a line to the app's stdin without ever letting an app
//! that does not read it hold the instance up.
//!
//! The pipe is non-blocking (tokio's); a write that cannot finish within [`WRITE_BUDGET`]
//! (the app stopped reading and the pipe's buffer is full) is abandoned and reported, so
//! the instance's task (and through it `pm2 stop`) waits at most that long.

use super::failure::StdinError;
use super::state::Instance;
use pm2_proto::ExecMode;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// How long one `send` may wait for room in the app's stdin pipe.
const WRITE_BUDGET: Duration = Duration::from_secs(1);

impl Instance {
    /// Writes `line` to the running process's stdin, within [`WRITE_BUDGET`].
    pub(super) async fn send_line(&mut self, line: &str) -> Result<(), StdinError> {
        let pm_id = self.info.pm_id;
        if self.info.spec.exec_mode == ExecMode::Cluster {
            return Err(StdinError::Cluster);
        }
        // Only a launching or online phase holds a child (PM2's condition).
        let Some(stdin) = self.phase.child_mut().and_then(|r| r.stdin.as_mut()) else {
            return Err(StdinError::Offline(pm_id));
        };
        let bytes = line.as_bytes();
        let deadline = tokio::time::Instant::now() + WRITE_BUDGET;
        let mut written = 0;
        while written < bytes.len() {
            match tokio::time::timeout_at(deadline, stdin.write(&bytes[written..])).await {
                Ok(Ok(0)) => {
                    let error = std::io::ErrorKind::WriteZero.into();
                    return Err(StdinError::Write { pm_id, error });
                }
                Ok(Ok(n)) => written += n,
                Ok(Err(error)) => return Err(StdinError::Write { pm_id, error }),
                Err(_) => {
                    let len = bytes.len();
                    return Err(StdinError::Full {
                        pm_id,
                        written,
                        len,
                    });
                }
            }
        }
        Ok(())
    }
}
