//! An instance's log files (out, err, combined), open for the life of the instance.
//!
//! Files are opened in append mode when the instance is created and kept across restarts;
//! the daemon owns the descriptors, so `reloadLogs` and rotation swap them without a
//! copy-truncate window.

use pm2_proto::InstancePaths;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

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

    /// Appends a chunk; on failure, says how much of it reached the file first.
    pub fn write(&self, chunk: &[u8]) -> Result<(), ShortWrite> {
        let mut file = self.lock();
        let mut written = 0;
        while written < chunk.len() {
            match file.write(&chunk[written..]) {
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
