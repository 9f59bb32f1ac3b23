//! Reading the notify sockets: the owner-only `notify.sock` and the abstract socket for
//! apps run as another user. Each datagram comes with its sender's pid and uid, stamped by
//! the kernel (`SO_PASSCRED`; an unprivileged sender cannot forge them), which the hub
//! routes by.

use super::message::MAX_DATAGRAM;
use nix::sys::socket::{recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags};
use std::io::{self, IoSliceMut};
use std::os::fd::AsRawFd;
use std::path::Path;
use tokio::io::Interest;
use tokio::net::UnixDatagram;

/// Datagrams read in a row before the task yields: a flood from anyone who can reach the
/// abstract socket shares the runtime with everything else.
const BURST: u32 = 64;

/// Who sent a datagram, as the kernel says.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sender {
    pub pid: u32,
    pub uid: u32,
    /// Whether it came on the abstract socket (which any local user can reach).
    pub on_open_socket: bool,
}

/// `path` bound as an owner-only datagram socket (a stale one there is replaced), with
/// credentials passed.
pub(super) fn bind_datagram(path: &Path) -> io::Result<UnixDatagram> {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::remove_file(path);
    let sock = std::os::unix::net::UnixDatagram::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    ready(sock)
}

/// An abstract datagram socket of a name unique to this daemon (systemd's `@name` form in
/// `NOTIFY_SOCKET`): no file, so no permission stops an app of another user from writing
/// to it; the pid check stops everyone else being heard.
pub(super) fn bind_abstract() -> io::Result<(String, UnixDatagram)> {
    use std::os::linux::net::SocketAddrExt;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!("pm2-rs/notify/{}/{nanos:08x}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    let sock = std::os::unix::net::UnixDatagram::bind_addr(&addr)?;
    Ok((name, ready(sock)?))
}

fn ready(sock: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
    setsockopt(&sock, sockopt::PassCred, &true).map_err(io::Error::from)?;
    sock.set_nonblocking(true)?;
    UnixDatagram::from_std(sock)
}

/// Reads datagrams, handing each to `deliver`, until it says to stop (the hub is gone); a
/// read error other than "try again" is logged and reading goes on (a peer cannot make it
/// stop).
pub(super) async fn receive(
    sock: UnixDatagram,
    open: bool,
    mut deliver: impl FnMut(Sender, &[u8]) -> bool + Send,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut burst = 0;
    loop {
        let read = sock
            .async_io(Interest::READABLE, || recv_with_creds(&sock, &mut buf))
            .await;
        match read {
            Ok(Some((pid, uid, len))) => {
                let from = Sender {
                    pid,
                    uid,
                    on_open_socket: open,
                };
                if !deliver(from, &buf[..len]) {
                    return;
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::debug!("notify socket read failed: {e}");
                tokio::task::yield_now().await;
            }
        }
        burst += 1;
        if burst == BURST {
            burst = 0;
            tokio::task::yield_now().await;
        }
    }
}

/// One datagram and its sender's pid and uid (`None`: no credentials came with it).
fn recv_with_creds(sock: &UnixDatagram, buf: &mut [u8]) -> io::Result<Option<(u32, u32, usize)>> {
    let mut cmsg = nix::cmsg_space!(libc::ucred);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(io::Error::from)?;
    let len = msg.bytes;
    let mut sender = None;
    for c in msg.cmsgs().map_err(io::Error::from)? {
        match c {
            ControlMessageOwned::ScmCredentials(cred) => {
                sender = u32::try_from(cred.pid()).ok().map(|pid| (pid, cred.uid()));
            }
            ControlMessageOwned::ScmRights(fds) => {
                for fd in fds {
                    // SAFETY: an fd the peer passed us, which nothing else owns.
                    drop(unsafe {
                        <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd)
                    });
                }
            }
            _ => {}
        }
    }
    Ok(sender.map(|(pid, uid)| (pid, uid, len)))
}
