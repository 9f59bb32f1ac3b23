//! PM2's `versioning`: when an app comes online and `PM2_ENABLE_GIT_PARSING=true`, the git
//! metadata of its folder is read off the instance task (git runs on the blocking pool,
//! each command under a deadline, see `pm2_home::git`) and stored when it arrives. A list
//! never runs git; a hung git delays nothing but its own answer.

use serde_json::Value;
use std::path::{Path, PathBuf};
use tokio::sync::oneshot;

/// The metadata being read, if any (one read at a time, as PM2's `vizion_running`).
#[derive(Default)]
pub(super) struct VersioningRead {
    pending: Option<oneshot::Receiver<Value>>,
}

impl VersioningRead {
    /// Starts reading the metadata of `folder` unless a read is already under way; true
    /// when one started.
    pub(super) fn start(&mut self, folder: PathBuf) -> bool {
        if self.pending.is_some() {
            return false;
        }
        let (tx, rx) = oneshot::channel();
        tokio::task::spawn_blocking(move || {
            let _ = tx.send(pm2_home::git::versioning(&folder));
        });
        self.pending = Some(rx);
        true
    }

    /// The metadata once read (`null` if the read was lost); never resolves while no read
    /// is under way. Cancel-safe: a read interrupted by another event goes on.
    pub(super) async fn done(&mut self) -> Value {
        let Some(rx) = self.pending.as_mut() else {
            return std::future::pending().await;
        };
        let value = rx.await.unwrap_or(Value::Null);
        self.pending = None;
        value
    }
}

/// The folder PM2 reads for an app: the script's folder (PM2 uses `pm2_env.cwd`, which
/// only an explicit `cwd` sets, else the script's directory).
pub(super) fn folder_of(script: &str) -> PathBuf {
    Path::new(script)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"))
}
