//! PM2's git versioning (`pm2_env.versioning`): with `PM2_ENABLE_GIT_PARSING=true` in the
//! daemon's environment, an app whose folder is in a git work tree gets the revision
//! metadata when it comes online; outside a work tree it is `null`; without the setting
//! the key is absent (PM2 7's default). Real git repositories in the test folder: a bare
//! "remote" and a clone, no network.

use crate::harness::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const T: std::time::Duration = std::time::Duration::from_secs(15);
const GIT_PARSING: (&str, &str) = ("PM2_ENABLE_GIT_PARSING", "true");
const APP: &str = "setInterval(() => {}, 1000);\n";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A bare remote and a clone with two commits pushed, checked out at the first; returns
/// the clone and the two revisions.
fn repo(p: &Pm2) -> (std::path::PathBuf, String, String) {
    let remote = p.dir.join("remote.git");
    git(
        &p.dir,
        &["init", "-q", "--bare", "-b", "main", "remote.git"],
    );
    git(
        &p.dir,
        &["clone", "-q", remote.to_str().expect("UTF-8"), "app"],
    );
    let app = p.dir.join("app");
    git(&app, &["checkout", "-q", "-b", "main"]);
    std::fs::write(app.join("app.js"), APP).expect("write app");
    git(&app, &["add", "app.js"]);
    git(&app, &["commit", "-q", "-m", "first"]);
    let first = git(&app, &["rev-parse", "HEAD"]);
    std::fs::write(app.join("app.js"), format!("{APP}// v2\n")).expect("write app");
    git(&app, &["commit", "-q", "-am", "second"]);
    let second = git(&app, &["rev-parse", "HEAD"]);
    git(&app, &["push", "-q", "origin", "main"]);
    git(&app, &["reset", "-q", "--hard", &first]);
    (app, first, second)
}

fn versioning(p: &Pm2) -> Value {
    p.wait_until(T, "versioning read", || {
        let env = p.app(0)["pm2_env"].clone();
        env.get("versioning").cloned()
    })
}

fn an_app_in_a_work_tree_has_pm2s_versioning(p: Pm2) {
    let (app, first, second) = repo(&p);
    p.run_with(&app, &[GIT_PARSING], &["start", "app.js", "--name", "a"]);
    p.wait_online(0);
    let v = versioning(&p);
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "type",
            "url",
            "revision",
            "comment",
            "unstaged",
            "branch",
            "remotes",
            "remote",
            "branch_exists_on_remote",
            "ahead",
            "next_rev",
            "prev_rev",
            "update_time",
            "repo_path"
        ],
        "{v}"
    );
    assert_eq!(v["type"], "git");
    assert_eq!(v["url"], p.dir.join("remote.git").to_str().expect("UTF-8"));
    assert_eq!(v["revision"], first.as_str());
    assert_eq!(v["comment"], "first\n");
    assert_eq!(v["unstaged"], false);
    assert_eq!(v["branch"], "main");
    assert_eq!(v["remotes"], serde_json::json!(["origin"]));
    assert_eq!(v["remote"], "origin");
    assert_eq!(v["branch_exists_on_remote"], true);
    assert_eq!(v["ahead"], false);
    assert_eq!(v["next_rev"], second.as_str(), "next along origin/main");
    assert_eq!(v["prev_rev"], Value::Null);
    assert!(
        v["update_time"].as_str().is_some_and(|t| t.len() >= 20),
        "{v}"
    );
    assert_eq!(v["repo_path"], app.to_str().expect("UTF-8"));
    let out = p.ok(&["describe", "a"]);
    for needle in [
        " Revision control metadata ".to_string(),
        format!("│ revision         │ {first}"),
        "│ comment          │ first".to_string(),
        "│ branch           │ main".to_string(),
        format!("│ repository root  │ {}", app.display()),
    ] {
        p.expect_output(&out, &needle);
    }
}

