//! Relay of a child's stdout/stderr into PM2's log files.
//!
//! Each pipe is read by its own task until EOF, so a noisy stream can never block the other,
//! and nothing the child wrote before exiting is lost. Files are opened in append mode once
//! per instance and kept across restarts.

use pm2_proto::InstancePaths;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::task::JoinHandle;

/// A log file shared by the tasks that write into it (`None` for `/dev/null`).
type SharedFile = Option<Arc<Mutex<File>>>;

/// The open files of one instance.
#[derive(Clone)]
pub struct LogFiles {
    out: SharedFile,
    err: SharedFile,
    combined: SharedFile,
}

/// Which stream a chunk came from.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    /// stdout.
    Out,
    /// stderr.
    Err,
}

fn open_append(path: &str) -> io::Result<SharedFile> {
    if path == "/dev/null" {
        return Ok(None);
    }
    if let Some(dir) = Path::new(path).parent() {
        std::fs::create_dir_all(dir)?;
    }
    let f = OpenOptions::new().create(true).append(true).open(path)?;
    Ok(Some(Arc::new(Mutex::new(f))))
}

impl LogFiles {
    /// Opens (creating folders as needed) every file of an instance.
    pub fn open(paths: &InstancePaths) -> io::Result<LogFiles> {
        let ctx = |p: &str, e: io::Error| io::Error::new(e.kind(), format!("{p}: {e}"));
        Ok(LogFiles {
            out: open_append(&paths.out).map_err(|e| ctx(&paths.out, e))?,
            err: open_append(&paths.err).map_err(|e| ctx(&paths.err, e))?,
            combined: match &paths.combined {
                Some(c) => open_append(c).map_err(|e| ctx(c, e))?,
                None => None,
            },
        })
    }

    fn write(&self, stream: Stream, chunk: &[u8]) -> io::Result<()> {
        let primary = match stream {
            Stream::Out => &self.out,
            Stream::Err => &self.err,
        };
        for file in [primary, &self.combined].into_iter().flatten() {
            let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
            f.write_all(chunk)?;
        }
        Ok(())
    }
}

/// Copies `pipe` into the instance's files until EOF. Write failures (disk full) drop the
/// chunk, keep the pipe drained so the app never blocks, and are reported in `pm2.log`.
pub fn relay<R>(mut pipe: R, files: LogFiles, stream: Stream, app: String) -> JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        let mut dropped: u64 = 0;
        loop {
            let n = match pipe.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Err(e) = files.write(stream, &buf[..n]) {
                if dropped == 0 {
                    tracing::warn!("App [{app}] log write failed ({e}); dropping output");
                }
                dropped += n as u64;
            } else if dropped > 0 {
                tracing::warn!("App [{app}] log writes resumed; {dropped} bytes were dropped");
                dropped = 0;
            }
        }
        if dropped > 0 {
            tracing::warn!("App [{app}] {dropped} bytes of output were dropped");
        }
    })
}
