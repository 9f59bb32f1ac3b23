//! Binding `rpc.sock` and `pub.sock`. The daemon holds the home's lock, so a socket file
//! already there was left by a dead daemon (or by PM2's, which must not take the home
//! back): it is replaced, as `daemon.sock` is. The sockets are made owner-only (PM2 uses
//! 0775; the home itself is 0700 here, so nobody else could reach them anyway).

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use tokio::net::UnixListener;

/// The two listening sockets.
pub(crate) struct NodeApiSockets {
    /// `rpc.sock`.
    pub rpc: UnixListener,
    /// `pub.sock`.
    pub bus: UnixListener,
}

/// Binds both, replacing stale files; an error names the path.
pub(crate) fn bind(rpc: &Path, bus: &Path) -> io::Result<NodeApiSockets> {
    Ok(NodeApiSockets {
        rpc: bind_one(rpc)?,
        bus: bind_one(bus)?,
    })
}

fn bind_one(path: &Path) -> io::Result<UnixListener> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(named(e)),
    }
    // SAFETY: umask only changes this process's file-creation mask; restored below.
    let old = unsafe { libc::umask(0o177) };
    let bound = UnixListener::bind(path);
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    let listener = bound.map_err(named)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(named)?;
    Ok(listener)
}
