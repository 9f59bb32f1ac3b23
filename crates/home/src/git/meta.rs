//! The revision metadata PM2 keeps in `pm2_env.versioning` for an app in a git work tree,
//! with PM2 7's keys, order and meaning (its `vizion` module): computed by the daemon when an
//! app comes online, read by `pm2 describe`, `pull`, `forward` and `backward`.

use super::run::{git, GitError, LOCAL_TIMEOUT};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// How many commits of the branch `next_rev`/`prev_rev` are looked for in (PM2: 100).
const HISTORY_DEPTH: usize = 100;
/// How long the whole metadata of one app may take, folders walked up included.
pub const VERSIONING_BUDGET: Duration = Duration::from_secs(10);

/// Where HEAD is and what is around it: what `pull`, `forward` and `backward` decide on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    /// The checked-out commit (None in a repository without commits).
    pub revision: Option<String>,
    /// Its message, without git's final newline.
    pub comment: Option<String>,
    /// The branch, or `HEAD` when detached.
    pub branch: String,
    /// Every remote's name.
    pub remotes: Vec<String>,
    /// `origin` if there is one, else the first remote.
    pub remote: Option<String>,
    /// Whether `refs/remotes/<remote>/<branch>` exists locally.
    pub branch_exists_on_remote: bool,
    /// The commit after `revision` on the branch's history, if any.
    pub next_rev: Option<String>,
    /// The commit before it.
    pub prev_rev: Option<String>,
    /// Whether `revision` is not in that history (PM2's `ahead`).
    pub ahead: bool,
}

/// A deadline shared by the git commands of one operation.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    until: Instant,
}

impl Budget {
    /// `total` from now.
    pub fn new(total: Duration) -> Budget {
        Budget {
            until: Instant::now() + total,
        }
    }

    /// What one command may take: `per_command`, but no more than what is left.
    pub fn slice(&self, per_command: Duration) -> Duration {
        per_command.min(self.until.saturating_duration_since(Instant::now()))
    }
}

/// `git <args>` in `folder` with a local command's timeout within `budget`.
pub(super) fn local(folder: &Path, args: &[&str], budget: Budget) -> Result<String, GitError> {
    git(folder, args, budget.slice(LOCAL_TIMEOUT))
}

/// Fails unless `folder` is inside a git work tree.
pub(super) fn assert_work_tree(folder: &Path, budget: Budget) -> Result<(), GitError> {
    let out = local(folder, &["rev-parse", "--is-inside-work-tree"], budget)?;
    if out.trim() == "true" {
        Ok(())
    } else {
        Err(GitError::Failed {
            args: "rev-parse --is-inside-work-tree".into(),
            folder: folder.display().to_string(),
            status: "not a work tree".into(),
            stderr: out.trim().to_string(),
        })
    }
}

/// Reads where HEAD is, its branch and remote, and its neighbours on the branch.
pub fn position(folder: &Path, budget: Budget) -> Result<Position, GitError> {
    assert_work_tree(folder, budget)?;
    let mut p = Position::default();
    let log = local(
        folder,
        &["log", "-1", "--no-show-signature", "--format=%H%n%B"],
        budget,
    );
    if let Ok(out) = log {
        match out.split_once('\n') {
            None => {
                p.revision = Some(out.trim().to_string());
                p.comment = Some(String::new());
            }
            Some((rev, body)) => {
                p.revision = Some(rev.to_string());
                p.comment = Some(body.strip_suffix('\n').unwrap_or(body).to_string());
            }
        }
    }
    p.branch = local(folder, &["rev-parse", "--abbrev-ref", "HEAD"], budget)?
        .trim()
        .to_string();
    p.remotes = local(folder, &["remote"], budget)?
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    p.remote = if p.remotes.iter().any(|r| r == "origin") {
        Some("origin".into())
    } else {
        p.remotes.first().cloned()
    };
    if let Some(remote) = &p.remote {
        let tracking = format!("refs/remotes/{remote}/{}", p.branch);
        let verify = ["rev-parse", "--verify", "--quiet", tracking.as_str()];
        p.branch_exists_on_remote = local(folder, &verify, budget).is_ok();
    }
    neighbours(folder, &mut p, budget);
    Ok(p)
}

