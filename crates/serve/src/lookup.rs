//! URL segments → a file under the root, with symlinks resolved: a path whose real
//! location is outside the root is refused, so a symlink cannot serve what the root does
//! not hold. Blocking file system calls; the handler runs them off the async thread.

use std::fs::Metadata;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// What a path under the root is.
#[derive(Debug)]
pub enum Found {
    /// A regular file (a directory's `index.html` when the path named a directory).
    File(PathBuf, Metadata),
    /// Nothing there (or a directory without `index.html`).
    Missing,
    /// Its real location is outside the root (403).
    Outside,
    /// The file system refused to say (permissions, I/O): 500 with the error.
    Failed(std::io::Error),
}

/// Looks `segments` up under `root` (itself canonical).
pub fn find(root: &Path, segments: &[String]) -> Found {
    let candidate = segments.iter().fold(root.to_path_buf(), |p, s| p.join(s));
    match real_file(root, &candidate) {
        Found::File(dir, meta) if meta.is_dir() => match real_file(root, &dir.join("index.html")) {
            Found::File(_, m) if m.is_dir() => Found::Missing,
            other => other,
        },
        other => other,
    }
}

/// `path` with symlinks resolved, if it exists inside `root`.
fn real_file(root: &Path, path: &Path) -> Found {
    let real = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if is_missing(&e) => return Found::Missing,
        Err(e) => return Found::Failed(e),
    };
    if !real.starts_with(root) {
        return Found::Outside;
    }
    match std::fs::metadata(&real) {
        Ok(meta) => Found::File(real, meta),
        Err(e) if is_missing(&e) => Found::Missing,
        Err(e) => Found::Failed(e),
    }
}

/// ENOENT, and ENOTDIR (`/file.txt/x`): both mean "no such file" to a client.
fn is_missing(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(tag: &str) -> (PathBuf, PathBuf) {
        let base = std::env::temp_dir().join(format!("pm2serve-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("root");
        std::fs::create_dir_all(root.join("sub/bare")).unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        std::fs::write(root.join("sub/index.html"), "i").unwrap();
        std::fs::write(base.join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(base.join("secret"), root.join("out")).unwrap();
        std::os::unix::fs::symlink(root.join("a.txt"), root.join("in")).unwrap();
        std::os::unix::fs::symlink(&base, root.join("updir")).unwrap();
        (std::fs::canonicalize(&root).unwrap(), base)
    }

    fn seg(p: &str) -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }

    #[test]
    fn files_directories_and_symlinks() {
        let (root, base) = tree("find");
        assert!(matches!(find(&root, &seg("a.txt")), Found::File(p, _) if p.ends_with("a.txt")));
        assert!(
            matches!(find(&root, &seg("sub")), Found::File(p, _) if p.ends_with("sub/index.html"))
        );
        assert!(matches!(find(&root, &seg("sub/bare")), Found::Missing));
        assert!(matches!(find(&root, &seg("nope")), Found::Missing));
        assert!(matches!(find(&root, &seg("a.txt/x")), Found::Missing));
        assert!(matches!(find(&root, &seg("in")), Found::File(..)));
        assert!(matches!(find(&root, &seg("out")), Found::Outside));
        assert!(matches!(find(&root, &seg("updir/secret")), Found::Outside));
        let _ = std::fs::remove_dir_all(base);
    }
}
