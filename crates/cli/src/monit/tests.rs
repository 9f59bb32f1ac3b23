//! The dashboard's pure parts: buffers, history, layout, keys, and whole frames drawn on a
//! test backend at 80x24 and at sizes too small to be useful.

use super::meta::{format_value, meta_lines, metric_lines};
use super::store::{sanitize, History, LineKind, LogStore, Ring, HISTORY_CAPACITY, LOG_CAPACITY};
use super::view::{areas, draw, ellipsize_left, tail, Snapshot};
use super::{Flow, Ui};
use pm2_proto::{LogChunk, LogChunkKind, ProcessInfo};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::Terminal;

fn chunk(id: u32, kind: LogChunkKind, data: &str) -> LogChunk {
    LogChunk {
        pm_id: Some(id),
        name: format!("app{id}"),
        kind,
        at: 0,
        data: data.into(),
        exit: None,
    }
}

fn texts(store: &LogStore, id: u32) -> Vec<String> {
    store
        .window(id, usize::MAX, 0)
        .into_iter()
        .map(|l| l.text)
        .collect()
}

/// A process as the daemon would list it, built through its JSON form.
fn process(id: u32, name: &str, cpu: f64, memory: u64) -> ProcessInfo {
    let spec = spec(name);
    let json = serde_json::json!({
        "pm_id": id, "status": "online", "pid": 4000 + id, "pm_uptime": 1_000,
        "created_at": 1_000, "restart_time": 2, "unstable_restarts": 0, "exit_code": null,
        "prev_restart_delay": null, "instance_index": 0, "unique_id": "u",
        "paths": {"out": "/dev/null", "err": "/dev/null", "combined": null, "pid": "/x.pid"},
        "kill_timeout": 1600, "monit": {"memory": memory, "cpu": cpu}, "pm2_home": "/h",
        "axm_monitor": {"Heap": {"value": 12.3456, "unit": "MiB"}, "req/min": {"value": 7}},
        "spec": spec
    });
    serde_json::from_value(json).expect("the test process matches the model")
}

fn spec(name: &str) -> serde_json::Value {
    serde_json::json!({
            "name": name, "namespace": "default", "script": format!("/srv/{name}.js"),
            "args": [], "interpreter": "node", "interpreter_path": "/usr/bin/node",
            "interpreter_args": [], "cwd": "/srv", "exec_mode": "fork_mode", "instances": 1,
            "instances_given": false, "env": {}, "autorestart": true, "stop_exit_codes": [],
            "min_uptime": 1000, "max_restarts": 16, "restart_delay": null,
            "exp_backoff_restart_delay": null, "kill_timeout": null, "treekill": true,
            "merge_logs": false, "out_file": null, "error_file": null, "log_file": "None",
            "pid_file": null, "version": null, "node_version": null, "username": "me",
            "watch": false, "autostart": true
    })
}

