//! Bounds checked on an ecosystem file's text before it is parsed into a tree.
//!
//! The JSON5 and YAML parsers recurse once per level of nesting, so a file of a few hundred
//! kilobytes of `[[[[…` overflows the CLI's stack; and YAML aliases are copied where they
//! are used, so a 500-byte file of aliases of aliases expands to billions of values. Both
//! were found by fuzzing. Real ecosystem files nest four or five levels and hold hundreds
//! of values, far below these limits.

use crate::error::EcosystemError;
use yaml_rust2::parser::Parser;
use yaml_rust2::Event;

/// The deepest nesting of arrays and objects a file may have.
pub(crate) const MAX_DEPTH: usize = 64;

/// The largest ecosystem file (or stdin, or what node prints for a JavaScript file) read:
/// real ones are kilobytes; this leaves room for generated ones while bounding what a
/// file can make the CLI hold.
pub(crate) const MAX_FILE_BYTES: u64 = 64 << 20;

/// The error for text past [`MAX_FILE_BYTES`]; `what` says whose text it is.
pub(crate) fn too_large(label: &str, what: &str) -> EcosystemError {
    EcosystemError(format!(
        "{label}: {what} more than {} MiB: an ecosystem file may be at most that large",
        MAX_FILE_BYTES >> 20
    ))
}

/// The most values a YAML file may expand to once its aliases are copied.
pub(crate) const MAX_YAML_VALUES: u64 = 100_000;

/// Refuses YAML nested deeper than [`MAX_DEPTH`] or whose aliases expand to more than
/// [`MAX_YAML_VALUES`] values, by walking its events (which needs no recursion). A syntax
/// error is left to the loader, which reports it the same way.
pub(crate) fn check_yaml(text: &str, label: &str) -> Result<(), EcosystemError> {
    let mut parser = Parser::new_from_str(text);
    let mut count = YamlCount::default();
    loop {
        let Ok((event, mark)) = parser.next_token() else {
            return Ok(());
        };
        let verdict = match event {
            Event::StreamEnd => return Ok(()),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => count.open(anchor),
            Event::SequenceEnd | Event::MappingEnd => count.close(),
            Event::Scalar(_, _, anchor, _) => count.leaf(anchor, 1),
            Event::Alias(id) => count.alias(id),
            _ => Ok(()),
        };
        verdict.map_err(|what| {
            EcosystemError(format!(
                "{label}:{}:{}: {what}",
                mark.line(),
                mark.col() + 1
            ))
        })?;
    }
}

/// Values seen so far (aliases counted as the copies the loader makes), the containers
/// open, and the size of every anchored value.
#[derive(Debug, Default)]
struct YamlCount {
    total: u64,
    /// (anchor id, values so far) of each open sequence or mapping.
    open: Vec<(usize, u64)>,
    anchored: std::collections::HashMap<usize, u64>,
}

impl YamlCount {
    fn open(&mut self, anchor: usize) -> Result<(), String> {
        self.open.push((anchor, 1));
        if self.open.len() > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        self.grow(1)
    }

    fn close(&mut self) -> Result<(), String> {
        let Some((anchor, size)) = self.open.pop() else {
            return Ok(());
        };
        self.finish(anchor, size);
        Ok(())
    }

    fn leaf(&mut self, anchor: usize, size: u64) -> Result<(), String> {
        self.finish(anchor, size);
        self.grow(size)
    }

    fn alias(&mut self, id: usize) -> Result<(), String> {
        let size = self.anchored.get(&id).copied().unwrap_or(1);
        self.leaf(0, size)
    }

    /// A value is complete: remember its size if anchored, add it to its container.
    fn finish(&mut self, anchor: usize, size: u64) {
        if anchor > 0 {
            self.anchored.insert(anchor, size);
        }
        if let Some((_, parent)) = self.open.last_mut() {
            *parent = parent.saturating_add(size);
        }
    }

    fn grow(&mut self, size: u64) -> Result<(), String> {
        self.total = self.total.saturating_add(size);
        if self.total > MAX_YAML_VALUES {
            return Err(format!(
                "aliases expand to more than {MAX_YAML_VALUES} values"
            ));
        }
        Ok(())
    }
}

/// `<label>:<line>:<col>: nested deeper than 64 levels`.
pub(crate) fn too_deep(label: &str, line: usize, col: usize) -> EcosystemError {
    EcosystemError(format!(
        "{label}:{line}:{col}: nested deeper than {MAX_DEPTH} levels"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(open: &str, close: &str, depth: usize) -> String {
        format!("{}1{}", open.repeat(depth), close.repeat(depth))
    }

    #[test]
    fn yaml_nesting_past_the_limit_says_where() {
        // Far deeper flow nesting, yaml-rust2's scanner refuses by itself (past 255).
        let flow = nested("[", "]", 200);
        let err = check_yaml(&flow, "e.yaml").unwrap_err();
        assert!(err.0.starts_with("e.yaml:1:"), "{}", err.0);
        assert!(err.0.ends_with("nested deeper than 64 levels"), "{}", err.0);
        let block = format!("{}x\n", "- ".repeat(100_000));
        assert!(check_yaml(&block, "e.yaml").is_err());
        assert!(check_yaml(&format!("{}x\n", "- ".repeat(MAX_DEPTH)), "e.yaml").is_ok());
    }

    #[test]
    fn yaml_aliases_are_counted_as_their_copies() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let uses = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{uses}]\n"));
        }
        let err = check_yaml(&text, "l.yaml").unwrap_err();
        assert!(
            err.0.ends_with("aliases expand to more than 100000 values"),
            "{}",
            err.0
        );
        let ok = "base: &b {A: 1, B: 2}\napps:\n  - env: *b\n  - env: *b\n";
        assert!(check_yaml(ok, "ok.yaml").is_ok());
    }

    #[test]
    fn syntax_errors_are_left_to_the_parser() {
        assert!(check_yaml("apps:\n  - [unclosed\n", "s.yaml").is_ok());
    }
}
