//! Drawing one frame from a [`Snapshot`]: the process list and the selected instance's
//! cpu/memory history on the left, its logs and metadata on the right, a key help line at the
//! bottom. The layout is plain arithmetic on the frame size ([`areas`]) so it is tested
//! without a terminal, and every piece degrades to nothing on tiny sizes instead of panicking.

use super::meta::{meta_lines, MetaLine};
use super::store::{LineKind, LogLine, Sample};
use crate::render::bytes_to_size;
use pm2_proto::{ProcessInfo, Status};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Sparkline, Table, TableState};
use ratatui::Frame;

/// What one frame shows, copied out of the feed so drawing holds no lock.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every instance, by id (None: no answer from the daemon yet).
    pub processes: Option<Vec<ProcessInfo>>,
    /// Index of the selected instance in `processes`.
    pub selected: Option<usize>,
    /// The selected instance's log lines that fit, oldest first.
    pub lines: Vec<LogLine>,
    /// How many lines up the log view is scrolled (0: following the end).
    pub scroll: usize,
    /// The selected instance's cpu/memory readings, oldest first.
    pub samples: Vec<Sample>,
    /// Log lines the daemon skipped for us.
    pub missed: u64,
    /// Why the daemon cannot be reached, if it cannot.
    pub problem: Option<String>,
    /// Now, ms since the epoch (for uptimes).
    pub now_ms: u64,
}

/// Where each panel goes; an empty `Rect` means the panel is not drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// The process table.
    pub list: Rect,
    /// cpu and memory sparklines of the selected instance.
    pub history: Rect,
    /// The selected instance's logs.
    pub logs: Rect,
    /// Metadata and custom metrics.
    pub meta: Rect,
    /// The key help line.
    pub footer: Rect,
}

/// Height of the history panel (border + label and sparkline for cpu, then for memory).
const HISTORY_HEIGHT: u16 = 6;

/// Splits the frame. `meta_rows` is how many text lines the metadata panel would like.
pub fn areas(size: Rect, meta_rows: u16) -> Areas {
    let footer_h = u16::from(size.height >= 3);
    let body = Rect {
        height: size.height - footer_h,
        ..size
    };
    let footer = Rect {
        y: body.y + body.height,
        height: footer_h,
        ..size
    };
    let left_w = if size.width < 50 {
        size.width / 2
    } else {
        (size.width * 9 / 20).clamp(30, 48)
    };
    let left = Rect {
        width: left_w,
        ..body
    };
    let right = Rect {
        x: body.x + left_w,
        width: body.width - left_w,
        ..body
    };
    let history_h = if left.height >= 14 { HISTORY_HEIGHT } else { 0 };
    let (list, history) = split_bottom(left, history_h);
    let meta_h = if right.height >= 8 {
        (meta_rows + 2).min(right.height / 2)
    } else {
        0
    };
    let (logs, meta) = split_bottom(right, meta_h);
    Areas {
        list,
        history,
        logs,
        meta,
        footer,
    }
}

/// `area` cut into a top part and a bottom part `bottom_h` rows high.
fn split_bottom(area: Rect, bottom_h: u16) -> (Rect, Rect) {
    let bottom_h = bottom_h.min(area.height);
    let top = Rect {
        height: area.height - bottom_h,
        ..area
    };
    let bottom = Rect {
        y: area.y + top.height,
        height: bottom_h,
        ..area
    };
    (top, bottom)
}

/// Rows the log panel can show for a frame of this size (what the feed is asked for).
pub fn log_rows(size: Rect, meta_rows: u16) -> usize {
    usize::from(areas(size, meta_rows).logs.height.saturating_sub(2))
}

/// The selected instance, if any.
pub fn selected(snap: &Snapshot) -> Option<&ProcessInfo> {
    snap.processes.as_ref()?.get(snap.selected?)
}

/// Draws the whole frame.
pub fn draw(frame: &mut Frame<'_>, snap: &Snapshot) {
    let proc = selected(snap);
    let meta = proc.map(|p| meta_lines(p, snap.now_ms)).unwrap_or_default();
    let a = areas(frame.area(), meta.len() as u16);
    draw_list(frame, a.list, snap);
    draw_history(frame, a.history, &snap.samples);
    draw_logs(frame, a.logs, snap, proc);
    draw_meta(frame, a.meta, &meta);
    draw_footer(frame, a.footer, snap);
}

fn panel(title: String) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(Style::default().fg(Color::DarkGray))
        .title(Span::styled(
            title,
            Style::default().add_modifier(Modifier::BOLD),
        ))
}

fn status_style(status: Status) -> Style {
    let color = match status {
        Status::Online => Color::Green,
        Status::Launching | Status::WaitingRestart | Status::Stopping => Color::Yellow,
        Status::Errored => Color::Red,
        Status::Stopped => Color::DarkGray,
    };
    Style::default().fg(color)
}

