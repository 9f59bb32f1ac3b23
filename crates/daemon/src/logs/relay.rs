//! Relay of a child's stdout/stderr into its log files and to live `pm2 logs` readers.
//!
//! Each pipe is read by its own task until EOF, so a noisy stream can never block the other,
//! and nothing the child wrote before exiting is lost.
//!
//! Two ways through: while no reader wants the app's output live and its lines go unchanged
//! to exactly one file, the pipe is spliced into that file ([`LogSink::splice_from`]: the
//! bytes never enter the daemon, the closest to a plain `> file`); otherwise (a reader of
//! this app: `pm2 logs`, the bus, the dashboard; `--time`/`log_date_format`/`log_type:
//! json`, which must see every line; a combined `log_file`; `/dev/null`; a FIFO or device
//! as the log path; a failed splice) chunks are read, formatted, written and published.
//! The choice is made again for every chunk, so a `pm2 logs` attaching to a spewing app
//! sees its lines from the next chunk on, and the splicing resumes when it leaves.
//!
//! Either way the pipe's capacity follows the app ([`PipeSize`]): grown while the app
//! fills it, the default again once it is quiet.

use super::dropped::Dropped;
use super::hub::{LogEvent, LogHub, LogKind};
use super::line_format::{LineFormat, LineFormatter};
use super::pipe_size::PipeSize;
use super::sinks::{LogFiles, LogSink, ShortWrite, Stream};
use pm2_home::now_ms;
use std::cell::RefCell;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::task::JoinHandle;

/// Who a relay writes for: the files and the live readers.
#[derive(Clone)]
pub struct RelayTarget {
    /// The instance's files.
    pub files: LogFiles,
    /// Live `pm2 logs` readers.
    pub hub: LogHub,
    /// pm_id, for readers.
    pub pm_id: u32,
    /// App name, for readers and messages.
    pub name: Arc<str>,
    /// Namespace, for readers' filters.
    pub namespace: Arc<str>,
    /// What happens to each line on its way to the files.
    pub format: LineFormat,
}

/// Copies `pipe` (the daemon's end of a child's stdout or stderr) into the instance's files
/// and to live readers until EOF. Write failures (disk full) drop the chunk, keep the pipe
/// drained so the app never blocks, and are reported in `pm2.log` with how much was dropped.
pub fn spawn(pipe: OwnedFd, target: RelayTarget, stream: Stream) -> JoinHandle<()> {
    tokio::spawn(async move {
        let label = format!("{}:{}", target.name, target.pm_id);
        // SAFETY: the AsyncFd owns the OwnedFd, and nothing else closes or replaces the
        // descriptor while it is registered.
        let watch = |fd| unsafe {
            AsyncFd::register_with_interest(fd, Interest::READABLE).map_err(|e| e.into_parts().1)
        };
        let pipe = match nonblocking(pipe).and_then(watch) {
            Ok(pipe) => pipe,
            Err(e) => {
                tracing::warn!("App [{label}] cannot relay its output: {e}");
                return;
            }
        };
        let pipe_size = PipeSize::of(pipe.get_ref().as_fd());
        let mut relay = Relay::new(target, stream, label, pipe_size);
        relay.sized(pipe.get_ref().as_fd(), 0);
        loop {
            let Ok(mut ready) = pipe.readable().await else {
                break;
            };
            match ready.try_io(|fd| relay.step(fd.as_fd())) {
                Ok(Ok(true)) | Err(_) => {}
                Ok(Ok(false)) | Ok(Err(_)) => break,
            }
        }
        relay.finish();
    })
}

/// The daemon's end of a pipe in non-blocking mode (tokio hands it over blocking).
fn nonblocking(pipe: OwnedFd) -> io::Result<OwnedFd> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = OFlag::from_bits_truncate(fcntl(&pipe, FcntlArg::F_GETFL)?);
    fcntl(&pipe, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(pipe)
}

