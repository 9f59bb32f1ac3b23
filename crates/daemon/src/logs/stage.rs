//! The staging pipe a splice goes through: app's pipe → stage → file.
//!
//! `splice(2)` from a pipe into a file holds the pipe's lock for the whole write into the
//! page cache, and the app's next `write` into that pipe waits on the same lock: spliced
//! straight from the app's pipe, the app's copy and the file's copy take turns. Moving the
//! chunk first into a pipe of the daemon's own is a move of page references (no copy),
//! which holds the app's pipe only for that; the copy into the file then holds only the
//! stage, and the app writes on meanwhile, as it does with `| cat`.
//!
//! One stage per runtime thread: a chunk goes in and out of it within one step of a relay,
//! with no await in between, so relays on a thread never share it at the same time, and the
//! stage is empty between steps (a failed write empties it, see [`Stage::drain`]).

use std::cell::RefCell;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// The stage's capacity: a flooding app's whole pipe (see `pipe_size`).
const CAPACITY: libc::c_int = 1 << 20;

/// A pipe of the daemon's own, both ends non-blocking.
pub struct Stage {
    read: OwnedFd,
    write: OwnedFd,
}

impl Stage {
    fn new() -> io::Result<Stage> {
        use nix::fcntl::OFlag;
        let (read, write) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)?;
        // Best effort: a smaller stage only makes smaller chunks.
        let _ = nix::fcntl::fcntl(&write, nix::fcntl::FcntlArg::F_SETPIPE_SZ(CAPACITY));
        Ok(Stage { read, write })
    }

    /// The end chunks go into.
    pub fn input(&self) -> BorrowedFd<'_> {
        self.write.as_fd()
    }

    /// The end chunks leave by.
    pub fn output(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    /// Empties the stage, returning what it held (a chunk the file did not take).
    pub fn drain(&self) -> Vec<u8> {
        let mut held = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match nix::unistd::read(self.read.as_fd(), &mut buf) {
                Ok(0) => break,
                Ok(n) => held.extend_from_slice(&buf[..n]),
                Err(nix::errno::Errno::EINTR) => {}
                // EAGAIN: empty (nothing else can fail on a pipe of our own).
                Err(_) => break,
            }
        }
        held
    }
}

thread_local! {
    /// This thread's stage: `None` until first used, `Some(None)` when no pipe could be
    /// made (out of descriptors: the splice goes straight, as before).
    static STAGE: RefCell<Option<Option<Stage>>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's stage (`None`: splice without one).
pub fn with<R>(f: impl FnOnce(Option<&Stage>) -> R) -> R {
    STAGE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            let stage = slot.get_or_insert_with(|| {
                Stage::new()
                    .map_err(|e| tracing::debug!("no staging pipe for log splices: {e}"))
                    .ok()
            });
            f(stage.as_ref())
        }
        // Never the case (a step does not nest), but a direct splice beats a panic.
        Err(_) => f(None),
    })
}
