//! What a relay could not write to an app's files (disk full), counted in bytes and in
//! lines: a line counts as lost when any part of it is missing from the file, once.

use std::fmt;

/// The loss since writes last succeeded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// Bytes not written.
    pub(crate) bytes: u64,
    /// Lines with a part not written.
    pub(crate) lines: u64,
    /// The last lost bytes ended inside a line, which is counted already.
    pub(crate) torn: bool,
}

impl Dropped {
    /// Counts the loss of `chunk` past its first `written` bytes.
    pub(crate) fn lose(&mut self, chunk: &[u8], written: usize) {
        let lost = &chunk[written.min(chunk.len())..];
        if lost.is_empty() {
            return;
        }
        let newlines = lost.iter().filter(|b| **b == b'\n').count() as u64;
        let open_tail = u64::from(lost.last() != Some(&b'\n'));
        // After a torn loss the chunk begins with the rest of that line, counted already:
        // the lost part begins inside it unless its newline reached the file.
        let first_newline = chunk.iter().position(|b| *b == b'\n');
        let continued = u64::from(self.torn && first_newline.is_none_or(|i| i >= written));
        self.bytes += lost.len() as u64;
        self.lines += (newlines + open_tail).saturating_sub(continued);
        self.torn = open_tail == 1;
    }
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.lines == 1 { "" } else { "s" };
        write!(f, "{} bytes ({} line{s})", self.bytes, self.lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partly_written_chunk_counts_only_what_is_missing() {
        let mut d = Dropped::default();
        d.lose(b"aaaa\nbbbb\ncccc\n", 7);
        assert_eq!((d.bytes, d.lines), (8, 2), "bbbb is torn, cccc lost");
    }

    #[test]
    fn a_line_torn_across_chunks_counts_once() {
        let mut d = Dropped::default();
        d.lose(b"aa\nbb", 0);
        d.lose(b"bb", 0);
        d.lose(b"bb\ncc\n", 0);
        assert_eq!((d.bytes, d.lines), (13, 3), "aa, bb, cc");
        assert_eq!(d.to_string(), "13 bytes (3 lines)");
    }

    #[test]
    fn the_rest_of_a_torn_line_written_in_part_is_not_counted_again() {
        let mut d = Dropped::default();
        d.lose(b"aa\nbb", 3); // bb torn
        d.lose(b"bb\n", 1); // one more byte of that line reached the file
        assert_eq!(d.lines, 1);
        assert!(!d.torn);
        d.lose(b"cc\ndd\n", 4); // the torn line ended in the file: dd is a new loss
        assert_eq!(d.lines, 2);
    }
}
