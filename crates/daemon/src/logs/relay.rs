//! Relay of a child's stdout/stderr into its log files and to live `pm2 logs` readers.
//!
//! Each pipe is read by its own task until EOF, so a noisy stream can never block the other,
//! and nothing the child wrote before exiting is lost.

use super::dropped::Dropped;
use super::hub::{LogEvent, LogHub, LogKind};
use super::line_format::{LineFormat, LineFormatter};
use super::sinks::{LogFiles, ShortWrite, Stream};
use pm2_home::now_ms;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt};
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

/// Copies `pipe` into the instance's files and to live readers until EOF. Write failures
/// (disk full) drop the chunk, keep the pipe drained so the app never blocks, and are
/// reported in `pm2.log` with how much was dropped.
pub fn spawn<R>(mut pipe: R, target: RelayTarget, stream: Stream) -> JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut buf = vec![0u8; MIN_READ];
        let mut dropped = Dropped::default();
        let label = format!("{}:{}", target.name, target.pm_id);
        let (kind, line_stream) = match stream {
            Stream::Out => (LogKind::Out, pm2_logfmt::Stream::Out),
            Stream::Err => (LogKind::Err, pm2_logfmt::Stream::Err),
        };
        let mut formatter = LineFormatter::new(target.format.clone(), line_stream);
        loop {
            let n = match pipe.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            let formatted = formatter.apply(chunk);
            write_counting(&target.files, stream, &formatted, &label, &mut dropped);
            target.hub.publish_with(|| target.event(kind, chunk));
            resize_for(&mut buf, n);
        }
        let rest = formatter.finish();
        write_counting(&target.files, stream, &rest, &label, &mut dropped);
        if dropped.bytes > 0 {
            tracing::warn!("App [{label}] {dropped} of output were dropped");
        }
    })
}

/// Smallest read buffer: what an idle or quiet app costs the daemon per stream.
const MIN_READ: usize = 4 * 1024;
/// Largest read buffer, reached only while an app writes faster than small reads drain.
const MAX_READ: usize = 256 * 1024;

/// Adapts a relay's buffer to its app: doubles while reads fill it (a chatty app gets big
/// reads and few syscalls), drops back to the minimum once reads are small again, so a
/// hundred quiet apps cost the daemon kilobytes, not megabytes.
fn resize_for(buf: &mut Vec<u8>, last_read: usize) {
    if last_read == buf.len() && buf.len() < MAX_READ {
        buf.resize(buf.len() * 2, 0);
    } else if last_read < MIN_READ / 4 && buf.len() > MIN_READ {
        *buf = vec![0u8; MIN_READ];
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
        Ok(()) if dropped.bytes > 0 => {
            tracing::warn!("App [{label}] log writes resumed; {dropped} were dropped");
            *dropped = Dropped::default();
        }
        Ok(()) => {
            dropped.torn = false;
        }
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
