//! `pm2 logs`: the tail step (banner, headers, prefixes, `--raw`, `--out`/`--err`), the live
//! stream (new lines, late apps, restarts, daemon lines, `--json`, `--format`,
//! `--timestamp`), targets, a broken pipe, and a reader that stops reading.

use crate::harness::logs::*;
use crate::harness::poll::try_poll;
use crate::harness::*;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

/// Starts lines.js as `name` printing `n` lines and waits until it has exited.
fn finished_lines_app(p: &Pm2, name: &str, n: &str, pm_id: u64) {
    p.fixture("lines.js");
    p.ok(&[
        "start",
        "lines.js",
        "--name",
        name,
        "--no-autorestart",
        "--",
        n,
    ]);
    p.wait_status(pm_id, "stopped", T);
}

/// Starts ticker.js as `name` and waits for its first tick in its out file.
fn ticker(p: &Pm2, name: &str, extra: &[&str]) {
    p.fixture("ticker.js");
    let mut args = vec!["start", "ticker.js", "--name", name];
    args.extend_from_slice(extra);
    p.ok(&args);
    p.wait_file_contains(&p.log_path(&format!("{name}-out.log")), "tick 1", T);
}

#[test]
fn nostream_prints_the_banner_headers_and_last_lines_with_prefixes() {
    let p = Pm2::new("logs_tail");
    finished_lines_app(&p, "lines", "10", 0);
    let out = p.ok(&["logs", "--nostream", "--lines", "3"]);
    let logs = p.home.join("logs");
    let want_in_order = [
        "[TAILING] Tailing last 3 lines for [all] processes (change the value with --lines option)\n"
            .to_string(),
        format!("{}/pm2.log last 3 lines:\n", p.home.display()),
        format!("{}/lines-out.log last 3 lines:\n", logs.display()),
        "0|lines    | line 7\n0|lines    | line 8\n0|lines    | line 9\n".to_string(),
    ];
    let mut from = 0;
    for want in &want_in_order {
        match out.stdout[from..].find(want.as_str()) {
            Some(at) => from += at + want.len(),
            None => p.fail(&format!("missing (in order) {want:?}"), Some(&out)),
        }
    }
    let err_header = format!("{}/lines-error.log last 3 lines:\n", logs.display());
    p.expect_output(&out, &err_header);
    p.expect_output(&out, "0|lines    | err line 2\n");
    p.expect_output(&out, "PM2        | ");
    let app_lines = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("0|lines"))
        .count();
    p.check(app_lines == 6, "3 out + 3 err lines", &out);
}

#[test]
fn raw_drops_prefixes_and_out_err_filter_the_files() {
    let p = Pm2::new("logs_raw");
    finished_lines_app(&p, "lines", "10", 0);
    let raw = p.ok(&["logs", "--raw", "--nostream", "--lines", "2"]);
    p.check(
        raw.stdout == "line 8\nline 9\n",
        "raw stdout is the bare out lines",
        &raw,
    );
    p.check(
        raw.stderr == "err line 1\nerr line 2\n",
        "raw err lines go to stderr",
        &raw,
    );

    let only_out = p.ok(&["logs", "lines", "--out", "--nostream", "--lines", "2"]);
    p.expect_output(&only_out, "lines-out.log last 2 lines:");
    p.expect_output(&only_out, "0|lines    | line 9");
    p.check(!only_out.stdout.contains("error.log"), "--out", &only_out);
    p.check(!only_out.stdout.contains("err line"), "--out", &only_out);

    let only_err = p.ok(&["logs", "lines", "--err", "--nostream", "--lines", "2"]);
    p.expect_output(&only_err, "lines-error.log last 2 lines:");
    p.expect_output(&only_err, "0|lines    | err line 2");
    p.check(!only_err.stdout.contains("out.log"), "--err", &only_err);
    p.check(!only_err.stdout.contains("| line "), "--err", &only_err);
}

/// The `tick <n>` numbers in `text` after the `label` prefix.
fn ticks(text: &str, label: &str) -> Vec<u64> {
    text.lines()
        .filter(|l| l.starts_with(label))
        .filter_map(|l| l.rsplit_once("| tick ")?.1.trim().parse().ok())
        .collect()
}

