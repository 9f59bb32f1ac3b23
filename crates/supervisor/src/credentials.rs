//! Running a child as another user: what the daemon (as root) gives up in the child between
//! fork and exec, in the only safe order: supplementary groups, then the group, then the
//! user (after `setuid` nothing else could be changed).

use std::io;

/// The identity a child runs under, resolved by the caller before the fork (looking up
/// users and groups is not async-signal-safe, so it never happens in the child).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Supplementary groups (the user's, as `initgroups` would set them).
    pub groups: Vec<u32>,
}

impl Credentials {
    /// Drops to these credentials. Runs in the forked child: raw syscalls only. Public for
    /// the daemon's other children that run as an app's user (its `exec` health checks).
    pub fn assume(&self) -> io::Result<()> {
        // No allocation here (the child of a threaded process): the ids are passed as they
        // are stored, which the assertion below shows is the kernel's layout.
        const _: () = assert!(std::mem::size_of::<libc::gid_t>() == std::mem::size_of::<u32>());
        let groups = self.groups.as_ptr().cast::<libc::gid_t>();
        // SAFETY: setgroups reads `self.groups.len()` ids from a live slice of the same
        // layout; setgid/setuid take plain integers. All three are async-signal-safe.
        let failed = unsafe {
            libc::setgroups(self.groups.len(), groups) == -1
                || libc::setgid(self.gid as libc::gid_t) == -1
                || libc::setuid(self.uid as libc::uid_t) == -1
        };
        if failed {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
