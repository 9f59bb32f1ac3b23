//! An instance's log files (out, err, combined), open for the life of the instance.
//!
//! One [`LogSink`] per path, shared by every stream and instance writing there (merged
//! logs, `out_file == error_file`): the daemon is the only writer of the file, so one lock
//! orders every chunk, whole. The descriptor is opened without `O_APPEND`, which
//! `splice(2)` refuses, and [`super::append`] keeps `O_APPEND`'s behaviour (an atomic append
//! for copied chunks; the end read before each splice, and the chunk before checked for a
//! cut under it). The daemon owns the descriptors,
//! so `reloadLogs` and rotation swap them without a copy-truncate window.

use super::append::{self, SpliceError, Unchecked};
use pm2_proto::InstancePaths;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// One log file whose descriptor can be swapped (reopen, rotation) while relays write to it.
pub struct LogSink {
    path: String,
    file: Mutex<Open>,
    /// How many times the path was opened while this sink lived (instances and streams
    /// writing here): two or more is a shared file, whose writers' pipes stay grown.
    opens: AtomicUsize,
}

/// The descriptor in use, whether pipes can be spliced into it (a regular file; a FIFO or
/// a device given as a log path gets copies), and the last spliced chunk to check before
/// the next write.
struct Open {
    file: File,
    regular: bool,
    last: Unchecked,
}

/// Every sink alive, by path: a second instance or stream naming the path gets the same one.
fn pool() -> &'static Mutex<HashMap<String, Weak<LogSink>>> {
    static POOL: OnceLock<Mutex<HashMap<String, Weak<LogSink>>>> = OnceLock::new();
    POOL.get_or_init(Mutex::default)
}

impl LogSink {
    /// The sink of `path`, shared with every other writer of it (`None` for `/dev/null`).
    fn open(path: &str) -> io::Result<Option<Arc<LogSink>>> {
        if path == "/dev/null" {
            return Ok(None);
        }
        let mut pool = pool().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sink) = pool.get(path).and_then(Weak::upgrade) {
            sink.opens.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(sink));
        }
        let sink = Arc::new(LogSink {
            path: path.to_string(),
            file: Mutex::new(open_for_append(path)?),
            opens: AtomicUsize::new(1),
        });
        pool.retain(|_, w| w.strong_count() > 0);
        pool.insert(path.to_string(), Arc::downgrade(&sink));
        Ok(Some(sink))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.file.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends a chunk; on failure, says how much of it reached the file first.
    pub fn write(&self, chunk: &[u8]) -> Result<(), ShortWrite> {
        let mut open = self.lock();
        if open.last.is_some() {
            let Open { file, last, .. } = &mut *open;
            if let Err(e) = append::end_checked(file.as_fd(), last) {
                tracing::debug!("cannot check {} for a cut during a write: {e}", self.path);
            }
        }
        let mut written = 0;
        while written < chunk.len() {
            match append::append(open.file.as_fd(), &chunk[written..]) {
                Ok(0) => {
                    let error = io::Error::from(io::ErrorKind::WriteZero);
                    return Err(ShortWrite { written, error });
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(ShortWrite { written, error }),
            }
        }
        Ok(())
    }

    /// Moves what `pipe` holds (up to `max` bytes) to the end of the file, under the lock
    /// that orders every writer of the path. `Unsupported` when the file cannot take a
    /// splice; otherwise as [`append::splice_to_end`].
    pub fn splice_from(&self, pipe: BorrowedFd<'_>, max: usize) -> Result<usize, SpliceError> {
        let mut open = self.lock();
        if !open.regular {
            return Err(io::Error::from(io::ErrorKind::Unsupported).into());
        }
        let Open { file, last, .. } = &mut *open;
        append::splice_to_end(pipe, file.as_fd(), max, last)
    }

    /// Reopens the path (after an external rotation, or `reloadLogs`).
    pub fn reopen(&self) -> io::Result<()> {
        let fresh = open_for_append(&self.path)?;
        *self.lock() = fresh;
        Ok(())
    }

    /// Truncates the file (`pm2 flush`).
    pub fn truncate(&self) -> io::Result<()> {
        let mut open = self.lock();
        open.last = None;
        open.file.set_len(0)
    }

    /// Renames the live file to `to` and reopens a fresh one at the same path, under the
    /// lock, so no write lands between the two and none is lost or duplicated.
    pub fn rotate_to(&self, to: &Path) -> io::Result<()> {
        let mut open = self.lock();
        std::fs::rename(&self.path, to)?;
        *open = open_for_append(&self.path)?;
        Ok(())
    }

    /// Whether several pipes write here (merged instances, out and err in one file). Their
    /// chunks take turns whole, so each pipe must take an app's write whole: a pipe with no
    /// room for a write splits it, and another writer's chunk could land inside the line.
    pub fn shared(&self) -> bool {
        self.opens.load(Ordering::Relaxed) > 1
    }

    /// The file's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Current size in bytes (0 when it cannot be read).
    pub fn len(&self) -> u64 {
        self.lock().file.metadata().map(|m| m.len()).unwrap_or(0)
    }
}