#[test]
fn ring_drops_the_oldest() {
    let mut ring = Ring::new(3);
    for i in 0..5 {
        ring.push(i);
    }
    assert_eq!(ring.iter().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
    assert_eq!(Ring::<u8>::new(0).len(), 0);
}

#[test]
fn chunks_become_lines_per_instance_and_stream() {
    let mut store = LogStore::default();
    store.push_chunk(&chunk(0, LogChunkKind::Out, "alpha 1\nal"));
    store.push_chunk(&chunk(1, LogChunkKind::Out, "beta 1\n"));
    store.push_chunk(&chunk(0, LogChunkKind::Err, "oops\n"));
    store.push_chunk(&chunk(0, LogChunkKind::Out, "pha 2\n"));
    assert_eq!(texts(&store, 0), vec!["alpha 1", "oops", "alpha 2"]);
    assert_eq!(texts(&store, 1), vec!["beta 1"]);
    store.push_chunk(&chunk(1, LogChunkKind::Out, "no newline"));
    store.push_chunk(&chunk(1, LogChunkKind::Event, "exit"));
    assert_eq!(texts(&store, 1), vec!["beta 1", "no newline", "[PM2] exit"]);
    let kinds: Vec<LineKind> = store.window(0, 9, 0).iter().map(|l| l.kind).collect();
    assert_eq!(kinds, vec![LineKind::Out, LineKind::Err, LineKind::Out]);
}

#[test]
fn the_log_ring_is_bounded_and_windows_scroll() {
    let mut store = LogStore::default();
    let data: String = (0..LOG_CAPACITY + 50).map(|i| format!("l{i}\n")).collect();
    store.push_chunk(&chunk(0, LogChunkKind::Out, &data));
    assert_eq!(store.len(0), LOG_CAPACITY);
    let last = format!("l{}", LOG_CAPACITY + 49);
    assert_eq!(texts(&store, 0).last(), Some(&last));
    let window: Vec<String> = store.window(0, 2, 1).into_iter().map(|l| l.text).collect();
    assert_eq!(
        window,
        vec![
            format!("l{}", LOG_CAPACITY + 47),
            format!("l{}", LOG_CAPACITY + 48)
        ]
    );
    assert_eq!(store.window(0, 5, 10_000), vec![]);
    assert_eq!(store.window(7, 5, 0), vec![]);
    store.retain(|id| id != 0);
    assert_eq!(store.len(0), 0);
}

#[test]
fn an_endless_line_is_cut() {
    let mut store = LogStore::default();
    store.push_chunk(&chunk(0, LogChunkKind::Out, &"x".repeat(5000)));
    assert_eq!(store.len(0), 1);
}

#[test]
fn control_characters_are_removed() {
    assert_eq!(sanitize("\u{1b}[31mred\u{1b}[39m\tend\r"), "red    end");
    assert_eq!(sanitize("\u{1b}]0;title\u{7}ok\u{1b}]8;;x\u{1b}\\!"), "ok!");
    assert_eq!(sanitize("héllo ✓"), "héllo ✓");
}

#[test]
fn history_keeps_a_minute_and_forgets_deleted_apps() {
    let mut history = History::default();
    for i in 0..HISTORY_CAPACITY + 5 {
        history.record(&[process(0, "a", i as f64, 10), process(1, "b", 0.0, 20)]);
    }
    let samples = history.samples(0);
    assert_eq!(samples.len(), HISTORY_CAPACITY);
    assert_eq!(
        samples.last().map(|s| s.cpu),
        Some((HISTORY_CAPACITY + 4) as f64)
    );
    history.record(&[process(0, "a", 1.0, 10)]);
    assert!(history.samples(1).is_empty());
    assert_eq!(tail(&[1, 2, 3], 2), &[2, 3]);
    assert_eq!(tail(&[1, 2, 3], 9), &[1, 2, 3]);
}

#[test]
fn layout_fits_80x24() {
    let a = areas(Rect::new(0, 0, 80, 24), 8);
    assert_eq!(a.footer, Rect::new(0, 23, 80, 1));
    assert_eq!((a.list.width, a.logs.x, a.logs.width), (36, 36, 44));
    assert_eq!(a.list.height + a.history.height, 23);
    assert_eq!(a.history.height, 6);
    assert_eq!(a.meta.height, 10);
    assert_eq!(a.logs.height + a.meta.height, 23);
}

#[test]
fn layout_degrades_on_tiny_sizes() {
    for (w, h) in [(0, 0), (1, 1), (10, 3), (20, 7), (49, 13)] {
        let a = areas(Rect::new(0, 0, w, h), 30);
        for r in [a.list, a.history, a.logs, a.meta, a.footer] {
            assert!(r.right() <= w && r.bottom() <= h, "{r:?} outside {w}x{h}");
        }
    }
}

#[test]
fn metrics_read_like_pm2() {
    let p = process(0, "api", 0.0, 0);
    assert_eq!(
        metric_lines(&p.axm_monitor),
        vec!["Heap: 12.35 MiB", "req/min: 7"]
    );
    assert_eq!(format_value(&serde_json::json!(2.5)), "2.5");
    assert_eq!(format_value(&serde_json::json!("up")), "up");
    assert_eq!(format_value(&serde_json::Value::Null), "N/A");
    assert_eq!(meta_lines(&p, 61_000 + 1_000).len(), 8);
}

fn snapshot() -> Snapshot {
    let mut store = LogStore::default();
    store.push_chunk(&chunk(0, LogChunkKind::Out, "alpha 1\nalpha 2\n"));
    Snapshot {
        processes: Some(vec![
            process(0, "alpha", 0.3, 45 << 20),
            process(1, "beta", 12.5, 2 << 30),
        ]),
        selected: Some(0),
        lines: store.window(0, 20, 0),
        samples: (0..70)
            .map(|i| super::store::Sample {
                cpu: i as f64,
                memory: i << 20,
            })
            .collect(),
        now_ms: 200_000,
        ..Snapshot::default()
    }
}

fn render(w: u16, h: u16, snap: &Snapshot) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    term.draw(|f| draw(f, snap)).expect("draw");
    let buf = term.backend().buffer();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n")
        .collect()
}

