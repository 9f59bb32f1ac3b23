//! `pm2 deploy` against two real sshd hosts in network namespaces (the study's fixture,
//! `harness::ssh_hosts`): PM2's layout and verbs, hooks and their env, revert, ref,
//! releases, and a host PM2 7 set up; the fixes over PM2 are in `deploy_safety.rs`. Root
//! only: ignored elsewhere (with the reason), failed under CI when it cannot run.

use crate::harness::ssh_hosts::{git, Hosts, HOST_A, HOST_B};
use crate::harness::*;
use serde_json::{json, Value};
use std::path::Path;

/// `pm2 deploy ecosystem.json <args>` by pm2-rs in the client namespace.
pub(crate) fn deploy(h: &Hosts, p: &Pm2, args: &[&str]) -> Output {
    let mut all = vec!["deploy", "ecosystem.json"];
    all.extend_from_slice(args);
    h.run(Path::new(bin()), &p.home, &all)
}

pub(crate) fn ok(out: Output) -> Output {
    assert_eq!(out.code, Some(0), "{}", out.report());
    out
}

pub(crate) fn failed(out: Output) -> Output {
    assert_eq!(out.code, Some(1), "{}", out.report());
    out
}

pub(crate) fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The commit checked out in `/tmp/app/source` on host `h`.
pub(crate) fn head(h: &Hosts, host: char) -> String {
    git(&h.remote(host, "/tmp/app/source"), &["rev-parse", "HEAD"])
        .trim()
        .to_string()
}

/// The hooks append their name, host and env to `/tmp/app/shared/hooks.log`.
fn recording_hooks() -> Value {
    let rec = |name: &str| {
        format!("printf '%s %s %s|%s\\n' {name} \"$(hostname)\" \"$SHARED\" \"$MSG\" >> /tmp/app/shared/hooks.log")
    };
    json!({
        "env": { "msg": "two  spaces 'single' \"double\" $HOME `x` \\n" },
        "post-setup": rec("post-setup"),
        "pre-deploy": rec("pre-deploy"),
        "post-deploy": rec("post-deploy"),
    })
}

#[test]
#[cfg_attr(no_deploy_hosts, ignore = "needs root, sshd, ssh, git, ip and unshare")]
fn setup_and_deploy_build_pm2s_layout_on_both_hosts_with_hooks_in_order() {
    let h = Hosts::up();
    let p = Pm2::new("deploy_layout");
    h.init_repo(json!({ "production": h.target(recording_hooks()) }));
    let out = ok(deploy(&h, &p, &["production", "setup"]));
    assert!(out.stdout.contains("setup complete"), "{}", out.report());
    // Setup again: PM2 fails at the clone; here it keeps the clone and succeeds.
    ok(deploy(&h, &p, &["production", "setup"]));
    let v2 = h.commit("v2");
    let out = ok(deploy(&h, &p, &["production"]));
    for host in [HOST_A, HOST_B] {
        assert!(
            out.stdout
                .contains(&format!("{host} |   ○ successfully deployed origin/main")),
            "{}",
            out.report()
        );
    }
    for host in ['a', 'b'] {
        let app = h.remote(host, "/tmp/app");
        let link = std::fs::read_link(app.join("current")).expect("current link");
        assert_eq!(link, Path::new("/tmp/app/source"));
        assert!(app.join("shared/logs").is_dir() && app.join("shared/pids").is_dir());
        assert_eq!(read(&app.join(".deploys")), format!("{v2}\n"));
        assert_eq!(head(&h, host), v2);
        let msg = "two  spaces 'single' \"double\" $HOME `x` \\n";
        let name = format!("pm2host-{host}");
        let expected = [
            format!("post-setup {name} /tmp/app/shared|{msg}"),
            format!("post-setup {name} /tmp/app/shared|{msg}"),
            format!("pre-deploy {name} /tmp/app/shared|{msg}"),
            format!("post-deploy {name} /tmp/app/shared|{msg}"),
        ];
        assert_eq!(
            read(&app.join("shared/hooks.log"))
                .lines()
                .collect::<Vec<_>>(),
            expected
        );
    }
    // One connection per host per run: setup twice and one deploy.
    assert_eq!(
        h.remote_commands().lines().count(),
        6,
        "{}",
        h.remote_commands()
    );
    let out = ok(deploy(&h, &p, &["production", "curr"]));
    assert!(
        out.stdout.contains(&format!("{HOST_A} | {}", &v2[..7])),
        "{}",
        out.report()
    );
    let out = ok(deploy(&h, &p, &["production", "list"]));
    assert!(
        out.stdout.contains(&format!("{HOST_B} | 0\t{v2}")),
        "{}",
        out.report()
    );
    assert!(
        out.stdout.contains("host") && out.stdout.contains("--> Success"),
        "{}",
        out.report()
    );
}

