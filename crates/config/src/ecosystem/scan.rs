//! One pass over a `.json` ecosystem text before it is parsed: refuses nesting deeper than
//! [`MAX_DEPTH`] (the parsers recurse once per level, so `[[[[…` of a few hundred
//! kilobytes would overflow the CLI's stack; found by fuzzing), and notes how the text
//! ends, so a file cut short is reported where it was cut, with what is left open.
//!
//! Strings (`'`, `"` and JavaScript's `` ` ``) and comments are skipped as JSON5 reads them;
//! any other syntax error is left to the parser.

use super::bounds::{too_deep, MAX_DEPTH};
use crate::error::EcosystemError;

/// A 1-based line and column (in characters).
pub(crate) type Place = (usize, usize);

/// How a text ends, seen by the scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Nothing left open.
    Complete,
    /// Inside a string that starts at the place.
    InString(Place),
    /// Inside a `/* */` comment that starts at the place.
    InComment(Place),
    /// With brackets open: how many, and where the innermost one was opened.
    Open(usize, Place),
}

/// What the scan found: how the text ends and where its last character is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scanned {
    /// What is left open at the end.
    pub ending: Ending,
    /// The place just after the last character.
    pub end: Place,
}

impl Scanned {
    /// For a text the parser stopped on at its end: the error that says where it was cut
    /// and what is left open (`None` when nothing is, so the parser's error stands).
    pub(crate) fn cut_short(&self, label: &str) -> Option<EcosystemError> {
        let (line, col) = self.end;
        let what = match self.ending {
            Ending::Complete => return None,
            Ending::InString((l, c)) => format!("inside the string that starts at {l}:{c}"),
            Ending::InComment((l, c)) => format!("inside the comment that starts at {l}:{c}"),
            Ending::Open(1, (l, c)) => format!("with the bracket opened at {l}:{c} still open"),
            Ending::Open(n, (l, c)) => {
                format!("with {n} brackets still open, the innermost opened at {l}:{c}")
            }
        };
        Some(EcosystemError(format!(
            "{label}:{line}:{col}: the file ends {what} (is it cut short?)"
        )))
    }
}

/// Refuses JSON5 text nested deeper than [`MAX_DEPTH`], naming where it got too deep; else
/// tells how the text ends.
pub(crate) fn check_json5(text: &str, label: &str) -> Result<Scanned, EcosystemError> {
    let mut scan = Json5Scan::default();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        scan.advance(c);
        match (scan.state, c) {
            (State::Code, '"' | '\'' | '`') => scan.enter(State::Str(c)),
            (State::Code, '/') if chars.peek() == Some(&'/') => scan.state = State::LineComment,
            (State::Code, '/') if chars.peek() == Some(&'*') => {
                scan.enter(State::BlockComment);
                chars.next();
                scan.advance('*');
            }
            (State::Code, '[' | '{') => {
                if scan.open.len() == MAX_DEPTH {
                    return Err(too_deep(label, scan.line, scan.col));
                }
                scan.open.push((scan.line, scan.col));
            }
            (State::Code, ']' | '}') => {
                scan.open.pop();
            }
            (State::Str(_), '\\') => {
                if let Some(escaped) = chars.next() {
                    scan.advance(escaped);
                }
            }
            (State::Str(quote), _) if c == quote => scan.state = State::Code,
            (State::LineComment, '\n') => scan.state = State::Code,
            (State::BlockComment, '*') if chars.peek() == Some(&'/') => {
                chars.next();
                scan.advance('/');
                scan.state = State::Code;
            }
            _ => {}
        }
    }
    Ok(scan.finish())
}

/// Where the JSON5 scan is: in code, in a string (with its quote) or in a comment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    #[default]
    Code,
    Str(char),
    LineComment,
    BlockComment,
}

/// The scan's state and position (1-based line and column of the last char), where the
/// current string or comment began, and where each open bracket was opened (at most
/// [`MAX_DEPTH`]).
#[derive(Debug)]
struct Json5Scan {
    state: State,
    since: Place,
    open: Vec<Place>,
    line: usize,
    col: usize,
    after_newline: bool,
}

impl Default for Json5Scan {
    fn default() -> Self {
        Json5Scan {
            state: State::Code,
            since: (1, 1),
            open: Vec::new(),
            line: 1,
            col: 0,
            after_newline: false,
        }
    }
}