#[test]
fn lines_0_streams_only_new_lines_of_a_running_app() {
    let p = Pm2::new("logs_stream");
    ticker(&p, "tk", &[]);
    let before = std::fs::read_to_string(p.log_path("tk-out.log")).unwrap_or_default();
    let written = before.lines().filter(|l| l.starts_with("tick ")).count() as u64;
    let s = LogsStream::spawn(&p, &["logs", "tk", "--lines", "0"]);
    s.wait_stdout(&p, T, "3 streamed ticks", |o| ticks(o, "0|tk").len() >= 3);
    let out = s.stdout();
    assert!(
        !out.contains("[TAILING]") && !out.contains("last 0 lines"),
        "{out}"
    );
    let seen = ticks(&out, "0|tk");
    assert!(
        seen.iter().all(|n| *n >= written) && seen.windows(2).all(|w| w[1] == w[0] + 1),
        "only new, consecutive ticks (file had {written} before): {seen:?}"
    );
}

#[test]
fn late_apps_restarts_and_daemon_lines_appear_in_the_stream() {
    let p = Pm2::new("logs_late");
    ticker(&p, "early", &[]);
    let s = LogsStream::spawn(&p, &["logs", "--lines", "0"]);
    // Once a live tick shows, the stream is subscribed: everything after must appear.
    s.wait_stdout(&p, T, "a live tick of early", |o| {
        !ticks(o, "0|early").is_empty()
    });

    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js", "--name", "late"]);
    s.wait_for(&p, "App [late:1] online", T);
    s.wait_stdout(&p, T, "ticks of late", |o| !ticks(o, "1|late").is_empty());
    let online = s.stdout();
    let line = online.lines().find(|l| l.contains("App [late:1] online"));
    assert!(
        line.is_some_and(|l| l.starts_with("PM2") && l.contains(" | ")),
        "daemon line carries the PM2 prefix: {line:?}"
    );

    p.ok(&["restart", "late"]);
    let pid = p.wait_online(1);
    s.wait_for(&p, &format!("ticker started pid={pid}"), T);
    let after = s.stdout().len();
    s.wait_stdout(&p, T, "ticks of the restarted app", |o| {
        !ticks(&o[after..], "1|late").is_empty()
    });
}

#[test]
fn targets_select_only_matching_apps() {
    let p = Pm2::new("logs_targets");
    ticker(&p, "alpha", &["--namespace", "blue"]);
    ticker(&p, "beta", &[]);
    ticker(&p, "gamma", &["--namespace", "blue"]);
    let names = ["alpha", "beta", "gamma"];
    for (target, want) in [
        ("1", vec!["beta"]),
        ("gamma", vec!["gamma"]),
        ("blue", vec!["alpha", "gamma"]),
        ("/^(al|be)/", vec!["alpha", "beta"]),
    ] {
        let out = p.ok(&["logs", target, "--nostream", "--lines", "2"]);
        for name in names {
            let shown = out
                .stdout
                .contains(&format!("{name}-out.log last 2 lines:"));
            p.check(
                shown == want.contains(&name),
                &format!("{target}: {name}"),
                &out,
            );
        }
        let s = LogsStream::spawn(&p, &["logs", target, "--lines", "0"]);
        for (id, name) in names.iter().enumerate() {
            if want.contains(name) {
                let label = format!("{id}|{name}");
                s.wait_stdout(&p, T, &format!("3 ticks of {label}"), |o| {
                    ticks(o, &label).len() >= 3
                });
            }
        }
        // Every app ticks every 100 ms: by now the others would have shown up too.
        let streamed = s.stdout();
        for (id, name) in names.iter().enumerate() {
            let shown = streamed.contains(&format!("{id}|{name}"));
            assert!(
                shown == want.contains(name),
                "stream of {target}: {name}\n{}",
                s.report()
            );
        }
    }
}

#[test]
fn an_unknown_target_exits_1_with_not_found() {
    let p = Pm2::new("logs_unknown");
    ticker(&p, "known", &[]);
    let out = p.fails(&["logs", "nosuchapp", "--nostream"], 1);
    p.expect_output(&out, "not found");
    let out = p.fails(&["logs", "nosuchapp"], 1);
    p.expect_output(&out, "not found");
}

