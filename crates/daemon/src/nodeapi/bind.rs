//! Binding `rpc.sock` and `pub.sock`. The daemon holds the home's lock, so a socket file
//! already there was left by a dead daemon (or by PM2's, which must not take the home
//! back): it is replaced, as `daemon.sock` is. The sockets are made owner-only (PM2 uses
//! 0775; the home itself is 0700 here, so nobody else could reach them anyway), unless
//! `PM2_RS_NODE_API_SOCKET_MODE` asks for more, which is granted only to the classes
//! (group, others) the home itself lets through.

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

/// The sockets' default mode: owner-only.
const OWNER_ONLY: u32 = 0o600;

/// Binds both with `mode`, replacing stale files; an error names the path.
pub(crate) fn bind(rpc: &Path, bus: &Path, mode: u32) -> io::Result<NodeApiSockets> {
    Ok(NodeApiSockets {
        rpc: bind_one(rpc, mode)?,
        bus: bind_one(bus, mode)?,
    })
}

/// The sockets' mode for the value `asked` (octal, as `chmod` takes it) in a home whose
/// mode is `home_mode`: read and write for the owner always; for the group and others
/// only what was asked and only if the home lets that class in (its execute bit). An
/// unreadable value is refused with the reason (the caller keeps owner-only and says so).
pub(crate) fn socket_mode(asked: Option<&str>, home_mode: u32) -> Result<u32, String> {
    let Some(text) = asked.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(OWNER_ONLY);
    };
    let mode = u32::from_str_radix(text.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| format!("{text:?} is not a file mode (octal, e.g. 0660)"))?;
    let reachable = |class_x: u32, class_bits: u32| {
        if home_mode & class_x != 0 {
            mode & class_bits
        } else {
            0
        }
    };
    Ok(OWNER_ONLY | reachable(0o010, 0o060) | reachable(0o001, 0o006))
}

fn bind_one(path: &Path, mode: u32) -> io::Result<UnixListener> {
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
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(named)?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_only_unless_asked_and_never_wider_than_the_home() {
        assert_eq!(socket_mode(None, 0o755), Ok(0o600));
        assert_eq!(socket_mode(Some(""), 0o755), Ok(0o600));
        assert_eq!(socket_mode(Some("0660"), 0o750), Ok(0o660));
        assert_eq!(socket_mode(Some("0o666"), 0o751), Ok(0o666));
        assert_eq!(socket_mode(Some("0666"), 0o700), Ok(0o600), "home shut");
        assert_eq!(
            socket_mode(Some("0775"), 0o755),
            Ok(0o664),
            "no execute bits"
        );
        assert_eq!(
            socket_mode(Some("0000"), 0o755),
            Ok(0o600),
            "owner keeps rw"
        );
    }

    #[test]
    fn a_value_that_is_not_a_mode_is_refused() {
        for bad in ["rw", "0999", "7777", "-1", "0x1ff"] {
            assert!(socket_mode(Some(bad), 0o755).is_err(), "{bad}");
        }
    }
}
