//! `--uid`/`--gid`/`--user` (and ecosystem `uid`/`gid`): a root daemon runs the app as that
//! user, with the user's groups and home, its log and pid files owned by it, and no way
//! into `PM2_HOME`. A daemon that is not root refuses, with PM2's words.

use crate::harness::*;
use nix::unistd::{Uid, User};
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

/// A shell command line that reports who it runs as and whether it can read PM2_HOME.
const WHO: &str = "echo \"uid=$(id -u) gid=$(id -g) groups=$(id -G) home=$HOME\"; \
    if ls \"$PM2_HOME\" >/dev/null 2>&1; then echo home-open; else echo home-closed; fi; \
    exec sleep 1000";

fn start_as(p: &Pm2, name: &str, flags: &[&str]) -> Output {
    let mut args = vec!["start", "/bin/sh", "--name", name];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--", "-c", WHO]);
    p.run(&args)
}

#[test]
fn an_app_runs_as_the_user_asked_for_with_its_groups_and_home() {
    let p = Pm2::new("run_as");
    if !Uid::effective().is_root() {
        let out = start_as(&p, "who", &["--uid", "nobody"]);
        p.expect_code(&out, 1);
        p.expect_output(&out, "To use --uid and --gid please run pm2 as root");
        assert_eq!(p.app_count(), 0);
        return;
    }
    let nobody = User::from_name("nobody")
        .ok()
        .flatten()
        .expect("the nobody user");
    let out = start_as(&p, "who", &["--uid", "nobody"]);
    p.expect_code(&out, 0);
    p.wait_online(0);
    let log = p.log_path("who-out.log");
    p.wait_file_contains(&log, "home-", T);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let gid = nobody.gid.as_raw();
    let want = format!(
        "uid={} gid={gid} groups={gid} home={}",
        nobody.uid,
        nobody.dir.display()
    );
    assert!(text.contains(&want), "{text}\nwanted {want}");
    assert!(
        text.contains("home-closed"),
        "the app may not read PM2_HOME: {text}"
    );
    let owner = |path: &std::path::Path| std::fs::metadata(path).map(|m| m.uid()).ok();
    assert_eq!(
        owner(&log),
        Some(nobody.uid.as_raw()),
        "the app owns its log"
    );
    let pid_file = p.home.join("pids/who-0.pid");
    p.wait_until(T, "the pid file", || pid_file.exists());
    assert_eq!(
        owner(&pid_file),
        Some(nobody.uid.as_raw()),
        "and its pid file"
    );
    let app = p.app(0);
    assert_eq!(app["pm2_env"]["uid"], "nobody");

    // A user with supplementary groups gets them (initgroups), where this machine has one.
    if let Some((user, group)) = user_with_supplementary_group() {
        p.ok(&[
            "start", "/bin/sh", "--name", "member", "--user", &user, "--", "-c", WHO,
        ]);
        let log = p.log_path("member-out.log");
        p.wait_file_contains(&log, "home-", T);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let groups = text.split("groups=").nth(1).unwrap_or_default();
        let groups: Vec<&str> = groups
            .split(" home=")
            .next()
            .unwrap_or_default()
            .split(' ')
            .collect();
        assert!(
            groups.contains(&group.to_string().as_str()),
            "{user}'s group {group}: {text}"
        );
    }
}

/// A user of `/etc/passwd` listed as a member of some other group in `/etc/group`.
fn user_with_supplementary_group() -> Option<(String, u32)> {
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        let member = fields.get(3)?.split(',').find(|m| !m.is_empty())?;
        let user = User::from_name(member).ok().flatten()?;
        let gid: u32 = fields.get(2)?.parse().ok()?;
        (user.gid.as_raw() != gid).then(|| (member.to_string(), gid))
    })
}

#[test]
fn an_unknown_user_or_group_is_refused_and_nothing_starts() {
    let p = Pm2::new("run_as_unknown");
    if !Uid::effective().is_root() {
        let out = start_as(&p, "who", &["--gid", "no-such-group"]);
        p.expect_output(&out, "To use --uid and --gid please run pm2 as root");
        return;
    }
    let out = start_as(&p, "who", &["--uid", "no-such-user-here"]);
    p.expect_code(&out, 1);
    p.expect_output(&out, "User no-such-user-here cannot be found");
    let out = start_as(&p, "who", &["--uid", "nobody", "--gid", "no-such-group"]);
    p.expect_code(&out, 1);
    p.expect_output(&out, "Group no-such-group cannot be found");
    assert_eq!(p.app_count(), 0);
}

