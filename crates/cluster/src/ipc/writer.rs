//! The writing task: the bounded outgoing queue, one handle in flight
//! (Node's `_handleQueue` rule), NACK retransmission, non-blocking `sendmsg`.

use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use nix::sys::socket::{sendmsg, shutdown, ControlMessage, MsgFlags, Shutdown};
use tokio::io::Interest;
use tokio::net::UnixStream;
use tokio::sync::{mpsc, watch};

use super::{retryable, Control, Outgoing, Shared, MAX_HANDLE_RETRANSMISSIONS};

const ACK_LINE: &[u8] = b"{\"cmd\":\"NODE_HANDLE_ACK\"}\n";

/// The handle waiting for its ACK/NACK.
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
        let mut in_flight: Option<InFlight> = None;
        let mut senders_alive = true;
        loop {
            let result = tokio::select! {
                biased;
                control = ctl.recv() => match control {
                    None => return,
                    Some(control) => self.on_control(control, &mut in_flight).await,
                },
                item = queue.recv(), if senders_alive && in_flight.is_none() => match item {
                    None => {
                        senders_alive = false;
                        Ok(())
                    }
                    Some(item) => self.on_item(item, &mut in_flight).await,
                },
            };
            if let Err(error) = result {
                tracing::debug!(%error, "IPC write failed; closing the channel");
                self.shared.open.store(false, Ordering::SeqCst);
                // Wakes the reader with EOF so that `Closed` is delivered.
                let _ = shutdown(self.io.as_raw_fd(), Shutdown::Both);
                return;
            }
        }
    }

    async fn on_item(
        &mut self,
        item: Outgoing,
        in_flight: &mut Option<InFlight>,
    ) -> io::Result<()> {
        match item {
            Outgoing::Plain(line) => self.write_line(&line, None).await,
            Outgoing::Handle { line, fd } => {
                self.write_line(&line, Some(fd.as_raw_fd())).await?;
                *in_flight = Some(InFlight {
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
        in_flight: &mut Option<InFlight>,
    ) -> io::Result<()> {
        match control {
            Control::ReplyAck => self.write_line(ACK_LINE, None).await,
            Control::Ack => {
                if in_flight.take().is_none() {
                    tracing::debug!("NODE_HANDLE_ACK with no handle in flight; ignored");
                }
                Ok(())
            }
            Control::Nack => {
                let Some(handle) = in_flight.as_mut() else {
                    tracing::debug!("NODE_HANDLE_NACK with no handle in flight; ignored");
                    return Ok(());
                };
                if handle.retransmissions >= MAX_HANDLE_RETRANSMISSIONS {
                    tracing::warn!(
                        retransmissions = handle.retransmissions,
                        "child keeps NACKing a handle; dropping it"
                    );
                    *in_flight = None;
                    return Ok(());
                }
                handle.retransmissions += 1;
                let (line, fd) = (handle.line.clone(), handle.fd.as_raw_fd());
                self.write_line(&line, Some(fd)).await
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
