//! `pm2 list`: PM2's process table, plus the small box-drawing renderer it shares with
//! `describe`.
//!
//! PM2 draws its tables with cli-tableau in "compact" style. The renderer here reproduces that
//! library's layout rules rather than using comfy-table, because PM2's look depends on them:
//! fixed column widths that truncate with `…` instead of growing, one space of padding on each
//! side, widths counted in UTF-16 units, a rule under the header only, grey borders and
//! cyan-bold header cells when coloured.

use super::format::{
    bytes_to_size, js_number_to_string, paint, uptime_cell, Sgr, BLUE, BOLD, CYAN, GREEN, GREY,
    INVERSE, RED,
};
use pm2_logfmt::js_len;
use pm2_proto::{ExecMode, ProcessInfo, Status};

/// Style of header cells and of the first cell of every data row (cli-tableau `style.head`).
const HEAD: &[Sgr] = &[CYAN, BOLD];

/// One table cell: its visible text and the style PM2's chalk call gives that text.
pub(crate) struct Cell {
    text: String,
    style: &'static [Sgr],
}

impl Cell {
    /// A cell with no style of its own.
    pub(crate) fn plain(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            style: &[],
        }
    }

    /// A cell whose text PM2 colours (status, mode, user...).
    pub(crate) fn styled(text: impl Into<String>, style: &'static [Sgr]) -> Self {
        Cell {
            text: text.into(),
            style,
        }
    }
}

/// A cli-tableau table: optional header, rows of cells, and per-column widths that include the
/// one-space padding on each side.
pub(crate) struct Grid {
    widths: Vec<usize>,
    head: Vec<Cell>,
    rows: Vec<Vec<Cell>>,
    color: bool,
}

impl Grid {
    /// A table with fixed column widths, as `pm2 list` declares them.
    pub(crate) fn fixed(widths: Vec<usize>, head: Vec<Cell>, color: bool) -> Self {
        Grid {
            widths,
            head,
            rows: Vec::new(),
            color,
        }
    }

    /// A header-less table sized to its content, as `pm2 describe` uses.
    pub(crate) fn auto(rows: Vec<Vec<Cell>>, color: bool) -> Self {
        let mut widths: Vec<usize> = Vec::new();
        for row in &rows {
            for (i, cell) in row.iter().enumerate() {
                let width = cell.text.split('\n').map(js_len).max().unwrap_or(0) + 2;
                match widths.get_mut(i) {
                    Some(w) => *w = (*w).max(width),
                    None => widths.push(width),
                }
            }
        }
        Grid {
            widths,
            head: Vec::new(),
            rows,
            color,
        }
    }

    /// Appends a data row.
    pub(crate) fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    /// The table text, without a trailing newline (empty when there is nothing to draw).
    pub(crate) fn render(&self) -> String {
        if self.head.is_empty() && self.rows.is_empty() {
            return String::new();
        }
        let mut lines = vec![self.rule('┌', '┬', '┐')];
        if !self.head.is_empty() {
            lines.extend(self.row_lines(&self.head, true));
            if !self.rows.is_empty() {
                lines.push(self.rule('├', '┼', '┤'));
            }
        }
        for row in &self.rows {
            lines.extend(self.row_lines(row, false));
        }
        lines.push(self.rule('└', '┴', '┘'));
        lines.join("\n")
    }

    /// A horizontal rule with the given corner and junction characters.
    fn rule(&self, left: char, mid: char, right: char) -> String {
        let segments: Vec<String> = self.widths.iter().map(|w| "─".repeat(*w)).collect();
        let line = format!("{left}{}{right}", segments.join(&mid.to_string()));
        self.border(&line)
    }

    /// The text lines of one row; a cell holding newlines makes the row taller and the other
    /// cells are padded with blank lines.
    fn row_lines(&self, cells: &[Cell], is_head: bool) -> Vec<String> {
        let split: Vec<Vec<&str>> = cells.iter().map(|c| c.text.split('\n').collect()).collect();
        let height = split.iter().map(Vec::len).max().unwrap_or(1);
        let bar = self.border("│");
        (0..height)
            .map(|j| {
                let parts: Vec<String> = self
                    .widths
                    .iter()
                    .enumerate()
                    .map(
                        |(i, width)| match (cells.get(i), split.get(i).and_then(|l| l.get(j))) {
                            (Some(cell), Some(text)) => self.cell_line(cell, text, i, is_head),
                            _ => " ".repeat(*width),
                        },
                    )
                    .collect();
                format!("{bar}{}{bar}", parts.join(&bar))
            })
            .collect()
    }

