//! `pm2 deploy`'s fixes over PM2 7, against the two sshd hosts (see `deploy.rs`): hosts in
//! parallel and a host down, a failing post-deploy, nvm's PATH, every injection the study
//! found inert, the local checks and hooks; and the CLI's errors without hosts.

use crate::deploy::{deploy, failed, head, ok, read};
use crate::harness::ssh_hosts::{git, Hosts, HOST_A, HOST_B};
use crate::harness::*;
use serde_json::{json, Value};
use std::time::Duration;

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
