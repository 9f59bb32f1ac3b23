//! The one clock of both programs' records: milliseconds since the Unix epoch, the unit of
//! PM2's `pm_uptime`, `created_at` and log timestamps.

/// The current wall-clock time in ms since the epoch (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
