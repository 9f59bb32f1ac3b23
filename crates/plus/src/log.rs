//! The dashboard's own lines: stdout and stderr, which the daemon writes to the
//! `pm2-plus` app's log files. Write errors are ignored: a closed pipe must not stop it.

use std::io::Write;

/// A line on stdout.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// A dated error line on stderr.
pub fn error(line: &str) {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
    let _ = writeln!(std::io::stderr().lock(), "[{now}] {line}");
}

/// Reports why the dashboard cannot run; returns its exit code, 1.
pub fn fatal(msg: &str) -> i32 {
    let _ = writeln!(std::io::stderr().lock(), "pm2 plus: {msg}");
    1
}
