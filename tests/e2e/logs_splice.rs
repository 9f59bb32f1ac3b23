//! The relay's zero-copy path: while nobody reads an app's output live and its lines go
//! unchanged to one file, the daemon splices the pipe into the file (its `rchar` does not
//! grow by the bytes). What must hold on that path as on the copying one: several instances
//! merged into one file lose no line and never tear one, a copytruncate (logrotate's) while
//! the app writes restarts the file at 0 without a hole of NULs, a `pm2 logs` attaching and
//! leaving mid-flood sees lines and costs the file nothing, and `reloadLogs` after a move
//! puts every later line in the new file.

use crate::harness::logs::*;
use crate::harness::*;
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);
const FLOOD: u64 = 100_000;

/// Bytes the daemon has read with read(2) and friends so far (`/proc/<pid>/io`).
fn daemon_rchar(p: &Pm2) -> u64 {
    let pid = p.daemon_pid().expect("daemon pid");
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| p.fail(&format!("no rchar in /proc/{pid}/io: {io:?}"), None))
}

/// The numbers of the `line <n> ...` lines of `bytes`, in file order (`waiting` skipped).
fn numbers(bytes: &[u8]) -> Vec<u64> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|l| l.strip_prefix("line ")?.split(' ').next()?.parse().ok())
        .collect()
}

/// The last `n` bytes of `bytes` (all of them when shorter), cut to whole lines by
/// [`numbers`]' parse: a partial first line yields no number.
fn last_bytes(bytes: &[u8], n: usize) -> &[u8] {
    &bytes[bytes.len().saturating_sub(n)..]
}

/// The numbers under `end` (the app goes on writing after what a test waits for).
fn below(numbers: &[u64], end: u64) -> Vec<u64> {
    numbers.iter().copied().filter(|n| *n < end).collect()
}

/// Fails unless every line of `bytes` is one gated.js wrote whole, and no byte is NUL.
fn all_lines_whole(p: &Pm2, what: &str, bytes: &[u8]) {
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        p.fail(&format!("{what}: a NUL byte at offset {at}"), None);
    }
    let pad = ".".repeat(40);
    let text = String::from_utf8_lossy(bytes);
    let bad = text.lines().find(|l| {
        let numbered = l
            .strip_prefix("line ")
            .and_then(|r| r.split_once(' '))
            .is_some_and(|(n, rest)| n.parse::<u64>().is_ok() && rest == pad);
        !numbered && *l != "waiting"
    });
    if let Some(line) = bad {
        p.fail(&format!("{what}: a torn or foreign line {line:?}"), None);
    }
}