fn draw_list(frame: &mut Frame<'_>, area: Rect, snap: &Snapshot) {
    if area.width < 3 || area.height < 3 {
        return;
    }
    let Some(procs) = &snap.processes else {
        let wait = Paragraph::new("waiting for the daemon...").block(panel(" Processes ".into()));
        frame.render_widget(wait, area);
        return;
    };
    let rows = procs.iter().map(|p| {
        Row::new(vec![
            Span::raw(p.pm_id.to_string()),
            Span::raw(p.spec.name.clone()),
            Span::styled(p.status.as_str(), status_style(p.status)),
            Span::raw(format!("{}%", p.monit.cpu)),
            Span::raw(bytes_to_size(p.monit.memory)),
        ])
    });
    let widths = [
        Constraint::Length(3),
        Constraint::Min(4),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(7),
    ];
    let header = Row::new(["id", "name", "status", "cpu", "mem"])
        .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let table = Table::new(rows, widths)
        .header(header)
        .block(panel(format!(" Processes ({}) ", procs.len())))
        .row_highlight_style(Style::default().bg(Color::Blue).fg(Color::White))
        .highlight_symbol(">")
        .column_spacing(1);
    let mut state = TableState::default().with_selected(snap.selected);
    frame.render_stateful_widget(table, area, &mut state);
}

fn draw_history(frame: &mut Frame<'_>, area: Rect, samples: &[Sample]) {
    if area.height < HISTORY_HEIGHT || area.width < 4 {
        return;
    }
    let block = panel(" History (60s) ".into());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let last = samples.last().copied();
    let cpu: Vec<u64> = tail(samples, width)
        .iter()
        .map(|s| (s.cpu * 10.0).round() as u64)
        .collect();
    let mem: Vec<u64> = tail(samples, width)
        .iter()
        .map(|s| s.memory / 1024)
        .collect();
    let cpu_label = last.map_or("cpu -".into(), |s| format!("cpu {}%", s.cpu));
    let mem_label = last.map_or("mem -".into(), |s| {
        format!("mem {}", bytes_to_size(s.memory))
    });
    // A 10 % floor keeps idle noise from looking like a full bar.
    let cpu_max = cpu.iter().copied().max().unwrap_or(0).max(100);
    let row = |i: u16| Rect {
        y: inner.y + i,
        height: 1,
        ..inner
    };
    frame.render_widget(Paragraph::new(cpu_label), row(0));
    let cpu_line = Sparkline::default()
        .data(&cpu)
        .max(cpu_max)
        .style(Style::default().fg(Color::Cyan));
    frame.render_widget(cpu_line, row(1));
    frame.render_widget(Paragraph::new(mem_label), row(2));
    let mem_line = Sparkline::default()
        .data(&mem)
        .style(Style::default().fg(Color::Magenta));
    frame.render_widget(mem_line, row(3));
}

/// The last `n` items of `items`.
pub fn tail<T>(items: &[T], n: usize) -> &[T] {
    &items[items.len().saturating_sub(n)..]
}

fn draw_logs(frame: &mut Frame<'_>, area: Rect, snap: &Snapshot, proc: Option<&ProcessInfo>) {
    if area.width < 3 || area.height < 3 {
        return;
    }
    let mut title = match proc {
        Some(p) => format!(" {} logs ", p.spec.name),
        None => " Logs ".to_string(),
    };
    if snap.scroll > 0 {
        title.push_str(&format!("(scrolled up {}) ", snap.scroll));
    }
    let lines: Vec<Line<'_>> = snap
        .lines
        .iter()
        .map(|l| {
            let style = match l.kind {
                LineKind::Out => Style::default(),
                LineKind::Err => Style::default().fg(Color::Red),
                LineKind::Event => Style::default().fg(Color::DarkGray),
            };
            Line::styled(l.text.as_str(), style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(panel(title)), area);
}

fn draw_meta(frame: &mut Frame<'_>, area: Rect, meta: &[MetaLine]) {
    if area.width < 3 || area.height < 3 {
        return;
    }
    let label = Style::default().fg(Color::Cyan);
    let value_w = usize::from(area.width.saturating_sub(2 + 9));
    let lines: Vec<Line<'_>> = meta
        .iter()
        .map(|m| match m {
            MetaLine::Field(k, v) => Line::from(vec![
                Span::styled(format!("{k:<9}"), label),
                Span::raw(ellipsize_left(v, value_w)),
            ]),
            MetaLine::Heading(h) => Line::styled(h.as_str(), label.add_modifier(Modifier::BOLD)),
            MetaLine::Metric(m) => Line::raw(m.as_str()),
        })
        .collect();
    let para = Paragraph::new(lines).block(panel(" Metadata ".into()));
    frame.render_widget(para, area);
}

/// Keeps the end of `text` (where a path's file name is) when it is wider than `width`
/// characters, marking the cut with `…`.
pub fn ellipsize_left(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let kept: String = text.chars().skip(count - (width - 1)).collect();
    format!("…{kept}")
}

fn draw_footer(frame: &mut Frame<'_>, area: Rect, snap: &Snapshot) {
    if area.height == 0 {
        return;
    }
    let mut spans = vec![Span::styled(
        " ↑↓/jk select  PgUp/PgDn scroll  q quit",
        Style::default().fg(Color::DarkGray),
    )];
    if let Some(problem) = &snap.problem {
        spans.push(Span::styled(
            format!("  {problem}"),
            Style::default().fg(Color::Red),
        ));
    } else if snap.missed > 0 {
        spans.push(Span::styled(
            format!("  {} log lines skipped", snap.missed),
            Style::default().fg(Color::Yellow),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
