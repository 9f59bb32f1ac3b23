//! `.env` files (beyond PM2): an app's `env_file` and `--env-file`, read by the CLI when the
//! app is started, in dotenv syntax (`KEY=value`, `export KEY=value`, `#` comments, single,
//! double and back quotes, `${VAR}` and `$VAR` expansion) as the `dotenvy` crate parses it.
//!
//! Order, documented in the README: the CLI's environment, then the files in the order
//! given (a later file wins), then the app's `env` (and `env_<name>`), which always wins.
//! `${VAR}` inside a file sees the environment pm2 runs in first, then the variables
//! defined above it in the same file (dotenvy's rule).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why an env file cannot be read; each names the file, and a syntax error its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvFileError {
    /// The file does not exist.
    #[error("{}: no such env file", .0.display())]
    Missing(PathBuf),
    /// The file exists but cannot be read.
    #[error("{}: cannot read env file: {why}", .file.display())]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// The system's reason.
        why: String,
    },
    /// A line is not dotenv syntax.
    #[error("{}:{line}:{column}: not a KEY=value line: {text:?}", .file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// 1-based line of the offending entry.
        line: usize,
        /// 1-based column where the parser gave up.
        column: usize,
        /// The entry's first line, as written.
        text: String,
    },
}

/// Largest env file read (a `.env` is a few lines; this bounds a mistaken path).
const MAX_BYTES: u64 = 1 << 20;

/// Reads `files` in order into one map (a later file's value wins).
pub fn read_env_files(files: &[PathBuf]) -> Result<BTreeMap<String, String>, EnvFileError> {
    let mut vars = BTreeMap::new();
    for file in files {
        vars.extend(read_env_file(file)?);
    }
    Ok(vars)
}

/// `raw` made absolute against `dir` (how an app's other paths are resolved).
pub fn env_file_path(dir: &Path, raw: &str) -> PathBuf {
    dir.join(raw)
}

/// One file's variables.
fn read_env_file(file: &Path) -> Result<BTreeMap<String, String>, EnvFileError> {
    let text = read_text(file)?;
    let mut vars = BTreeMap::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok((k, v)) => {
                vars.insert(k, v);
            }
            Err(dotenvy::Error::LineParse(entry, index)) => {
                return Err(syntax_error(file, &text, &entry, index))
            }
            Err(e) => {
                return Err(EnvFileError::Unreadable {
                    file: file.to_path_buf(),
                    why: e.to_string(),
                })
            }
        }
    }
    Ok(vars)
}

fn read_text(file: &Path) -> Result<String, EnvFileError> {
    let unreadable = |why: String| EnvFileError::Unreadable {
        file: file.to_path_buf(),
        why,
    };
    let meta = match std::fs::metadata(file) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(EnvFileError::Missing(file.to_path_buf()))
        }
        Err(e) => return Err(unreadable(e.to_string())),
    };
    if !meta.is_file() {
        return Err(unreadable("not a regular file".into()));
    }
    if meta.len() > MAX_BYTES {
        return Err(unreadable(format!("larger than {MAX_BYTES} bytes")));
    }
    let bytes = std::fs::read(file).map_err(|e| unreadable(e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8 text".into()))
}

/// dotenvy names the entry and the offset in it; the line is where that entry starts (the
/// first line holding it: an identical earlier line would have failed first).
fn syntax_error(file: &Path, text: &str, entry: &str, index: usize) -> EnvFileError {
    let first = entry.lines().next().unwrap_or(entry).trim_end();
    let line = text
        .lines()
        .position(|l| !first.is_empty() && l.trim_end().contains(first))
        .map_or(1, |i| i + 1);
    EnvFileError::Syntax {
        file: file.to_path_buf(),
        line,
        column: index + 1,
        text: first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    fn temp(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pm2rs-envfile-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }

    #[test]
    fn dotenv_syntax_reads() {
        let dir = temp("syntax");
        let f = write(
            &dir,
            ".env",
            "# a comment\nexport A=1\nB='two words'\nC=\"x ${A} y\"\n\nD=plain # trailing\n",
        );
        let vars = read_env_files(&[f]).expect("parses");
        assert_eq!(vars["A"], "1");
        assert_eq!(vars["B"], "two words");
        assert_eq!(vars["C"], "x 1 y");
        assert_eq!(vars["D"], "plain");
    }

    #[test]
    fn a_later_file_wins() {
        let dir = temp("order");
        let a = write(&dir, "a.env", "X=a\nY=a\n");
        let b = write(&dir, "b.env", "X=b\n");
        let vars = read_env_files(&[a, b]).expect("parses");
        assert_eq!((vars["X"].as_str(), vars["Y"].as_str()), ("b", "a"));
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let dir = temp("errors");
        let f = write(&dir, "bad.env", "OK=1\n# fine\nNOT A LINE\n");
        let e = read_env_files(std::slice::from_ref(&f)).expect_err("refused");
        let text = e.to_string();
        assert!(text.starts_with(&format!("{}:3:", f.display())), "{text}");
        let missing = dir.join("nope.env");
        let e = read_env_files(std::slice::from_ref(&missing)).expect_err("missing");
        assert_eq!(e, EnvFileError::Missing(missing));
    }
}
