//! `releases: N` (beyond PM2): each deploy builds its own release folder and `current`
//! moves to it, atomically, only once the post-deploy hook (the build) succeeded; the
//! newest N releases are kept. A failing build leaves `current`, and so the release the
//! apps run from, as it was.
//!
//! Layout: `P/releases/<YYYYmmddHHMMSSnnnnnnnnn>-<sha7>-<rand>/`, each a `git worktree` of
//! `P/source` (so the app still has its git metadata), and `current` → the live release.
//! `source/`, `shared/` and `.deploys` stay as in PM2's layout. A revert to a commit whose
//! release is still kept is instant: that folder (already built) gets the post-deploy hook
//! again (which reloads the apps) and goes live, nothing is checked out or rebuilt.

/// The release flow, run after the common part of a deploy resolved `$SHA`.
pub const RELEASE: &str = r#"
step release
mkdir -p "$P/releases" || fail 'release folder failed'
R=
# A revert to a release still kept is instant: that folder, already built, goes live again.
[ "$KIND" = revert ] && R=$(kept_release "$SHA")
if [ -n "$R" ]; then
  REUSED=1
  say "reverting to the kept release $R"
else
  REUSED=
  R=$(mktemp -d "$P/releases/$(release_stamp)-$(printf %.7s "$SHA")-XXXX") || fail 'release folder failed'
  git -C "$S" worktree add --detach "$R" "$SHA" || { rmdir "$R"; fail 'release checkout failed'; }
fi
export RELEASE="$R"
if ! hook post-deploy "$POST_DEPLOY" "$R"; then
  [ -n "$REUSED" ] || drop_release "$R"
  fail 'post-deploy hook failed (current still points at the previous release)'
fi
step switch
# A new link renamed over the old one: readers see the old or the new release, never none.
ln -sfn "$R" "$P/.current.new" && mv -Tf "$P/.current.new" "$P/current" || fail 'symlink failed'
prune_releases
record
"#;

/// The helpers of [`RELEASE`], defined before it runs.
pub const RELEASE_HELPERS: &str = r#"
# A release's name starts with the time to the nanosecond, so names sort in deploy order
# even for two deploys within one second (the pruning keeps the newest by that order); a
# `date` without %N (it prints N) gets nine zeros.
release_stamp() {
  local stamp
  stamp=$(date +%Y%m%d%H%M%S%N)
  case $stamp in *N) stamp="$(date +%Y%m%d%H%M%S)000000000" ;; esac
  printf %s "$stamp"
}
drop_release() {
  git -C "$S" worktree remove --force "$1" >/dev/null 2>&1 || rm -rf "$1"
  git -C "$S" worktree prune >/dev/null 2>&1
}
# The newest kept release folder checked out at commit $1, if any.
kept_release() {
  local dir found=
  for dir in "$P/releases"/*-"$(printf %.7s "$1")"-*/; do
    [ -d "$dir" ] || continue
    [ "$(git -C "$dir" rev-parse HEAD 2>/dev/null)" = "$1" ] && found=${dir%/}
  done
  printf %s "$found"
}
# Keeps the newest $RELEASES release folders, and always the one current points at.
prune_releases() {
  local live old
  live=$(readlink "$P/current")
  ls -1d "$P/releases"/*/ 2>/dev/null | sed 's:/$::' | sort | head -n "-$RELEASES" |
    while read -r old; do [ "$old" = "$live" ] || drop_release "$old"; done
}
"#;

#[cfg(test)]
mod tests {
    use super::RELEASE_HELPERS;
    use std::process::Command;

    /// Two release names made within one second still sort in the order they were made
    /// (pruning keeps the newest by that order; with whole seconds two deploys in one
    /// second sorted by their sha instead).
    #[test]
    fn release_stamps_sort_in_the_order_they_are_made() {
        let script = format!("{RELEASE_HELPERS}\nfor i in 1 2 3; do release_stamp; echo; done");
        let out = Command::new("bash")
            .arg("-c")
            .arg(script)
            .output()
            .expect("run bash");
        let stamps: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(stamps.len(), 3, "{stamps:?}");
        assert!(stamps
            .iter()
            .all(|s| s.len() == 23 && s.bytes().all(|b| b.is_ascii_digit())));
        let mut sorted = stamps.clone();
        sorted.sort();
        assert_eq!(sorted, stamps, "made in this order");
        assert!(stamps[0] < stamps[2]);
    }
}
