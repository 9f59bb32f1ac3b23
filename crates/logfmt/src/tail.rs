//! The last lines of a log file, for the tail step of `pm2 logs`.
//!
//! Log files reach gigabytes, so the file is read backwards in blocks and
//! only the blocks holding the wanted lines are read. PM2 instead reads the
//! last `n * 200` bytes, which returns fewer lines when they are long.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// How much is read per step backwards: large enough that a typical
/// `--lines 15` needs a single read.
const BLOCK_SIZE: usize = 64 * 1024;

/// The last `n` lines of the file at `path`, oldest first, without their
/// `\n` (a `\r` before it is kept, as PM2 splits on `\n` only). A final
/// line without a trailing newline counts as a line (PM2 drops it); an
/// empty file has no lines; `n == 0` returns nothing without opening it.
pub fn tail_lines(path: &Path, n: usize) -> io::Result<Vec<Vec<u8>>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    tail_from(&mut file, len, n, BLOCK_SIZE)
}

/// [`tail_lines`] on any seekable reader of `len` bytes, with the block
/// size as a parameter so tests can cross block boundaries cheaply.
pub(crate) fn tail_from<R: Read + Seek>(
    r: &mut R,
    len: u64,
    n: usize,
    block: usize,
) -> io::Result<Vec<Vec<u8>>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    let mut pos = len;
    let mut newlines = 0;
    while pos > 0 {
        let size = pos.min(block as u64);
        pos -= size;
        let mut buf = read_block(r, pos, size)?;
        if blocks.is_empty() && buf.last() == Some(&b'\n') {
            // The file's final newline ends the last line; it starts none.
            buf.pop();
        }
        if let Some(cut) = find_start(&buf, n, &mut newlines) {
            buf.drain(..cut);
            blocks.push(buf);
            break;
        }
        blocks.push(buf);
    }
    Ok(split_lines(blocks))
}

/// Counts newlines backwards through `buf`, continuing from `newlines`;
/// once `n` are seen, returns where the oldest wanted line starts.
fn find_start(buf: &[u8], n: usize, newlines: &mut usize) -> Option<usize> {
    for (i, &b) in buf.iter().enumerate().rev() {
        if b == b'\n' {
            *newlines += 1;
            if *newlines == n {
                return Some(i + 1);
            }
        }
    }
    None
}

/// Reads up to `size` bytes at `offset`; a file truncated meanwhile (log
/// rotation, `pm2 flush`) yields a short block rather than an error.
fn read_block<R: Read + Seek>(r: &mut R, offset: u64, size: u64) -> io::Result<Vec<u8>> {
    r.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    r.take(size).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Joins the blocks (collected newest first) and splits them into lines.
fn split_lines(blocks: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let total = blocks.iter().map(Vec::len).sum();
    let mut bytes = Vec::with_capacity(total);
    for b in blocks.iter().rev() {
        bytes.extend_from_slice(b);
    }
    bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn tail_mem(data: &[u8], n: usize, block: usize) -> Vec<Vec<u8>> {
        let mut c = Cursor::new(data.to_vec());
        tail_from(&mut c, data.len() as u64, n, block).expect("in-memory read")
    }

    fn lines(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    /// A file under the system temp dir, removed on drop.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn with(content: &[u8]) -> TempFile {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let name = format!(
                "pm2-logfmt-tail-{}-{}.log",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            );
            let path = std::env::temp_dir().join(name);
            std::fs::write(&path, content).expect("write temp file");
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn with_trailing_newline() {
        let f = TempFile::with(b"a\nb\nc\nd\n");
        assert_eq!(tail_lines(&f.0, 2).expect("tail"), lines(&["c", "d"]));
        assert_eq!(
            tail_lines(&f.0, 4).expect("tail"),
            lines(&["a", "b", "c", "d"])
        );
        assert_eq!(
            tail_lines(&f.0, 10).expect("tail"),
            lines(&["a", "b", "c", "d"])
        );
    }

    #[test]
    fn without_trailing_newline() {
        let f = TempFile::with(b"a\nb\nc");
        assert_eq!(tail_lines(&f.0, 2).expect("tail"), lines(&["b", "c"]));
        assert_eq!(tail_lines(&f.0, 5).expect("tail"), lines(&["a", "b", "c"]));
    }

    #[test]
    fn zero_lines_is_empty_even_for_missing_file() {
        let missing = std::env::temp_dir().join("pm2-logfmt-definitely-missing.log");
        assert!(tail_lines(&missing, 0).expect("no read").is_empty());
        assert_eq!(
            tail_lines(&missing, 1).map_err(|e| e.kind()),
            Err(io::ErrorKind::NotFound)
        );
    }

    #[test]
    fn empty_and_newline_only_files() {
        assert!(tail_mem(b"", 3, 4).is_empty());
        assert_eq!(tail_mem(b"\n", 3, 4), lines(&[""]));
        assert_eq!(tail_mem(b"\n\n", 3, 4), lines(&["", ""]));
    }

    #[test]
    fn empty_lines_are_kept() {
        assert_eq!(tail_mem(b"a\n\nb\n", 2, 4), lines(&["", "b"]));
    }

    #[test]
    fn crlf_keeps_cr_and_bytes_are_untouched() {
        assert_eq!(tail_mem(b"x\r\ny\r\n", 1, 4), vec![b"y\r".to_vec()]);
        assert_eq!(
            tail_mem(b"\xff\n\xfe\xc3", 1, 2),
            vec![b"\xfe\xc3".to_vec()]
        );
    }

    #[test]
    fn every_block_size_agrees() {
        let data = b"one\ntwo\n\nthree33\nfour4444\nfive\n";
        let all: Vec<&str> = vec!["one", "two", "", "three33", "four4444", "five"];
        for block in 1..=data.len() + 1 {
            for n in 1..=8 {
                let want = lines(&all[all.len().saturating_sub(n)..]);
                assert_eq!(tail_mem(data, n, block), want, "block {block}, n {n}");
            }
        }
    }

    #[test]
    fn file_larger_than_block_reads_only_the_end() {
        let mut data = Vec::new();
        for i in 0..50_000 {
            data.extend_from_slice(format!("line number {i}\n").as_bytes());
        }
        assert!(data.len() > 4 * BLOCK_SIZE);
        let f = TempFile::with(&data);
        let got = tail_lines(&f.0, 3).expect("tail");
        assert_eq!(
            got,
            lines(&[
                "line number 49997",
                "line number 49998",
                "line number 49999"
            ])
        );
        // Lines spanning several blocks.
        let got = tail_lines(&f.0, 20_000).expect("tail");
        assert_eq!(got.len(), 20_000);
        assert_eq!(got[0], b"line number 30000");
    }

    #[test]
    fn one_line_longer_than_a_block() {
        let long = "x".repeat(BLOCK_SIZE * 2 + 17);
        let f = TempFile::with(format!("head\n{long}\n").as_bytes());
        assert_eq!(tail_lines(&f.0, 1).expect("tail"), lines(&[&long]));
        assert_eq!(tail_lines(&f.0, 2).expect("tail"), lines(&["head", &long]));
    }

    #[test]
    fn file_shrunk_after_stat_does_not_panic() {
        // Claim a longer length than the data: reads come back short.
        let mut c = Cursor::new(b"a\nb\n".to_vec());
        let got = tail_from(&mut c, 100, 2, 8).expect("short reads are fine");
        assert!(got.len() <= 3);
    }
}
