//! `pm2 deploy [file] <env> [action…]`: which word is the file, which the environment,
//! and which file to read when none is named (PM2's search in the working directory).

use std::path::Path;

/// The files PM2 looks for, in order, when the first word is an environment.
pub const DEFAULT_FILES: &[&str] = &[
    "ecosystem.json",
    "ecosystem.yml",
    "ecosystem.yaml",
    "ecosystem.config.js",
    "ecosystem.config.cjs",
    "ecosystem.config.mjs",
    "ecosystem.json5",
    "package.json",
];

/// What the words ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Words {
    /// `pm2 deploy help` (or no word at all).
    Help,
    /// A file and maybe an environment and an action. `file` is `None` when the first word
    /// was the environment and no default file exists in the working directory.
    Run {
        /// The ecosystem file, as typed or found.
        file: Option<String>,
        /// The environment; `None` lists the file's environments.
        env: Option<String>,
        /// The action's words.
        rest: Vec<String>,
    },
}

/// Splits the words; `is_file` is the project's rule for "names an ecosystem file".
pub fn split(words: &[String], cwd: &Path, is_file: impl Fn(&str) -> bool) -> Words {
    let Some((first, rest)) = words.split_first() else {
        return Words::Help;
    };
    if first == "help" && rest.is_empty() {
        return Words::Help;
    }
    if is_file(first) {
        let (env, rest) = match rest.split_first() {
            Some((env, rest)) => (Some(env.clone()), rest.to_vec()),
            None => (None, Vec::new()),
        };
        return Words::Run {
            file: Some(first.clone()),
            env,
            rest,
        };
    }
    let file = DEFAULT_FILES
        .iter()
        .find(|name| cwd.join(name).is_file())
        .map(|name| name.to_string());
    Words::Run {
        file,
        env: Some(first.clone()),
        rest: rest.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_first_word_is_the_file_or_the_environment() {
        let is_file = |w: &str| w.ends_with(".config.js");
        let none = Path::new("/nonexistent-dir");
        assert_eq!(split(&[], none, is_file), Words::Help);
        assert_eq!(split(&words(&["help"]), none, is_file), Words::Help);
        assert_eq!(
            split(&words(&["e.config.js", "prod", "setup"]), none, is_file),
            Words::Run {
                file: Some("e.config.js".into()),
                env: Some("prod".into()),
                rest: words(&["setup"])
            }
        );
        assert_eq!(
            split(&words(&["e.config.js"]), none, is_file),
            Words::Run {
                file: Some("e.config.js".into()),
                env: None,
                rest: vec![]
            }
        );
        assert_eq!(
            split(&words(&["prod", "list"]), none, is_file),
            Words::Run {
                file: None,
                env: Some("prod".into()),
                rest: words(&["list"])
            }
        );
    }
}