#[test]
#[cfg_attr(no_deploy_hosts, ignore = "needs root, sshd, ssh, git, ip and unshare")]
fn revert_n_goes_n_deploys_back_and_never_toggles() {
    let h = Hosts::up();
    let p = Pm2::new("deploy_revert");
    h.init_repo(json!({ "production": h.target(json!({ "post-deploy": "true" })) }));
    ok(deploy(&h, &p, &["production", "setup"]));
    let mut shas = Vec::new();
    for v in ["v2", "v3", "v4"] {
        shas.push(h.commit(v));
        ok(deploy(&h, &p, &["production"]));
    }
    let out = ok(deploy(&h, &p, &["production", "prev"]));
    assert!(
        out.stdout.contains(&format!("{HOST_A} | {}", shas[1])),
        "{}",
        out.report()
    );
    ok(deploy(&h, &p, &["production", "revert"]));
    assert_eq!(head(&h, 'a'), shas[1]);
    // PM2 would toggle back to v4 here; the history moves on to v2.
    ok(deploy(&h, &p, &["production", "revert", "1"]));
    assert_eq!(head(&h, 'a'), shas[0]);
    assert_eq!(head(&h, 'b'), shas[0]);
    let out = failed(deploy(&h, &p, &["production", "revert", "5"]));
    assert!(out.stderr.contains("nothing 5 back"), "{}", out.report());
    assert_eq!(head(&h, 'a'), shas[0], "a refused revert changes nothing");
    let out = ok(deploy(&h, &p, &["production", "list"]));
    assert!(
        out.stdout.contains(&format!("{HOST_A} | 0\t{}", shas[0])),
        "{}",
        out.report()
    );
    // PM2 reads the first word of each .deploys line: its format still holds.
    let deploys = read(&h.remote('a', "/tmp/app/.deploys"));
    assert!(
        deploys
            .lines()
            .all(|l| l.split(' ').next().is_some_and(|s| s.len() == 40)),
        "{deploys}"
    );
}

#[test]
#[cfg_attr(no_deploy_hosts, ignore = "needs root, sshd, ssh, git, ip and unshare")]
fn ref_deploys_a_tag_and_an_empty_ref_means_the_latest_tag_and_exec_runs_remotely() {
    let h = Hosts::up();
    let p = Pm2::new("deploy_ref");
    let target = h.target(json!({ "post-deploy": "true", "port": 2222 }));
    let mut latest = target.clone();
    latest["ref"] = json!("");
    h.init_repo(json!({ "production": target, "latest": latest }));
    ok(deploy(&h, &p, &["production", "setup"]));
    let v2 = h.commit("v2");
    git(&h.work(), &["tag", "v2tag"]);
    let v3 = h.commit("v3");
    git(&h.work(), &["push", "-q", "origin", "v2tag"]);
    ok(deploy(&h, &p, &["production", "ref", "v2tag"]));
    assert_eq!(head(&h, 'a'), v2);
    ok(deploy(&h, &p, &["production"]));
    assert_eq!(head(&h, 'a'), v3);
    ok(deploy(&h, &p, &["latest"]));
    assert_eq!(head(&h, 'b'), v2, "the latest tag, not a stale branch");
    // A numeric port is used (PM2 ignores it and connects to 22).
    let log = read(&h.fx.join("logs/sshd-a.log"));
    assert!(log.contains("port 2222"), "{log}");
    // exec: the words reach the remote shell as given, expanded there.
    let out = ok(deploy(
        &h,
        &p,
        &["production", "exec", "echo host=$(hostname) pwd=$(pwd)"],
    ));
    assert!(
        out.stdout
            .contains(&format!("{HOST_A} | host=pm2host-a pwd=/tmp/app/current")),
        "{}",
        out.report()
    );
    let out = failed(deploy(&h, &p, &["production", "exec", "exit 7"]));
    assert!(out.stdout.contains("exit code 7"), "{}", out.report());
}

