//! `pm2 open`'s last step: the login link in the desktop's browser (`xdg-open`, or
//! macOS's `open`), when there is a desktop; otherwise the printed link is the way in.

use crate::out;
use std::process::{Command, Stdio};

/// Hands `link` to the desktop's opener, detached; says so when there is none.
pub(super) fn open(link: &str) {
    let desktop = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()));
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    if !desktop && !cfg!(target_os = "macos") {
        out::info("No desktop here (neither DISPLAY nor WAYLAND_DISPLAY): open the link above in a browser");
        return;
    }
    let started = Command::new(opener)
        .arg(link)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match started {
        Ok(_) => out::info(&format!("Opened the login link with {opener}")),
        Err(e) => out::info(&format!(
            "Cannot run {opener} ({e}): open the link above in a browser"
        )),
    }
}
