//! The accept task of a round-robin listener: accepts connections and feeds them to the
//! primary as [`PrimaryCmd::NewConn`].

use super::command::PrimaryCmd;
use crate::listener::ListenerKey;
use nix::sys::socket::{accept4, SockFlag};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Pause after running out of descriptors, before accepting again.
const FD_EXHAUSTED_PAUSE: Duration = Duration::from_millis(100);

/// Accepts on a round-robin listener and feeds the primary; waits (so the kernel backlog
/// pushes back) when the primary is saturated (P12).
pub(super) fn spawn_accept(
    fd: Arc<OwnedFd>,
    key: ListenerKey,
    tx: mpsc::Sender<PrimaryCmd>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        // SAFETY: the AsyncFd owns an Arc of the descriptor, which therefore stays open and
        // the same for the AsyncFd's whole life.
        let registered =
            unsafe { AsyncFd::register_with_interest(Arc::clone(&fd), Interest::READABLE) };
        let Ok(async_fd) = registered else {
            tracing::warn!("cluster: cannot watch listener {key}");
            return;
        };
        loop {
            let Ok(mut ready) = async_fd.readable().await else {
                return;
            };
            match accept4(
                fd.as_raw_fd(),
                SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            ) {
                Ok(raw) => {
                    // SAFETY: accept4 returned a fresh descriptor that nothing else owns.
                    let conn = unsafe { OwnedFd::from_raw_fd(raw) };
                    let cmd = PrimaryCmd::NewConn {
                        key: key.clone(),
                        conn,
                    };
                    if tx.send(cmd).await.is_err() {
                        return;
                    }
                }
                Err(nix::errno::Errno::EAGAIN) => ready.clear_ready(),
                Err(nix::errno::Errno::EMFILE | nix::errno::Errno::ENFILE) => {
                    tracing::warn!("cluster: out of file descriptors accepting on {key}");
                    tokio::time::sleep(FD_EXHAUSTED_PAUSE).await;
                }
                Err(_) => {}
            }
        }
    })
}
