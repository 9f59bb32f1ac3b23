//! Relay of a child's stdout/stderr into PM2's log files and to live `pm2 logs` readers.
//!
//! Each pipe is read by its own task until EOF, so a noisy stream can never block the other,
//! and nothing the child wrote before exiting is lost. Files are opened in append mode when
//! the instance is created and kept across restarts; the daemon owns the descriptors, so
//! `reloadLogs` and rotation swap them without a copy-truncate window.

use crate::hub::{LogHub, LogKind};
use crate::line_format::LineFormatter;
use pm2_proto::InstancePaths;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::task::JoinHandle;

/// One log file whose descriptor can be swapped (reopen, rotation) while relays write to it.
pub struct LogSink {
    path: String,
    file: Mutex<File>,
}

impl LogSink {
    fn open(path: &str) -> io::Result<Option<Arc<LogSink>>> {
        if path == "/dev/null" {
            return Ok(None);
        }
        let file = open_append(path)?;
        Ok(Some(Arc::new(LogSink {
            path: path.to_string(),
            file: Mutex::new(file),
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, File> {
        self.file.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends a chunk.
    pub fn write(&self, chunk: &[u8]) -> io::Result<()> {
        self.lock().write_all(chunk)
    }

    /// Reopens the path (after an external rotation, or `reloadLogs`).
    pub fn reopen(&self) -> io::Result<()> {
        let fresh = open_append(&self.path)?;
        *self.lock() = fresh;
        Ok(())
    }

    /// Truncates the file (`pm2 flush`).
    pub fn truncate(&self) -> io::Result<()> {
        self.lock().set_len(0)
    }

    /// Renames the live file to `to` and reopens a fresh one at the same path, under the
    /// lock, so no write lands between the two and none is lost or duplicated.
    pub fn rotate_to(&self, to: &Path) -> io::Result<()> {
        let mut file = self.lock();
        std::fs::rename(&self.path, to)?;
        *file = open_append(&self.path)?;
        Ok(())
    }

    /// The file's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Current size in bytes (0 when it cannot be read).
    pub fn len(&self) -> u64 {
        self.lock().metadata().map(|m| m.len()).unwrap_or(0)
    }
}

fn open_append(path: &str) -> io::Result<File> {
    if let Some(dir) = Path::new(path).parent() {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

/// The open files of one instance (`None` for `/dev/null`).
#[derive(Clone, Default)]
pub struct LogFiles {
    out: Option<Arc<LogSink>>,
    err: Option<Arc<LogSink>>,
    combined: Option<Arc<LogSink>>,
}

/// Which pipe a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// stdout.
    Out,
    /// stderr.
    Err,
}

impl LogFiles {
    /// Opens (creating folders as needed) every file of an instance.
    pub fn open(paths: &InstancePaths) -> io::Result<LogFiles> {
        let ctx = |p: &str, e: io::Error| io::Error::new(e.kind(), format!("{p}: {e}"));
        Ok(LogFiles {
            out: LogSink::open(&paths.out).map_err(|e| ctx(&paths.out, e))?,
            err: LogSink::open(&paths.err).map_err(|e| ctx(&paths.err, e))?,
            combined: match &paths.combined {
                Some(c) => LogSink::open(c).map_err(|e| ctx(c, e))?,
                None => None,
            },
        })
    }

    /// Every distinct file (a merged out/err path counts once).
    pub fn sinks(&self) -> Vec<Arc<LogSink>> {
        let mut all: Vec<Arc<LogSink>> = vec![];
        for s in [&self.out, &self.err, &self.combined].into_iter().flatten() {
            if !all.iter().any(|a| a.path == s.path) {
                all.push(Arc::clone(s));
            }
        }
        all
    }

    fn write(&self, stream: Stream, chunk: &[u8]) -> io::Result<()> {
        let primary = match stream {
            Stream::Out => &self.out,
            Stream::Err => &self.err,
        };
        for sink in [primary, &self.combined].into_iter().flatten() {
            sink.write(chunk)?;
        }
        Ok(())
    }
}

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
    pub format: crate::line_format::LineFormat,
}

/// Copies `pipe` into the instance's files and to live readers until EOF. Write failures
/// (disk full) drop the chunk, keep the pipe drained so the app never blocks, and are
/// reported in `pm2.log` with how much was dropped.
pub fn relay<R>(mut pipe: R, target: RelayTarget, stream: Stream) -> JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut buf = vec![0u8; MIN_READ];
        let mut dropped: u64 = 0;
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
        if dropped > 0 {
            tracing::warn!("App [{label}] {dropped} bytes of output were dropped");
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
fn write_counting(files: &LogFiles, stream: Stream, bytes: &[u8], label: &str, dropped: &mut u64) {
    if bytes.is_empty() {
        return;
    }
    match files.write(stream, bytes) {
        Err(e) => {
            if *dropped == 0 {
                tracing::warn!("App [{label}] log write failed ({e}); dropping output");
            }
            *dropped += bytes.len() as u64;
        }
        Ok(()) if *dropped > 0 => {
            tracing::warn!("App [{label}] log writes resumed; {dropped} bytes were dropped");
            *dropped = 0;
        }
        Ok(()) => {}
    }
}

impl RelayTarget {
    /// A hub event for a chunk of this instance.
    pub fn event(&self, kind: LogKind, data: &[u8]) -> crate::hub::LogEvent {
        crate::hub::LogEvent {
            pm_id: Some(self.pm_id),
            name: Arc::clone(&self.name),
            namespace: Arc::clone(&self.namespace),
            kind,
            data: Arc::from(data),
            at: crate::hub::now_ms(),
        }
    }
}
