//! The two ways bytes reach the end of a log file, on a descriptor opened without
//! `O_APPEND` (so that `splice(2)` accepts it):
//!
//! - [`append`]: a buffer, with `pwritev2(RWF_APPEND)`: the kernel's atomic append, exactly
//!   what `O_APPEND` did, whoever else writes or truncates the file;
//! - [`splice_to_end`]: straight from an app's pipe, no copy through the daemon (through
//!   the thread's [`super::stage`], so the app's pipe is held only while the chunk's pages
//!   move). `splice` takes an explicit offset, so the end is read first (`fstat`): a file
//!   truncated or replaced under the daemon (logrotate's copytruncate) is written from its
//!   new end, as `O_APPEND` would. A cut to 0 landing between the `fstat` and the write
//!   leaves NULs (a hole) before the chunk; the next `fstat` (the one before the next write,
//!   or before the splice that finds the pipe empty) tells from the file's allocated blocks
//!   whether that can be the case ([`may_hide_a_hole`]), and only then
//!   [`close_hole_before`] reads the file and moves the chunk down to 0.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Appends `bytes` atomically at the file's end; returns how many reached it.
pub fn append(file: BorrowedFd<'_>, bytes: &[u8]) -> io::Result<usize> {
    let iov = libc::iovec {
        iov_base: bytes.as_ptr() as *mut libc::c_void,
        iov_len: bytes.len(),
    };
    // SAFETY: one iovec over a live slice; offset -1 (the file position, moot with
    // RWF_APPEND); the kernel only reads the buffer.
    let n = unsafe { libc::pwritev2(file.as_raw_fd(), &iov, 1, -1, libc::RWF_APPEND) };
    if n >= 0 {
        return Ok(n as usize);
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        // A kernel before 4.16, or a file type without the flag: a write at the end.
        Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) | Some(libc::EINVAL) => {
            write_at_end(file, bytes)
        }
        _ => Err(error),
    }
}

fn write_at_end(file: BorrowedFd<'_>, bytes: &[u8]) -> io::Result<usize> {
    let end = size(file)? as libc::off_t;
    nix::sys::uio::pwrite(file, bytes, end).map_err(io::Error::from)
}

/// The file's size now.
pub fn size(file: BorrowedFd<'_>) -> io::Result<u64> {
    let stat = nix::sys::stat::fstat(file).map_err(io::Error::from)?;
    Ok(stat.st_size as u64)
}

/// The last chunk spliced into a file, not yet checked for a cut under it: its offset
/// and length.
pub type Unchecked = Option<(u64, usize)>;

/// A splice that failed with part of a chunk taken out of the app's pipe already: those
/// bytes, for the copying path to write (or drop and count).
#[derive(Debug)]
pub struct SpliceError {
    /// Why.
    pub error: io::Error,
    /// Bytes out of the app's pipe that are not in the file (empty: all still in the pipe).
    pub held: Vec<u8>,
}

impl From<io::Error> for SpliceError {
    fn from(error: io::Error) -> SpliceError {
        SpliceError {
            error,
            held: Vec::new(),
        }
    }
}

/// Moves up to `max` bytes from the non-blocking `pipe` to the end of `file` without
/// copying them through user space. `Ok(0)`: the pipe's writers are gone and it is empty;
/// `WouldBlock`: nothing to move yet. `last` is the previous chunk to check (see
/// [`end_checked`]) and becomes this one.
pub fn splice_to_end(
    pipe: BorrowedFd<'_>,
    file: BorrowedFd<'_>,
    max: usize,
    last: &mut Unchecked,
) -> Result<usize, SpliceError> {
    let at = end_checked(file, last)?;
    let mut moved = 0;
    let result = super::stage::with(|stage| match stage {
        Some(stage) => through_stage(pipe, stage, file, at, max, &mut moved),
        None => splice_at(pipe, file, at, max).map_err(SpliceError::from),
    });
    let n = match &result {
        Ok(n) => *n,
        Err(_) => moved,
    };
    if n > 0 && at > 0 {
        *last = Some((at, n));
    }
    result
}

/// The chunk through `stage`: out of the app's pipe (a move of pages), then into the file;
/// `moved` counts what reached the file. The stage is empty again whatever happens.
fn through_stage(
    pipe: BorrowedFd<'_>,
    stage: &super::stage::Stage,
    file: BorrowedFd<'_>,
    at: u64,
    max: usize,
    moved: &mut usize,
) -> Result<usize, SpliceError> {
    let n = splice(pipe, stage.input(), None, max)?;
    while *moved < n {
        let mut offset = (at + *moved as u64) as libc::loff_t;
        match splice(stage.output(), file, Some(&mut offset), n - *moved) {
            Ok(0) => return Err(held(stage, io::ErrorKind::WriteZero.into())),
            Ok(m) => *moved += m,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(held(stage, e)),
        }
    }
    Ok(n)
}

