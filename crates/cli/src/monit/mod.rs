//! `pm2 monit`: a full-screen dashboard of every instance, its cpu and memory (with the last
//! minute as a sparkline), the selected instance's live logs, metadata and custom metrics.
//!
//! Three threads: [`feed`] polls the list and holds the log stream, each on its own
//! connection, writing into bounded buffers ([`store`]); this one reads keys and draws
//! ([`view`]) from a snapshot, so the screen never holds the feed back. The terminal is taken
//! through a guard ([`terminal`]) that restores it on every way out, panics included.

pub mod feed;
pub mod meta;
pub mod store;
pub mod terminal;
pub mod view;

#[cfg(test)]
mod tests;

use anyhow::Result;
use pm2_home::{now_ms, Pm2Home};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::io::IsTerminal;
use std::time::Duration;
use view::Snapshot;

/// How often the screen is redrawn when no key arrives.
const FRAME_EVERY: Duration = Duration::from_millis(250);

/// `pm2 monit`: exit code 0 on quit, 1 when stdout is not a terminal.
pub fn run(home: &Pm2Home) -> Result<i32> {
    if !std::io::stdout().is_terminal() {
        crate::out::error("pm2 monit needs a terminal: stdout is not a tty (try `pm2 list`)");
        return Ok(1);
    }
    let client = crate::client::connect(home, false)?;
    let shared = feed::start(home, client);
    let mut guard = terminal::TerminalGuard::enter()?;
    let mut ui = Ui::default();
    while !terminal::stop_requested() {
        let size = guard.screen().size()?;
        let size = ratatui::layout::Rect::new(0, 0, size.width, size.height);
        let snap = ui.snapshot(&shared, size);
        guard.screen().draw(|f| view::draw(f, &snap))?;
        if event::poll(FRAME_EVERY)? {
            let page = view::log_rows(size, 0).max(1);
            if let Event::Key(key) = event::read()? {
                if ui.on_key(key, &snap, page) == Flow::Quit {
                    break;
                }
            }
        }
    }
    drop(guard);
    Ok(0)
}

/// Whether the dashboard keeps going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep drawing.
    Continue,
    /// Restore the terminal and exit.
    Quit,
}

/// What the user chose: the selected instance (by id, so it survives list changes) and how
/// far the log view is scrolled up.
#[derive(Debug, Clone, Default)]
pub struct Ui {
    /// The selected pm_id.
    pub selected: Option<u32>,
    /// Lines scrolled up from the end of the log (0: follow new lines).
    pub scroll: usize,
}

impl Ui {
    /// Copies what the next frame needs out of the feed (short lock).
    pub fn snapshot(&mut self, shared: &feed::Shared, size: ratatui::layout::Rect) -> Snapshot {
        let feed = shared.lock();
        let processes = feed.processes.clone();
        let index = self.resolve(processes.as_deref().unwrap_or_default());
        let id = self.selected;
        let (lines, samples) = match id {
            Some(id) => {
                let meta_rows = processes
                    .as_deref()
                    .and_then(|ps| ps.get(index?))
                    .map_or(0, |p| meta::meta_lines(p, 0).len() as u16);
                let rows = view::log_rows(size, meta_rows);
                self.scroll = self.scroll.min(feed.logs.len(id).saturating_sub(rows));
                (
                    feed.logs.window(id, rows, self.scroll),
                    feed.history.samples(id),
                )
            }
            None => (Vec::new(), Vec::new()),
        };
        Snapshot {
            processes,
            selected: index,
            lines,
            scroll: self.scroll,
            samples,
            missed: feed.missed,
            problem: feed.problem.clone(),
            now_ms: now_ms(),
        }
    }

    /// The index of the selected instance, falling back to the first one when the selected
    /// id is gone (or nothing was selected yet).
    pub fn resolve(&mut self, processes: &[pm2_proto::ProcessInfo]) -> Option<usize> {
        let found = self
            .selected
            .and_then(|id| processes.iter().position(|p| p.pm_id == id));
        let index = found.or(if processes.is_empty() { None } else { Some(0) });
        let id = index.map(|i| processes[i].pm_id);
        if id != self.selected {
            self.scroll = 0;
        }
        self.selected = id;
        index
    }

    /// Applies one key press; `page` is how many log rows are visible.
    pub fn on_key(&mut self, key: KeyEvent, snap: &Snapshot, page: usize) -> Flow {
        if key.kind == KeyEventKind::Release {
            return Flow::Continue;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c') if ctrl => return Flow::Quit,
            KeyCode::Char('q') | KeyCode::Esc => return Flow::Quit,
            KeyCode::Up | KeyCode::Char('k') => self.step(snap, -1),
            KeyCode::Down | KeyCode::Char('j') => self.step(snap, 1),
            KeyCode::Home => self.step(snap, isize::MIN),
            KeyCode::End => self.step(snap, isize::MAX),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_add(page),
            KeyCode::PageDown => self.scroll = self.scroll.saturating_sub(page),
            _ => {}
        }
        Flow::Continue
    }

    /// Moves the selection by `delta` rows, clamped to the list.
    fn step(&mut self, snap: &Snapshot, delta: isize) {
        let Some(procs) = snap.processes.as_deref().filter(|p| !p.is_empty()) else {
            return;
        };
        let current = snap.selected.unwrap_or(0) as isize;
        let last = procs.len() as isize - 1;
        let next = current.saturating_add(delta).clamp(0, last) as usize;
        if procs[next].pm_id != self.selected.unwrap_or(u32::MAX) {
            self.scroll = 0;
        }
        self.selected = Some(procs[next].pm_id);
    }
}
