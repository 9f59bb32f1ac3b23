//! The small box-drawing renderer PM2's tables share (`list`, its module section,
//! `describe`), as cli-tableau draws them in "compact" style: fixed column widths that
//! truncate with `…` instead of growing, one space of padding on each side, widths counted
//! in UTF-16 units, a rule under the header only, grey borders and cyan-bold header cells
//! when coloured.

use super::format::{Sgr, BLUE, BOLD, CYAN, GREEN, GREY, RED};
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
    ///
    /// Written into one buffer sized up front: the table of a hundred apps is some 1,400
    /// cells, and a `String` per cell, line and style was most of `pm2 list`'s allocations.
    pub(crate) fn render(&self) -> String {
        if self.head.is_empty() && self.rows.is_empty() {
            return String::new();
        }
        let mut out = String::with_capacity(self.capacity());
        self.rule(&mut out, '┌', '┬', '┐');
        if !self.head.is_empty() {
            self.row_lines(&mut out, &self.head, true);
            if !self.rows.is_empty() {
                self.rule(&mut out, '├', '┼', '┤');
            }
        }
        for row in &self.rows {
            self.row_lines(&mut out, row, false);
        }
        self.rule(&mut out, '└', '┴', '┘');
        out.pop(); // the last line's newline
        out
    }

    /// About the size of the text: each line is its widths in 3-byte box characters, plus
    /// a few escape codes per cell when coloured.
    fn capacity(&self) -> usize {
        let per_cell = if self.color { 3 * 3 + 24 } else { 3 };
        let line: usize = self.widths.iter().map(|w| 3 * w + per_cell).sum();
        line * (self.rows.len() + 4)
    }

    /// A horizontal rule with the given corner and junction characters, and its newline.
    fn rule(&self, out: &mut String, left: char, mid: char, right: char) {
        self.open(out, &[GREY]);
        out.push(left);
        for (i, width) in self.widths.iter().enumerate() {
            if i > 0 {
                out.push(mid);
            }
            out.extend(std::iter::repeat_n('─', *width));
        }
        out.push(right);
        self.close(out, &[GREY]);
        out.push('\n');
    }

    /// The text lines of one row, each with its newline; a cell holding newlines makes the
    /// row taller and the other cells are padded with blank lines.
    fn row_lines(&self, out: &mut String, cells: &[Cell], is_head: bool) {
        let height = cells
            .iter()
            .map(|c| c.text.matches('\n').count() + 1)
            .max()
            .unwrap_or(1);
        for j in 0..height {
            self.bar(out);
            for (i, width) in self.widths.iter().enumerate() {
                let line = cells
                    .get(i)
                    .and_then(|c| Some((c, c.text.split('\n').nth(j)?)));
                match line {
                    Some((cell, text)) => self.cell_line(out, cell, text, i, is_head),
                    None => out.extend(std::iter::repeat_n(' ', *width)),
                }
                self.bar(out);
            }
            out.push('\n');
        }
    }

    /// One padded, possibly truncated and styled line of cell `i`.
    fn cell_line(&self, out: &mut String, cell: &Cell, text: &str, i: usize, is_head: bool) {
        let head: &[Sgr] = if is_head || i == 0 { HEAD } else { &[] };
        let inner = self.widths[i].saturating_sub(2);
        self.open(out, head);
        out.push(' ');
        // chalk leaves an empty text without codes.
        let style = if text.is_empty() { &[] } else { cell.style };
        self.open(out, style);
        let pad = fit(out, text, inner);
        self.close(out, style);
        out.extend(std::iter::repeat_n(' ', pad + 1));
        self.close(out, head);
    }

    /// A cell border.
    fn bar(&self, out: &mut String) {
        self.open(out, &[GREY]);
        out.push('│');
        self.close(out, &[GREY]);
    }

    /// The opening codes of `style` (outermost first), when coloured.
    fn open(&self, out: &mut String, style: &[Sgr]) {
        if self.color {
            for (open, _) in style {
                sgr(out, *open);
            }
        }
    }

    /// The closing codes of `style`, in reverse order as chalk closes them, when coloured.
    fn close(&self, out: &mut String, style: &[Sgr]) {
        if self.color {
            for (_, close) in style.iter().rev() {
                sgr(out, *close);
            }
        }
    }
}

/// The escape sequence of one SGR code (`paint`'s, written in place).
fn sgr(out: &mut String, code: u8) {
    use std::fmt::Write;
    let _ = write!(out, "\u{1b}[{code}m");
}

/// cli-tableau's fit of `text` into `width` columns, written to `out`; the spaces to add.
/// Longer text keeps `width - 1` characters and ends with `…`.
fn fit(out: &mut String, text: &str, width: usize) -> usize {
    let len = js_len(text);
    if len <= width {
        out.push_str(text);
        return width - len;
    }
    let mut shown = 1; // the `…`
    for c in text.chars().take(width.saturating_sub(1)) {
        out.push(c);
        shown += c.len_utf16();
    }
    out.push('…');
    width.saturating_sub(shown)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every path of the renderer, coloured: a header, a two-line cell beside a one-line
    /// one, an empty styled cell (no codes), a truncated cell and a styled one.
    #[test]
    fn a_coloured_table_is_drawn_as_cli_tableau_draws_it() {
        let head = vec![Cell::plain("id"), Cell::plain("name")];
        let mut grid = Grid::fixed(vec![4, 6], head, true);
        grid.push(vec![Cell::plain("1\n2"), Cell::styled("", &[RED])]);
        grid.push(vec![
            Cell::plain("3"),
            Cell::styled("toolong", &[GREEN, BOLD]),
        ]);
        // Drawn by the renderer before it wrote into one buffer (a String per piece).
        let expected = "\u{1b}[90m┌────┬──────┐\u{1b}[39m\n\u{1b}[90m│\u{1b}[39m\u{1b}[36m\u{1b}[1m id \u{1b}[22m\u{1b}[39m\u{1b}[90m│\u{1b}[39m\u{1b}[36m\u{1b}[1m name \u{1b}[22m\u{1b}[39m\u{1b}[90m│\u{1b}[39m\n\u{1b}[90m├────┼──────┤\u{1b}[39m\n\u{1b}[90m│\u{1b}[39m\u{1b}[36m\u{1b}[1m 1  \u{1b}[22m\u{1b}[39m\u{1b}[90m│\u{1b}[39m      \u{1b}[90m│\u{1b}[39m\n\u{1b}[90m│\u{1b}[39m\u{1b}[36m\u{1b}[1m 2  \u{1b}[22m\u{1b}[39m\u{1b}[90m│\u{1b}[39m      \u{1b}[90m│\u{1b}[39m\n\u{1b}[90m│\u{1b}[39m\u{1b}[36m\u{1b}[1m 3  \u{1b}[22m\u{1b}[39m\u{1b}[90m│\u{1b}[39m \u{1b}[32m\u{1b}[1mtoo…\u{1b}[22m\u{1b}[39m \u{1b}[90m│\u{1b}[39m\n\u{1b}[90m└────┴──────┘\u{1b}[39m";
        assert_eq!(grid.render(), expected);
    }
}
