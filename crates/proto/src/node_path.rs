//! Node's `path.resolve`, which PM2 applies to every path it is given (scripts, `cwd`,
//! `pm2 serve`'s folder): the CLI, the config reader and the static server must agree
//! with it, and with each other, on what a relative path names.

use std::path::{Component, Path, PathBuf};

/// `p` against `cwd` with `.` and `..` folded without reading the disk (symlinks kept),
/// as Node's `path.resolve(cwd, p)`; an absolute `p` ignores `cwd`.
pub fn resolve(cwd: &Path, p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in cwd.join(p).components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_fold_as_node_folds_them() {
        let cwd = Path::new("/srv/app");
        assert_eq!(
            resolve(cwd, Path::new("./a/../b.js")),
            Path::new("/srv/app/b.js")
        );
        assert_eq!(resolve(cwd, Path::new("../../../x")), Path::new("/x"));
        assert_eq!(resolve(cwd, Path::new("/abs/./y")), Path::new("/abs/y"));
        assert_eq!(resolve(cwd, Path::new(".")), Path::new("/srv/app"));
    }
}
