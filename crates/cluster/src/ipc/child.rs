//! The child's end of the channel: the socketpair, putting it on fd 3 in `pre_exec`, and the
//! environment that tells Node where to find it (node-cluster-ipc.md §1).

use std::io;
use std::os::fd::{OwnedFd, RawFd};

use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

/// The fd number Node expects the channel on (`NODE_CHANNEL_FD`).
pub const CHILD_FD: RawFd = 3;

/// Creates the socketpair for one child: (parent end, child end). Both CLOEXEC, AF_UNIX SOCK_STREAM.
///
/// Pass the child end to [`install_child_end`] in `pre_exec` and drop it in
/// the parent once the child is spawned (otherwise EOF never arrives); pass
/// the parent end to `ipc::start`.
pub fn channel_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let (parent, child) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    Ok((parent, child))
}

/// For use inside `Command::pre_exec` (async-signal-safe, no allocation): makes `child_end` the child's fd 3 without CLOEXEC (handle the case child_end == 3: dup it elsewhere first, as §9 P6 says).
///
/// Only `fcntl`, `dup2` and `close` are called. The original `child_end`
/// keeps its CLOEXEC flag, so exec closes it and only fd 3 remains.
pub fn install_child_end(child_end: RawFd) -> io::Result<()> {
    let mut source = child_end;
    if source == CHILD_FD {
        // dup2(3, 3) is a no-op that would leave CLOEXEC set: move it away first.
        // SAFETY: plain fcntl on an fd number; no memory is touched.
        source = unsafe { libc::fcntl(source, libc::F_DUPFD_CLOEXEC, CHILD_FD + 1) };
        if source < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    // SAFETY: dup2 on fd numbers; the new fd 3 does not have CLOEXEC.
    let result = unsafe { libc::dup2(source, CHILD_FD) };
    let error = io::Error::last_os_error();
    if source != child_end {
        // SAFETY: `source` is the temporary duplicate made above and owned here.
        unsafe { libc::close(source) };
    }
    if result < 0 {
        return Err(error);
    }
    Ok(())
}

/// The environment variables the child needs for the channel: `NODE_CHANNEL_FD=3`, `NODE_CHANNEL_SERIALIZATION_MODE=json` (plus `NODE_UNIQUE_ID=<id>` when `cluster_id` is Some).
///
/// `cluster_id` makes the child a cluster worker (`cluster.worker.id`); that
/// only takes effect when Node runs a script file (`process.argv[1]` set).
pub fn child_env(cluster_id: Option<u32>) -> Vec<(String, String)> {
    let mut env = vec![
        ("NODE_CHANNEL_FD".to_string(), CHILD_FD.to_string()),
        (
            "NODE_CHANNEL_SERIALIZATION_MODE".to_string(),
            "json".to_string(),
        ),
    ];
    if let Some(id) = cluster_id {
        env.push(("NODE_UNIQUE_ID".to_string(), id.to_string()));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_env_values() {
        assert_eq!(child_env(None).len(), 2);
        assert!(child_env(Some(7)).contains(&("NODE_UNIQUE_ID".into(), "7".into())));
    }
}