/// The ref whose history `next_rev`/`prev_rev` come from (PM2 uses `origin` by name for a
/// tracked branch, whatever the remote).
pub(super) fn history_ref(p: &Position) -> String {
    let remote = p.remote.as_deref().unwrap_or("origin");
    match (p.branch.as_str(), p.branch_exists_on_remote) {
        ("HEAD", true) => format!("refs/remotes/{remote}/HEAD"),
        ("HEAD", false) => "HEAD".into(),
        (branch, true) => format!("refs/remotes/origin/{branch}"),
        (branch, false) => format!("refs/heads/{branch}"),
    }
}

/// Fills `next_rev`, `prev_rev` and `ahead` from the branch's last [`HISTORY_DEPTH`]
/// commits, newest first.
fn neighbours(folder: &Path, p: &mut Position, budget: Budget) {
    let depth = format!("--max-count={HISTORY_DEPTH}");
    let reference = history_ref(p);
    let args = [
        "rev-list",
        depth.as_str(),
        "--topo-order",
        reference.as_str(),
    ];
    let history: Vec<String> = local(folder, &args, budget)
        .map(|out| {
            out.lines()
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let at = p
        .revision
        .as_ref()
        .and_then(|rev| history.iter().position(|h| h == rev));
    match at {
        None => p.ahead = true,
        Some(i) => {
            p.ahead = false;
            p.next_rev = i.checked_sub(1).map(|j| history[j].clone());
            p.prev_rev = history.get(i + 1).cloned();
        }
    }
}

/// PM2's `versioning` object for `folder`, without `repo_path`.
pub fn analyze(folder: &Path, budget: Budget) -> Result<Map<String, Value>, GitError> {
    let p = position(folder, budget)?;
    let url = local(folder, &["config", "--get", "remote.origin.url"], budget)
        .ok()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    let unstaged = !local(folder, &["status", "--porcelain"], budget)?
        .trim()
        .is_empty();
    let update_time = local(
        folder,
        &["log", "-1", "--no-show-signature", "--format=%cI"],
        budget,
    )
    .ok()
    .map(|t| t.trim().to_string());
    let tags: Vec<String> = local(folder, &["tag"], budget)?
        .lines()
        .filter(|l| !l.is_empty())
        .take(10)
        .map(String::from)
        .collect();
    let mut m = Map::new();
    m.insert("type".into(), json!("git"));
    if let Some(url) = url {
        m.insert("url".into(), json!(url));
    }
    if let Some(rev) = &p.revision {
        m.insert("revision".into(), json!(rev));
    }
    if let Some(comment) = &p.comment {
        m.insert("comment".into(), json!(comment));
    }
    m.insert("unstaged".into(), json!(unstaged));
    m.insert("branch".into(), json!(p.branch));
    m.insert("remotes".into(), json!(p.remotes));
    if let Some(remote) = &p.remote {
        m.insert("remote".into(), json!(remote));
    }
    m.insert(
        "branch_exists_on_remote".into(),
        json!(p.branch_exists_on_remote),
    );
    m.insert("ahead".into(), json!(p.ahead));
    m.insert("next_rev".into(), json!(p.next_rev));
    m.insert("prev_rev".into(), json!(p.prev_rev));
    m.insert("update_time".into(), json!(update_time));
    if !tags.is_empty() {
        m.insert("tags".into(), json!(tags));
    }
    Ok(m)
}

/// What PM2 stores as `pm2_env.versioning` for an app run in `cwd`: the metadata of the
/// first folder from `cwd` upwards that git reads, with `repo_path` naming it, or `null`
/// when none does (no work tree, no git, or the [`VERSIONING_BUDGET`] spent).
pub fn versioning(cwd: &Path) -> Value {
    let budget = Budget::new(VERSIONING_BUDGET);
    let mut folder = Some(cwd);
    while let Some(at) = folder {
        match analyze(at, budget) {
            Ok(mut m) => {
                m.insert("repo_path".into(), json!(at.display().to_string()));
                return Value::Object(m);
            }
            Err(e) if e.git_missing() || matches!(e, GitError::TimedOut { .. }) => break,
            Err(_) => folder = at.parent(),
        }
    }
    Value::Null
}