/// Most bytes one splice moves: a grown pipe's whole capacity (see [`PipeSize`]).
const SPLICE_MAX: usize = 1 << 20;

/// One pipe's relay state.
struct Relay {
    target: RelayTarget,
    stream: Stream,
    kind: LogKind,
    label: String,
    formatter: LineFormatter,
    /// How much the next read asks for (see [`next_read_size`]); the bytes go to the
    /// thread's [`SCRATCH`], so a relay holds no buffer of its own.
    read_size: usize,
    dropped: Dropped,
    /// Splicing is possible for this pipe: raw lines to one regular file, and no splice
    /// refused so far.
    can_splice: bool,
    /// The pipe's capacity, grown and shrunk with the app's flow.
    pipe_size: PipeSize,
}

impl Relay {
    fn new(target: RelayTarget, stream: Stream, label: String, pipe_size: PipeSize) -> Relay {
        let (kind, line_stream) = match stream {
            Stream::Out => (LogKind::Out, pm2_logfmt::Stream::Out),
            Stream::Err => (LogKind::Err, pm2_logfmt::Stream::Err),
        };
        let can_splice =
            matches!(target.format, LineFormat::Raw) && target.files.only_file(stream).is_some();
        Relay {
            formatter: LineFormatter::new(target.format.clone(), line_stream),
            target,
            stream,
            kind,
            label,
            read_size: MIN_READ,
            dropped: Dropped::default(),
            can_splice,
            pipe_size,
        }
    }

    /// Moves the next chunk; `Ok(false)` at EOF; `WouldBlock` when the pipe is empty.
    fn step(&mut self, pipe: BorrowedFd<'_>) -> io::Result<bool> {
        if let Some(sink) = self.splice_sink() {
            match sink.splice_from(pipe, SPLICE_MAX) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.written();
                    self.sized(pipe, n);
                    return Ok(true);
                }
                Err(e) if !e.held.is_empty() => {
                    // Out of the app's pipe but not in the file (disk full, or a file
                    // system without splice): written, or dropped and counted, as copies.
                    self.can_splice &= !refused(&e.error);
                    self.sized(pipe, e.held.len());
                    self.write_copy(&e.held);
                    return Ok(true);
                }
                Err(e) if e.error.kind() == io::ErrorKind::WouldBlock => return Err(e.error),
                Err(e) if e.error.kind() == io::ErrorKind::Interrupted => return Ok(true),
                Err(e) if refused(&e.error) => self.can_splice = false,
                // Disk full or an I/O error: the bytes are still in the pipe; the copy
                // below drops and counts them.
                Err(_) => {}
            }
        }
        self.copy(pipe)
    }

    /// The file to splice into now: only while no reader wants this app's output.
    fn splice_sink(&self) -> Option<Arc<LogSink>> {
        let t = &self.target;
        if !self.can_splice || t.hub.wants_app(t.pm_id, &t.name, &t.namespace) {
            return None;
        }
        self.target.files.only_file(self.stream).cloned()
    }

    /// Reads a chunk, writes it formatted and publishes it.
    fn copy(&mut self, pipe: BorrowedFd<'_>) -> io::Result<bool> {
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut buf) => self.copy_through(pipe, &mut buf),
            // Never the case (nothing below reads a pipe), but a second buffer beats a panic.
            Err(_) => self.copy_through(pipe, &mut Vec::new()),
        })
    }

    /// [`Relay::copy`] with `buf` as the read buffer.
    fn copy_through(&mut self, pipe: BorrowedFd<'_>, buf: &mut Vec<u8>) -> io::Result<bool> {
        if buf.len() < self.read_size {
            buf.resize(self.read_size, 0);
        }
        let n = loop {
            match nix::unistd::read(pipe, &mut buf[..self.read_size]) {
                Ok(n) => break n,
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        };
        if n == 0 {
            return Ok(false);
        }
        self.write_copy(&buf[..n]);
        self.sized(pipe, n);
        let before = self.read_size;
        self.read_size = next_read_size(before, n);
        if self.read_size < before {
            // This app's flood is over: the thread's buffer goes back to the minimum too.
            buf.truncate(MIN_READ);
            buf.shrink_to_fit();
        }
        Ok(true)
    }

    /// The pipe's capacity after a chunk of `n` bytes (see [`PipeSize::after_chunk`]).
    fn sized(&mut self, pipe: BorrowedFd<'_>, n: usize) {
        let shared = self.target.files.shared(self.stream);
        self.pipe_size.after_chunk(pipe, n, shared);
    }

    /// Writes a chunk read from the pipe, formatted, and publishes it.
    fn write_copy(&mut self, chunk: &[u8]) {
        let formatted = self.formatter.apply(chunk);
        let (files, stream) = (&self.target.files, self.stream);
        write_counting(files, stream, &formatted, &self.label, &mut self.dropped);
        let (target, kind) = (&self.target, self.kind);
        target.hub.publish_with(|| target.event(kind, chunk));
    }

    /// A chunk reached the file whole.
    fn written(&mut self) {
        written(&self.label, &mut self.dropped);
    }

    /// The end of the stream: what the formatter held, and the final loss report.
    fn finish(mut self) {
        let rest = self.formatter.finish();
        let (files, stream) = (&self.target.files, self.stream);
        write_counting(files, stream, &rest, &self.label, &mut self.dropped);
        if self.dropped.bytes > 0 {
            tracing::warn!(
                "App [{}] {} of output were dropped",
                self.label,
                self.dropped
            );
        }
    }
}

