//! Setup steps shared by both spawn paths, run in the child between fork and exec
//! (async-signal-safe), and the daemon's scheduling policy they undo for its apps.

/// Set once the daemon's threads run under `SCHED_BATCH` (see [`prefer_batching`]): its
/// children must get the normal policy back, which fork would not do.
static BATCHING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Switches the calling thread (and the threads it creates afterwards) from `SCHED_OTHER`
/// to `SCHED_BATCH`: same CPU share, but a wake-up no longer preempts the running task.
///
/// Why: when the machine is saturated (a cluster app under load on every core), each event
/// that woke the daemon preempted a worker and cost a context switch each way — two per
/// connection handed over. Batching lets the worker run on and the daemon handle the
/// events that piled up in one go: a third of the switches, half the daemon CPU per
/// connection and more throughput for the app (BENCHMARKS.md). With an idle core nothing
/// changes. A thread started under another policy (chrt, systemd) keeps it. Apps get
/// `SCHED_OTHER` back in [`spawn`].
pub fn prefer_batching() {
    // SAFETY: sched_getscheduler/sched_setscheduler on the calling thread (0) with a valid
    // parameter block; no memory is shared.
    unsafe {
        if libc::sched_getscheduler(0) != libc::SCHED_OTHER {
            return;
        }
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) == 0 {
            BATCHING.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// In the child before exec: the normal policy again when the daemon batches (an app is
/// started as it would be without pm2-rs in between).
pub(crate) fn restore_app_scheduling() {
    if BATCHING.load(std::sync::atomic::Ordering::Relaxed) {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: async-signal-safe syscall on the calling (child) process.
        unsafe {
            libc::sched_setscheduler(0, libc::SCHED_OTHER, &param);
        }
    }
}

/// Marks every fd above 2 close-on-exec (fds the daemon itself inherited included).
/// Failure (an old kernel without close_range) is harmless: Rust opens its own fds CLOEXEC.
pub(crate) fn mark_inherited_fds_cloexec() {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range with CLOEXEC only changes descriptor flags.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        );
    }
}
