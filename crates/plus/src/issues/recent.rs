//! The last lines each app printed (stdout and stderr, in order), what an issue shows as
//! "just before it".

use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};

/// Lines kept per app.
pub const LINES: usize = 20;
/// A longer line is cut (a minified bundle's stack line can be huge).
const MAX_LINE: usize = 2000;

/// One line.
#[derive(Debug, Clone)]
pub struct Line {
    /// `out` or `err`.
    pub kind: &'static str,
    /// When the daemon read it.
    pub at: u64,
    /// The text, without its newline.
    pub text: String,
}

/// The last [`LINES`] lines of every app.
#[derive(Debug, Default)]
pub struct Recent {
    apps: HashMap<String, VecDeque<Line>>,
}

impl Recent {
    /// Adds a chunk's lines (a chunk may hold several; empty lines are skipped).
    pub fn push(&mut self, app: &str, kind: &'static str, at: u64, data: &str) {
        let lines = self.apps.entry(app.to_string()).or_default();
        for text in data.split('\n').map(|l| l.trim_end_matches('\r')) {
            if text.trim().is_empty() {
                continue;
            }
            if lines.len() == LINES {
                lines.pop_front();
            }
            let mut end = text.len().min(MAX_LINE);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            lines.push_back(Line {
                kind,
                at,
                text: text[..end].to_string(),
            });
        }
    }

    /// The app's lines, oldest first.
    pub fn of(&self, app: &str) -> Vec<Line> {
        self.apps
            .get(app)
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// As the API shows them.
    pub fn json(lines: &[Line]) -> Vec<Value> {
        lines
            .iter()
            .map(|l| json!({"kind": l.kind, "at": l.at, "line": l.text}))
            .collect()
    }
}

/// The error a crashed Node app printed last on stderr: its `Name: message` line and the
/// `    at ...` lines after it, when there is one.
pub fn last_error(lines: &[Line]) -> Option<(String, String)> {
    let start = lines
        .iter()
        .rposition(|l| l.kind == "err" && is_error_line(&l.text))?;
    let headline = lines[start].text.trim().to_string();
    let stack: Vec<&str> = std::iter::once(headline.as_str())
        .chain(
            lines[start + 1..]
                .iter()
                .filter(|l| l.kind == "err")
                .map(|l| l.text.as_str())
                .take_while(|t| t.trim_start().starts_with("at ")),
        )
        .collect();
    let stack = stack.join("\n");
    Some((headline, stack))
}

/// `TypeError: x is not a function`, `Error: boom`, `MyException: ...`,
/// `Uncaught Error ...`.
fn is_error_line(text: &str) -> bool {
    let text = text.trim().trim_start_matches("Uncaught ");
    let Some((name, _)) = text.split_once(':') else {
        return false;
    };
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && (name.ends_with("Error") || name.ends_with("Exception"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_lines_are_kept_per_app() {
        let mut r = Recent::default();
        for i in 0..30 {
            r.push("a", "out", i, &format!("line {i}\n"));
        }
        r.push("b", "err", 0, "one\r\ntwo\n\n");
        let a = r.of("a");
        assert_eq!(a.len(), LINES);
        assert_eq!(a[0].text, "line 10");
        assert_eq!(
            r.of("b").iter().map(|l| &l.text).collect::<Vec<_>>(),
            ["one", "two"]
        );
        assert!(r.of("c").is_empty());
    }

    #[test]
    fn the_last_error_and_its_stack_are_found_in_stderr() {
        let mut r = Recent::default();
        r.push("a", "out", 0, "starting\n");
        r.push(
            "a",
            "err",
            1,
            "/app/crash.js:2\n  throw new Error('boom 7');\n  ^\n\nError: boom 7\n    at Timeout._onTimeout (/app/crash.js:2:9)\n    at listOnTimeout (node:internal/timers:573:17)\n\nNode.js v22.0.0\n",
        );
        let (headline, stack) = last_error(&r.of("a")).unwrap();
        assert_eq!(headline, "Error: boom 7");
        assert_eq!(stack.lines().count(), 3, "{stack}");
        r.push("b", "err", 0, "just a warning\n");
        assert_eq!(last_error(&r.of("b")), None);
    }
}