/// A splice the file will never take (a file system or file type without splice).
fn refused(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Unsupported
        || matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ESPIPE))
}

/// Smallest read: what a quiet app's chunk costs the daemon.
const MIN_READ: usize = 4 * 1024;
/// Largest read, reached only while an app writes faster than small reads drain.
const MAX_READ: usize = 256 * 1024;

thread_local! {
    /// The read buffer of every relay that runs on this thread. A chunk is read, written
    /// and published in one go, with no await in between, so relays never share it at the
    /// same time: a hundred apps cost one buffer per runtime thread instead of two each
    /// (8 KiB an app, most of a quiet daemon's heap), and an idle app's relay holds none.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Adapts a relay's reads to its app: doubles while reads fill them (a chatty app gets big
/// reads and few syscalls), drops back to the minimum once reads are small again.
fn next_read_size(size: usize, last_read: usize) -> usize {
    if last_read == size && size < MAX_READ {
        size * 2
    } else if last_read < MIN_READ / 4 && size > MIN_READ {
        MIN_READ
    } else {
        size
    }
}

/// Writes and keeps count of what could not be written (disk full), saying so in pm2.log
/// when it starts and when writes resume.
fn write_counting(
    files: &LogFiles,
    stream: Stream,
    bytes: &[u8],
    label: &str,
    dropped: &mut Dropped,
) {
    if bytes.is_empty() {
        return;
    }
    match files.write(stream, bytes) {
        Err(ShortWrite { written, error }) => {
            if dropped.bytes == 0 {
                tracing::warn!("App [{label}] log write failed ({error}); dropping output");
            }
            dropped.lose(bytes, written);
        }
        Ok(()) => written(label, dropped),
    }
}

/// A chunk reached the files whole: the end of a loss, said once in pm2.log.
fn written(label: &str, dropped: &mut Dropped) {
    if dropped.bytes > 0 {
        tracing::warn!("App [{label}] log writes resumed; {dropped} were dropped");
        *dropped = Dropped::default();
    } else {
        dropped.torn = false;
    }
}

impl RelayTarget {
    /// A hub event for a chunk of this instance.
    pub fn event(&self, kind: LogKind, data: &[u8]) -> LogEvent {
        LogEvent {
            pm_id: Some(self.pm_id),
            name: Arc::clone(&self.name),
            namespace: Arc::clone(&self.namespace),
            kind,
            data: Arc::from(data),
            at: now_ms(),
            exit: None,
        }
    }
}
