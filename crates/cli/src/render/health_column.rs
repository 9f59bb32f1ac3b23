//! The `health` column `pm2 list` adds (beyond PM2) after PM2's own, only when an app has a
//! `health_check`: a list of PM2-style apps keeps PM2's exact table.

use super::format::{Sgr, BOLD, GREEN, GREY, RED};
use super::grid::Cell;
use pm2_proto::{HealthStatus, TableRow};

/// The column's title.
pub(super) const TITLE: &str = "health";
/// Its width: `unhealthy` and the padding.
pub(super) const WIDTH: usize = 11;

/// Whether the table gets the column.
pub(super) fn wanted(rows: &[&TableRow]) -> bool {
    rows.iter()
        .any(|p| p.has_health_check || p.health.is_some())
}

/// One row's cell: the check's verdict, `-` for an app without a check or not running.
pub(super) fn cell(p: &TableRow) -> Cell {
    let health = p.health.as_ref().filter(|_| p.status.is_running());
    let Some(h) = health else {
        return Cell::styled("-", &[GREY]);
    };
    let style: &'static [Sgr] = match h.status {
        HealthStatus::Healthy => &[GREEN, BOLD],
        HealthStatus::Unhealthy => &[RED, BOLD],
        HealthStatus::Starting => &[GREY],
    };
    Cell::styled(h.status.as_str(), style)
}
