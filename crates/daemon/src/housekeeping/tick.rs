//! The housekeeping timer: every tick samples each running instance, keeps the readings for
//! views, enforces memory limits, journals what changed in the table (compacting the
//! journal once it outgrew its snapshot), and hands freed memory back to the OS.

use super::memory_limit::MemoryLimit;
use crate::instance::InstanceHandle;
use crate::persist::state_file;
use crate::state::Daemon;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How often every running instance is sampled and checked against its memory limit
/// (`PM2_WORKER_INTERVAL`, ms; PM2 checks every 30 s, this daemon every second by default).
fn worker_interval() -> Duration {
    let ms = std::env::var("PM2_WORKER_INTERVAL")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .unwrap_or(1000);
    Duration::from_millis(ms)
}

/// How often (in ticks) freed memory is handed back to the OS when no request came in
/// (otherwise it is done on the tick after each request).
const TRIM_EVERY_TICKS: u64 = 30;

/// Runs the ticks forever.
pub(crate) async fn run(daemon: Arc<Daemon>) {
    let mut tick = tokio::time::interval(worker_interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let limits = MemoryLimit::default();
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        ticks += 1;
        sample_all(&daemon, &limits);
        state_file::record_changes(&daemon);
        state_file::compact_if_due(&daemon);
        let after_request = daemon.trim_due.swap(false, Ordering::Relaxed);
        if after_request || ticks % TRIM_EVERY_TICKS == 0 {
            release_freed_memory();
        }
    }
}

/// A running instance as one tick sees it.
struct Running {
    pm_id: u32,
    pid: u32,
    memory_limit: Option<u64>,
    handle: InstanceHandle,
}

/// Every instance that runs now, read in place.
fn running(daemon: &Daemon) -> Vec<Running> {
    let registry = daemon.registry();
    registry
        .handles()
        .into_iter()
        .filter_map(|handle| {
            let (pm_id, pid, memory_limit) = handle.peek(|p| {
                let pid = p.pid.filter(|_| p.status.is_running());
                (p.pm_id, pid, p.spec.max_memory_restart)
            });
            pid.map(|pid| Running {
                pm_id,
                pid,
                memory_limit,
                handle,
            })
        })
        .collect()
}

/// Samples every running instance on one timer, remembers the readings for views, and
/// restarts (reloads in cluster mode) the ones over their `max_memory_restart`.
fn sample_all(daemon: &Daemon, limits: &MemoryLimit) {
    let running = running(daemon);
    let mut readings = HashMap::with_capacity(running.len());
    let mut live = Vec::with_capacity(running.len());
    for r in running {
        let monit = daemon.sampler.sample(r.pid);
        readings.insert(r.pm_id, monit);
        live.push(r.pid);
        if let Some(limit) = r.memory_limit.filter(|l| monit.memory > *l) {
            limits.enforce(r.handle, r.pm_id, monit.memory, limit);
        }
    }
    daemon.sampler.store(readings, &live);
}

/// Hands memory freed since the last tick (request and reply buffers, which grow with the
/// number of apps) back to the OS, so the daemon's RSS reflects what it holds, not the
/// high-water mark of past requests. glibc only; cheap when there is nothing to return.
fn release_freed_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free heap pages; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
