//! PM2's interpreter choice: by extension, else run the file directly.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What will run a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interpreter {
    /// Exec the script itself (PM2's `none`).
    None,
    /// Run through a named interpreter found on PATH.
    Named(String),
}

impl Interpreter {
    /// The interpreter PM2 picks for `script` (`lib/API/interpreter.json`), given the PATH
    /// used to look for `python`. Unknown extensions run the file directly when it looks like
    /// a binary or is executable, else with node (PM2's `process.execPath` fallback).
    pub fn for_script(script: &Path, path_var: &str) -> Interpreter {
        let ext = script
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let named = |n: &str| Interpreter::Named(n.to_string());
        match ext.as_str() {
            "js" | "cjs" | "mjs" => named("node"),
            "sh" => named("bash"),
            "py" => {
                if find_in_path("python", path_var).is_some() {
                    named("python")
                } else {
                    named("python3")
                }
            }
            "rb" => named("ruby"),
            "php" => named("php"),
            "pl" => named("perl"),
            "coffee" => named("coffee"),
            "ls" => named("lsc"),
            "ts" | "tsx" => named("bun"),
            _ if looks_binary(script) || is_executable(script) => Interpreter::None,
            _ => named("node"),
        }
    }

    /// PM2's `exec_interpreter` string.
    pub fn name(&self) -> &str {
        match self {
            Interpreter::None => "none",
            Interpreter::Named(n) => n,
        }
    }
}

/// Whether a file is executable by someone.
pub fn is_executable(path: &Path) -> bool {
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A file whose first bytes contain a NUL is treated as a binary (PM2's `isBinary`).
fn looks_binary(path: &Path) -> bool {
    let mut buf = [0u8; 512];
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let n = f.read(&mut buf).unwrap_or(0);
    buf[..n].contains(&0)
}

/// Finds `name` on `path_var` (a caller's PATH, which may not be this process's) the way
/// `which` does. A name containing `/` is checked as is.
pub fn find_in_path(name: &str, path_var: &str) -> Option<PathBuf> {
    find_in_dirs(name, std::env::split_paths(path_var))
}

/// Finds `name` on this process's own PATH, skipping empty entries (a command found there
/// would be relative to whatever directory the caller runs in).
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let dirs = std::env::split_paths(&path).filter(|dir| !dir.as_os_str().is_empty());
    find_in_dirs(name, dirs)
}

/// The first executable `<dir>/<name>`; the one search behind [`find_in_path`] and
/// [`which`].
fn find_in_dirs(name: &str, dirs: impl Iterator<Item = PathBuf>) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return is_executable(&p).then_some(p);
    }
    dirs.map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_by_extension() {
        let p = std::env::var("PATH").unwrap_or_default();
        assert_eq!(
            Interpreter::for_script(Path::new("a.js"), &p).name(),
            "node"
        );
        assert_eq!(
            Interpreter::for_script(Path::new("a.mjs"), &p).name(),
            "node"
        );
        assert_eq!(
            Interpreter::for_script(Path::new("a.sh"), &p).name(),
            "bash"
        );
        assert_eq!(
            Interpreter::for_script(Path::new("a.rb"), &p).name(),
            "ruby"
        );
        assert_eq!(
            Interpreter::for_script(Path::new("a.pl"), &p).name(),
            "perl"
        );
        assert_eq!(
            Interpreter::for_script(Path::new("a.php"), &p).name(),
            "php"
        );
        assert!(Interpreter::for_script(Path::new("a.py"), &p)
            .name()
            .starts_with("python"));
    }

    #[test]
    fn a_binary_runs_directly() {
        assert_eq!(
            Interpreter::for_script(Path::new("/bin/sleep"), ""),
            Interpreter::None
        );
    }

    #[test]
    fn which_finds_sh() {
        assert!(find_in_path("sh", "/usr/bin:/bin").is_some());
        assert!(find_in_path("surely-not-a-command-xyz", "/usr/bin:/bin").is_none());
    }
}
