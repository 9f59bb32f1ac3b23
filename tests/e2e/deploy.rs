//! `pm2 deploy` against two real sshd hosts in network namespaces (the study's fixture,
//! `harness::ssh_hosts`): PM2's layout and verbs, hosts in parallel, a host down, hooks and
//! their env, nvm's PATH, and every injection the study found in PM2 shown inert. Root
//! only: ignored elsewhere (with the reason), failed under CI when it cannot run.

use crate::harness::ssh_hosts::{git, Hosts, HOST_A, HOST_B};
use crate::harness::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// `pm2 deploy ecosystem.json <args>` by pm2-rs in the client namespace.
fn deploy(h: &Hosts, p: &Pm2, args: &[&str]) -> Output {
    let mut all = vec!["deploy", "ecosystem.json"];
    all.extend_from_slice(args);
    h.run(Path::new(bin()), &p.home, &all)
}

fn ok(out: Output) -> Output {
    assert_eq!(out.code, Some(0), "{}", out.report());
    out
}

fn failed(out: Output) -> Output {
    assert_eq!(out.code, Some(1), "{}", out.report());
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The commit checked out in `/tmp/app/source` on host `h`.
fn head(h: &Hosts, host: char) -> String {
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
fn hosts_run_in_parallel_and_a_host_down_does_not_stop_the_other() {
    let h = Hosts::up();
    let p = Pm2::new("deploy_parallel");
    let mut down = h.target(json!({ "post-deploy": "true" }));
    down["host"] = json!(["10.200.1.99", HOST_B]);
    h.init_repo(json!({ "production": h.target(json!({})), "down": down }));
    ok(deploy(&h, &p, &["production", "setup"]));
    let out = ok(deploy(&h, &p, &["production", "exec", "sleep 3"]));
    assert!(
        out.elapsed < Duration::from_millis(5500),
        "two hosts took {:?} (one by one: 6 s)",
        out.elapsed
    );
    let out = ok(deploy(
        &h,
        &p,
        &["production", "--parallel", "1", "exec", "sleep 1"],
    ));
    assert!(
        out.elapsed >= Duration::from_secs(2),
        "--parallel 1 took {:?}",
        out.elapsed
    );
    let v2 = h.commit("v2");
    let out = failed(deploy(&h, &p, &["down"]));
    assert_eq!(
        head(&h, 'b'),
        v2,
        "host b deployed although the first host is down"
    );
    let row_b = out
        .stdout
        .lines()
        .find(|l| l.starts_with(HOST_B) && l.ends_with("ok"));
    let row_down = out
        .stdout
        .lines()
        .find(|l| l.starts_with("10.200.1.99") && l.contains("FAILED"));
    assert!(row_b.is_some() && row_down.is_some(), "{}", out.report());
}

#[test]
#[cfg_attr(no_deploy_hosts, ignore = "needs root, sshd, ssh, git, ip and unshare")]
fn a_failing_post_deploy_puts_the_previous_code_back_on_that_host_only() {
    let h = Hosts::up();
    let p = Pm2::new("deploy_postfail");
    let hook = "[ \"$(hostname)\" != pm2host-a ] || exit 3";
    h.init_repo(json!({ "production": h.target(json!({ "post-deploy": hook })) }));
    ok(deploy(&h, &p, &["production", "setup"]));
    let v1 = head(&h, 'a');
    let v2 = h.commit("v2");
    let out = failed(deploy(&h, &p, &["production"]));
    assert!(
        out.stderr.contains("post-deploy hook failed"),
        "{}",
        out.report()
    );
    assert_eq!(head(&h, 'a'), v1, "host a back on the previous code");
    assert!(
        !h.remote('a', "/tmp/app/.deploys").exists(),
        "a failed deploy is not in the history"
    );
    assert_eq!(head(&h, 'b'), v2);
}

#[test]
#[cfg_attr(no_deploy_hosts, ignore = "needs root, sshd, ssh, git, ip and unshare")]
fn nvm_installed_in_bashrc_is_found_by_the_default_post_deploy() {
    let h = Hosts::up();
    let p = Pm2::new("deploy_nvm");
    for host in ['a', 'b'] {
        let home = h.home(host);
        // Debian's ~/.bashrc, with nvm's lines appended after its "not interactive" return.
        let skel = std::fs::read_to_string("/etc/skel/.bashrc")
            .unwrap_or_else(|_| "case $- in *i*) ;; *) return;; esac\n".into());
        let bashrc = format!("{skel}\nexport NVM_DIR=\"$HOME/.nvm\"\n[ -s \"$NVM_DIR/nvm.sh\" ] && \\. \"$NVM_DIR/nvm.sh\"\n");
        std::fs::write(home.join(".bashrc"), bashrc).expect("bashrc");
        std::fs::create_dir_all(home.join(".nvm/bin")).expect("nvm dir");
        std::fs::write(home.join(".nvm/nvm.sh"), "PATH=\"$NVM_DIR/bin:$PATH\"\n").expect("nvm.sh");
        let fake = home.join(".nvm/bin/pm2");
        std::fs::write(&fake, "#!/bin/sh\necho \"$@\" > /tmp/pm2-args\n").expect("fake pm2");
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    // No post-deploy: PM2's default, `pm2 startOrRestart <file> --env <env>`.
    h.init_repo(json!({ "production": h.target(json!({})) }));
    ok(deploy(&h, &p, &["production", "setup"]));
    ok(deploy(&h, &p, &["production"]));
    for host in ['a', 'b'] {
        assert_eq!(
            read(&h.remote(host, "/tmp/pm2-args")),
            "startOrRestart ecosystem.json --env production\n"
        );
    }
}

/// Payloads write `<fx>/pwned-<tag>-<host>` if they ever run, locally or remotely.
#[test]
#[cfg_attr(no_deploy_hosts, ignore = "needs root, sshd, ssh, git, ip and unshare")]
fn no_value_in_the_config_or_the_command_line_ever_runs_as_code() {
    let h = Hosts::up();
    let p = Pm2::new("deploy_inject");
    let fx = h.fx.display().to_string();
    let touch = |tag: &str| format!("touch {fx}/pwned-{tag}-$(hostname)");
    let quiet = json!({ "post-deploy": "true" });
    let with = |key: &str, value: Value| {
        let mut t = h.target(quiet.clone());
        t[key] = value;
        t
    };
    let env_name = format!("e$({})", touch("envname"));
    let mut envs = json!({
        "production": h.target(quiet.clone()),
        "ref": with("ref", json!(format!("origin/main; {}", touch("ref")))),
        "ref2": with("ref", json!(format!("origin/main$({})", touch("ref2")))),
        "path": with("path", json!(format!("/tmp/app$({})", touch("path")))),
        "path2": with("path", json!(format!("/tmp/app'; {} #", touch("path2")))),
        "repo": with("repo", json!(format!("{fx}/repo.git; {}", touch("repo")))),
        "user": with("user", json!(format!("root'; {} #", touch("user")))),
        "hookquote": with("post-deploy", json!(format!("echo hi'; {} #", touch("quote")))),
        "env": with("env", json!({ "x": format!("$({})", touch("env")), "y": format!("'; {} #", touch("envq")) })),
    });
    envs[&env_name] = h.target(json!({}));
    h.init_repo(envs);
    ok(deploy(&h, &p, &["production", "setup"]));
    for env in ["path", "path2", "repo", "user"] {
        deploy(&h, &p, &[env, "setup"]);
    }
    for env in ["ref", "ref2", "env", "hookquote", env_name.as_str()] {
        deploy(&h, &p, &[env, "--force"]);
    }
    for verb in ["list", "curr", "prev"] {
        deploy(&h, &p, &["user", verb]);
        deploy(&h, &p, &["path2", verb]);
    }
    let out = ok(deploy(&h, &p, &["production", "exec", "echo home=$HOME"]));
    assert!(
        out.stdout
            .contains(&format!("home={}", h.home('a').display())),
        "expanded remotely\n{}",
        out.report()
    );
    // A payload that ran left `pwned-<tag>-<host name>`; folders named by a literal `path`
    // value keep their `$(hostname)` unexpanded.
    let ran: Vec<_> = h
        .files_named("pwned")
        .into_iter()
        .filter(|f| {
            f.file_name()
                .is_some_and(|n| !n.to_string_lossy().contains('$'))
        })
        .collect();
    assert_eq!(
        ran,
        Vec::<std::path::PathBuf>::new(),
        "{}",
        h.remote_commands()
    );
    assert!(
        h.remote('a', &format!("/tmp/app$({})", touch("path")))
            .is_dir(),
        "the path was used literally"
    );
    // The env value arrived as bytes, not as code.
    let mut dump = h.target(json!({ "env": { "x": format!("$({})", touch("env")) }, "post-deploy": "printf %s \"$X\" > /tmp/x.txt" }));
    dump["host"] = json!(HOST_A);
    h.write_ecosystem(json!({ "dump": dump }));
    ok(deploy(&h, &p, &["dump", "--force"]));
    assert_eq!(
        read(&h.remote('a', "/tmp/x.txt")),
        format!("$({})", touch("env"))
    );
}

#[test]
#[cfg_attr(no_deploy_hosts, ignore = "needs root, sshd, ssh, git, ip and unshare")]
fn local_changes_stop_a_deploy_unless_forced_and_local_hooks_run_once() {
    let h = Hosts::up();
    let p = Pm2::new("deploy_local");
    let local_log = h.fx.join("pre-deploy-local.log");
    let target = h.target(json!({
        "post-deploy": "true",
        // A local file as pre-setup: PM2 sends the file to the remote shell.
        "pre-setup": "./remote-setup.sh",
        "pre-deploy-local": format!("echo \"$(hostname) $PWD\" >> {}", local_log.display()),
    }));
    let mut failing = target.clone();
    failing["pre-deploy-local"] = json!("exit 4");
    h.init_repo(json!({ "production": target, "failing": failing }));
    std::fs::write(
        h.work().join("remote-setup.sh"),
        "hostname > /tmp/pre-setup-ran\n",
    )
    .expect("script");
    h.commit("v1b");
    ok(deploy(&h, &p, &["production", "setup"]));
    assert_eq!(read(&h.remote('a', "/tmp/pre-setup-ran")), "pm2host-a\n");
    assert_eq!(read(&h.remote('b', "/tmp/pre-setup-ran")), "pm2host-b\n");
    let connections = || h.remote_commands().lines().count();
    let before = connections();
    std::fs::write(h.work().join("app.js"), "changed\n").expect("edit");
    let out = failed(deploy(&h, &p, &["production"]));
    assert!(
        out.stderr
            .contains("commit or stash your changes before deploying"),
        "{}",
        out.report()
    );
    git(&h.work(), &["add", "app.js"]);
    let out = failed(deploy(&h, &p, &["production"]));
    assert!(
        out.stderr
            .contains("commit your staged changes before deploying"),
        "{}",
        out.report()
    );
    git(
        &h.work(),
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "local",
        ],
    );
    git(
        &h.work(),
        &["branch", "-q", "--set-upstream-to=origin/main"],
    );
    let out = failed(deploy(&h, &p, &["production"]));
    assert!(
        out.stderr.contains("push your changes before deploying"),
        "{}",
        out.report()
    );
    assert_eq!(connections(), before, "a refused deploy contacts no host");
    assert!(
        !local_log.exists(),
        "pre-deploy-local runs only once the checks pass"
    );
    let out = failed(deploy(&h, &p, &["failing", "--force"]));
    assert!(
        out.stderr.contains("pre-deploy-local hook failed"),
        "{}",
        out.report()
    );
    assert_eq!(connections(), before);
    ok(deploy(&h, &p, &["production", "--force"]));
    // Once per run, on this machine, in the working directory (PM2: once per host).
    let local = read(&local_log);
    assert_eq!(local.lines().count(), 1, "{local}");
    assert!(
        local.ends_with(&format!(" {}\n", h.work().display())),
        "{local}"
    );
    assert!(!local.starts_with("pm2host"), "{local}");
}

/// Without hosts: the CLI's own answers.
#[test]
fn deploy_help_missing_words_unknown_env_and_bad_keys_are_clear_errors() {
    let p = Pm2::new("deploy_cli");
    let out = p.ok(&["deploy", "help"]);
    assert!(out.stdout.contains("revert [n]"), "{}", out.report());
    p.fails(&["deploy"], 1);
    let eco = json!({ "apps": [], "deploy": {
        "production": { "host": "h", "repo": "r", "ref": "origin/main", "path": "/srv", "port": "abc" },
        "staging": { "host": "h", "repo": "r", "path": "rel/dir" },
    }});
    std::fs::write(p.dir.join("eco.json"), eco.to_string()).expect("write");
    let out = p.ok(&["deploy", "eco.json"]);
    assert!(
        out.stdout.contains("  production\n  staging"),
        "{}",
        out.report()
    );
    let out = p.fails(&["deploy", "eco.json", "nope"], 1);
    assert!(
        out.stderr
            .contains("nope environment is not defined in eco.json"),
        "{}",
        out.report()
    );
    let out = p.fails(&["deploy", "eco.json", "production", "list"], 1);
    assert!(
        out.stderr
            .contains("eco.json: deploy.production.port: abc is not a port"),
        "{}",
        out.report()
    );
    let out = p.fails(&["deploy", "eco.json", "staging", "list"], 1);
    assert!(
        out.stderr.contains("deploy.staging.ref: missing"),
        "{}",
        out.report()
    );
    assert!(
        out.stderr
            .contains("deploy.staging.path: \"rel/dir\" is relative"),
        "{}",
        out.report()
    );
    // The first word is the environment when it names no file: ecosystem.json is read.
    std::fs::write(p.dir.join("ecosystem.json"), eco.to_string()).expect("write");
    let out = p.fails(&["deploy", "production", "list"], 1);
    assert!(
        out.stderr
            .contains("ecosystem.json: deploy.production.port"),
        "{}",
        out.report()
    );
    let out = p.fails(&["deploy", "eco.json", "production", "setpu"], 1);
    assert!(
        out.stderr.contains("unknown deploy action \"setpu\""),
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
