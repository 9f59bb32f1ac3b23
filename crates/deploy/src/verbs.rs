//! The words after `pm2 deploy <file> <env>`: which action, with its argument. Unlike PM2,
//! which skips words it does not know and then deploys, an unknown word is an error: a
//! typo must never deploy.

/// What to do on every host of the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// `setup`: folders, clone, `current` link, post-setup hook. Safe to run again.
    Setup,
    /// No word, or `update`: fetch and move to the environment's `ref`.
    Deploy,
    /// `ref <ref>`: deploy this ref instead of the configured one.
    Ref(String),
    /// `revert [n]`: move to the deploy `n` places back in the history (default 1).
    Revert(usize),
    /// `curr|current`: the short SHA checked out.
    Current,
    /// `prev|previous`: the SHA `revert 1` would move to.
    Previous,
    /// `list`: the history, newest first, numbered as `revert` counts.
    List,
    /// `exec|run <cmd…>`: the words joined by spaces, run by the remote shell in `current`.
    Exec(String),
}

impl Verb {
    /// Parses the words after the environment name.
    pub fn parse(words: &[String]) -> Result<Verb, String> {
        let (first, rest) = match words.split_first() {
            None => return Ok(Verb::Deploy),
            Some((first, rest)) => (first.as_str(), rest),
        };
        let verb = match first {
            "setup" => Verb::Setup,
            "update" => Verb::Deploy,
            "curr" | "current" => Verb::Current,
            "prev" | "previous" => Verb::Previous,
            "list" => Verb::List,
            "revert" => return revert(rest),
            "ref" => return git_ref(rest),
            "exec" | "run" => return exec(rest),
            other => {
                return Err(format!(
                    "unknown deploy action {other:?} (one of: setup, update, revert [n], \
                     curr, prev, list, exec <cmd>, ref <ref>; see pm2 deploy help)"
                ))
            }
        };
        match rest.first() {
            None => Ok(verb),
            Some(extra) => Err(format!("{first} takes no argument, got {extra:?}")),
        }
    }

    /// Whether the action changes the hosts' code (and so runs the local checks and
    /// `pre-deploy-local`).
    pub fn deploys(&self) -> bool {
        matches!(self, Verb::Deploy | Verb::Ref(_) | Verb::Revert(_))
    }
}

fn revert(rest: &[String]) -> Result<Verb, String> {
    match rest {
        [] => Ok(Verb::Revert(1)),
        [n] => match n.parse::<usize>() {
            Ok(n) if n > 0 => Ok(Verb::Revert(n)),
            _ => Err(format!(
                "revert {n}: expected how many deploys back (1 or more)"
            )),
        },
        [_, extra, ..] => Err(format!("revert takes one number, got also {extra:?}")),
    }
}

fn git_ref(rest: &[String]) -> Result<Verb, String> {
    match rest {
        [r] if !r.is_empty() && !r.starts_with('-') => Ok(Verb::Ref(r.clone())),
        [r] => Err(format!(
            "ref {r:?}: expected a git ref such as origin/main or v1.2.0"
        )),
        [] => Err("ref: which ref? (pm2 deploy <file> <env> ref <ref>)".into()),
        [_, extra, ..] => Err(format!("ref takes one ref, got also {extra:?}")),
    }
}

fn exec(rest: &[String]) -> Result<Verb, String> {
    if rest.is_empty() || rest.iter().all(|w| w.trim().is_empty()) {
        return Err("exec: which command? (pm2 deploy <file> <env> exec \"<cmd>\")".into());
    }
    Ok(Verb::Exec(rest.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::Verb;

    fn parse(words: &[&str]) -> Result<Verb, String> {
        Verb::parse(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn each_word_maps_to_its_action() {
        assert_eq!(parse(&[]), Ok(Verb::Deploy));
        assert_eq!(parse(&["update"]), Ok(Verb::Deploy));
        assert_eq!(parse(&["setup"]), Ok(Verb::Setup));
        assert_eq!(parse(&["revert"]), Ok(Verb::Revert(1)));
        assert_eq!(parse(&["revert", "3"]), Ok(Verb::Revert(3)));
        assert_eq!(parse(&["current"]), Ok(Verb::Current));
        assert_eq!(parse(&["prev"]), Ok(Verb::Previous));
        assert_eq!(parse(&["list"]), Ok(Verb::List));
        assert_eq!(parse(&["ref", "v1"]), Ok(Verb::Ref("v1".into())));
        assert_eq!(
            parse(&["exec", "ls", "-la"]),
            Ok(Verb::Exec("ls -la".into()))
        );
    }

    #[test]
    fn typos_and_bad_arguments_are_refused() {
        assert!(parse(&["setpu"]).is_err());
        assert!(parse(&["revert", "0"]).is_err());
        assert!(parse(&["revert", "x"]).is_err());
        assert!(parse(&["ref", "--upload-pack=x"]).is_err());
        assert!(parse(&["exec"]).is_err());
        assert!(parse(&["list", "extra"]).is_err());
    }
}
