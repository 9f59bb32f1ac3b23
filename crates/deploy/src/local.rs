//! What runs on the local machine before a deploy: PM2's check that the local work tree
//! is committed and pushed (skipped with `--force`), and the `pre-deploy-local` hook. Both
//! run once per run, not once per host as in PM2.

use std::path::Path;
use std::process::{Command, Stdio};

/// PM2's refusal to deploy uncommitted or unpushed work, in PM2's words, run in `cwd`.
pub fn check_committed(cwd: &Path) -> Result<(), String> {
    let inside = git(cwd, &["rev-parse", "--is-inside-work-tree"])?;
    if !inside.success {
        return Err(format!(
            "{} is not in a git work tree, so local changes cannot be checked \
             (run from the app's repository, or pass --force)",
            cwd.display()
        ));
    }
    if !git(cwd, &["diff", "--quiet"])?.success {
        return Err("commit or stash your changes before deploying (or pass --force)".into());
    }
    if !git(cwd, &["diff", "--cached", "--quiet"])?.success {
        return Err("commit your staged changes before deploying (or pass --force)".into());
    }
    let ahead = git(cwd, &["rev-list", "--count", "@{upstream}..HEAD"])?;
    // No upstream: nothing to be ahead of.
    if ahead.success && ahead.stdout.trim() != "0" {
        return Err("push your changes before deploying (or pass --force)".into());
    }
    Ok(())
}

/// Runs the `pre-deploy-local` hook with `bash -c` in `cwd`, output passed through.
pub fn pre_deploy_local(hook: &str, cwd: &Path) -> Result<(), String> {
    let status = Command::new("bash")
        .arg("-c")
        .arg(hook)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("pre-deploy-local hook failed: cannot run bash: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("pre-deploy-local hook failed ({status})"))
    }
}

struct GitRun {
    success: bool,
    stdout: String,
}

fn git(cwd: &Path, args: &[&str]) -> Result<GitRun, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                "git not found on PATH: the local-changes check needs it (install git, or \
                 pass --force)"
                    .to_string()
            }
            _ => format!("cannot run git: {e}"),
        })?;
    Ok(GitRun {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    })
}
