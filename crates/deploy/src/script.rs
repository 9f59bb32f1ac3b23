//! The one script a host runs, sent on ssh's stdin to a remote `bash -l -s`. Every config
//! value enters it as a single-quoted literal assigned to a variable, and the steps only
//! ever use those variables in double quotes, so no value (ref, path, repo, env, the
//! environment's name) can become code. Hooks are shell commands by design: each runs as
//! `bash -c "$HOOK"`, its text a literal until then.
//!
//! The script talks back through marker lines (`<marker> step <name>`, `say`, `fail`,
//! `done`, `exit <code>`) that [`crate::host`] reads; the marker carries a per-run nonce.
//! The whole script is one `{ … } </dev/null` group: bash reads it completely before
//! running anything, so a hook that reads stdin cannot swallow the rest of the script.

use crate::config::Target;
use crate::quote::sh_quote;
use crate::releases::{RELEASE, RELEASE_HELPERS};
use crate::verbs::Verb;

/// What the script needs beyond the target: the action and the marker.
pub struct ScriptInput<'a> {
    /// The environment's settings.
    pub target: &'a Target,
    /// The action.
    pub verb: &'a Verb,
    /// The `pre-setup` script's text when `pre-setup` names a local file (PM2 sends the
    /// file to the remote shell).
    pub pre_setup_file: Option<&'a str>,
    /// The marker prefix of the lines the script sends back.
    pub marker: &'a str,
}

/// First of all, before the script's own variables (so nothing sourced can change them): a
/// login shell has read `~/.profile`, but a Node version manager hooks into `~/.bashrc`
/// after its "not interactive: return" guard, so nvm is sourced here as an interactive
/// shell would, and volta's folder put on PATH.
const LOGIN_ENV: &str = r#"
NVM_DIR=${NVM_DIR:-$HOME/.nvm}
if [ -s "$NVM_DIR/nvm.sh" ]; then . "$NVM_DIR/nvm.sh" >/dev/null 2>&1; fi
if [ -d "$HOME/.volta/bin" ]; then PATH="$HOME/.volta/bin:$PATH"; fi
"#;

