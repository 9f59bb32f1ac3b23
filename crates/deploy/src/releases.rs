//! `releases: N` (beyond PM2): each deploy builds its own release folder and `current`
//! moves to it, atomically, only once the post-deploy hook (the build) succeeded; the
//! newest N releases are kept. A failing build leaves `current`, and so the release the
//! apps run from, as it was.
//!
//! Layout: `P/releases/<YYYYmmddHHMMSS>-<sha7>-<rand>/`, each a `git worktree` of
//! `P/source` (so the app still has its git metadata), and `current` → the live release.
//! `source/`, `shared/` and `.deploys` stay as in PM2's layout.

/// The release flow, run after the common part of a deploy resolved `$SHA`.
pub const RELEASE: &str = r#"
step release
mkdir -p "$P/releases" || fail 'release folder failed'
R=$(mktemp -d "$P/releases/$(date +%Y%m%d%H%M%S)-$(printf %.7s "$SHA")-XXXX") || fail 'release folder failed'
git -C "$S" worktree add --detach "$R" "$SHA" || { rmdir "$R"; fail 'release checkout failed'; }
export RELEASE="$R"
if ! hook post-deploy "$POST_DEPLOY" "$R"; then
  drop_release "$R"
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
drop_release() {
  git -C "$S" worktree remove --force "$1" >/dev/null 2>&1 || rm -rf "$1"
  git -C "$S" worktree prune >/dev/null 2>&1
}
# Keeps the newest $RELEASES release folders, and always the one current points at.
prune_releases() {
  local live old
  live=$(readlink "$P/current")
  ls -1d "$P/releases"/*/ 2>/dev/null | sed 's:/$::' | sort | head -n "-$RELEASES" |
    while read -r old; do [ "$old" = "$live" ] || drop_release "$old"; done
}
"#;