#[test]
fn json_format_and_timestamp_shape_the_stream() {
    let p = Pm2::new("logs_shapes");
    ticker(&p, "tk", &[]);

    let s = LogsStream::spawn(&p, &["logs", "tk", "--json"]);
    s.wait_stdout(&p, T, "3 JSON lines", |o| o.lines().count() >= 3);
    for line in s.stdout().lines() {
        let keys = ["message", "timestamp", "type", "process_id", "app_name"]
            .map(|k| line.find(&format!("\"{k}\":")).unwrap_or(usize::MAX));
        let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        assert!(
            keys.windows(2).all(|w| w[0] < w[1])
                && keys[4] != usize::MAX
                && v["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("tick "))
                && v["type"] == "out"
                && v["process_id"] == 0
                && v["app_name"] == "tk",
            "not a PM2 JSON log line: {line}\n{}",
            s.report()
        );
    }
    drop(s);

    let s = LogsStream::spawn(&p, &["logs", "tk", "--format"]);
    s.wait_stdout(&p, T, "3 format lines", |o| o.lines().count() >= 3);
    for line in s.stdout().lines() {
        assert!(
            line.starts_with("timestamp=") && line.contains(" app=tk id=0 type=out message=tick "),
            "not a --format line: {line}"
        );
    }
    drop(s);

    let s = LogsStream::spawn(&p, &["logs", "tk", "--timestamp", "--lines", "0"]);
    s.wait_stdout(&p, T, "3 stamped lines", |o| o.lines().count() >= 3);
    for line in s.stdout().lines() {
        // YYYY-MM-DD-HH:mm:ss, then the usual prefix.
        let (stamp, rest) = line.split_once(' ').unwrap_or(("", line));
        let shape_ok = stamp.len() == 19
            && stamp.bytes().enumerate().all(|(i, c)| match i {
                4 | 7 | 10 => c == b'-',
                13 | 16 => c == b':',
                _ => c.is_ascii_digit(),
            });
        assert!(shape_ok && rest.starts_with("0|tk"), "{line}");
    }
}

#[test]
fn a_broken_pipe_exits_0() {
    let p = Pm2::new("logs_epipe");
    finished_lines_app(&p, "lines", "10", 0);
    // A reader that is already gone: every write of pm2 gets EPIPE.
    let (reader, writer) = nix::unistd::pipe().expect("pipe");
    drop(reader);
    let mut child = Command::new(bin())
        .args(["logs", "--lines", "5", "--nostream"])
        .current_dir(&p.dir)
        .env("PM2_HOME", &p.home)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pm2 logs");
    let mut status = None;
    p.wait_until(T, "pm2 logs to exit", || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "pm2 logs into a closed pipe; stderr: {stderr}"
    );

    // The same through a reader that closes after one line.
    let cmd = format!(
        "timeout 30 '{}' logs --lines 5 --nostream | head -1 >/dev/null; \
         echo \"status=${{PIPESTATUS[0]}}\"",
        bin()
    );
    let out = Command::new("bash")
        .args(["-c", &cmd])
        .current_dir(&p.dir)
        .env("PM2_HOME", &p.home)
        .output()
        .expect("bash");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("status=0"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_stalled_reader_does_not_slow_the_app_and_learns_it_skipped_lines() {
    let p = Pm2::new("logs_stall");
    ticker(&p, "pre", &[]);
    let mut s = LogsStream::spawn(&p, &["logs", "--lines", "0"]);
    s.wait_stdout(&p, T, "a live tick", |o| !ticks(o, "0|pre").is_empty());
    s.pause();
    p.fixture("numbered.js");
    // One write per line, so the reader's queue fills with many small chunks.
    p.ok(&[
        "start",
        "numbered.js",
        "--name",
        "chatty",
        "--",
        "100000",
        "1",
        "0",
        "keep",
    ]);
    let file = p.log_path("chatty-out.log");
    p.wait_until(
        Duration::from_secs(30),
        "100000 lines in the out file",
        || seq_numbers_in(&file).len() >= 100_000,
    );
    assert!(s.running(), "the stalled reader is still there");
    if let Some(problem) = exactly_once(&seq_numbers_in(&file), 100_000) {
        p.fail(&format!("out file: {problem}"), None);
    }
    s.resume();
    if try_poll(T, || s.stderr().contains("skipped")).is_err() {
        p.fail(
            &format!("the reader was not told it missed lines\n{}", s.report()),
            None,
        );
    }
    s.wait_for(&p, "| idle ", T);
}