/// Starts gated.js as `name` with `args` before the script's own (gate, flood).
fn start_gated(p: &Pm2, name: &str, gate: &Path, extra: &[&str]) {
    p.fixture("gated.js");
    let gate = gate.to_string_lossy().into_owned();
    let flood = FLOOD.to_string();
    let mut args = vec!["start", "gated.js", "--name", name];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", &gate, &flood]);
    p.ok(&args);
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

#[test]
fn two_merged_instances_lose_no_line_and_the_daemon_never_reads_them_while_another_app_is_read() {
    let p = Pm2::new("splice_merged");
    let gate = p.dir.join("gate");
    std::fs::write(&gate, "").expect("gate");
    // A reader of another app: the merged app's relays splice all the same.
    p.fixture("ticker.sh");
    p.ok(&["start", "ticker.sh", "--name", "other"]);
    let other = LogsStream::spawn(&p, &["logs", "other", "--raw", "--lines", "0"]);
    other.wait_for(&p, "sh tick", T);
    let before = daemon_rchar(&p);
    start_gated(&p, "merged", &gate, &["-i", "2", "--merge-logs"]);
    let file = p.log_path("merged-out.log");
    p.wait_until(T, "both floods in the merged file", || {
        numbers(&read(&file)).iter().filter(|n| **n < FLOOD).count() as u64 == 2 * FLOOD
    });
    let bytes = read(&file);
    all_lines_whole(&p, "merged-out.log", &bytes);
    let mut seen: Vec<u64> = numbers(&bytes).into_iter().filter(|n| *n < FLOOD).collect();
    seen.sort_unstable();
    let twice = seen.chunks(2).enumerate().all(|(i, c)| c == [i as u64; 2]);
    assert!(twice, "each of 0..{FLOOD} twice, once per instance");
    let read_by_daemon = daemon_rchar(&p) - before;
    assert!(
        read_by_daemon < bytes.len() as u64 / 10,
        "spliced: the daemon read {read_by_daemon} bytes for {} in the file",
        bytes.len()
    );
}

#[test]
fn a_copytruncate_while_the_app_writes_restarts_the_file_at_0_without_a_hole() {
    let p = Pm2::new("splice_copytruncate");
    let gate = p.dir.join("gate");
    std::fs::write(&gate, "").expect("gate");
    start_gated(&p, "ct", &gate, &[]);
    let file = p.log_path("ct-out.log");
    p.wait_until(T, "a megabyte in the out file", || {
        std::fs::metadata(&file).is_ok_and(|m| m.len() > 1 << 20)
    });
    // logrotate's copytruncate: copy the live file, then cut it to 0 under the writer.
    let copy = p.dir.join("ct-out.log.1");
    std::fs::copy(&file, &copy).expect("copy");
    let live = std::fs::OpenOptions::new().write(true).open(&file);
    live.and_then(|f| f.set_len(0)).expect("truncate");
    p.wait_file_contains(&file, &format!("line {} ", FLOOD + 2), T);
    let (old, new) = (read(&copy), read(&file));
    all_lines_whole(&p, "the live file after the truncation", &new);
    assert!(
        new.starts_with(b"line "),
        "the file restarts with a whole line"
    );
    let fresh = numbers(&new);
    let copied = seq_tail(&numbers(&old));
    let contiguous = fresh.windows(2).all(|w| w[1] == w[0] + 1);
    assert!(contiguous, "the new file continues line after line");
    assert!(
        copied < fresh[0] && (new.len() as u64) < FLOOD * 50,
        "written from 0 after the cut: copy ends at line {copied}, file starts at {}",
        fresh[0]
    );
}

/// The last number of a copy (its last line may be cut where the copy stopped reading).
fn seq_tail(copied: &[u64]) -> u64 {
    copied.last().copied().unwrap_or(0)
}

#[test]
fn a_logs_reader_attaching_and_leaving_mid_flood_sees_lines_and_the_file_loses_none() {
    let p = Pm2::new("splice_reader");
    let gate = p.dir.join("gate");
    start_gated(&p, "watched", &gate, &[]);
    let file = p.log_path("watched-out.log");
    p.wait_file_contains(&file, "waiting", T);
    let reader = LogsStream::spawn(&p, &["logs", "watched", "--raw", "--lines", "0"]);
    reader.wait_for(&p, "waiting", T);
    std::fs::write(&gate, "").expect("open the gate");
    // A reader that falls behind is told how many lines it skipped, and the skip may cover
    // any given line, the flood's end included: wait until it has caught up past the flood.
    reader.wait_stdout(&p, T, &format!("a line numbered {FLOOD} or later"), |out| {
        numbers(last_bytes(out.as_bytes(), 4096))
            .iter()
            .any(|n| *n >= FLOOD)
    });
    drop(reader);
    p.wait_file_contains(&file, &format!("line {} ", FLOOD + 3), T);
    let bytes = read(&file);
    all_lines_whole(&p, "watched-out.log", &bytes);
    if let Some(problem) = exactly_once(&below(&numbers(&bytes), FLOOD + 4), FLOOD + 4) {
        p.fail(&format!("the out file: {problem}"), None);
    }
}

#[test]
fn reload_logs_after_a_move_puts_every_later_line_in_the_new_file() {
    let p = Pm2::new("splice_reload");
    let gate = p.dir.join("gate");
    start_gated(&p, "moved", &gate, &[]);
    let file = p.log_path("moved-out.log");
    p.wait_file_contains(&file, "waiting", T);
    let old = p.dir.join("moved-out.old");
    std::fs::rename(&file, &old).expect("move the live file");
    p.ok(&["reloadLogs"]);
    std::fs::write(&gate, "").expect("open the gate");
    p.wait_file_contains(&file, &format!("line {} ", FLOOD + 1), T);
    let (before, after) = (read(&old), read(&file));
    all_lines_whole(&p, "the moved file", &before);
    all_lines_whole(&p, "the new file", &after);
    assert!(
        before.starts_with(b"waiting\n"),
        "the old file kept its lines"
    );
    assert!(
        numbers(&before).is_empty(),
        "no line after reloadLogs in the old file"
    );
    if let Some(problem) = exactly_once(&below(&numbers(&after), FLOOD + 2), FLOOD + 2) {
        p.fail(&format!("the new file: {problem}"), None);
    }
}

#[test]
fn two_copied_apps_keep_their_own_lines_through_a_flood_and_after_the_read_buffer_shrank() {
    // The copying relays of all apps on a runtime thread read into one buffer, which grows
    // for a flood and shrinks when it is over. A reader of every app keeps both relays
    // copying; each file must hold its own app's lines, whole and exactly once, before,
    // during and after the flood.
    let p = Pm2::new("copy_shared_buffer");
    let (gate, never) = (p.dir.join("gate"), p.dir.join("never"));
    start_gated(&p, "flood", &gate, &[]);
    start_gated(&p, "quiet", &never, &[]);
    let (flood, quiet) = (p.log_path("flood-out.log"), p.log_path("quiet-out.log"));
    p.wait_file_contains(&quiet, "waiting", T);
    let reader = LogsStream::spawn(&p, &["logs", "--raw", "--lines", "0"]);
    reader.wait_for(&p, "waiting", T);
    std::fs::write(&gate, "").expect("open the gate");
    // The trickle after the flood is read in small chunks: the buffer is back to its least.
    p.wait_file_contains(&flood, &format!("line {} ", FLOOD + 5), T);
    let waited = String::from_utf8_lossy(&read(&quiet)).lines().count();
    p.wait_until(T, "the quiet app's lines still reach its file", || {
        String::from_utf8_lossy(&read(&quiet)).lines().count() >= waited + 5
    });
    p.wait_file_contains(&flood, &format!("line {} ", FLOOD + 8), T);
    let bytes = read(&flood);
    all_lines_whole(&p, "flood-out.log", &bytes);
    if let Some(problem) = exactly_once(&below(&numbers(&bytes), FLOOD + 8), FLOOD + 8) {
        p.fail(&format!("the flood's file: {problem}"), None);
    }
    let text = String::from_utf8_lossy(&bytes);
    if let Some(late) = text
        .lines()
        .skip_while(|l| *l == "waiting")
        .find(|l| *l == "waiting")
    {
        p.fail(
            &format!("the flood's file has {late:?} after its first line"),
            None,
        );
    }
    let quiet_bytes = read(&quiet);
    all_lines_whole(&p, "quiet-out.log", &quiet_bytes);
    if let Some(foreign) = String::from_utf8_lossy(&quiet_bytes)
        .lines()
        .find(|l| *l != "waiting")
    {
        p.fail(&format!("the quiet app's file has {foreign:?}"), None);
    }
    drop(reader);
}