    /// One padded, possibly truncated and styled line of cell `i`.
    fn cell_line(&self, cell: &Cell, text: &str, i: usize, is_head: bool) -> String {
        let inner = self.widths[i].saturating_sub(2);
        let (visible, pad) = fit(text, inner);
        let content = format!(" {}{} ", self.paint(&visible, cell.style), " ".repeat(pad));
        if is_head || i == 0 {
            self.paint(&content, HEAD)
        } else {
            content
        }
    }

    fn paint(&self, text: &str, style: &[Sgr]) -> String {
        if self.color {
            paint(text, style)
        } else {
            text.to_string()
        }
    }

    fn border(&self, text: &str) -> String {
        self.paint(text, &[GREY])
    }
}

/// cli-tableau's fit of `text` into `width` columns: the text to show and the spaces to add.
/// Longer text keeps `width - 1` characters and ends with `…`.
fn fit(text: &str, width: usize) -> (String, usize) {
    let len = js_len(text);
    if len <= width {
        return (text.to_string(), width - len);
    }
    let mut kept: String = text.chars().take(width.saturating_sub(1)).collect();
    kept.push('…');
    let shown = js_len(&kept);
    (kept, width.saturating_sub(shown))
}

/// Column titles of PM2's full (non-condensed) list table.
const COLUMNS: [&str; 13] = [
    "id",
    "name",
    "namespace",
    "version",
    "mode",
    "pid",
    "uptime",
    "↺",
    "status",
    "cpu",
    "mem",
    "user",
    "watching",
];

/// Widths PM2 declares for the columns after `id` and `name`.
const FIXED_WIDTHS: [usize; 11] = [13, 9, 9, 10, 8, 6, 11, 10, 10, 10, 10];

/// `pm2 list`: PM2's process table for `processes` at time `now_ms` (ms since the epoch),
/// then, when there are installed modules, their own table (PM2 leaves them out of the
/// first one but sizes its columns over every process).
///
/// Rows are sorted by name (stable, so instances keep their order), PM2's default sort. Column
/// widths are PM2's: `id` fits the largest id, `name` is the longest name plus 5 (11 for an
/// empty list), the others are fixed and truncate longer text with `…`. With `color`, the header
/// and ids are cyan bold, the status green (online), blue (launching) or red, borders grey, as
/// PM2 prints on a terminal; without it the text has no escape codes at all. No trailing
/// newline.
pub fn list_table(processes: &[ProcessInfo], now_ms: u64, color: bool) -> String {
    let mut sorted: Vec<&ProcessInfo> = processes.iter().collect();
    sorted.sort_by(|a, b| a.spec.name.encode_utf16().cmp(b.spec.name.encode_utf16()));
    let head = COLUMNS.iter().map(|c| Cell::plain(*c)).collect();
    let widths = column_widths(&sorted);
    let id_width = widths[0];
    let mut grid = Grid::fixed(widths, head, color);
    for p in sorted.iter().filter(|p| !p.spec.pmx_module) {
        grid.push(list_row(p, now_ms));
    }
    let mut text = grid.render();
    if let Some(modules) = super::module_table::module_section(&sorted, id_width, color) {
        text.push('\n');
        text.push_str(&modules);
    }
    text
}

/// PM2's column widths for this list (see [`list_table`]).
fn column_widths(processes: &[&ProcessInfo]) -> Vec<usize> {
    let name = match processes.iter().map(|p| js_len(&p.spec.name)).max() {
        Some(longest) => longest + 5,
        None => 11,
    };
    let id_digits = processes.iter().map(|p| p.pm_id.to_string().len()).max();
    let id = id_digits.map_or(4, |d| (d + 2).max(4));
    [id, name].into_iter().chain(FIXED_WIDTHS).collect()
}

/// The cells of one process row.
fn list_row(p: &ProcessInfo, now_ms: u64) -> Vec<Cell> {
    let running = p.status.is_running();
    let monit = if running { p.monit } else { Default::default() };
    vec![
        Cell::plain(p.pm_id.to_string()),
        Cell::plain(p.spec.name.as_str()),
        Cell::plain(p.spec.namespace.as_str()),
        Cell::plain(p.spec.version.as_deref().unwrap_or("N/A")),
        mode_cell(p.spec.exec_mode),
        Cell::plain(p.pid.filter(|_| running).unwrap_or(0).to_string()),
        Cell::plain(uptime_cell(p.status == Status::Online, p.pm_uptime, now_ms)),
        Cell::plain(p.restart_time.to_string()),
        status_cell(p.status),
        Cell::plain(format!("{}%", js_number_to_string(monit.cpu))),
        // PM2's bytesToSize leaves a trailing space, which matters when the cell is truncated.
        Cell::plain(format!("{} ", bytes_to_size(monit.memory))),
        Cell::styled(p.spec.username.as_str(), &[BOLD]),
        watch_cell(p.spec.watch),
    ]
}