impl Json5Scan {
    fn advance(&mut self, c: char) {
        if self.after_newline {
            self.line += 1;
            self.col = 0;
        }
        self.col += 1;
        self.after_newline = c == '\n';
    }

    /// A string or comment begins at the current character.
    fn enter(&mut self, state: State) {
        self.state = state;
        self.since = (self.line, self.col);
    }

    fn finish(self) -> Scanned {
        let end = if self.after_newline {
            (self.line + 1, 1)
        } else {
            (self.line, self.col + 1)
        };
        let ending = match (self.state, self.open.last()) {
            (State::Str(_), _) => Ending::InString(self.since),
            (State::BlockComment, _) => Ending::InComment(self.since),
            (_, Some(&innermost)) => Ending::Open(self.open.len(), innermost),
            (_, None) => Ending::Complete,
        };
        Scanned { ending, end }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(open: &str, close: &str, depth: usize) -> String {
        format!("{}1{}", open.repeat(depth), close.repeat(depth))
    }

    fn ending(text: &str) -> Ending {
        check_json5(text, "f")
            .map(|s| s.ending)
            .unwrap_or(Ending::Complete)
    }

    #[test]
    fn json5_nesting_up_to_the_limit_passes() {
        assert!(check_json5(&nested("[", "]", MAX_DEPTH), "f").is_ok());
        assert!(check_json5(&nested("{a:", "}", MAX_DEPTH), "f").is_ok());
        let wide = format!("[{}]", vec!["[1]"; 10_000].join(","));
        assert!(check_json5(&wide, "f").is_ok());
    }

    #[test]
    fn json5_nesting_past_the_limit_says_where() {
        let err = check_json5(&format!("\n  {}", nested("[", "]", 100_000)), "e.json").unwrap_err();
        assert_eq!(
            err.0,
            format!("e.json:2:{}: nested deeper than 64 levels", 3 + MAX_DEPTH)
        );
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        for text in [
            format!("{{a: '{deep}'}}"),
            format!("{{a: \"{deep}\\\"{deep}\"}}"),
            format!("{{a: `{deep}`}}"),
            format!("// {deep}\n{{}}"),
            format!("/* {deep} */ {{}}"),
        ] {
            assert_eq!(ending(&text), Ending::Complete, "{text}");
        }
        // A closing bracket inside a string cannot hide real nesting.
        let hidden = format!("['{}', {}]", "]".repeat(100), nested("[", "]", MAX_DEPTH));
        assert!(check_json5(&hidden, "f").is_err());
    }

    #[test]
    fn a_text_cut_short_is_named_where_it_ends_with_what_is_open() {
        let cases: &[(&str, &str)] = &[
            ("{\"apps\": [{\"name\": \"x\"", "f:1:23: the file ends with 3 brackets still open, the innermost opened at 1:11 (is it cut short?)"),
            ("{\n  a: 'unclosed", "f:2:15: the file ends inside the string that starts at 2:6 (is it cut short?)"),
            ("{a: 1,\n", "f:2:1: the file ends with the bracket opened at 1:1 still open (is it cut short?)"),
            ("{a: 1} /* note", "f:1:15: the file ends inside the comment that starts at 1:8 (is it cut short?)"),
        ];
        for (text, want) in cases {
            let scanned = check_json5(text, "f").expect("scan");
            let err = scanned.cut_short("f").expect("cut short");
            assert_eq!(err.0, *want, "{text:?}");
        }
        for complete in ["{a: 1}", "{a: 1} // end", "[1, 2]\n"] {
            let scanned = check_json5(complete, "f").expect("scan");
            assert_eq!(scanned.cut_short("f"), None, "{complete:?}");
        }
    }

    #[test]
    fn a_long_single_line_cut_short_is_placed_exactly() {
        let apps: Vec<String> = (0..20_000)
            .map(|i| format!("{{\"name\": \"app{i}\", \"script\": \"a.js\"}}"))
            .collect();
        let full = format!("{{\"apps\": [{}]}}", apps.join(", "));
        let cut = &full[..full.len() / 2];
        let scanned = check_json5(cut, "big.json").expect("scan");
        let err = scanned.cut_short("big.json").expect("cut short");
        let col = cut.chars().count() + 1;
        assert!(
            err.0
                .starts_with(&format!("big.json:1:{col}: the file ends ")),
            "{}",
            err.0
        );
    }
}