/// Opens (creating it and its folders) `path` for writing at its end, without `O_APPEND`;
/// readable too where allowed, so a splice can check that nobody cut the file under it
/// (see [`append::splice_to_end`]).
fn open_for_append(path: &str) -> io::Result<Open> {
    if let Some(dir) = Path::new(path).parent() {
        std::fs::create_dir_all(dir)?;
    }
    let open = |read| {
        OpenOptions::new()
            .create(true)
            .read(read)
            .write(true)
            .truncate(false)
            .open(path)
    };
    let file = open(true).or_else(|_| open(false))?;
    let regular = file.metadata()?.is_file();
    Ok(Open {
        file,
        regular,
        last: None,
    })
}

/// A chunk that did not reach a file whole (disk full): its first `written` bytes did.
#[derive(Debug)]
pub struct ShortWrite {
    /// Bytes of the chunk in the file.
    pub written: usize,
    /// Why the rest is not.
    pub error: io::Error,
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

    /// Gives every file to `uid:gid` (an app run as another user owns its logs, as under
    /// PM2); the error names the file.
    pub fn give_to(&self, uid: u32, gid: u32) -> io::Result<()> {
        for sink in self.sinks() {
            std::os::unix::fs::chown(&sink.path, Some(uid), Some(gid))
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", sink.path)))?;
        }
        Ok(())
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

    /// The one file `stream` goes to, when it goes to exactly one (no combined log, not
    /// `/dev/null`): the relay can then splice the pipe into it.
    pub fn only_file(&self, stream: Stream) -> Option<&Arc<LogSink>> {
        let primary = match stream {
            Stream::Out => &self.out,
            Stream::Err => &self.err,
        };
        primary.as_ref().filter(|_| self.combined.is_none())
    }

    /// Whether `stream` writes into a file another pipe writes too (the combined log, out
    /// and err in one file, merged instances): see [`LogSink::shared`].
    pub fn shared(&self, stream: Stream) -> bool {
        let primary = match stream {
            Stream::Out => &self.out,
            Stream::Err => &self.err,
        };
        self.combined.is_some() || primary.as_ref().is_some_and(|s| s.shared())
    }

    /// Appends a chunk of `stream` to its file and to the combined one (each gets its try);
    /// a failure reports the shortest write.
    pub fn write(&self, stream: Stream, chunk: &[u8]) -> Result<(), ShortWrite> {
        let primary = match stream {
            Stream::Out => &self.out,
            Stream::Err => &self.err,
        };
        let mut shortest: Option<ShortWrite> = None;
        for sink in [primary, &self.combined].into_iter().flatten() {
            if let Err(short) = sink.write(chunk) {
                if shortest.as_ref().is_none_or(|s| short.written < s.written) {
                    shortest = Some(short);
                }
            }
        }
        shortest.map_or(Ok(()), Err)
    }
}
