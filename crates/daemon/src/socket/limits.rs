//! What one client may hold of the daemon: a connection among a bounded number, a frame
//! that must arrive within a deadline once begun, a connection that may sit idle only so
//! long, and frame bodies read only while the daemon-wide budget for them has room. A peer
//! that opens connections and never finishes a request cannot make the daemon grow.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Connections served at once (`PM2_RS_MAX_CONNECTIONS`); one more is told so and closed.
const MAX_CONNECTIONS: usize = 512;
/// How long a connection may wait before its first frame, or between two frames
/// (`PM2_RS_IDLE_TIMEOUT_MS`).
const IDLE: Duration = Duration::from_secs(600);
/// How long a frame may take to arrive once its first byte has (`PM2_RS_FRAME_TIMEOUT_MS`).
const FRAME: Duration = Duration::from_secs(30);
/// Bytes of frame bodies being read at once, all connections together.
const BODY_BUDGET: usize = 256 * 1024 * 1024;
/// The unit of that budget: a body smaller than this costs one unit.
const BODY_UNIT: usize = 64 * 1024;

/// The limits of the control socket, shared by its connections.
#[derive(Clone)]
pub(crate) struct Limits {
    connections: Arc<Semaphore>,
    bodies: Arc<Semaphore>,
    /// The most connections served at once.
    pub(crate) max_connections: usize,
    /// Idle time allowed before a frame begins.
    pub(crate) idle: Duration,
    /// Time allowed for a frame once begun.
    pub(crate) frame: Duration,
}

impl Limits {
    /// The limits, with the overrides of the daemon's environment.
    pub(crate) fn from_env() -> Limits {
        let max_connections = env_num("PM2_RS_MAX_CONNECTIONS").map_or(MAX_CONNECTIONS, |n| {
            usize::try_from(n).unwrap_or(MAX_CONNECTIONS).max(1)
        });
        let ms = |var, default| env_num(var).map_or(default, Duration::from_millis);
        Limits {
            connections: Arc::new(Semaphore::new(max_connections)),
            bodies: Arc::new(Semaphore::new(BODY_BUDGET / BODY_UNIT)),
            max_connections,
            idle: ms("PM2_RS_IDLE_TIMEOUT_MS", IDLE),
            frame: ms("PM2_RS_FRAME_TIMEOUT_MS", FRAME),
        }
    }

    /// A place for one more connection, or None when all are taken.
    pub(crate) fn connection(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.connections).try_acquire_owned().ok()
    }

    /// Room in the body budget for a body of `len` bytes, waiting for it at most until the
    /// frame's deadline (the caller's timeout).
    pub(crate) async fn body(&self, len: usize) -> Option<OwnedSemaphorePermit> {
        let units = len.div_ceil(BODY_UNIT).clamp(1, BODY_BUDGET / BODY_UNIT);
        let units = u32::try_from(units).ok()?;
        Arc::clone(&self.bodies)
            .acquire_many_owned(units)
            .await
            .ok()
    }
}

fn env_num(var: &str) -> Option<u64> {
    std::env::var(var).ok()?.trim().parse().ok()
}
