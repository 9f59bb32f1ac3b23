//! Per-line prefixes on a byte stream.
//!
//! A child's pipe delivers chunks cut anywhere: in the middle of a line, of
//! a `\r\n` pair or of a UTF-8 sequence. PM2 7's relay splits each chunk on
//! `\n` and loses or invents line breaks at chunk boundaries; this one
//! tracks whether the next byte starts a line, so a line split across
//! chunks gets exactly one prefix and no byte is altered.

/// Inserts a prefix (for PM2, `"<date>: "`) at the start of every line of
/// a stream fed in arbitrary chunks. One per stream (stdout and stderr of
/// each process), because the "at line start" state belongs to the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinePrefixer {
    at_line_start: bool,
}

impl Default for LinePrefixer {
    fn default() -> Self {
        Self::new()
    }
}

impl LinePrefixer {
    /// A prefixer for a fresh stream, whose first byte starts a line.
    pub fn new() -> Self {
        LinePrefixer {
            at_line_start: true,
        }
    }

    /// Appends `chunk` to `out`, inserting `prefix` before the first byte
    /// of every line. A line only gets its prefix once a byte of it
    /// arrives, so a chunk ending in `\n` does not leave a dangling prefix
    /// (the next chunk's first line gets it, with the time it arrived).
    /// Only `\n` ends a line, as in PM2; bytes are copied untouched.
    pub fn push(&mut self, chunk: &[u8], prefix: &[u8], out: &mut Vec<u8>) {
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.at_line_start {
                out.extend_from_slice(prefix);
            }
            match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    out.extend_from_slice(&rest[..=i]);
                    rest = &rest[i + 1..];
                    self.at_line_start = true;
                }
                None => {
                    out.extend_from_slice(rest);
                    self.at_line_start = false;
                    return;
                }
            }
        }
    }

    /// Whether the next byte pushed starts a line; the relay can use it to
    /// terminate a partial last line when the process exits.
    pub fn at_line_start(&self) -> bool {
        self.at_line_start
    }

    /// Forgets a partial line, for when the stream is replaced (restart,
    /// log reopen) and its next byte is the start of a new line.
    pub fn reset(&mut self) {
        self.at_line_start = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &[u8] = b"T: ";

    fn run(chunks: &[&[u8]]) -> Vec<u8> {
        let mut p = LinePrefixer::new();
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, P, &mut out);
        }
        out
    }

    /// The prefixed form of a whole input, computed line by line.
    fn expected(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for line in input.split_inclusive(|&b| b == b'\n') {
            out.extend_from_slice(P);
            out.extend_from_slice(line);
        }
        out
    }

    #[test]
    fn single_chunk_many_lines() {
        assert_eq!(run(&[b"a\nb\n"]), b"T: a\nT: b\n");
        assert_eq!(run(&[b"a\nb"]), b"T: a\nT: b");
    }

    #[test]
    fn later_chunk_after_newline_gets_prefix() {
        assert_eq!(run(&[b"a\n", b"b\n"]), b"T: a\nT: b\n");
    }

    #[test]
    fn line_split_across_chunks_gets_one_prefix() {
        assert_eq!(run(&[b"hel", b"lo\nwor", b"ld\n"]), b"T: hello\nT: world\n");
    }

    #[test]
    fn empty_chunks_change_nothing() {
        assert_eq!(run(&[b"", b"a", b"", b"\n", b""]), b"T: a\n");
        assert_eq!(run(&[b""]), b"");
        let mut p = LinePrefixer::new();
        let mut out = Vec::new();
        p.push(b"x", P, &mut out);
        p.push(b"", P, &mut out);
        assert!(!p.at_line_start());
    }

    #[test]
    fn empty_lines_are_prefixed() {
        assert_eq!(run(&[b"\n\n"]), b"T: \nT: \n");
        assert_eq!(run(&[b"\n", b"\n"]), b"T: \nT: \n");
    }

    #[test]
    fn crlf_split_between_chunks() {
        assert_eq!(run(&[b"a\r", b"\nb\r\n"]), b"T: a\r\nT: b\r\n");
        assert_eq!(run(&[b"a\r\n", b"b"]), b"T: a\r\nT: b");
        // A lone \r is not a line break (PM2 splits on \n only).
        assert_eq!(run(&[b"a\rb\n"]), b"T: a\rb\n");
    }

    #[test]
    fn invalid_utf8_passes_through() {
        let input: &[u8] = b"\xff\xfe\n\xc3";
        let rest: &[u8] = b"\xa9\x80\n";
        assert_eq!(run(&[input, rest]), b"T: \xff\xfe\nT: \xc3\xa9\x80\n");
    }

    #[test]
    fn every_split_point_gives_the_same_output() {
        let input: &[u8] = b"first line\r\nsecond \xe2\x82\xac\n\nlast no newline";
        let want = expected(input);
        for i in 0..=input.len() {
            let (a, b) = input.split_at(i);
            assert_eq!(run(&[a, b]), want, "split at {i}");
            for j in i..=input.len() {
                let (b1, c) = b.split_at(j - i);
                assert_eq!(run(&[a, b1, c]), want, "split at {i},{j}");
            }
        }
    }

    #[test]
    fn byte_at_a_time() {
        let input: &[u8] = b"ab\ncd\r\n\nef";
        let chunks: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(run(&chunks), expected(input));
    }

    #[test]
    fn prefix_may_differ_per_chunk() {
        let mut p = LinePrefixer::default();
        let mut out = Vec::new();
        p.push(b"a", b"1: ", &mut out);
        p.push(b"b\nc\n", b"2: ", &mut out);
        assert_eq!(out, b"1: ab\n2: c\n");
    }

    #[test]
    fn reset_starts_a_new_line() {
        let mut p = LinePrefixer::new();
        let mut out = Vec::new();
        p.push(b"partial", P, &mut out);
        p.reset();
        assert!(p.at_line_start());
        p.push(b"next", P, &mut out);
        assert_eq!(out, b"T: partialT: next");
    }

    #[test]
    fn empty_prefix_is_identity() {
        let mut p = LinePrefixer::new();
        let mut out = Vec::new();
        p.push(b"a\nb", b"", &mut out);
        assert_eq!(out, b"a\nb");
    }
}
