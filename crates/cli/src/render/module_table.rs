//! `pm2 list`'s module section: installed modules (`pmx_module`) are not in the process
//! table but in their own, under a bold `Module` (or `Modules`) heading, with PM2 7's
//! columns and fixed widths (`lib/API/UX/pm2-ls.js`).

use super::format::{bytes_to_size, js_number_to_string, paint, BOLD};
use super::grid::{status_cell, Cell, Grid};
use pm2_proto::TableRow;

/// PM2's module columns.
const COLUMNS: [&str; 9] = [
    "id", "module", "version", "pid", "status", "↺", "cpu", "mem", "user",
];

/// Widths after the id column (which the process table's id width sets).
const WIDTHS: [usize; 8] = [30, 15, 10, 10, 6, 10, 10, 10];

/// The heading and table of the modules among `sorted`, or None when there is none.
pub(super) fn module_section(sorted: &[&TableRow], id_width: usize, color: bool) -> Option<String> {
    let modules: Vec<&&TableRow> = sorted.iter().filter(|p| p.pmx_module).collect();
    if modules.is_empty() {
        return None;
    }
    let head = COLUMNS.iter().map(|c| Cell::plain(*c)).collect();
    let widths = std::iter::once(id_width).chain(WIDTHS).collect();
    let mut grid = Grid::fixed(widths, head, color);
    for p in &modules {
        grid.push(module_row(p));
    }
    let title = if modules.len() > 1 {
        "Modules"
    } else {
        "Module"
    };
    let title = if color {
        paint(title, &[BOLD])
    } else {
        title.to_string()
    };
    Some(format!("{title}\n{}", grid.render()))
}

/// One module's cells: PM2 shows its version and pid, status, restarts, cpu and memory.
fn module_row(p: &TableRow) -> Vec<Cell> {
    let running = p.status.is_running();
    let monit = if running { p.monit } else { Default::default() };
    vec![
        Cell::plain(p.pm_id.to_string()),
        Cell::plain(p.name.as_str()),
        Cell::plain(p.version.as_deref().unwrap_or("N/A")),
        Cell::plain(p.pid.filter(|_| running).unwrap_or(0).to_string()),
        status_cell(p.status),
        Cell::plain(p.restart_time.to_string()),
        Cell::plain(format!("{}%", js_number_to_string(monit.cpu))),
        Cell::plain(bytes_to_size(monit.memory)),
        Cell::styled(p.username.as_str(), &[BOLD]),
    ]
}