/// What the stage still holds after `error`, taken out of it.
fn held(stage: &super::stage::Stage, error: io::Error) -> SpliceError {
    SpliceError {
        error,
        held: stage.drain(),
    }
}

/// One `splice` from `pipe` into `file` at `at`.
fn splice_at(pipe: BorrowedFd<'_>, file: BorrowedFd<'_>, at: u64, max: usize) -> io::Result<usize> {
    let mut offset = at as libc::loff_t;
    splice(pipe, file, Some(&mut offset), max)
}

/// `splice(2)` of up to `len` bytes from the pipe `from` to `to` (at `*offset` when given),
/// never blocking on a pipe.
fn splice(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    offset: Option<&mut libc::loff_t>,
    len: usize,
) -> io::Result<usize> {
    let offset = offset.map_or(std::ptr::null_mut(), |o| o as *mut libc::loff_t);
    // SAFETY: both descriptors are live for the call; `offset` is null or a valid
    // out-parameter.
    let n = unsafe {
        libc::splice(
            from.as_raw_fd(),
            std::ptr::null_mut(),
            to.as_raw_fd(),
            offset,
            len,
            libc::SPLICE_F_NONBLOCK,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// The file's end, after checking `last` (the previous chunk spliced) for a cut that
/// landed just before it was written: the `fstat` that gives the end also gives the
/// allocated blocks, and only when they leave room for a hole is the file read.
pub fn end_checked(file: BorrowedFd<'_>, last: &mut Unchecked) -> io::Result<u64> {
    let stat = nix::sys::stat::fstat(file).map_err(io::Error::from)?;
    let Some((at, len)) = last.take() else {
        return Ok(stat.st_size as u64);
    };
    if !may_hide_a_hole(&stat, at) {
        return Ok(stat.st_size as u64);
    }
    if let Err(e) = close_hole_before(file, at, len) {
        // Best effort: the chunk is in the file either way (a write-only descriptor
        // cannot check, see the sinks' open).
        tracing::debug!("cannot check a log file for a cut during a write: {e}");
    }
    size(file)
}

/// Whether a file whose last chunk was written at `at` can hold a hole below it: a file
/// written whole has (about) as many bytes allocated as its size; a hole of `at` bytes
/// leaves that many unallocated. Near the start, or on a file system that allocates less
/// than it stores (compression, or one that does not count), the file is read to be sure.
fn may_hide_a_hole(stat: &libc::stat, at: u64) -> bool {
    let block = (stat.st_blksize as u64).max(512);
    let allocated = stat.st_blocks as u64 * 512;
    at < 4 * block || allocated + 2 * block < stat.st_size as u64
}

/// After `len` bytes were written at `at`: when the file had been cut to 0 just before
/// (everything below `at` reads as NULs), moves those bytes to 0 and cuts the file after
/// them, so the file reads as if appended to. Costs a 1-byte read when nothing happened
/// (the byte before the chunk is the end of the previous one, not a NUL).
fn close_hole_before(file: BorrowedFd<'_>, at: u64, len: usize) -> io::Result<()> {
    let mut last = [0u8; 1];
    let read = nix::sys::uio::pread(file, &mut last, at as libc::off_t - 1);
    if read.map_err(io::Error::from)? != 1 || last[0] != 0 || !zeros_below(file, at)? {
        return Ok(());
    }
    let mut chunk = vec![0u8; len];
    let got = nix::sys::uio::pread(file, &mut chunk, at as libc::off_t).map_err(io::Error::from)?;
    chunk.truncate(got);
    nix::sys::uio::pwrite(file, &chunk, 0).map_err(io::Error::from)?;
    nix::unistd::ftruncate(file, got as libc::off_t).map_err(io::Error::from)?;
    tracing::debug!("log file cut during a write: {got} bytes moved from {at} to 0");
    Ok(())
}

/// Whether the file holds nothing but NULs below `at`: no data block before the one
/// holding `at` (`SEEK_DATA`; a file system that cannot tell reports data at 0), and that
/// block's bytes below `at` all NUL.
fn zeros_below(file: BorrowedFd<'_>, at: u64) -> io::Result<bool> {
    let stat = nix::sys::stat::fstat(file).map_err(io::Error::from)?;
    let block = (stat.st_blksize as u64).max(512);
    let tail = at / block * block;
    // SAFETY: lseek only reads the descriptor's extents.
    let data = unsafe { libc::lseek(file.as_raw_fd(), 0, libc::SEEK_DATA) };
    if data < 0 || (data as u64) < tail {
        return Ok(false);
    }
    let mut below = vec![0u8; (at - tail) as usize];
    let got =
        nix::sys::uio::pread(file, &mut below, tail as libc::off_t).map_err(io::Error::from)?;
    Ok(got == below.len() && below.iter().all(|b| *b == 0))
}

#[cfg(test)]
#[path = "append_tests.rs"]
mod tests;
