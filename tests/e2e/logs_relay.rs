//! The relay from an app's pipes into its log files: completeness and order, exact bytes,
//! file naming (instances, merge, combined, custom, null, odd names) and line formats
//! (`--time`, `--log-date-format`, `--log-type json`).

use crate::harness::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

/// Reads a file, empty when missing.
fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

fn read_text(path: &Path) -> String {
    String::from_utf8_lossy(&read(path)).into_owned()
}

/// The names in `$PM2_HOME/logs` (sorted).
fn log_files(p: &Pm2) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(p.home.join("logs"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Starts emit.js with `bytes` as its whole output and waits until it has exited.
fn emit(p: &Pm2, name: &str, bytes: &[u8]) {
    p.fixture("emit.js");
    let input = p.dir.join(format!("{name}.input"));
    std::fs::write(&input, bytes).expect("write emit input");
    let input = input.to_string_lossy().into_owned();
    p.ok(&[
        "start",
        "emit.js",
        "--name",
        name,
        "--no-autorestart",
        "--",
        &input,
    ]);
}

/// Waits until the app of `pm_id` has stopped (it ran to its end).
fn wait_stopped(p: &Pm2, pm_id: u64) {
    p.wait_status(pm_id, "stopped", T);
}

#[test]
fn a_hundred_thousand_lines_arrive_complete_and_in_order() {
    let p = Pm2::new("relay_100k");
    p.fixture("lines.js");
    p.ok(&["start", "lines.js", "--no-autorestart", "--", "100000"]);
    wait_stopped(&p, 0);
    let out = read_text(&p.log_path("lines-out.log"));
    let lines: Vec<&str> = out.lines().collect();
    let first_bad = lines
        .iter()
        .enumerate()
        .find(|(i, l)| **l != format!("line {i}"));
    if lines.len() != 100_000 || first_bad.is_some() || !out.ends_with('\n') {
        p.fail(
            &format!(
                "out log has {} lines; first line out of sequence: {first_bad:?}",
                lines.len()
            ),
            None,
        );
    }
    let err = read_text(&p.log_path("lines-error.log"));
    assert_eq!(err, "err line 0\nerr line 1\nerr line 2\n", "stderr file");
}

#[test]
fn a_partial_last_line_is_kept() {
    let p = Pm2::new("relay_partial");
    emit(&p, "partial", b"first\nno newline at the end");
    wait_stopped(&p, 0);
    assert_eq!(
        read_text(&p.log_path("partial-out.log")),
        "first\nno newline at the end"
    );
}

#[test]
fn invalid_utf8_and_a_3_mb_line_pass_through_byte_exact() {
    let p = Pm2::new("relay_bytes");
    let mut bytes = b"bad \xff\xfe\x80 bytes\n\xc3(\n".to_vec();
    bytes.extend((0..3 * 1024 * 1024).map(|i| b'a' + (i % 26) as u8));
    bytes.extend_from_slice(b"\nafter the long line \xe2\x82\n");
    emit(&p, "bytes", &bytes);
    wait_stopped(&p, 0);
    let got = read(&p.log_path("bytes-out.log"));
    if got != bytes {
        let at = got.iter().zip(&bytes).position(|(a, b)| a != b);
        p.fail(
            &format!(
                "out log differs: {} bytes written, {} expected, first difference at {at:?}",
                got.len(),
                bytes.len()
            ),
            None,
        );
    }
}

#[test]
fn instances_get_one_file_per_id_unless_merged() {
    let p = Pm2::new("relay_instances");
    p.fixture("ticker.sh");
    p.ok(&["start", "ticker.sh", "-i", "2", "--name", "split"]);
    p.ok(&[
        "start",
        "ticker.sh",
        "-i",
        "2",
        "--name",
        "merged",
        "--merge-logs",
    ]);
    for id in [0, 1] {
        let file = p.log_path(&format!("split-out-{id}.log"));
        p.wait_file_contains(&file, &format!("instance={id}"), T);
        p.wait_file_contains(&file, "sh tick", T);
    }
    let merged = p.log_path("merged-out.log");
    p.wait_file_contains(&merged, "instance=0", T);
    p.wait_file_contains(&merged, "instance=1", T);
    let files = log_files(&p);
    assert!(!files.contains(&"split-out.log".to_string()), "{files:?}");
    assert!(
        !files.iter().any(|f| f.starts_with("merged-out-")),
        "{files:?}"
    );
}

#[test]
fn combined_log_default_and_custom_path() {
    let p = Pm2::new("relay_combined");
    p.fixture("lines.js");
    p.ok(&[
        "start",
        "lines.js",
        "--name",
        "comb",
        "-l",
        "--no-autorestart",
        "--",
        "5",
    ]);
    p.ok(&[
        "start",
        "lines.js",
        "--name",
        "custom",
        "-l",
        "all/custom.log",
        "--no-autorestart",
        "--",
        "5",
    ]);
    wait_stopped(&p, 0);
    wait_stopped(&p, 1);
    for path in [p.log_path("comb.log"), p.dir.join("all/custom.log")] {
        let text = read_text(&path);
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort();
        let mut want: Vec<String> = (0..5).map(|i| format!("line {i}")).collect();
        want.extend((0..3).map(|i| format!("err line {i}")));
        want.sort();
        assert_eq!(lines, want, "combined file {}", path.display());
    }
    assert_eq!(read_text(&p.log_path("comb-out.log")).lines().count(), 5);
    assert_eq!(read_text(&p.log_path("comb-error.log")).lines().count(), 3);
}

#[test]
fn custom_files_in_a_missing_folder_are_created() {
    let p = Pm2::new("relay_newdir");
    p.fixture("lines.js");
    p.ok(&[
        "start",
        "lines.js",
        "-o",
        "new/deeper/out.log",
        "-e",
        "other/err.log",
        "--no-autorestart",
        "--",
        "4",
    ]);
    wait_stopped(&p, 0);
    assert_eq!(
        read_text(&p.dir.join("new/deeper/out.log")),
        "line 0\nline 1\nline 2\nline 3\n"
    );
    assert_eq!(
        read_text(&p.dir.join("other/err.log")),
        "err line 0\nerr line 1\nerr line 2\n"
    );
}

#[test]
fn null_outputs_and_disabled_logs_write_nothing() {
    let p = Pm2::new("relay_null");
    p.fixture("lines.js");
    let run = |name: &str, flags: &[&str]| {
        let mut args = vec!["start", "lines.js", "--name", name, "--no-autorestart"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--", "50"]);
        p.ok(&args);
    };
    run("devnull", &["-o", "/dev/null", "-e", "/dev/null"]);
    run("nullword", &["-o", "NULL", "-e", "NULL"]);
    run("disabled", &["--disable-logs"]);
    for id in 0..3 {
        wait_stopped(&p, id);
    }
    let files = log_files(&p);
    for name in ["devnull", "nullword", "disabled"] {
        assert!(
            !files.iter().any(|f| f.starts_with(name)),
            "{name} wrote a log file: {files:?}"
        );
    }
    assert!(!p.dir.join("NULL").exists(), "NULL is not a file name");
}

/// Whether `s` is `YYYY-MM-DDTHH:mm:ss`.
fn is_iso_second(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn time_and_log_date_format_prefix_every_line() {
    let p = Pm2::new("relay_time");
    p.fixture("lines.js");
    let year = Command::new("date").arg("+%Y").output().expect("date");
    let year = String::from_utf8_lossy(&year.stdout).trim().to_string();
    p.ok(&[
        "start",
        "lines.js",
        "--name",
        "timed",
        "--time",
        "--no-autorestart",
        "--",
        "20",
    ]);
    p.ok(&[
        "start",
        "lines.js",
        "--name",
        "yearly",
        "--log-date-format",
        "YYYY",
        "--no-autorestart",
        "--",
        "20",
    ]);
    wait_stopped(&p, 0);
    wait_stopped(&p, 1);
    let timed = read_text(&p.log_path("timed-out.log"));
    let lines: Vec<&str> = timed.lines().collect();
    assert_eq!(lines.len(), 20, "{timed}");
    for (i, line) in lines.iter().enumerate() {
        let (stamp, rest) = line.split_once(": ").unwrap_or(("", line));
        assert!(is_iso_second(stamp), "bad prefix in {line:?}");
        assert_eq!(rest, format!("line {i}"));
    }
    let timed_err = read_text(&p.log_path("timed-error.log"));
    assert!(
        timed_err.lines().count() == 3
            && timed_err
                .lines()
                .all(|l| is_iso_second(&l[..19.min(l.len())])),
        "error lines are prefixed too: {timed_err:?}"
    );
    let yearly = read_text(&p.log_path("yearly-out.log"));
    let want: String = (0..20).map(|i| format!("{year}: line {i}\n")).collect();
    assert_eq!(yearly, want);
}

#[test]
fn log_type_json_writes_one_object_per_line_in_pm2_key_order() {
    let p = Pm2::new("relay_json");
    p.fixture("lines.js");
    p.ok(&[
        "start",
        "lines.js",
        "--name",
        "js",
        "--log-type",
        "json",
        "--no-autorestart",
        "--",
        "10",
    ]);
    wait_stopped(&p, 0);
    for (file, kind, want) in [
        (
            "js-out.log",
            "out",
            (0..10).map(|i| format!("line {i}\n")).collect::<Vec<_>>(),
        ),
        (
            "js-error.log",
            "err",
            (0..3).map(|i| format!("err line {i}\n")).collect(),
        ),
    ] {
        let text = read_text(&p.log_path(file));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), want.len(), "{file}: {text}");
        for (line, message) in lines.iter().zip(&want) {
            let keys = ["message", "timestamp", "type", "process_id", "app_name"]
                .map(|k| line.find(&format!("\"{k}\":")).unwrap_or(usize::MAX));
            assert!(
                keys.windows(2).all(|w| w[0] < w[1]) && keys[4] != usize::MAX,
                "keys out of order in {line}"
            );
            let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
            assert_eq!(v["message"], message.as_str(), "{line}");
            assert_eq!(v["type"], kind, "{line}");
            assert_eq!(v["process_id"], 0, "{line}");
            assert_eq!(v["app_name"], "js", "{line}");
            assert!(v["timestamp"].as_str().is_some_and(|t| !t.is_empty()));
        }
    }
}

#[test]
fn odd_names_map_to_safe_file_names_inside_logs() {
    let p = Pm2::new("relay_oddname");
    p.fixture("lines.js");
    p.ok(&[
        "start",
        "lines.js",
        "--name",
        "my app/../x",
        "--no-autorestart",
        "--",
        "3",
    ]);
    wait_stopped(&p, 0);
    assert_eq!(
        read_text(&p.log_path("my-app-..-x-out.log")),
        "line 0\nline 1\nline 2\n"
    );
    let files = log_files(&p);
    assert_eq!(files, ["my-app-..-x-error.log", "my-app-..-x-out.log"]);
    assert!(!p.home.join("x-out.log").exists());
    assert!(!p.home.join("logs/my app").exists());
}
