//! Command-line words as targets. A word may name a script file (`pm2 stop app.js`), and
//! only the CLI knows the directory it is relative to, so the file is resolved here and
//! sent as an absolute path.

use anyhow::{Context, Result};
use pm2_proto::Target;
use std::path::Path;

/// The targets `words` name from the current directory.
pub(crate) fn targets(words: &[String]) -> Result<Vec<Target>> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(words.iter().map(|w| target_in(w, &cwd)).collect())
}

/// The target one word names from `cwd`.
pub(crate) fn target_in(word: &str, cwd: &Path) -> Target {
    Target::word(word, |w| script_path(cwd, w))
}

/// `word` as an absolute path from `cwd` the way Node's `path.resolve` makes it (`.` and
/// `..` folded without reading the disk), then, when the file exists, with symlinks resolved
/// as they are in a started app's script.
fn script_path(cwd: &Path, word: &str) -> String {
    let out = pm2_proto::node_path::resolve(cwd, Path::new(word));
    let out = std::fs::canonicalize(&out).unwrap_or(out);
    out.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_names_a_file_from_the_cwd_folded_like_path_resolve() {
        let cwd = Path::new("/nonexistent-pm2-dir/a");
        let path = |t: Target| match t {
            Target::Word { path, .. } => path,
            other => panic!("not a word: {other:?}"),
        };
        assert_eq!(
            path(target_in("app.js", cwd)),
            "/nonexistent-pm2-dir/a/app.js"
        );
        assert_eq!(
            path(target_in("./b/../x.js", cwd)),
            "/nonexistent-pm2-dir/a/x.js"
        );
        assert_eq!(path(target_in("/abs/y.js", cwd)), "/abs/y.js");
        assert_eq!(path(target_in("123", cwd)), "/nonexistent-pm2-dir/a/123");
    }

    #[test]
    fn all_and_regex_stay_what_they_are() {
        let cwd = Path::new("/tmp");
        assert_eq!(target_in("all", cwd), Target::All);
        assert_eq!(target_in("/^a/", cwd), Target::Regex("^a".into()));
    }

    #[test]
    fn an_existing_file_is_named_by_its_real_path() {
        let dir = std::env::temp_dir().join(format!("pm2-words-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("real.js"), "").unwrap();
        let link = dir.join("link.js");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(dir.join("real.js"), &link).unwrap();
        let real = std::fs::canonicalize(dir.join("real.js")).unwrap();
        let got = target_in("link.js", &dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            got,
            Target::Word {
                word: "link.js".into(),
                path: real.to_string_lossy().into_owned()
            }
        );
    }
}
