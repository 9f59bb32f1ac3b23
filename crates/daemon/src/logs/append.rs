//! The two ways bytes reach the end of a log file, on a descriptor opened without
//! `O_APPEND` (so that `splice(2)` accepts it):
//!
//! - [`append`]: a buffer, with `pwritev2(RWF_APPEND)`: the kernel's atomic append, exactly
//!   what `O_APPEND` did, whoever else writes or truncates the file;
//! - [`splice_to_end`]: straight from an app's pipe, no copy through the daemon. `splice`
//!   takes an explicit offset, so the end is read first (`fstat`): a file truncated or
//!   replaced under the daemon (logrotate's copytruncate) is written from its new end, as
//!   `O_APPEND` would; a cut to 0 landing between the `fstat` and the write would leave
//!   NULs (a hole) before the chunk, so [`close_hole_before`] moves the chunk down to 0.

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

/// Moves up to `max` bytes from the non-blocking `pipe` to the end of `file` without
/// copying them through user space. `Ok(0)`: the pipe's writers are gone and it is empty;
/// `WouldBlock`: nothing to move yet. The bytes stay in the pipe when it fails.
pub fn splice_to_end(pipe: BorrowedFd<'_>, file: BorrowedFd<'_>, max: usize) -> io::Result<usize> {
    let at = size(file)?;
    let mut offset = at as libc::loff_t;
    // SAFETY: both descriptors are live for the call; `offset` is a valid out-parameter.
    let n = unsafe {
        libc::splice(
            pipe.as_raw_fd(),
            std::ptr::null_mut(),
            file.as_raw_fd(),
            &mut offset,
            max,
            libc::SPLICE_F_NONBLOCK,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    if n > 0 && at > 0 {
        // Best effort: the chunk is in the file either way (a write-only descriptor
        // cannot check, see the sinks' open).
        if let Err(e) = close_hole_before(file, at, n) {
            tracing::debug!("cannot check a log file for a cut during a write: {e}");
        }
    }
    Ok(n)
}

/// After `len` bytes were written at `at`: when the file had been cut to 0 just before
/// (everything below `at` reads as NULs), moves those bytes to 0 and cuts the file after
/// them, so the file reads as if appended to. Costs one 1-byte read per chunk when nothing
/// happened (the byte before the chunk is the end of the previous one, not a NUL).
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