#[test]
fn a_frame_at_80x24_shows_everything() {
    let screen = render(80, 24, &snapshot());
    for needle in [
        "alpha",
        "beta",
        "online",
        "45.0mb",
        "2.0gb",
        "alpha 2",
        "/srv/alpha.js",
    ] {
        assert!(screen.contains(needle), "{needle:?} missing from\n{screen}");
    }
    assert!(screen.contains("Heap: 12.35 MiB"), "{screen}");
    assert!(screen.contains("q quit"), "{screen}");
}

#[test]
fn tiny_frames_do_not_panic() {
    let full = snapshot();
    let empty = Snapshot::default();
    for (w, h) in [
        (1, 1),
        (2, 2),
        (5, 3),
        (12, 6),
        (30, 10),
        (40, 14),
        (200, 60),
    ] {
        render(w, h, &full);
        render(w, h, &empty);
    }
}

#[test]
fn keys_move_the_selection_and_quit() {
    let snap = snapshot();
    let mut ui = Ui::default();
    assert_eq!(
        ui.resolve(snap.processes.as_deref().unwrap_or_default()),
        Some(0)
    );
    let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
    assert_eq!(ui.on_key(key(KeyCode::Down), &snap, 10), Flow::Continue);
    assert_eq!(ui.selected, Some(1));
    let snap = Snapshot {
        selected: Some(1),
        ..snap
    };
    ui.on_key(key(KeyCode::Char('j')), &snap, 10);
    assert_eq!(ui.selected, Some(1), "clamped at the end");
    ui.on_key(key(KeyCode::PageUp), &snap, 10);
    assert_eq!(ui.scroll, 10);
    ui.on_key(key(KeyCode::Char('k')), &snap, 10);
    assert_eq!((ui.selected, ui.scroll), (Some(0), 0));
    assert_eq!(ui.on_key(key(KeyCode::Char('q')), &snap, 10), Flow::Quit);
    assert_eq!(ui.on_key(key(KeyCode::Esc), &snap, 10), Flow::Quit);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(ui.on_key(ctrl_c, &snap, 10), Flow::Quit);
}

#[test]
fn a_vanished_selection_falls_back_to_the_first() {
    let mut ui = Ui {
        selected: Some(9),
        scroll: 4,
    };
    let procs = [process(3, "x", 0.0, 0)];
    assert_eq!(ui.resolve(&procs), Some(0));
    assert_eq!((ui.selected, ui.scroll), (Some(3), 0));
    assert_eq!(ui.resolve(&[]), None);
}

#[test]
fn long_values_keep_their_end() {
    assert_eq!(ellipsize_left("/srv/app/index.js", 9), "…index.js");
    assert_eq!(ellipsize_left("short", 9), "short");
    assert_eq!(ellipsize_left("abc", 0), "");
    assert_eq!(ellipsize_left("abc", 1), "…");
}