/// The `nobody` user when this test runs as root (and so its daemon); `None`, after a note
/// (a failure under CI), otherwise.
fn nobody_under_root(reason: &str) -> Option<User> {
    if !optional_part(Uid::effective().is_root(), reason) {
        return None;
    }
    let nobody = User::from_name("nobody").ok().flatten();
    Some(nobody.expect("the nobody user"))
}

/// Beyond PM2: an `exec` health check runs as the app's user, with its groups and HOME, not
/// as the root daemon. The check passes only as `nobody`, so the app goes online only if
/// the check ran as it; what it saw is kept in `describe` when it fails.
#[test]
fn an_exec_health_check_runs_as_the_apps_user() {
    let Some(nobody) = nobody_under_root("running a check as nobody needs a root daemon") else {
        return;
    };
    let p = Pm2::new("run_as_check");
    let want = format!(
        "uid={} gid={} home={}",
        nobody.uid,
        nobody.gid,
        nobody.dir.display()
    );
    let check = format!(
        "seen=\"uid=$(id -u) gid=$(id -g) home=$HOME\"; test \"$seen\" = '{want}' || \
         {{ echo \"$seen\" >&2; exit 3; }}"
    );
    let conf = serde_json::json!({"apps": [{
        "name": "checked", "script": "/bin/sleep", "args": "1000", "interpreter": "none",
        "uid": "nobody",
        "health_check": { "exec": check, "interval": 100, "ready_timeout": 5000 },
    }]});
    let file = p.dir.join("checked.config.json");
    std::fs::write(&file, conf.to_string()).expect("write the ecosystem");
    let out = p.run(&["start", file.to_str().expect("utf-8")]);
    p.expect_code(&out, 0);
    let app = p.wait_status(0, "online", T);
    assert_eq!(
        app["pm2_env"]["health"]["status"], "healthy",
        "the check passed as nobody: {app}"
    );
}

/// Beyond PM2: an app run as another user cannot reach the owner-only `notify.sock`; it
/// gets the daemon's abstract socket (`NOTIFY_SOCKET=@pm2-rs/notify/...`) and goes online
/// on its `READY=1`, well before `listen_timeout`.
#[test]
fn a_notify_app_run_as_nobody_goes_online_on_ready() {
    if nobody_under_root("running an app as nobody needs a root daemon").is_none() {
        return;
    }
    let p = Pm2::new("run_as_notify");
    let port = crate::harness::cluster::free_port();
    let conf = serde_json::json!({"apps": [{
        // The system's python: nobody cannot reach a python under /root (pyenv).
        "name": "web", "script": p.fixture("notify_app.py"), "interpreter": "/usr/bin/python3",
        "uid": "nobody", "listen": [format!("127.0.0.1:{port}")], "notify": true,
        "listen_timeout": 30000, "env": { "READY_DELAY": "0.5" },
    }]});
    let file = p.dir.join("notify.config.json");
    std::fs::write(&file, conf.to_string()).expect("write the ecosystem");
    let began = std::time::Instant::now();
    let out = p.run(&["start", file.to_str().expect("utf-8")]);
    p.expect_code(&out, 0);
    let took = began.elapsed();
    assert_eq!(st(&p.app(0)), "online", "online when the reply comes");
    assert!(
        took < Duration::from_secs(10),
        "online by READY=1, not the timeout: {took:?}"
    );
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    assert!(log.contains("App [web:0] online (ready)"), "{log}");
    p.wait_until(T, "STATUS=serving in jlist", || {
        p.app(0)["pm2_env"]["notify_status"] == "serving"
    });
    let text = std::fs::read_to_string(p.log_path("web-out.log")).unwrap_or_default();
    assert!(text.contains("notify socket=@pm2-rs/notify/"), "{text}");
}
