//! The wall clock the views compute uptimes against.

/// Current wall-clock time in ms since the epoch (the unit of the daemon's `pm_uptime` and
/// `created_at`), 0 if the clock is before 1970.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
