//! `pm2 list`: PM2's process table, drawn with the cli-tableau look of `grid.rs` (PM2's look
//! depends on its layout rules, so it is reproduced rather than using comfy-table), then the
//! module section.

use super::format::{
    bytes_to_size, js_number_to_string, uptime_cell, BLUE, BOLD, GREEN, GREY, INVERSE,
};
use super::grid::{status_cell, Cell, Grid};
use super::health_column;
use pm2_logfmt::js_len;
use pm2_proto::{ExecMode, ProcessInfo, Status, TableRow};

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
    let rows: Vec<TableRow> = processes.iter().map(TableRow::of).collect();
    rows_table(&rows, now_ms, color)
}

/// [`list_table`] of the rows the daemon sends for the table (`Request::Table`).
pub fn rows_table(rows: &[TableRow], now_ms: u64, color: bool) -> String {
    let mut sorted: Vec<&TableRow> = rows.iter().collect();
    sorted.sort_by(|a, b| a.name.encode_utf16().cmp(b.name.encode_utf16()));
    let mut head: Vec<Cell> = COLUMNS.iter().map(|c| Cell::plain(*c)).collect();
    let mut widths = column_widths(&sorted);
    let id_width = widths[0];
    let health = health_column::wanted(&sorted);
    if health {
        head.push(Cell::plain(health_column::TITLE));
        widths.push(health_column::WIDTH);
    }
    let mut grid = Grid::fixed(widths, head, color);
    for p in sorted.iter().filter(|p| !p.pmx_module) {
        let mut row = list_row(p, now_ms);
        if health {
            row.push(health_column::cell(p));
        }
        grid.push(row);
    }
    let mut text = grid.render();
    if let Some(modules) = super::module_table::module_section(&sorted, id_width, color) {
        text.push('\n');
        text.push_str(&modules);
    }
    text
}

/// PM2's column widths for this list (see [`list_table`]).
fn column_widths(processes: &[&TableRow]) -> Vec<usize> {
    let name = match processes.iter().map(|p| js_len(&p.name)).max() {
        Some(longest) => longest + 5,
        None => 11,
    };
    let id_digits = processes.iter().map(|p| p.pm_id.to_string().len()).max();
    let id = id_digits.map_or(4, |d| (d + 2).max(4));
    [id, name].into_iter().chain(FIXED_WIDTHS).collect()
}

/// The cells of one process row.
fn list_row(p: &TableRow, now_ms: u64) -> Vec<Cell> {
    let running = p.status.is_running();
    let monit = if running { p.monit } else { Default::default() };
    vec![
        Cell::plain(p.pm_id.to_string()),
        Cell::plain(p.name.as_str()),
        Cell::plain(p.namespace.as_str()),
        Cell::plain(p.version.as_deref().unwrap_or("N/A")),
        mode_cell(p.exec_mode),
        Cell::plain(p.pid.filter(|_| running).unwrap_or(0).to_string()),
        Cell::plain(uptime_cell(p.status == Status::Online, p.pm_uptime, now_ms)),
        Cell::plain(p.restart_time.to_string()),
        status_cell(p.status),
        Cell::plain(format!("{}%", js_number_to_string(monit.cpu))),
        // PM2's bytesToSize leaves a trailing space, which matters when the cell is truncated.
        Cell::plain(format!("{} ", bytes_to_size(monit.memory))),
        Cell::styled(p.username.as_str(), &[BOLD]),
        watch_cell(p.watch),
    ]
}

/// `fork` in inverse bold or `cluster` in blue bold.
fn mode_cell(mode: ExecMode) -> Cell {
    match mode {
        ExecMode::Fork => Cell::styled(mode.short(), &[INVERSE, BOLD]),
        ExecMode::Cluster => Cell::styled(mode.short(), &[BLUE, BOLD]),
    }
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
            health: None,
            notify_status: None,
            containment: None,
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
    fn a_health_column_follows_only_when_an_app_has_a_check() {
        let plain = list_table(&[process(0, "api")], 1_000_000, false);
        assert!(!plain.contains("health"), "{plain}");
        let mut checked = process(0, "api");
        checked.health = Some(pm2_proto::HealthInfo {
            status: pm2_proto::HealthStatus::Healthy,
            ..Default::default()
        });
        let out = list_table(&[checked, process(1, "worker")], 1_000_000, false);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[1].ends_with("│ watching │ health    │"), "{out}");
        assert!(lines[3].ends_with("│ disabled │ healthy   │"), "{out}");
        assert!(lines[4].ends_with("│ disabled │ -         │"), "{out}");
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
    #[test]
    fn modules_leave_the_process_table_for_their_own() {
        let mut m = process(0, "mymod");
        m.spec.pmx_module = true;
        m.spec.version = Some("1.2.3".into());
        let text = strip_ansi(&list_table(&[process(1, "api"), m], 0, false));
        let (apps, modules) = text.split_once("\nModule\n").expect("a module section");
        assert!(apps.contains("api") && !apps.contains("mymod"), "{text}");
        assert!(
            apps.contains("│ name     │"),
            "widths over every process: {text}"
        );
        let lines: Vec<&str> = modules.lines().collect();
        assert_eq!(
            lines[1],
            "│ id │ module                       │ version       │ pid      │ status   │ ↺    │ cpu      │ mem      │ user     │"
        );
        assert!(
            lines[3].contains("mymod") && lines[3].contains("1.2.3"),
            "{text}"
        );
        assert!(!list_table(&[process(1, "api")], 0, false).contains("Module"));
    }

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
