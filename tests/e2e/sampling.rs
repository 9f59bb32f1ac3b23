//! CPU and memory readings: the daemon reads idle instances only every 30 s on its own,
//! but a view reads what it shows, so `jlist` right after an app grew shows the growth.

use crate::harness::*;
use std::time::Duration;

/// An app that, 3 s after it starts (past the daemon's first sweep), takes 64 MiB and
/// says so; `jlist` shows it at once, not at the next sweep 30 s later.
#[test]
fn a_view_shows_memory_as_of_now_between_sweeps() {
    let p = Pm2::new("sampling_fresh");
    let app = p.dir.join("grow.js");
    std::fs::write(
        &app,
        "setTimeout(() => { globalThis.kept = Buffer.alloc(64 * 1024 * 1024, 1); console.log('grown'); }, 3000);\nsetInterval(() => {}, 1000);\n",
    )
    .expect("write the app");
    p.ok(&["start", app.to_str().unwrap(), "--name", "grow"]);
    p.wait_online(0);
    let before = p.app(0)["monit"]["memory"].as_u64().unwrap_or(0);
    assert!(before > 0 && before < 60 * 1024 * 1024, "{before}");
    p.wait_file_contains(
        &p.home.join("logs/grow-out.log"),
        "grown",
        Duration::from_secs(20),
    );
    p.wait_until(Duration::from_secs(3), "jlist to show the 64 MiB", || {
        let memory = p.app(0)["monit"]["memory"].as_u64().unwrap_or(0);
        (memory > 64 * 1024 * 1024).then_some(())
    });
}
