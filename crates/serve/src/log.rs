//! The server's lines: its start line on stdout and its errors on stderr, which the
//! daemon writes to the app's out and error logs. Write errors are ignored: a closed log
//! pipe must not take the server down.

use std::io::Write;

/// A line on stdout.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// A dated error line on stderr, as PM2's server writes them (`[ISO date] message`).
pub fn error(line: &str) {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
    let _ = writeln!(std::io::stderr().lock(), "[{now}] {line}");
}

/// Reports why the server cannot run; returns its exit code, 1.
pub fn fatal(msg: &str) -> i32 {
    let _ = writeln!(std::io::stderr().lock(), "pm2 serve: {msg}");
    1
}
