//! The housekeeping timer: every tick reads the instances with a memory limit and enforces
//! it, every [`SWEEP_EVERY_TICKS`] ticks reads all of them (views read what they show
//! themselves, see `sampler.rs`), journals what changed in the table (compacting the
//! journal once it outgrew its snapshot), and hands freed memory back to the OS.

use super::memory_limit::MemoryLimit;
use crate::instance::InstanceHandle;
use crate::persist::state_file;
use crate::state::Daemon;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How often instances with a memory limit are read and checked against it
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

/// How often (in ticks) every running instance is read, limit or not: keeps each one's CPU
/// baseline recent and drops what dead pids left (PM2's own worker runs every 30 s).
const SWEEP_EVERY_TICKS: u64 = 30;

/// Runs the ticks forever.
pub(crate) async fn run(daemon: Arc<Daemon>) {
    let mut tick = tokio::time::interval(worker_interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let limits = MemoryLimit::default();
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        ticks += 1;
        sample_due(&daemon, &limits, ticks % SWEEP_EVERY_TICKS == 1);
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

/// Reads the instances with a memory limit (all of them on a `sweep`) and restarts (reloads
/// in cluster mode) the ones over their `max_memory_restart`.
fn sample_due(daemon: &Daemon, limits: &MemoryLimit, sweep: bool) {
    let running = running(daemon);
    let mut live = Vec::with_capacity(if sweep { running.len() } else { 0 });
    for r in running {
        if sweep {
            live.push((r.pm_id, r.pid));
        } else if r.memory_limit.is_none() {
            continue;
        }
        let monit = daemon.sampler.sample_instance(r.pm_id, r.pid);
        if let Some(limit) = r.memory_limit.filter(|l| monit.memory > *l) {
            limits.enforce(r.handle, r.pm_id, monit.memory, limit);
        }
    }
    if sweep {
        daemon.sampler.forget_all_but(&live);
    }
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
