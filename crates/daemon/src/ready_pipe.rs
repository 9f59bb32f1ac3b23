//! The daemon's end of the readiness pipe of the CLI that spawned it (see
//! [`pm2_proto::READY_FD_ENV`]): one byte once the socket is bound, so the CLI waits on an
//! event rather than polling the socket; end of file (the daemon exiting) says it failed.

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use std::fs::File;
use std::io::Write;
use std::os::fd::{FromRawFd, RawFd};

/// The write end of the readiness pipe, when this daemon was given one.
pub(crate) struct ReadyPipe(Option<File>);

impl ReadyPipe {
    /// Takes the pipe named by the environment and removes the variable, so neither the
    /// apps nor any helper the daemon runs inherits it. Only a pipe above the standard
    /// streams is taken; anything else is left alone.
    pub(crate) fn from_env() -> ReadyPipe {
        let named = std::env::var(pm2_proto::READY_FD_ENV).ok();
        // Called first thing in the daemon's main, while the process has a single thread.
        std::env::remove_var(pm2_proto::READY_FD_ENV);
        let fd = named
            .and_then(|n| n.parse::<RawFd>().ok())
            .filter(|fd| *fd > 2 && is_pipe(*fd));
        ReadyPipe(fd.map(|fd| {
            // SAFETY: the fd was inherited across exec for this purpose and nothing else in
            // this process owns it; from here on the File is its only owner.
            let file = unsafe { File::from_raw_fd(fd) };
            // The apps must not inherit it (they would hold the CLI's wait open).
            let _ = fcntl(&file, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
            file
        }))
    }

    /// Tells the CLI the daemon is ready, then closes the pipe.
    pub(crate) fn signal(self) {
        if let Some(mut file) = self.0 {
            if let Err(e) = file.write_all(&[pm2_proto::READY_BYTE]) {
                tracing::warn!("cannot tell the CLI the daemon is ready: {e}");
            }
        }
    }
}

/// Whether `fd` is open and a pipe (a number that is not open makes `fstat` fail).
fn is_pipe(fd: RawFd) -> bool {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes into `st` and reads nothing else; on failure `st` is not read.
    let ok = unsafe { libc::fstat(fd, st.as_mut_ptr()) } == 0;
    // SAFETY: fstat succeeded, so it filled `st`.
    ok && unsafe { st.assume_init() }.st_mode & libc::S_IFMT == libc::S_IFIFO
}
