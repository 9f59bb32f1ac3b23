//! An app's stdout pipe follows its flow: the relay grows the pipe of an app that fills it
//! (so a flood does not make the app wait on every 64 KiB) and shrinks it back once the app
//! is quiet, while an idle app's pipe keeps the kernel's default (a thousand idle apps do
//! not hold 1 MiB of pipe each against the user's pipe pages). And outside cuts of the
//! file during a flood (copytruncate, `> file`) never leave NULs, and the lines after the
//! cut are whole and in order.

use crate::harness::*;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// The capacity of the pipe behind fd 1 of `pid`, read through a descriptor of our own
/// (opened read-only and non-blocking, closed at once: nothing is read from it).
fn stdout_pipe_size(p: &Pm2, pid: i32) -> usize {
    use std::os::unix::fs::OpenOptionsExt;
    let path = format!("/proc/{pid}/fd/1");
    let pipe = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&path)
        .unwrap_or_else(|e| p.fail(&format!("open {path}: {e}"), None));
    // SAFETY: F_GETPIPE_SZ only reads the capacity of a descriptor we hold.
    let size = unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_GETPIPE_SZ) };
    if size <= 0 {
        p.fail(&format!("{path} is not a pipe"), None);
    }
    size as usize
}

/// A fresh pipe's capacity: the kernel's default.
fn default_pipe_size() -> usize {
    let (r, _w) = nix::unistd::pipe().expect("pipe");
    // SAFETY: as above.
    unsafe { libc::fcntl(r.as_raw_fd(), libc::F_GETPIPE_SZ) as usize }
}

/// What the relay grows a pipe to: 1 MiB, or the system's maximum when that is lower.
fn grown_pipe_size() -> usize {
    let max = std::fs::read_to_string("/proc/sys/fs/pipe-max-size").unwrap_or_default();
    max.trim().parse().unwrap_or(1 << 20).min(1 << 20)
}

/// Starts flood.js as `name`, gated by `gate` and stopped by `stop`.
fn start_flood(p: &Pm2, name: &str, gate: &Path, stop: &Path) -> i32 {
    p.fixture("flood.js");
    let (gate, stop) = (gate.to_string_lossy(), stop.to_string_lossy());
    p.ok(&["start", "flood.js", "--name", name, "--", &gate, &stop]);
    p.wait_online(p.apps().len() as u64 - 1)
}

/// Fails unless every line of `bytes` is one flood.js writes, whole, with no NUL; returns
/// the numbers of its `line <n>` lines in file order.
fn whole_lines(p: &Pm2, what: &str, bytes: &[u8]) -> Vec<u64> {
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        p.fail(&format!("{what}: a NUL byte at offset {at}"), None);
    }
    let pad = ".".repeat(80);
    let mut numbers = vec![];
    for line in String::from_utf8_lossy(bytes).lines() {
        let numbered = line.strip_prefix("line ").and_then(|r| r.split_once(' '));
        match numbered {
            Some((n, rest)) if rest == pad && n.parse::<u64>().is_ok() => {
                numbers.push(n.parse().unwrap_or_default())
            }
            _ if matches!(line, "idle" | "quiet") || line.starts_with("flood done ") => {}
            _ => p.fail(&format!("{what}: a torn or foreign line {line:?}"), None),
        }
    }
    numbers
}

#[test]
fn a_flooding_apps_pipe_grows_and_shrinks_back_and_an_idle_apps_keeps_the_default() {
    let p = Pm2::new("pipe_grows");
    let (default, grown) = (default_pipe_size(), grown_pipe_size());
    if grown <= default {
        p.fail(
            &format!("pipe-max-size {grown} leaves no room to grow"),
            None,
        );
    }
    p.fixture("ticker.sh");
    p.ok(&["start", "ticker.sh", "--name", "idle"]);
    let idle = p.wait_online(0);
    let (gate, stop) = (p.dir.join("gate"), p.dir.join("stop"));
    let flood = start_flood(&p, "flood", &gate, &stop);
    let file = p.log_path("flood-out.log");
    p.wait_file_contains(&file, "idle", T);
    assert_eq!(stdout_pipe_size(&p, flood), default, "before its flood");
    std::fs::write(&gate, "").expect("gate");
    p.wait_until(T, "the flooding app's pipe grown", || {
        stdout_pipe_size(&p, flood) == grown
    });
    assert_eq!(stdout_pipe_size(&p, idle), default, "the idle app's pipe");
    std::fs::write(&stop, "").expect("stop");
    p.wait_until(
        T,
        "the pipe back to the default once the app is quiet",
        || stdout_pipe_size(&p, flood) == default,
    );
    p.wait_file_contains(&file, "flood done", T);
    let bytes = std::fs::read(&file).unwrap_or_default();
    let numbers = whole_lines(&p, "flood-out.log", &bytes);
    let in_order = numbers.iter().enumerate().all(|(i, n)| *n == i as u64);
    assert!(
        in_order && numbers.len() > 1_000,
        "every line once, in order: {} lines, first out of place at {:?}",
        numbers.len(),
        numbers.iter().enumerate().find(|(i, n)| **n != *i as u64)
    );
    assert_eq!(
        stdout_pipe_size(&p, idle),
        default,
        "the idle app's pipe, still"
    );
}

#[test]
fn outside_cuts_of_the_file_during_a_flood_leave_no_nul_and_whole_lines_after_them() {
    let p = Pm2::new("pipe_cuts");
    let (gate, stop) = (p.dir.join("gate"), p.dir.join("stop"));
    std::fs::write(&gate, "").expect("gate");
    start_flood(&p, "cut", &gate, &stop);
    let file = p.log_path("cut-out.log");
    for cut in 0..30 {
        p.wait_until(T, &format!("256 KiB in the file before cut {cut}"), || {
            std::fs::metadata(&file).is_ok_and(|m| m.len() > 256 << 10)
        });
        // `> file` from a shell, or logrotate's copytruncate: cut to 0 under the writer.
        let live = std::fs::OpenOptions::new().write(true).open(&file);
        live.and_then(|f| f.set_len(0)).expect("truncate");
    }
    std::fs::write(&stop, "").expect("stop");
    p.wait_file_contains(&file, "quiet", T);
    let bytes = std::fs::read(&file).unwrap_or_default();
    // A cut can land between two parts of one 256 KiB write (the app's write is longer
    // than the room in its pipe), as it would with the file as the app's stdout: the file
    // may start inside a line. Everything after that first line is whole.
    let rest = match bytes.iter().position(|b| *b == b'\n') {
        Some(end) if !bytes.starts_with(b"line ") => &bytes[end + 1..],
        _ => &bytes[..],
    };
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        p.fail(&format!("a NUL byte at offset {at} after 30 cuts"), None);
    }
    let numbers = whole_lines(&p, "cut-out.log after 30 cuts", rest);
    let contiguous = numbers.windows(2).all(|w| w[1] == w[0] + 1);
    assert!(contiguous, "after the last cut, line after line");
}
