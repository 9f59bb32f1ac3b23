//! The writing task: the bounded outgoing queue, a small window of handles in
//! flight, NACK retransmission, non-blocking `sendmsg`.
//!
//! Node's own sender keeps one handle in flight (`_handleQueue`): every handle
//! then costs a round trip, and with round-robin a worker sleeps between two
//! connections while the primary waits for its ACK. Linux never delivers two
//! fd-carrying messages in one read, so several handles may be in flight and the
//! child still pairs each fd with its own NODE_HANDLE line (study §5, measured
//! with 56–79 in flight on Node 18–24); ACK/NACK come back in wire order.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use nix::sys::socket::{sendmsg, shutdown, ControlMessage, MsgFlags, Shutdown};
use tokio::io::Interest;
use tokio::net::UnixStream;
use tokio::sync::{mpsc, watch};

use super::plumbing::{retryable, Control, Outgoing, Shared};
use super::protocol::{HANDLES_IN_FLIGHT, MAX_HANDLE_RETRANSMISSIONS};

const ACK_LINE: &[u8] = b"{\"cmd\":\"NODE_HANDLE_ACK\"}\n";
/// Unread bytes (the next handle's line included) under which a handle may follow another
/// one still in flight: half of the 64 KiB Node reads at a time.
const SAFE_UNREAD: usize = 32 * 1024;

/// A handle waiting for its ACK/NACK.
struct InFlight {
    line: Vec<u8>,
    fd: Arc<OwnedFd>,
    retransmissions: u32,
}

pub(crate) struct Writer {
    io: Arc<UnixStream>,
    shared: Arc<Shared>,
    closed: watch::Receiver<bool>,
}

impl Writer {
    pub(crate) fn new(
        io: Arc<UnixStream>,
        shared: Arc<Shared>,
        closed: watch::Receiver<bool>,
    ) -> Self {
        Writer { io, shared, closed }
    }

    /// Runs until the reader is gone (channel closed) or a write fails.
    /// Returning drops `queue`, which releases every queued fd reference.
    pub(crate) async fn run(
        mut self,
        mut queue: mpsc::Receiver<Outgoing>,
        mut ctl: mpsc::Receiver<Control>,
    ) {
        // In wire order: the next ACK/NACK is for the front one.
        let mut in_flight: VecDeque<InFlight> = VecDeque::new();
        // Taken from the queue, waiting until it may go (everything behind it waits too).
        let mut next: Option<Outgoing> = None;
        let mut senders_alive = true;
        loop {
            let result = match next.take() {
                Some(item) if self.may_send(&item, &in_flight) => {
                    self.on_item(item, &mut in_flight).await
                }
                waiting => {
                    next = waiting;
                    tokio::select! {
                        biased;
                        control = ctl.recv() => match control {
                            None => return,
                            Some(control) => self.on_control(control, &mut in_flight).await,
                        },
                        item = queue.recv(), if senders_alive && next.is_none() => {
                            senders_alive = item.is_some();
                            next = item;
                            Ok(())
                        }
                    }
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, "IPC write failed; closing the channel");
                self.shared.refuse_sends();
                // Wakes the reader with EOF so that `Closed` is delivered.
                let _ = shutdown(self.io.as_raw_fd(), Shutdown::Both);
                return;
            }
        }
    }

    /// A plain line always may go. A handle goes when none is in flight, or when the window
    /// has room and everything the child has not read yet, this line included, fits well
    /// within one of Node's 64 KiB reads: Node keeps a single pending handle per read, so
    /// a read that ended inside one handle's line while the next handle's fd arrived with
    /// the following read would pair the first line with the second fd.
    fn may_send(&self, item: &Outgoing, in_flight: &VecDeque<InFlight>) -> bool {
        match item {
            Outgoing::Plain(_) => true,
            Outgoing::Handle { line, .. } => {
                in_flight.is_empty()
                    || (in_flight.len() < HANDLES_IN_FLIGHT
                        && unread_by_peer(self.io.as_raw_fd()) + line.len() <= SAFE_UNREAD)
            }
        }
    }