/// `fork` in inverse bold or `cluster` in blue bold.
fn mode_cell(mode: ExecMode) -> Cell {
    match mode {
        ExecMode::Fork => Cell::styled(mode.short(), &[INVERSE, BOLD]),
        ExecMode::Cluster => Cell::styled(mode.short(), &[BLUE, BOLD]),
    }
}

/// PM2's `colorStatus`: online green, launching blue, anything else red, all bold.
pub(crate) fn status_cell(status: Status) -> Cell {
    let style: &'static [Sgr] = match status {
        Status::Online => &[GREEN, BOLD],
        Status::Launching => &[BLUE, BOLD],
        _ => &[RED, BOLD],
    };
    Cell::styled(status.as_str(), style)
}

/// `enabled` in green bold or `disabled` in grey.
fn watch_cell(watch: bool) -> Cell {
    if watch {
        Cell::styled("enabled", &[GREEN, BOLD])
    } else {
        Cell::styled("disabled", &[GREY])
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use pm2_proto::{AppSpec, InstancePaths, Monit};

    /// A running fork-mode process shaped like the ones in PM2's samples.
    pub(crate) fn process(pm_id: u32, name: &str) -> ProcessInfo {
        ProcessInfo {
            pm_id,
            spec: AppSpec {
                name: name.into(),
                script: format!("/srv/app/{name}.py"),
                interpreter: "python".into(),
                interpreter_path: Some("/usr/bin/python".into()),
                cwd: "/srv/app".into(),
                username: "root".into(),
                ..AppSpec::default()
            },
            status: Status::Online,
            pid: Some(1714),
            pm_uptime: 1_000_000,
            created_at: Some(1_795_233_507_118),
            restart_time: 0,
            unstable_restarts: 0,
            exit_code: None,
            prev_restart_delay: None,
            instance_index: 0,
            increment_value: None,
            unique_id: "1b63af67-ec3c-4684-ac37-2b1206d24fc7".into(),
            paths: InstancePaths {
                out: format!("/home/deploy/.pm2/logs/{name}-out.log"),
                err: format!("/home/deploy/.pm2/logs/{name}-error.log"),
                combined: None,
                pid: format!("/home/deploy/.pm2/pids/{name}-{pm_id}.pid"),
            },
            kill_timeout: 1600,
            monit: Monit {
                memory: 13_736_345,
                cpu: 0.0,
            },
            pm2_home: "/home/deploy/.pm2".into(),
            axm_monitor: Default::default(),
            axm_actions: Vec::new(),
            axm_options: Default::default(),
            km_monitored: None,
            versioning: None,
            vizion_running: false,
        }
    }

    fn cluster(pm_id: u32, pid: u32, memory: u64) -> ProcessInfo {
        let mut p = process(pm_id, "api");
        p.spec.exec_mode = ExecMode::Cluster;
        p.pid = Some(pid);
        p.monit.memory = memory;
        p
    }

    const HEADER: &str = "\
┌────┬───────────┬─────────────┬─────────┬─────────┬──────────┬────────┬──────┬───────────┬──────────┬──────────┬──────────┬──────────┐
│ id │ name      │ namespace   │ version │ mode    │ pid      │ uptime │ ↺    │ status    │ cpu      │ mem      │ user     │ watching │";

    #[test]
    fn matches_pm2_list_sample() {
        let now = 1_000_000 + 2_500;
        let list = [
            cluster(0, 1680, 55_260_364),
            cluster(1, 1688, 55_365_222),
            process(2, "worker"),
        ];
        let expected = format!("{HEADER}
├────┼───────────┼─────────────┼─────────┼─────────┼──────────┼────────┼──────┼───────────┼──────────┼──────────┼──────────┼──────────┤
│ 0  │ api       │ default     │ N/A     │ cluster │ 1680     │ 2s     │ 0    │ online    │ 0%       │ 52.7mb   │ root     │ disabled │
│ 1  │ api       │ default     │ N/A     │ cluster │ 1688     │ 2s     │ 0    │ online    │ 0%       │ 52.8mb   │ root     │ disabled │
│ 2  │ worker    │ default     │ N/A     │ fork    │ 1714     │ 2s     │ 0    │ online    │ 0%       │ 13.1mb   │ root     │ disabled │
└────┴───────────┴─────────────┴─────────┴─────────┴──────────┴────────┴──────┴───────────┴──────────┴──────────┴──────────┴──────────┘");
        assert_eq!(list_table(&list, now, false), expected);
    }

    #[test]
    fn name_column_is_longest_name_plus_five() {
        let list = [cluster(0, 1680, 55_155_507), cluster(1, 1688, 49_597_235)];
        let out = list_table(&list, 1_000_000, false);
        let expected = "\
┌────┬────────┬─────────────┬─────────┬─────────┬──────────┬────────┬──────┬───────────┬──────────┬──────────┬──────────┬──────────┐
│ id │ name   │ namespace   │ version │ mode    │ pid      │ uptime │ ↺    │ status    │ cpu      │ mem      │ user     │ watching │
├────┼────────┼─────────────┼─────────┼─────────┼──────────┼────────┼──────┼───────────┼──────────┼──────────┼──────────┼──────────┤
│ 0  │ api    │ default     │ N/A     │ cluster │ 1680     │ 0s     │ 0    │ online    │ 0%       │ 52.6mb   │ root     │ disabled │
│ 1  │ api    │ default     │ N/A     │ cluster │ 1688     │ 0s     │ 0    │ online    │ 0%       │ 47.3mb   │ root     │ disabled │
└────┴────────┴─────────────┴─────────┴─────────┴──────────┴────────┴──────┴───────────┴──────────┴──────────┴──────────┴──────────┘";
        assert_eq!(out, expected);
    }

    #[test]
    fn stopped_process_shows_zeroes() {
        let mut p = process(2, "worker");
        p.status = Status::Stopped;
        let out = list_table(&[p], 5_000_000, false);
        let row = out.lines().nth(3).unwrap_or_default();
        assert_eq!(
            row,
            "│ 2  │ worker    │ default     │ N/A     │ fork    │ 0        │ 0      │ 0    │ stopped   │ 0%       │ 0b       │ root     │ disabled │"
        );
    }

    #[test]
    fn empty_list_is_header_only() {
        let expected = format!("{HEADER}\n└────┴───────────┴─────────────┴─────────┴─────────┴──────────┴────────┴──────┴───────────┴──────────┴──────────┴──────────┴──────────┘");
        assert_eq!(list_table(&[], 0, false), expected);
    }

    #[test]
    fn rows_sort_by_name_and_long_cells_truncate() {
        let mut b = process(0, "zeta");
        b.spec.namespace = "a-very-long-namespace".into();
        b.status = Status::WaitingRestart;
        b.spec.username = "postgresql".into();
        let mut a = process(10, "alpha");
        a.monit.cpu = 12.5;
        a.spec.watch = true;
        a.spec.version = Some("1.2.3".into());
        let out = list_table(&[b, a], 1_000_000, false);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("┌────┬──────────┬"), "{}", lines[0]);
        assert_eq!(
            lines[3],
            "│ 10 │ alpha    │ default     │ 1.2.3   │ fork    │ 1714     │ 0s     │ 0    │ online    │ 12.5%    │ 13.1mb   │ root     │ enabled  │"
        );
        assert_eq!(
            lines[4],
            "│ 0  │ zeta     │ a-very-lon… │ N/A     │ fork    │ 0        │ 0      │ 0    │ waiting … │ 0%       │ 0b       │ postgre… │ disabled │"
        );
    }

    #[test]
    fn colour_only_when_asked() {
        let list = [process(0, "api")];
        let plain = list_table(&list, 1_000_000, false);
        assert!(!plain.contains('\u{1b}'));
        let coloured = list_table(&list, 1_000_000, true);
        assert!(coloured.contains("\u{1b}[36m\u{1b}[1m id \u{1b}[22m\u{1b}[39m"));
        assert!(coloured.contains("\u{1b}[32m\u{1b}[1monline\u{1b}[22m\u{1b}[39m"));
        assert!(coloured.contains("\u{1b}[90m┌"));
        assert_eq!(strip_ansi(&coloured), plain);
    }

    /// Removes SGR sequences, to compare coloured output with plain output.
    pub(crate) fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for d in chars.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
