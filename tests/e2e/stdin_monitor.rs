//! `pm2 send` and `pm2 attach` (an app's stdin), and `pm2 monitor|unmonitor` (the
//! `_km_monitored` flag in pm2_env).

use crate::harness::*;
use std::io::{Read, Write};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

/// Starts stdin_echo.js as app 0, online and printing.
fn start_echo(p: &Pm2) {
    p.fixture("stdin_echo.js");
    p.ok(&["start", "stdin_echo.js", "--name", "echo"]);
    p.wait_online(0);
    p.wait_file_contains(&p.log_path("echo-out.log"), "stdin echo ready", T);
}

fn send_scenario(p: &Pm2) {
    start_echo(p);
    let out = p.ok(&["send", "0", "hello there"]);
    p.check(out.stdout.contains("│ echo"), "the table after send", &out);
    p.wait_file_contains(&p.log_path("echo-out.log"), "got:hello there\n", T);
    for (id, word) in [("7", "7"), ("echo", "echo")] {
        let out = p.fails(&["send", id, "x"], 1);
        let want = format!("Error: Process with ID <{word}> unknown.");
        p.check(out.stderr.contains(&want), "PM2's unknown id error", &out);
    }
    p.ok(&["stop", "0"]);
    let out = p.fails(&["send", "0", "x"], 1);
    p.check(
        out.stderr.contains("Process with ID <0> offline."),
        "PM2's offline error",
        &out,
    );
}

#[test]
fn send_writes_a_line_to_the_apps_stdin() {
    send_scenario(&Pm2::new("send"));
}

#[test]
#[ignore = "reference run against PM2 7: PM2_REF=... -- --ignored"]
fn send_writes_a_line_to_the_apps_stdin_reference() {
    send_scenario(&Pm2::reference("send_ref"));
}

#[test]
fn a_full_stdin_pipe_is_reported_and_never_blocks_the_daemon() {
    let p = Pm2::new("send_full");
    let script = p.sleeper_script("never_reads.sh");
    p.ok(&["start", &script.to_string_lossy(), "--name", "deaf"]);
    p.wait_online(0);
    // One line larger than the pipe's buffer: it cannot all go in.
    let big = "x".repeat(100_000);
    let out = p.fails(&["send", "0", &big], 1);
    p.check(
        out.stderr.contains("is full"),
        "the full pipe is reported",
        &out,
    );
    p.check(out.elapsed < Duration::from_secs(5), "bounded wait", &out);
    let out = p.fails(&["send", "0", &big], 1);
    p.check(out.stderr.contains("is full"), "still reported", &out);
    // The daemon and the instance still answer at once.
    let out = p.ok(&["stop", "0"]);
    p.check(
        out.elapsed < Duration::from_secs(5),
        "stop is not held up",
        &out,
    );
    assert_eq!(st(&p.app(0)), "stopped");
}

/// `pm2 attach` with a pipe as its stdin; its stdout is gathered on a thread. Killed by
/// its own pid if the test ends first.
struct Attached {
    child: Child,
    out: Arc<Mutex<String>>,
}

impl Drop for Attached {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn attach(p: &Pm2, args: &[&str]) -> Attached {
    let mut child = p
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn pm2 attach");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let out = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&out);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_str(&text);
        }
    });
    Attached { child, out }
}

fn attach_scenario(p: &Pm2) {
    start_echo(p);
    let mut a = attach(p, &["attach", "0", ";;"]);
    let mut stdin = a.child.stdin.take().expect("piped stdin");
    // The output stream and the first line race (as in PM2): type until the echo shows.
    poll_until(T, "the typed line echoed on attach's stdout", || {
        let _ = writeln!(stdin, "ping");
        let _ = stdin.flush();
        a.out
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains("got:ping;;")
    });
    drop(stdin);
    let status = poll_until(T, "attach exits when its stdin ends", || {
        a.child.try_wait().ok().flatten()
    });
    assert_eq!(status.code(), Some(0));
    let out = p.fails(&["attach", "echo"], 1);
    p.check(
        out.stderr.contains("pm_id must be a process number"),
        "a name is refused",
        &out,
    );
}

#[test]
fn attach_streams_output_and_forwards_typed_lines() {
    attach_scenario(&Pm2::new("attach"));
}

#[test]
#[ignore = "reference run against PM2 7: PM2_REF=... -- --ignored"]
fn attach_streams_output_and_forwards_typed_lines_reference() {
    attach_scenario(&Pm2::reference("attach_ref"));
}

fn monitored(p: &Pm2, id: u64) -> Option<bool> {
    p.app(id)["pm2_env"]["_km_monitored"].as_bool()
}

fn monitor_scenario(p: &Pm2) {
    start_echo(p);
    p.ok(&["start", "stdin_echo.js", "--name", "other"]);
    p.wait_online(1);
    assert_eq!(monitored(p, 0), None, "absent by default");
    let out = p.ok(&["monitor", "echo"]);
    p.check(out.stdout.contains("│ id"), "the table after monitor", &out);
    assert_eq!(monitored(p, 0), Some(true));
    assert_eq!(monitored(p, 1), None, "only the app named");
    p.ok(&["unmonitor", "0"]);
    assert_eq!(monitored(p, 0), Some(false));
    p.ok(&["monitor", "all"]);
    assert_eq!((monitored(p, 0), monitored(p, 1)), (Some(true), Some(true)));
    p.ok(&["restart", "echo"]);
    assert_eq!(monitored(p, 0), Some(true), "kept across a restart");
    let out = p.fails(&["unmonitor"], 1);
    p.check(
        out.stderr.contains("Please specify an <app_name|pm_id>"),
        "PM2's missing target error",
        &out,
    );
}

#[test]
fn monitor_and_unmonitor_set_km_monitored_on_the_apps_named() {
    monitor_scenario(&Pm2::new("monitor"));
}

#[test]
#[ignore = "reference run against PM2 7: PM2_REF=... -- --ignored"]
fn monitor_and_unmonitor_set_km_monitored_on_the_apps_named_reference() {
    monitor_scenario(&Pm2::reference("monitor_ref"));
}

#[test]
fn monitor_of_an_unknown_app_is_an_error_and_changes_nothing() {
    let p = Pm2::new("monitor_unknown");
    start_echo(&p);
    let out = p.fails(&["monitor", "nope"], 1);
    p.check(
        out.stderr.contains("nope not found"),
        "names the target",
        &out,
    );
    assert_eq!(monitored(&p, 0), None);
}