/// The helpers every script starts with (after the variables).
const PRELUDE: &str = r#"
step() { printf '%s step %s\n' "$M" "$1"; }
say() { printf '%s say %s\n' "$M" "$1"; }
fail() { printf '%s fail %s\n' "$M" "$1"; exit 1; }
finish() { printf '%s done\n' "$M"; exit 0; }
S="$P/source"
# hook <step> <command> <dir>: the hook's text run by bash in <dir>, with SHARED and env.
hook() {
  step "$1"
  if [ -z "$2" ]; then say "hook $1"; return 0; fi
  ( cd "$3" || exit 1; export SHARED="$P/shared"; deploy_env; exec bash -c "$2" 9>&- ) 2>&1
}
# lock: one deploy at a time per host and path (PM2 has none). fd 9 holds the lock until
# the connection ends; hooks get it closed, so a daemon a hook starts cannot keep it.
lock() {
  [ -z "${LOCKED-}" ] || return 0
  command -v flock >/dev/null 2>&1 || return 0
  exec 9>>"$P/.deploy.lock" || fail "cannot create $P/.deploy.lock"
  flock -n 9 || fail "another deploy is running on this host (lock $P/.deploy.lock): try again once it is done"
  LOCKED=1
}
# deploy_history: the deploy stack from .deploys into D (oldest first). A line "<sha> revert"
# moves back to the entry it names instead of adding one, so reverts never toggle.
deploy_history() {
  D=()
  [ -f "$P/.deploys" ] || return 0
  local sha kind j
  while read -r sha kind _; do
    [ -n "$sha" ] || continue
    if [ "$kind" = revert ]; then
      j=${#D[@]}
      while [ "$j" -gt 0 ]; do
        j=$((j - 1))
        if [ "${D[j]}" = "$sha" ]; then D=("${D[@]:0:j+1}"); continue 2; fi
      done
    fi
    D+=("$sha")
  done < "$P/.deploys"
}
"#;

const SETUP: &str = r#"
hook pre-setup "$PRE_SETUP" "$HOME" || fail 'pre-setup hook failed'
step setup-paths
mkdir -p "$P/shared/logs" "$P/shared/pids" "$S" || fail 'setup paths failed'
lock
step clone
if [ -d "$S/.git" ]; then
  ORIGIN=$(git -C "$S" remote get-url origin 2>/dev/null)
  if [ "$ORIGIN" = "$REPO" ]; then
    say 'source already cloned: kept (setup is safe to run again)'
  else
    say "source already cloned from $ORIGIN, not from the configured repo: kept (remove $S to clone again)"
  fi
elif [ -n "$(ls -A "$S")" ]; then
  fail "failed to clone: $S exists and is not a git clone"
elif [ -n "$BRANCH" ]; then
  git clone $DEPTH --branch "$BRANCH" "$REPO" "$S" || fail 'failed to clone'
else
  git clone $DEPTH "$REPO" "$S" || fail 'failed to clone'
fi
step link
# With releases, a setup run again leaves current on the live release.
if [ -z "$RELEASES" ] || [ ! -e "$P/current" ]; then
  ln -sfn "$S" "$P/current" || fail 'symlink failed'
fi
hook post-setup "$POST_SETUP" "$P/current" || fail 'post-setup hook failed'
say 'setup complete'
finish
"#;

/// The deploy proper; `$REF` is the ref (empty: latest tag), `$KIND` is "" or "revert".
const DEPLOY: &str = r#"
[ -d "$S/.git" ] || fail "fetch failed: $S is not set up (run pm2 deploy <file> <env> setup)"
lock
hook pre-deploy "$PRE_DEPLOY" "$P/current" || fail 'pre-deploy hook failed'
step fetch
cd "$S" || fail 'fetch failed'
git fetch $DEPTH --all --tags || fail 'fetch failed'
if [ -z "$REF" ]; then
  step latest-tag
  REF=$(git for-each-ref --sort=-creatordate --count=1 --format='%(refname:short)' refs/tags)
  [ -n "$REF" ] || fail 'failed to determine latest tag (the repository has no tag; set ref)'
fi
say "deploying $REF"
step reset
SHA=$(git rev-parse --verify --quiet "$REF^{commit}") || fail "git reset failed: $REF is not a commit here"
"#;

/// PM2's layout: the one work tree `source` moves to the commit; a failing post-deploy
/// moves it back.
const IN_PLACE: &str = r#"
PREV=$(git rev-parse HEAD)
git reset --hard "$SHA" || fail 'git reset failed'
step link
ln -sfn "$S" "$P/current" || fail 'symlink failed'
if ! hook post-deploy "$POST_DEPLOY" "$P/current"; then
  git -C "$S" reset --hard "$PREV" >/dev/null 2>&1
  fail "post-deploy hook failed (the code went back to $PREV)"
fi
record
"#;

/// The end of every deploy: the history line, the message.
const RECORD: &str = r#"
record() {
  step log
  printf '%s%s\n' "$SHA" "${KIND:+ $KIND}" >> "$P/.deploys" || fail 'deploy log append failed'
  say "successfully deployed $REF"
  finish
}
"#;

const REVERT: &str = r#"
step history
[ -d "$P" ] && lock
deploy_history
[ "${#D[@]}" -gt "$N" ] || fail "revert $N: the history holds ${#D[@]} deploy(s), so there is nothing $N back"
REF=${D[${#D[@]}-1-N]}
KIND=revert
"#;

const CURRENT: &str = r#"
step current
cd "$P/current" 2>/dev/null || fail "$P/current is not set up"
git rev-parse --short HEAD || fail 'no commit checked out'
finish
"#;

const PREVIOUS: &str = r#"
step previous
deploy_history
[ "${#D[@]}" -gt 1 ] || fail 'no previous deploy'
printf '%s\n' "${D[${#D[@]}-2]}"
finish
"#;

const LIST: &str = r#"
step list
deploy_history
i=0
while [ "$i" -lt "${#D[@]}" ]; do printf '%d\t%s\n' "$i" "${D[${#D[@]}-1-i]}"; i=$((i + 1)); done
finish
"#;

const EXEC: &str = r#"
step exec
cd "$P/current" 2>/dev/null || fail "$P/current is missing (run setup first)"
( export SHARED="$P/shared"; deploy_env; exec bash -c "$CMD" 9>&- ) 2>&1
rc=$?
printf '%s exit %s\n' "$M" "$rc"
exit "$rc"
"#;

/// The full script for one target and action (the same for every host).
pub fn build(input: &ScriptInput) -> String {
    let t = input.target;
    let mut s = format!("{{\n{LOGIN_ENV}");
    let mut var = |name: &str, value: &str| {
        s.push_str(&format!("{name}={}\n", sh_quote(value)));
    };
    var("M", input.marker);
    var("P", t.path.trim_end_matches('/'));
    var("REPO", &t.repo);
    var("BRANCH", &branch_of(&t.git_ref));
    var("DEPTH", if t.shallow { "--depth=5" } else { "" });
    var("KIND", "");
    var(
        "RELEASES",
        &t.releases.map(|n| n.to_string()).unwrap_or_default(),
    );
    let hooks = &t.hooks;
    let pre_setup = input.pre_setup_file.or(hooks.pre_setup.as_deref());
    var("PRE_SETUP", pre_setup.unwrap_or(""));
    var("POST_SETUP", hooks.post_setup.as_deref().unwrap_or(""));
    var("PRE_DEPLOY", hooks.pre_deploy.as_deref().unwrap_or(""));
    var("POST_DEPLOY", hooks.post_deploy.as_deref().unwrap_or(""));
    match input.verb {
        Verb::Ref(r) => var("REF", r),
        _ => var("REF", &t.git_ref),
    }
    if let Verb::Revert(n) = input.verb {
        var("N", &n.to_string());
    }
    if let Verb::Exec(cmd) = input.verb {
        var("CMD", cmd);
    }
    s.push_str(&env_function(t));
    s.push_str(PRELUDE);
    for part in body(input.verb, t.releases.is_some()) {
        s.push_str(part);
    }
    s.push_str("} </dev/null\n");
    s
}

/// `deploy_env`: exports the target's `env`, each value a quoted literal.
fn env_function(t: &Target) -> String {
    let mut f = String::from("deploy_env() {\n  :\n");
    for (k, v) in &t.env {
        // Keys were checked to be shell identifiers when the config was read.
        f.push_str(&format!("  export {k}={}\n", sh_quote(v)));
    }
    f.push_str("}\n");
    f
}

/// The parts of the script's body for an action, in order.
fn body(verb: &Verb, releases: bool) -> &'static [&'static str] {
    match verb {
        Verb::Setup => &[SETUP],
        Verb::Deploy | Verb::Ref(_) if releases => &[RECORD, RELEASE_HELPERS, DEPLOY, RELEASE],
        Verb::Deploy | Verb::Ref(_) => &[RECORD, DEPLOY, IN_PLACE],
        Verb::Revert(_) if releases => &[RECORD, RELEASE_HELPERS, REVERT, DEPLOY, RELEASE],
        Verb::Revert(_) => &[RECORD, REVERT, DEPLOY, IN_PLACE],
        Verb::Current => &[CURRENT],
        Verb::Previous => &[PREVIOUS],
        Verb::List => &[LIST],
        Verb::Exec(_) => &[EXEC],
    }
}

/// The branch `setup` clones: PM2 takes the text after the first `/` of the ref
/// (`origin/main` → `main`); a ref without `/` is the branch or tag itself.
pub fn branch_of(git_ref: &str) -> String {
    match git_ref.split_once('/') {
        Some((_, branch)) => branch.to_string(),
        None => git_ref.to_string(),
    }
}
