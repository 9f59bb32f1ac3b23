//! The IPC channel against a scripted peer standing in for the child, to pin
//! down the byte-level and flow-control rules of the protocol study (§2, §5)
//! deterministically: a window of handles in flight, NACK retransmission, the fd riding
//! with the first bytes of its line, ACK replies, fd hygiene, close.

use std::io::{IoSlice, IoSliceMut, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use nix::sys::stat::fstat;
use pm2_cluster::ipc::{self, HandleKind, Incoming, IpcSender, SendError};
use serde_json::json;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::mpsc::Receiver;

const STEP: Duration = Duration::from_secs(5);
const ACK: &[u8] = b"{\"cmd\":\"NODE_HANDLE_ACK\"}\n";
const NACK: &[u8] = b"{\"cmd\":\"NODE_HANDLE_NACK\"}\n";

/// A channel whose child end is driven by the test (blocking, with timeouts).
fn channel() -> (IpcSender, Receiver<Incoming>, UnixStream) {
    let (parent_end, child_end) = ipc::channel_pair().expect("socketpair");
    let (sender, incoming) = ipc::start(parent_end).expect("start");
    let peer = UnixStream::from(child_end);
    peer.set_read_timeout(Some(STEP)).expect("timeout");
    (sender, incoming, peer)
}

/// One `recvmsg` on the peer: the bytes and the fds that came with them.
fn recv(peer: &UnixStream, flags: MsgFlags) -> nix::Result<(Vec<u8>, Vec<OwnedFd>)> {
    let mut buf = vec![0u8; 4 << 20];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 4]);
    let mut iov = [IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<()>(peer.as_raw_fd(), &mut iov, Some(&mut cmsg), flags)?;
    let mut fds = Vec::new();
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(raw) = c {
            // SAFETY: freshly received fds, owned by nobody else.
            fds.extend(
                raw.into_iter()
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    let n = msg.bytes;
    buf.truncate(n);
    Ok((buf, fds))
}

fn recv_line(peer: &UnixStream) -> (String, Vec<OwnedFd>) {
    let (bytes, fds) = recv(peer, MsgFlags::empty()).expect("peer recv");
    (String::from_utf8(bytes).expect("utf-8"), fds)
}

/// How long the wire must stay quiet for "nothing more is sent" to hold.
const QUIET: Duration = Duration::from_millis(200);

/// Waits up to [`QUIET`] for the peer to become readable (it must not), then checks.
async fn assert_nothing_pending(peer: &UnixStream) {
    // SAFETY: `peer` stays open for the registration's whole life (dropped below).
    let watched = unsafe { AsyncFd::register_with_interest(peer.as_fd(), Interest::READABLE) }
        .expect("register");
    // Returns early when something arrives, which the check below then reports.
    let _ = tokio::time::timeout(QUIET, watched.readable()).await;
    drop(watched);
    let result = recv(peer, MsgFlags::MSG_DONTWAIT);
    assert!(
        matches!(result, Err(nix::errno::Errno::EAGAIN)),
        "expected nothing on the wire, got {:?}",
        result.map(|(b, f)| (String::from_utf8_lossy(&b).into_owned(), f.len()))
    );
}

/// Bytes waiting to be read on the peer (`FIONREAD`).
fn unread(peer: &UnixStream) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through a pointer valid for the call.
    let rc = unsafe { libc::ioctl(peer.as_raw_fd(), libc::FIONREAD, &mut n) };
    assert_eq!(rc, 0, "FIONREAD");
    usize::try_from(n).unwrap_or(0)
}

fn same_file(a: impl AsFd, b: impl AsFd) -> bool {
    let (a, b) = (fstat(a).expect("fstat"), fstat(b).expect("fstat"));
    (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
}

fn socket_fd() -> Arc<OwnedFd> {
    let (a, _b) = UnixStream::pair().expect("pair");
    Arc::new(OwnedFd::from(a))
}

async fn next(incoming: &mut Receiver<Incoming>) -> Incoming {
    tokio::time::timeout(STEP, incoming.recv())
        .await
        .expect("timed out")
        .expect("stream ended")
}

async fn wait_until(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + STEP;
    while !condition() {
        assert!(Instant::now() < deadline, "condition not met in time");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn handle_line(n: usize) -> String {
    format!("{{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{{\"n\":{n}}}}}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_of_handles_in_flight_each_fd_read_with_its_own_line() {
    let (sender, _incoming, peer) = channel();
    let window = ipc::HANDLES_IN_FLIGHT;
    let handles: Vec<Arc<OwnedFd>> = (0..=window).map(|_| socket_fd()).collect();
    for (n, h) in handles.iter().enumerate() {
        sender
            .send_handle(json!({"n": n}), HandleKind::NetNative, Arc::clone(h))
            .unwrap();
    }
    sender.send(json!("after")).unwrap();
    // The kernel ends a read after a message carrying fds: one line and its fd per read.
    for (n, h) in handles.iter().take(window).enumerate() {
        let (line, fds) = recv_line(&peer);
        assert_eq!(line, handle_line(n));
        assert_eq!(fds.len(), 1);
        assert!(same_file(&fds[0], &**h), "fd {n} is the caller's socket");
    }
    assert_nothing_pending(&peer).await; // the window is full: the last handle waits
    (&peer).write_all(ACK).unwrap();
    let (line, fds) = recv_line(&peer);
    assert_eq!((line, fds.len()), (handle_line(window), 1));
    wait_until(|| Arc::strong_count(&handles[0]) == 1).await;
    assert_eq!(Arc::strong_count(&handles[1]), 2, "not ACKed yet");
    // The window is full again, but a plain line needs no ACK: it follows on the wire.
    let (line, fds) = recv_line(&peer);
    assert_eq!((line.as_str(), fds.len()), ("\"after\"\n", 0));
}

/// With much unread data ahead, a read of the child (64 KiB at most) could end inside a
/// handle's line; a second fd arriving then would be paired with the first line. So a
/// handle only follows another in flight while little is unread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_waits_for_the_ack_while_much_is_unread() {
    let (sender, _incoming, peer) = channel();
    let big = "x".repeat(100 * 1024);
    sender.send(json!(big)).unwrap();
    let (h1, h2) = (socket_fd(), socket_fd());
    sender
        .send_handle(json!({"n": 1}), HandleKind::NetNative, Arc::clone(&h1))
        .unwrap();
    sender
        .send_handle(json!({"n": 2}), HandleKind::NetNative, Arc::clone(&h2))
        .unwrap();
    let expected = format!("\"{big}\"\n{}", handle_line(1));
    // Nothing is read yet: once the first handle is on the wire, the second must stay back
    // for as long as all of it is unread.
    wait_until(|| unread(&peer) >= expected.len()).await;
    tokio::time::sleep(QUIET).await; // time for a second handle to (wrongly) follow
    assert_eq!(
        unread(&peer),
        expected.len(),
        "only the big line and the first handle"
    );
    let mut got = Vec::new();
    let mut fds = 0;
    while got.len() < expected.len() {
        let (bytes, f) = recv(&peer, MsgFlags::empty()).expect("recv");
        got.extend(bytes);
        fds += f.len();
    }
    assert!(
        got == expected.as_bytes(),
        "the big line, then the first handle"
    );
    assert_eq!(fds, 1);
    (&peer).write_all(ACK).unwrap();
    let (line, f) = recv_line(&peer);
    assert_eq!((line, f.len()), (handle_line(2), 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nacked_handle_is_sent_again_three_times_then_dropped() {
    let (sender, _incoming, peer) = channel();
    let (h1, h2) = (socket_fd(), socket_fd());
    sender
        .send_handle(json!({"n": 1}), HandleKind::NetNative, Arc::clone(&h1))
        .unwrap();
    sender
        .send_handle(json!({"n": 2}), HandleKind::NetNative, Arc::clone(&h2))
        .unwrap();
    assert_eq!(recv_line(&peer).0, handle_line(1));
    assert_eq!(recv_line(&peer).0, handle_line(2));
    // The NACK is for the first; it goes out again behind the second, whose ACK comes
    // first from then on.
    (&peer).write_all(NACK).unwrap();
    let (line, fds) = recv_line(&peer);
    assert_eq!((line, fds.len()), (handle_line(1), 1), "retransmission");
    (&peer).write_all(ACK).unwrap();
    wait_until(|| Arc::strong_count(&h2) == 1).await;
    for _ in 1..ipc::MAX_HANDLE_RETRANSMISSIONS {
        (&peer).write_all(NACK).unwrap();
        let (line, fds) = recv_line(&peer);
        assert_eq!((line, fds.len()), (handle_line(1), 1), "retransmission");
    }
    assert_eq!(Arc::strong_count(&h1), 2, "in flight before the last NACK");
    (&peer).write_all(NACK).unwrap();
    wait_until(|| Arc::strong_count(&h1) == 1).await;
    assert_nothing_pending(&peer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fd_rides_with_the_first_bytes_of_a_line_written_in_parts() {
    let (sender, _incoming, peer) = channel();
    let big = "\u{2028}".repeat(1 << 20); // 3 MiB of raw e2 80 a8, far over the socket buffer
    let h = socket_fd();
    sender
        .send_handle(json!({"big": big}), HandleKind::NetNative, Arc::clone(&h))
        .unwrap();
    sender.send(json!("next")).unwrap();
    wait_until(|| unread(&peer) > 0).await; // the writer has started on the big line

    let expected = format!(
        "{{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{{\"big\":\"{big}\"}}}}\n\"next\"\n"
    );
    let mut line = Vec::new();
    let mut reads = 0;
    while line.len() < expected.len() {
        let (bytes, fds) = recv(&peer, MsgFlags::empty()).expect("recv");
        assert_eq!(
            fds.len(),
            usize::from(reads == 0),
            "fd only with the first bytes"
        );
        line.extend(bytes);
        reads += 1;
    }
    assert!(reads > 1, "the line should have needed several writes");
    assert!(
        line == expected.as_bytes(),
        "line corrupted (U+2028 must stay raw), or the next one interleaved"
    );
    assert_nothing_pending(&peer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incoming_messages_are_classified_and_child_handles_acked() {
    let (sender, mut incoming, peer) = channel();
    let ours = socket_fd();
    sender
        .send_handle(json!(0), HandleKind::NetNative, Arc::clone(&ours))
        .unwrap();
    let _ = recv_line(&peer); // in flight, not ACKed yet

    // The child sends us a handle while ours is in flight: it gets its ACK.
    let (pipe_r, pipe_w) = nix::unistd::pipe().expect("pipe");
    let line = b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"from\":\"child\"}}\n";
    let fds = [pipe_w.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(
        peer.as_raw_fd(),
        &[IoSlice::new(line)],
        &cmsg,
        MsgFlags::empty(),
        None,
    )
    .unwrap();
    drop(pipe_w);
    assert_eq!(recv_line(&peer).0.as_bytes(), ACK);
    assert_eq!(
        next(&mut incoming).await,
        Incoming::User(json!({"from": "child"}))
    );
    assert_pipe_closed(pipe_r).await; // the channel closed the fd it was given

    (&peer)
        .write_all(
            "\"u\u{2028}v\"\n{\"cmd\":\"NODE_CLUSTER\",\"act\":\"online\",\"seq\":0}\n\
             {\"cmd\":\"NODE_OTHER\"}\n{\"cmd\":\"NODE_\"}\nnot json\n{\"s\":\"a\\nb\"}\n"
                .as_bytes(),
        )
        .unwrap();
    assert_eq!(
        next(&mut incoming).await,
        Incoming::User(json!("u\u{2028}v"))
    );
    assert_eq!(
        next(&mut incoming).await,
        Incoming::Cluster(json!({"cmd": "NODE_CLUSTER", "act": "online", "seq": 0}))
    );
    assert_eq!(
        next(&mut incoming).await,
        Incoming::User(json!({"cmd": "NODE_"}))
    );
    assert_eq!(
        next(&mut incoming).await,
        Incoming::User(json!({"s": "a\nb"}))
    );

    (&peer).write_all(ACK).unwrap();
    wait_until(|| Arc::strong_count(&ours) == 1).await;
}

async fn assert_pipe_closed(read_end: OwnedFd) {
    nix::fcntl::fcntl(
        &read_end,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .unwrap();
    let mut byte = [0u8; 1];
    wait_until(|| nix::unistd::read(&read_end, &mut byte) == Ok(0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_delivers_closed_once_and_releases_every_fd() {
    let (sender, mut incoming, peer) = channel();
    let (in_flight, queued) = (socket_fd(), socket_fd());
    sender
        .send_handle(json!(1), HandleKind::NetNative, Arc::clone(&in_flight))
        .unwrap();
    sender
        .send_handle(json!(2), HandleKind::NetNative, Arc::clone(&queued))
        .unwrap();
    sender.send(json!("queued")).unwrap();
    let _ = recv_line(&peer);
    drop(peer);

    assert_eq!(next(&mut incoming).await, Incoming::Closed);
    assert!(!sender.is_open());
    assert_eq!(sender.send(json!(3)), Err(SendError::Closed));
    let end = tokio::time::timeout(STEP, incoming.recv())
        .await
        .expect("timed out");
    assert!(
        end.is_none(),
        "Closed is delivered once, then the stream ends"
    );
    wait_until(|| Arc::strong_count(&in_flight) == 1 && Arc::strong_count(&queued) == 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_receiver_keeps_draining() {
    let (sender, incoming, peer) = channel();
    drop(incoming);
    for _ in 0..2000 {
        (&peer)
            .write_all(b"{\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n")
            .unwrap();
    }
    // The child is not blocked on us, and flow control still works.
    let h = socket_fd();
    sender
        .send_handle(json!(1), HandleKind::NetNative, Arc::clone(&h))
        .unwrap();
    let _ = recv_line(&peer);
    (&peer).write_all(ACK).unwrap();
    wait_until(|| Arc::strong_count(&h) == 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_line_closes_the_channel_instead_of_eating_memory() {
    let (sender, mut incoming, peer) = channel();
    let writer = std::thread::spawn(move || {
        let block = vec![b'a'; 1 << 20];
        // 65 MiB without a newline; stops early once the daemon end is closed.
        for _ in 0..65 {
            if (&peer).write_all(&block).is_err() {
                return;
            }
        }
        (&peer).write_all(b"x").ok();
        drop(peer);
    });
    assert_eq!(next(&mut incoming).await, Incoming::Closed);
    assert!(!sender.is_open());
    writer.join().expect("writer thread");
}
