//! The small box-drawing renderer PM2's tables share (`list`, its module section,
//! `describe`), as cli-tableau draws them in "compact" style: fixed column widths that
//! truncate with `…` instead of growing, one space of padding on each side, widths counted
//! in UTF-16 units, a rule under the header only, grey borders and cyan-bold header cells
//! when coloured.

use super::format::{paint, Sgr, BLUE, BOLD, CYAN, GREEN, GREY, RED};
use pm2_logfmt::js_len;
use pm2_proto::Status;

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

/// PM2's `colorStatus`: online green, launching blue, anything else red, all bold.
pub(crate) fn status_cell(status: Status) -> Cell {
    let style: &'static [Sgr] = match status {
        Status::Online => &[GREEN, BOLD],
        Status::Launching => &[BLUE, BOLD],
        _ => &[RED, BOLD],
    };
    Cell::styled(status.as_str(), style)
}
