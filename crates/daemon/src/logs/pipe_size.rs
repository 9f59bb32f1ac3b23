//! An app's stdout/stderr pipe: grown while the app floods it, given back once it is quiet.
//!
//! A pipe starts at the kernel's default (64 KiB). An app that fills it blocks until the
//! relay drains it, so the relay grows a pipe it finds full to 1 MiB (bounded by
//! `/proc/sys/fs/pipe-max-size`), and shrinks it back after a run of small chunks. Only a
//! flooding app's pipe is large: the kernel charges a pipe's capacity to the user that
//! made it (`fs/pipe-user-pages-soft`: 64 MiB by default for a user without
//! `CAP_SYS_RESOURCE`, and past it every new pipe of that user gets two pages), so a
//! thousand idle apps at 1 MiB each would starve the next apps' pipes. When the kernel
//! refuses (that limit, or an older kernel), the pipe stays as it is, quietly, and the
//! relay asks again only after many more full chunks.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::OnceLock;

/// What a flooding app's pipe grows to, at most.
const GROWN: usize = 1 << 20;
/// A chunk under this size is a quiet app's.
const SMALL: usize = 4 * 1024;
/// Small chunks in a row after which a grown pipe is shrunk back.
const QUIET_CHUNKS: u32 = 64;
/// Full chunks to wait after the kernel refused to grow the pipe before asking again.
const RETRY_AFTER: u32 = 256;

/// The capacity of one pipe, as the relay manages it.
pub struct PipeSize {
    /// Capacity now.
    now: usize,
    /// The capacity the pipe had when the relay took it: what it is shrunk back to.
    default: usize,
    /// Small chunks in a row (while grown).
    quiet: u32,
    /// Full chunks to go before growing is tried again (after a refusal).
    backoff: u32,
}

impl PipeSize {
    /// The pipe's capacity as the kernel reports it (64 KiB when it cannot tell).
    pub fn of(pipe: BorrowedFd<'_>) -> PipeSize {
        let now = get(pipe).unwrap_or(64 * 1024);
        PipeSize {
            now,
            default: now,
            quiet: 0,
            backoff: 0,
        }
    }

    /// The capacity now, in bytes.
    #[cfg(test)]
    pub fn now(&self) -> usize {
        self.now
    }

    /// After a chunk of `n` bytes left the pipe: a chunk of the pipe's whole capacity means
    /// the app had filled it, so the pipe grows; a long run of small chunks shrinks it back.
    /// A pipe into a shared file (`keep_grown`) is grown at once and stays so: a full pipe
    /// splits the app's write, and another writer's chunk could then land inside the line.
    pub fn after_chunk(&mut self, pipe: BorrowedFd<'_>, n: usize, keep_grown: bool) {
        if keep_grown || n >= self.now {
            self.quiet = 0;
            self.grow(pipe);
        } else if n < SMALL && self.now > self.default {
            self.quiet += 1;
            if self.quiet >= QUIET_CHUNKS {
                self.quiet = 0;
                self.resize(pipe, self.default);
            }
        } else {
            self.quiet = 0;
        }
    }

    fn grow(&mut self, pipe: BorrowedFd<'_>) {
        let to = GROWN.min(max_size());
        if self.now >= to {
            return;
        }
        if self.backoff > 0 {
            self.backoff -= 1;
            return;
        }
        if !self.resize(pipe, to) {
            self.backoff = RETRY_AFTER;
        }
    }

    /// Asks for `to` bytes; `false` when the kernel refused (over the user's pipe pages,
    /// or more bytes in the pipe than `to` when shrinking: it stays as it is).
    fn resize(&mut self, pipe: BorrowedFd<'_>, to: usize) -> bool {
        // SAFETY: F_SETPIPE_SZ on a pipe descriptor the relay owns only changes its capacity.
        let got = unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, to as libc::c_int) };
        if got < 0 {
            tracing::debug!(
                "pipe capacity {} -> {to} refused: {}",
                self.now,
                std::io::Error::last_os_error()
            );
            return false;
        }
        self.now = got as usize;
        true
    }
}

/// A pipe's capacity (`F_GETPIPE_SZ`).
pub fn get(pipe: BorrowedFd<'_>) -> Option<usize> {
    // SAFETY: F_GETPIPE_SZ only reads the pipe's capacity.
    let got = unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_GETPIPE_SZ) };
    (got > 0).then_some(got as usize)
}

/// The largest capacity an unprivileged process may ask for (`/proc/sys/fs/pipe-max-size`,
/// read once; 1 MiB when it cannot be read).
fn max_size() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(GROWN)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn a_full_chunk_grows_the_pipe_and_a_quiet_run_shrinks_it_back() {
        let (r, _w) = nix::unistd::pipe().expect("pipe");
        let mut size = PipeSize::of(r.as_fd());
        let default = size.now();
        size.after_chunk(r.as_fd(), default / 2, false);
        assert_eq!(
            size.now(),
            default,
            "a chunk under the capacity changes nothing"
        );
        size.after_chunk(r.as_fd(), default, false);
        assert_eq!(size.now(), GROWN.min(max_size()).max(default));
        assert_eq!(get(r.as_fd()), Some(size.now()), "the kernel's figure");
        for _ in 0..QUIET_CHUNKS - 1 {
            size.after_chunk(r.as_fd(), 100, false);
        }
        assert!(size.now() > default || GROWN.min(max_size()) <= default);
        size.after_chunk(r.as_fd(), 100, false);
        assert_eq!(size.now(), default, "back to the default");
        assert_eq!(get(r.as_fd()), Some(default));
        size.after_chunk(r.as_fd(), 100, true);
        assert_eq!(
            get(r.as_fd()),
            Some(GROWN.min(max_size()).max(default)),
            "shared: grown"
        );
        for _ in 0..QUIET_CHUNKS {
            size.after_chunk(r.as_fd(), 100, true);
        }
        assert_eq!(
            size.now(),
            GROWN.min(max_size()).max(default),
            "and it stays so"
        );
    }
}
