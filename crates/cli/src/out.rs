//! PM2-style progress and error lines, and the colour decision.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

static SILENT: AtomicBool = AtomicBool::new(false);
static COLOR: AtomicBool = AtomicBool::new(false);

/// Decides colours once: on for a terminal unless `--no-color` or `NO_COLOR`.
pub fn configure(no_color: bool, silent: bool) {
    let color = !no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal();
    COLOR.store(color, Ordering::Relaxed);
    SILENT.store(silent, Ordering::Relaxed);
}

/// Whether output may carry ANSI colours.
pub fn color() -> bool {
    COLOR.load(Ordering::Relaxed)
}

/// `[PM2] message` on stdout (a closed stdout is ignored here; data output reports it).
pub fn info(msg: &str) {
    if !SILENT.load(Ordering::Relaxed) {
        let _ = line(&format!("{} {msg}", paint("[PM2]", "32")));
    }
}

/// Writes `text` and a newline to stdout, returning a broken pipe as an error instead of
/// panicking as `println!` would (main turns it into exit 0).
pub fn line(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.write_all(b"\n")?;
    stdout.flush()
}

/// `[PM2][WARN] message` on stderr.
pub fn warn(msg: &str) {
    eprintln!("{} {msg}", paint("[PM2][WARN]", "33"));
}

/// `[PM2][ERROR] message` on stderr.
pub fn error(msg: &str) {
    eprintln!("{} {msg}", paint("[PM2][ERROR]", "31"));
}

/// Wraps `text` in an SGR colour when colours are on.
pub fn paint(text: &str, sgr: &str) -> String {
    if color() {
        format!("\x1b[{sgr}m{text}\x1b[39m")
    } else {
        text.to_string()
    }
}