fn outside_a_work_tree_versioning_is_null_and_absent_without_git_parsing(p: Pm2) {
    let dir = p.dir.join("plain");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("x.js"), APP).expect("write app");
    p.run_with(&dir, &[GIT_PARSING], &["start", "x.js"]);
    p.wait_online(0);
    assert_eq!(versioning(&p), Value::Null);
    p.ok(&["kill"]);
    let (app, _, _) = repo(&p);
    p.run_in(&app, &["start", "app.js", "--name", "a"]);
    p.wait_online(0);
    let env = p.app(0)["pm2_env"].clone();
    assert!(env.get("versioning").is_none(), "no git parsing: {env}");
}

#[test]
fn versioning_in_a_work_tree() {
    an_app_in_a_work_tree_has_pm2s_versioning(Pm2::new("vcs_tree"));
}

#[test]
#[ignore = "reference run: PM2_REF=... cargo test -- --ignored"]
fn versioning_in_a_work_tree_reference() {
    an_app_in_a_work_tree_has_pm2s_versioning(Pm2::reference("vcs_tree_ref"));
}

#[test]
fn versioning_outside_a_work_tree() {
    outside_a_work_tree_versioning_is_null_and_absent_without_git_parsing(Pm2::new("vcs_none"));
}

#[test]
#[ignore = "reference run: PM2_REF=... cargo test -- --ignored"]
fn versioning_outside_a_work_tree_reference() {
    outside_a_work_tree_versioning_is_null_and_absent_without_git_parsing(Pm2::reference(
        "vcs_none_ref",
    ));
}

/// `pull`, `backward`, `forward` move the work tree along origin/main and reload the app;
/// at either end they say so; an unknown app and a bad commit id fail.
fn pull_backward_and_forward_move_the_work_tree(p: Pm2) {
    let (app, first, second) = repo(&p);
    let head = || git(&app, &["rev-parse", "HEAD"]);
    p.run_with(&app, &[GIT_PARSING], &["start", "app.js", "--name", "a"]);
    p.wait_online(0);
    versioning(&p);
    let out = p.ok(&["pull", "a"]);
    p.expect_output(&out, &format!("Current commit {second}"));
    assert_eq!(head(), second);
    p.wait_until(T, "reloaded, versioning at the new commit", || {
        let env = p.app(0)["pm2_env"].clone();
        env["restart_time"].as_u64() >= Some(1) && env["versioning"]["revision"] == second.as_str()
    });
    let out = p.ok(&["pull", "a"]);
    p.expect_output(&out, "Already up-to-date or an error occured for app: a");
    let out = p.ok(&["backward", "a"]);
    p.expect_output(&out, &format!("Current commit {first}"));
    assert_eq!(head(), first);
    p.wait_until(T, "versioning back at the first commit", || {
        p.app(0)["pm2_env"]["versioning"]["revision"] == first.as_str()
    });
    let out = p.fails(&["backward", "a"], 1);
    p.expect_output(&out, "No versioning system found for process a");
    let out = p.ok(&["forward", "a"]);
    p.expect_output(&out, &format!("Current commit {second}"));
    assert_eq!(head(), second);
    let short = &first[..7];
    let out = p.ok(&["pull", "a", short]);
    p.expect_output(&out, &format!("Current commit {short}"));
    assert_eq!(head(), first);
    p.fails(&["pull", "nope"], 1);
}

#[test]
fn pull_backward_forward() {
    pull_backward_and_forward_move_the_work_tree(Pm2::new("vcs_pull"));
}

#[test]
#[ignore = "reference run: PM2_REF=... cargo test -- --ignored"]
fn pull_backward_forward_reference() {
    pull_backward_and_forward_move_the_work_tree(Pm2::reference("vcs_pull_ref"));
}

#[test]
fn a_bad_commit_id_fails_and_changes_nothing() {
    let p = Pm2::new("vcs_badrev");
    let (app, first, _) = repo(&p);
    p.run_with(&app, &[GIT_PARSING], &["start", "app.js", "--name", "a"]);
    p.wait_online(0);
    versioning(&p);
    let out = p.fails(&["pull", "a", "zz;touch pwned"], 1);
    assert!(out.stderr.contains("not a commit id"), "{}", out.report());
    assert_eq!(git(&app, &["rev-parse", "HEAD"]), first);
    assert!(!app.join("pwned").exists());
}