#[test]
#[cfg_attr(no_deploy_hosts, ignore = "needs root, sshd, ssh, git, ip and unshare")]
fn releases_keep_n_and_current_moves_only_after_a_successful_build() {
    let h = Hosts::up();
    let p = Pm2::new("deploy_releases");
    let build = "[ ! -e fail-build ] && echo \"$RELEASE\" > built.txt";
    h.init_repo(json!({ "production": h.target(json!({ "releases": 2, "post-deploy": build })) }));
    ok(deploy(&h, &p, &["production", "setup"]));
    let mut shas = Vec::new();
    for v in ["v2", "v3", "v4"] {
        shas.push(h.commit(v));
        ok(deploy(&h, &p, &["production"]));
    }
    let releases = |host| {
        let mut names: Vec<String> = std::fs::read_dir(h.remote(host, "/tmp/app/releases"))
            .expect("releases folder")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let live = |host| std::fs::read_link(h.remote(host, "/tmp/app/current")).expect("current");
    // A release is a git worktree of source, detached at its commit (its .git names the
    // remote path, so read the worktree's HEAD from source's side).
    let live_head = |host| {
        let name = live(host)
            .file_name()
            .expect("release")
            .to_string_lossy()
            .into_owned();
        let head = format!("/tmp/app/source/.git/worktrees/{name}/HEAD");
        read(&h.remote(host, &head)).trim().to_string()
    };
    for host in ['a', 'b'] {
        let names = releases(host);
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(
            names[1].contains(&shas[2][..7]) && names[0].contains(&shas[1][..7]),
            "{names:?}"
        );
        assert_eq!(live_head(host), shas[2]);
        let built = read(&h.remote(host, &format!("{}/built.txt", live(host).display())));
        assert_eq!(built.trim(), live(host).to_string_lossy());
    }
    // A failing build: current stays on the live release, the half-built one is removed.
    std::fs::write(h.work().join("fail-build"), "").expect("write");
    let broken = h.commit("v5");
    let out = failed(deploy(&h, &p, &["production"]));
    assert!(
        out.stderr
            .contains("current still points at the previous release"),
        "{}",
        out.report()
    );
    assert_eq!(live_head('a'), shas[2]);
    assert!(
        releases('a').iter().all(|n| !n.contains(&broken[..7])),
        "{:?}",
        releases('a')
    );
    // Revert to a kept release is instant: its folder goes live again, nothing is rebuilt;
    // setup again keeps current.
    let kept = releases('b')
        .into_iter()
        .find(|n| n.contains(&shas[1][..7]))
        .expect("the release of the previous deploy is kept");
    let out = ok(deploy(&h, &p, &["production", "revert"]));
    assert!(
        out.stdout.contains("reverting to the kept release"),
        "{}",
        out.report()
    );
    assert_eq!(live_head('b'), shas[1]);
    assert_eq!(live('b').file_name().unwrap().to_string_lossy(), kept);
    assert_eq!(
        releases('b').len(),
        2,
        "no new release: {:?}",
        releases('b')
    );
    ok(deploy(&h, &p, &["production", "setup"]));
    assert_eq!(live_head('b'), shas[1]);
    let out = ok(deploy(&h, &p, &["production", "curr"]));
    assert!(
        out.stdout
            .contains(&format!("{HOST_B} | {}", &shas[1][..7])),
        "{}",
        out.report()
    );
}

/// The layout is PM2's: PM2 7 sets up and deploys, pm2-rs deploys over it, PM2 7 reverts,
/// pm2-rs reads the result.
#[test]
#[ignore = "reference run against PM2 7: set PM2_REF to PM2 7's bin/pm2 (host set up by PM2, deployed by pm2-rs, reverted by PM2)"]
fn a_host_set_up_by_pm2_7_is_deployed_by_pm2_rs_and_back() {
    let h = Hosts::up();
    let reference = Pm2::reference("deploy_twin");
    let ours = Pm2::new("deploy_twin_rs");
    let pm2_7 = |args: &[&str]| {
        let mut all = vec!["deploy", "ecosystem.json"];
        all.extend_from_slice(args);
        h.run(reference.bin_path(), &reference.home, &all)
    };
    h.init_repo(json!({ "production": h.target(json!({ "post-deploy": "true" })) }));
    ok(pm2_7(&["production", "setup"]));
    let v2 = h.commit("v2");
    ok(pm2_7(&["production", "--force"]));
    assert_eq!(head(&h, 'a'), v2);
    let v3 = h.commit("v3");
    ok(deploy(&h, &ours, &["production", "--force"]));
    assert_eq!(head(&h, 'a'), v3);
    assert_eq!(
        read(&h.remote('a', "/tmp/app/.deploys")),
        format!("{v2}\n{v3}\n")
    );
    let out = ok(deploy(&h, &ours, &["production", "prev"]));
    assert!(
        out.stdout.contains(&format!("{HOST_A} | {v2}")),
        "{}",
        out.report()
    );
    ok(pm2_7(&["production", "revert", "1"]));
    assert_eq!(head(&h, 'b'), v2);
    let out = ok(deploy(&h, &ours, &["production", "curr"]));
    assert!(
        out.stdout.contains(&format!("{HOST_B} | {}", &v2[..7])),
        "{}",
        out.report()
    );
    ok(deploy(&h, &ours, &["production", "setup"]));
    let out = ok(pm2_7(&["production", "list"]));
    assert!(out.stdout.contains(&format!("0\t{v2}")), "{}", out.report());
}