    async fn on_item(
        &mut self,
        item: Outgoing,
        in_flight: &mut VecDeque<InFlight>,
    ) -> io::Result<()> {
        match item {
            Outgoing::Plain(line) => self.write_line(&line, None).await,
            Outgoing::Handle { line, fd } => {
                self.write_line(&line, Some(fd.as_raw_fd())).await?;
                in_flight.push_back(InFlight {
                    line,
                    fd,
                    retransmissions: 0,
                });
                Ok(())
            }
        }
    }

    async fn on_control(
        &mut self,
        control: Control,
        in_flight: &mut VecDeque<InFlight>,
    ) -> io::Result<()> {
        match control {
            Control::ReplyAck => self.write_line(ACK_LINE, None).await,
            Control::Ack => {
                if in_flight.pop_front().is_none() {
                    tracing::debug!("NODE_HANDLE_ACK with no handle in flight; ignored");
                }
                Ok(())
            }
            Control::Nack => {
                let Some(mut handle) = in_flight.pop_front() else {
                    tracing::debug!("NODE_HANDLE_NACK with no handle in flight; ignored");
                    return Ok(());
                };
                if handle.retransmissions >= MAX_HANDLE_RETRANSMISSIONS {
                    tracing::warn!(
                        retransmissions = handle.retransmissions,
                        "child keeps NACKing a handle; dropping it"
                    );
                    return Ok(());
                }
                // Sent again after the others in flight: its answer comes last too.
                handle.retransmissions += 1;
                self.write_line(&handle.line, Some(handle.fd.as_raw_fd()))
                    .await?;
                in_flight.push_back(handle);
                Ok(())
            }
        }
    }

    /// Writes one whole line, `fd` riding with its first bytes. Waits for
    /// writability without blocking the thread; gives up once the channel is
    /// known to be closed.
    async fn write_line(&mut self, line: &[u8], fd: Option<RawFd>) -> io::Result<()> {
        let mut written = 0;
        while written < line.len() {
            tokio::select! {
                ready = self.io.writable() => ready?,
                _ = self.closed.wait_for(|closed| *closed) => {
                    return Err(io::ErrorKind::BrokenPipe.into());
                }
            };
            let attach = if written == 0 { fd } else { None };
            let socket = self.io.as_raw_fd();
            let chunk = &line[written..];
            match self
                .io
                .try_io(Interest::WRITABLE, || send_chunk(socket, chunk, attach))
            {
                Ok(n) => written += n,
                Err(e) if retryable(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Bytes written to the channel that the child has not read yet (`SIOCOUTQ`; for a unix
/// socket it counts buffer memory, so it errs on the high side). Unknown counts as full.
fn unread_by_peer(socket: RawFd) -> usize {
    let mut queued: libc::c_int = 0;
    // SAFETY: SIOCOUTQ writes one int through the pointer, which is valid for the call.
    let rc = unsafe { libc::ioctl(socket, libc::TIOCOUTQ, &mut queued) };
    if rc == 0 {
        usize::try_from(queued).unwrap_or(usize::MAX)
    } else {
        usize::MAX / 2
    }
}

/// One non-blocking `sendmsg`; never raises SIGPIPE.
fn send_chunk(socket: RawFd, bytes: &[u8], fd: Option<RawFd>) -> io::Result<usize> {
    let iov = [IoSlice::new(bytes)];
    let fds = fd.map(|fd| [fd]);
    let rights = fds.as_ref().map(|fds| [ControlMessage::ScmRights(fds)]);
    let cmsgs: &[ControlMessage<'_>] = rights.as_ref().map_or(&[], |r| &r[..]);
    Ok(sendmsg::<()>(
        socket,
        &iov,
        cmsgs,
        MsgFlags::MSG_NOSIGNAL,
        None,
    )?)
}
