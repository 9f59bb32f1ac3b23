//! Moving an app's work tree: `pm2 pull` (fetch, then the tracked branch's head),
//! `pull <commit>`, `forward` and `backward` (the next or previous commit of the branch), as
//! PM2's vizion does it: `git reset --hard` to the chosen commit.

use super::meta::{position, Budget};
use super::run::{git_output, GitError, LOCAL_TIMEOUT, REMOTE_TIMEOUT};
use std::path::Path;
use std::time::Duration;

/// How long a whole move may take, the fetch included.
const MOVE_BUDGET: Duration = Duration::from_secs(90);

/// What a move did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moved {
    /// The work tree is now at this commit.
    To(String),
    /// Nothing to move to (up to date, or no next/previous commit).
    Stayed,
}

/// Which neighbour `forward` and `backward` go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The next (newer) commit.
    Forward,
    /// The previous (older) commit.
    Backward,
}

/// `git reset --hard <revision>` in `folder`; `revision` must be a commit id.
pub fn revert_to(folder: &Path, revision: &str) -> Result<Moved, GitError> {
    if revision.is_empty() || !revision.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(GitError::InvalidRevision {
            revision: revision.to_string(),
        });
    }
    git_output(folder, &["reset", "--hard", revision], LOCAL_TIMEOUT)?;
    Ok(Moved::To(revision.to_string()))
}

/// Fetches every remote (`git remote update`) and returns the commit the branch should be
/// at: its remote-tracking head when it has one, else its local head.
pub fn fetch_head(folder: &Path) -> Result<(String, Option<String>), GitError> {
    let budget = Budget::new(MOVE_BUDGET);
    let p = position(folder, budget)?;
    git_output(folder, &["remote", "update"], budget.slice(REMOTE_TIMEOUT))?;
    let reference = if p.branch_exists_on_remote {
        format!("refs/remotes/origin/{}", p.branch)
    } else {
        format!("refs/heads/{}", p.branch)
    };
    let out = git_output(
        folder,
        &["rev-parse", reference.as_str()],
        budget.slice(LOCAL_TIMEOUT),
    )?;
    Ok((out.stdout.trim().to_string(), p.revision))
}

/// `pm2 pull <app>`: fetch, then move to the branch's newest commit unless already there.
pub fn update(folder: &Path) -> Result<Moved, GitError> {
    let (head, current) = fetch_head(folder)?;
    if current.as_deref() == Some(head.as_str()) {
        return Ok(Moved::Stayed);
    }
    revert_to(folder, &head)
}

/// `pm2 forward|backward <app>`: move one commit along the branch, if there is one.
pub fn step(folder: &Path, way: Step) -> Result<Moved, GitError> {
    let p = position(folder, Budget::new(MOVE_BUDGET))?;
    let target = match way {
        Step::Forward => p.next_rev,
        Step::Backward => p.prev_rev,
    };
    match target {
        Some(rev) => revert_to(folder, &rev),
        None => Ok(Moved::Stayed),
    }
}
