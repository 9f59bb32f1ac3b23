//! Replacing a file atomically: a reader sees the old contents or the new, never a part.
//!
//! Both programs rewrite files others read at any moment (the daemon its dump and state,
//! the CLI `module_conf.json` and init scripts), so every such write goes through here.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `contents` to `path` atomically (temporary file in the same folder, fsync,
/// rename), with the default mode (0666 less the umask).
///
/// Like [`std::fs::write`], the error does not repeat the path: callers name it.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace(path, contents, None)
}

/// [`write_atomic`] with exactly `mode` (the umask does not narrow it): for init scripts
/// that must be executable.
pub fn write_atomic_mode(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    replace(path, contents, Some(mode))
}

fn replace(path: &Path, contents: &[u8], mode: Option<u32>) -> io::Result<()> {
    let tmp = temporary_beside(path);
    let written = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        if let Some(mode) = mode {
            options.mode(mode);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(contents)?;
        if let Some(mode) = mode {
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// A temporary name in `path`'s folder (a rename across file systems is not atomic),
/// unique per call: two writers of one file in one process must not share a temporary
/// (one would rename the other's away).
fn temporary_beside(path: &Path) -> PathBuf {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.{}.{seq}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_with_the_exact_mode_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("pm2-home-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("script");
        write_atomic_mode(&path, b"one", 0o750).expect("first write");
        write_atomic(&path, b"two").expect("second write");
        assert_eq!(fs::read_to_string(&path).expect("read back"), "two");
        write_atomic_mode(&path, b"three", 0o750).expect("third write");
        let mode = fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o750);
        assert_eq!(fs::read_dir(&dir).expect("list").count(), 1);
        let _ = fs::remove_dir_all(&dir);
    }
}
