//! Gzip of rotated logs (flate2, pure-Rust backend), written crash-safely.

use super::naming::gz_path;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Gzips `path` into `path.gz` and removes `path`, returning the `.gz` path.
///
/// The data goes to `path.gz.tmp` first, which is synced, given `path`'s modification time
/// (so [`prune`](super::prune) still orders it by when it was written) and renamed over
/// `path.gz`: a crash never leaves a truncated `.gz`. `path` is removed only after that.
///
/// Blocking: run it off the async runtime (`spawn_blocking`).
pub fn compress(path: &Path) -> io::Result<PathBuf> {
    let target = gz_path(path);
    let mut tmp_os = target.clone().into_os_string();
    tmp_os.push(".tmp");
    let tmp = PathBuf::from(tmp_os);
    let result = write_gz(path, &tmp, &target);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    fs::remove_file(path)?;
    sync_dir(&target);
    Ok(target)
}

fn write_gz(path: &Path, tmp: &Path, target: &Path) -> io::Result<()> {
    let mut input = File::open(path)?;
    let mtime = input.metadata()?.modified()?;
    let out = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)?;
    let file = gzip_stream(&mut input, BufWriter::new(out))?;
    file.sync_all()?;
    file.set_modified(mtime)?;
    drop(file);
    fs::rename(tmp, target)
}

/// Best effort: makes the rename durable. Failure only weakens crash safety.
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
}

/// Writes `input` gzipped (default level) to `out` and returns the underlying writer, flushed.
fn gzip_stream<W: Write>(input: &mut File, out: BufWriter<W>) -> io::Result<W> {
    let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    io::copy(input, &mut encoder)?;
    encoder.finish()?.into_inner().map_err(|e| e.into_error())
}
