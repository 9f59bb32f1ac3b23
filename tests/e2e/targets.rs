//! stop / restart / delete by every kind of target: id, name, namespace, `all`, several
//! targets, `/regex/`, and unknown targets that change nothing.

use crate::harness::*;

/// `(name, status, restart_time)` for every app, in id order.
fn table(p: &Pm2) -> Vec<(String, String, u64)> {
    p.apps()
        .iter()
        .map(|a| {
            let name = a["name"].as_str().unwrap_or("").to_string();
            (name, st(a).to_string(), env_u64(a, "restart_time"))
        })
        .collect()
}

fn statuses(p: &Pm2) -> Vec<(String, String)> {
    table(p).into_iter().map(|(n, s, _)| (n, s)).collect()
}

fn expect_statuses(p: &Pm2, expected: &[(&str, &str)]) {
    let got = statuses(p);
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
    if got != want {
        p.fail(&format!("statuses {got:?}, expected {want:?}"), None);
    }
}

/// Starts light apps (`sleep`, which exits at once on SIGINT) named `names`, optionally in a
/// namespace.
fn start_sleepers(p: &Pm2, names: &[&str], namespace: Option<&str>) {
    for name in names {
        let mut args = vec!["start", "sleep", "--name", name];
        if let Some(ns) = namespace {
            args.extend(["--namespace", ns]);
        }
        args.extend(["--", "1000"]);
        p.ok(&args);
    }
}

#[test]
fn by_id() {
    let p = Pm2::new("target_id");
    start_sleepers(&p, &["a", "b", "c"], None);
    let out = p.ok(&["stop", "1"]);
    p.expect_output(&out, "Applying action stopProcessId on app [1](ids: [ 1 ])");
    p.expect_output(&out, "[b](1) ✓");
    expect_statuses(&p, &[("a", "online"), ("b", "stopped"), ("c", "online")]);
    assert_eq!(pid_of(&p.app(1)), 0, "a stopped app has pid 0");

    p.ok(&["restart", "1"]);
    expect_statuses(&p, &[("a", "online"), ("b", "online"), ("c", "online")]);
    assert_eq!(
        env_u64(&p.app(1), "restart_time"),
        0,
        "starting a stopped app counts nothing"
    );
    p.ok(&["restart", "2"]);
    assert_eq!(env_u64(&p.app(2), "restart_time"), 1);

    let out = p.ok(&["delete", "1"]);
    p.expect_output(&out, "deleteProcessId");
    let ids: Vec<u64> = p
        .apps()
        .iter()
        .filter_map(|a| a["pm_id"].as_u64())
        .collect();
    assert_eq!(ids, [0, 2]);
}

#[test]
fn by_name() {
    let p = Pm2::new("target_name");
    start_sleepers(&p, &["a", "b"], None);
    let pid_b = pid_of(&p.app(1));
    p.ok(&["stop", "b"]);
    expect_statuses(&p, &[("a", "online"), ("b", "stopped")]);
    assert!(
        !alive(pid_b),
        "the stopped process is gone when stop returns"
    );
    p.ok(&["restart", "a"]);
    assert_eq!(table(&p)[0], ("a".into(), "online".into(), 1));
    p.ok(&["delete", "a"]);
    expect_statuses(&p, &[("b", "stopped")]);
}

#[test]
fn by_namespace() {
    let p = Pm2::new("target_ns");
    start_sleepers(&p, &["a", "b"], Some("grp"));
    start_sleepers(&p, &["c"], None);
    let apps = p.apps();
    let namespaces: Vec<&str> = apps.iter().map(|a| env_str(a, "namespace")).collect();
    assert_eq!(namespaces, ["grp", "grp", "default"]);

    p.ok(&["stop", "grp"]);
    expect_statuses(&p, &[("a", "stopped"), ("b", "stopped"), ("c", "online")]);
    p.ok(&["restart", "grp"]);
    expect_statuses(&p, &[("a", "online"), ("b", "online"), ("c", "online")]);
    p.ok(&["delete", "grp"]);
    expect_statuses(&p, &[("c", "online")]);
}

#[test]
fn all() {
    let p = Pm2::new("target_all");
    start_sleepers(&p, &["a", "b"], None);
    start_sleepers(&p, &["c"], Some("grp"));
    p.ok(&["stop", "all"]);
    expect_statuses(&p, &[("a", "stopped"), ("b", "stopped"), ("c", "stopped")]);
    p.ok(&["restart", "all"]);
    expect_statuses(&p, &[("a", "online"), ("b", "online"), ("c", "online")]);
    p.ok(&["restart", "all"]);
    let restarts: Vec<u64> = table(&p).into_iter().map(|(_, _, r)| r).collect();
    assert_eq!(restarts, [1, 1, 1]);
    let out = p.ok(&["delete", "all"]);
    p.expect_output(
        &out,
        "Applying action deleteProcessId on app [all](ids: [ 0, 1, 2 ])",
    );
    assert!(p.apps().is_empty());
    // An empty table starts over at id 0, as PM2 does.
    start_sleepers(&p, &["d"], None);
    assert_eq!(p.app(0)["name"], "d");
}

#[test]
fn several_targets_at_once() {
    let p = Pm2::new("target_many");
    start_sleepers(&p, &["a", "b", "c", "d"], None);
    let out = p.ok(&["stop", "0", "c"]);
    p.expect_output(&out, "[a](0) ✓");
    p.expect_output(&out, "[c](2) ✓");
    expect_statuses(
        &p,
        &[
            ("a", "stopped"),
            ("b", "online"),
            ("c", "stopped"),
            ("d", "online"),
        ],
    );
    p.ok(&["delete", "b", "3", "a"]);
    expect_statuses(&p, &[("c", "stopped")]);
}

#[test]
fn by_regex() {
    let p = Pm2::new("target_regex");
    start_sleepers(&p, &["web-1", "api", "web-2"], None);
    p.ok(&["stop", "/^web-/"]);
    expect_statuses(
        &p,
        &[
            ("web-1", "stopped"),
            ("api", "online"),
            ("web-2", "stopped"),
        ],
    );
    p.ok(&["restart", "/^web-/"]);
    expect_statuses(
        &p,
        &[("web-1", "online"), ("api", "online"), ("web-2", "online")],
    );
    p.ok(&["delete", "/-2$/"]);
    expect_statuses(&p, &[("web-1", "online"), ("api", "online")]);
}

#[test]
fn an_unknown_target_fails_and_changes_nothing() {
    let p = Pm2::new("target_unknown");
    start_sleepers(&p, &["a", "b"], None);
    let before = table(&p);
    for cmd in ["stop", "restart", "delete", "reset"] {
        let out = p.fails(&[cmd, "nope"], 1);
        p.expect_output(&out, "Process or Namespace nope not found");
    }
    // One unknown target among known ones: nothing happens to the known ones either.
    let out = p.fails(&["stop", "a", "nope"], 1);
    p.expect_output(&out, "Process or Namespace nope not found");
    let out = p.fails(&["delete", "0", "7"], 1);
    p.expect_output(&out, "Process or Namespace 7 not found");
    let out = p.fails(&["stop", "/^zzz/"], 1);
    p.expect_output(&out, "not found");
    assert_eq!(table(&p), before);
}

/// The apps in id order as `(name, status)`, when the ids are known to be `0..n`.
fn expect_ids_and_statuses(p: &Pm2, expected: &[(u64, &str, &str)]) {
    let got: Vec<(u64, String, String)> = p
        .apps()
        .iter()
        .map(|a| {
            let id = a["pm_id"].as_u64().unwrap_or(u64::MAX);
            (id, a["name"].as_str().unwrap_or("").into(), st(a).into())
        })
        .collect();
    let want: Vec<(u64, String, String)> = expected
        .iter()
        .map(|(i, n, s)| (*i, n.to_string(), s.to_string()))
        .collect();
    if got != want {
        p.fail(&format!("apps {got:?}, expected {want:?}"), None);
    }
}

/// PM2 7's `getProcessIdByName`: a word selects the apps named so AND the apps whose
/// `pm_exec_path` is the word resolved against the CLI's cwd (`path.resolve`, so `./x/../`
/// folds and an absolute path works); a word matching neither fails with exit 1.
/// Observed with PM2 7.0.4 (`pm2 stop app.js` with apps `web` running app.js and `app.js`
/// running b.js: "Applying action stopProcessId on app [app.js](ids: [ 0, 1 ])").
fn script_path_scenario(p: &Pm2) {
    p.sleeper_script("app.sh");
    p.sleeper_script("b.sh");
    p.sleeper_script("sub/app.sh");
    p.ok(&["start", "app.sh", "--name", "web"]);
    p.ok(&["start", "b.sh", "--name", "app.sh"]);
    p.ok(&["start", "sub/app.sh", "--name", "other"]);

    // Both the app running app.sh and the app named app.sh.
    let out = p.ok(&["stop", "app.sh"]);
    p.expect_output(
        &out,
        "Applying action stopProcessId on app [app.sh](ids: [ 0, 1 ])",
    );
    p.expect_output(&out, "[web](0) ✓");
    p.expect_output(&out, "[app.sh](1) ✓");
    expect_ids_and_statuses(
        p,
        &[
            (0, "web", "stopped"),
            (1, "app.sh", "stopped"),
            (2, "other", "online"),
        ],
    );

    // Folded like path.resolve; only the script matches here.
    let out = p.ok(&["restart", "./sub/../app.sh"]);
    p.expect_output(
        &out,
        "Applying action restartProcessId on app [./sub/../app.sh](ids: [ 0 ])",
    );
    expect_ids_and_statuses(
        p,
        &[
            (0, "web", "online"),
            (1, "app.sh", "stopped"),
            (2, "other", "online"),
        ],
    );

    // Relative to the CLI's cwd: from sub/, app.sh is sub/app.sh (and still the name).
    let out = p.run_in(&p.dir.join("sub"), &["stop", "app.sh"]);
    p.expect_code(&out, 0);
    p.expect_output(
        &out,
        "Applying action stopProcessId on app [app.sh](ids: [ 1, 2 ])",
    );
    expect_ids_and_statuses(
        p,
        &[
            (0, "web", "online"),
            (1, "app.sh", "stopped"),
            (2, "other", "stopped"),
        ],
    );

    let out = p.ok(&["reload", "sub/app.sh"]);
    p.expect_output(
        &out,
        "Applying action reloadProcessId on app [sub/app.sh](ids: [ 2 ])",
    );
    let abs = p.dir.join("sub/app.sh").to_string_lossy().into_owned();
    let out = p.ok(&["delete", &abs]);
    p.expect_output(
        &out,
        &format!("Applying action deleteProcessId on app [{abs}](ids: [ 2 ])"),
    );
    expect_ids_and_statuses(p, &[(0, "web", "online"), (1, "app.sh", "stopped")]);

    let out = p.fails(&["stop", "missing.sh"], 1);
    p.expect_output(&out, "Process or Namespace missing.sh not found");
}

#[test]
fn a_script_path_is_a_target() {
    script_path_scenario(&Pm2::new("target_script"));
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2 at $PM2_REF (npm install pm2@7, as bench/pm2bench/context.py does)"]
fn a_script_path_is_a_target_reference() {
    script_path_scenario(&Pm2::reference("target_script_ref"));
}

/// PM2 7's `_operate` on a number: the apps named so, else the namespace, else the id.
/// Observed with PM2 7.0.4: with `1` (id 0), `x` in namespace `0` (id 1) and `y` (id 2),
/// `stop 1` stops id 0, `stop 0` stops id 1, `stop 2` stops id 2, `stop 7` exits 1.
fn numeric_scenario(p: &Pm2) {
    p.sleeper_script("a.sh");
    p.ok(&["start", "a.sh", "--name", "1"]);
    p.ok(&["start", "a.sh", "--name", "x", "--namespace", "0"]);
    p.ok(&["start", "a.sh", "--name", "y"]);

    let out = p.ok(&["stop", "1"]);
    p.expect_output(&out, "Applying action stopProcessId on app [1](ids: [ 0 ])");
    p.expect_output(&out, "[1](0) ✓");
    expect_ids_and_statuses(
        p,
        &[(0, "1", "stopped"), (1, "x", "online"), (2, "y", "online")],
    );

    let out = p.ok(&["stop", "0"]);
    p.expect_output(&out, "Applying action stopProcessId on app [0](ids: [ 1 ])");
    p.expect_output(&out, "[x](1) ✓");
    expect_ids_and_statuses(
        p,
        &[(0, "1", "stopped"), (1, "x", "stopped"), (2, "y", "online")],
    );

    let out = p.ok(&["stop", "2"]);
    p.expect_output(&out, "[y](2) ✓");
    expect_ids_and_statuses(
        p,
        &[
            (0, "1", "stopped"),
            (1, "x", "stopped"),
            (2, "y", "stopped"),
        ],
    );

    // restart and delete take the same order.
    p.ok(&["restart", "1"]);
    expect_ids_and_statuses(
        p,
        &[(0, "1", "online"), (1, "x", "stopped"), (2, "y", "stopped")],
    );
    p.ok(&["delete", "0"]);
    expect_ids_and_statuses(p, &[(0, "1", "online"), (2, "y", "stopped")]);

    p.fails(&["stop", "7"], 1);
}

#[test]
fn a_number_is_a_name_then_a_namespace_then_an_id() {
    numeric_scenario(&Pm2::new("target_numeric"));
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2 at $PM2_REF (npm install pm2@7, as bench/pm2bench/context.py does)"]
fn a_number_is_a_name_then_a_namespace_then_an_id_reference() {
    numeric_scenario(&Pm2::reference("target_numeric_ref"));
}

/// `describe <file>` finds the apps running that file too (pm2-rs only: PM2 7's `describe`
/// matches names and ids only and prints "[PM2][WARN] sub/app.sh doesn't exist", exit 1),
/// and `describe <number>` takes the name first, as actions do.
#[test]
fn describe_takes_a_script_path_and_a_numeric_name() {
    let p = Pm2::new("target_describe");
    p.sleeper_script("sub/app.sh");
    p.ok(&["start", "sub/app.sh", "--name", "other"]);
    p.ok(&["start", "sub/app.sh", "--name", "7", "-f"]);
    let out = p.ok(&["describe", "sub/app.sh"]);
    p.expect_output(&out, "Describing process with id 0 - name other");
    p.expect_output(&out, "Describing process with id 1 - name 7");
    let out = p.ok(&["describe", "7"]);
    p.expect_output(&out, "Describing process with id 1 - name 7");
    let out = p.ok(&["describe", "0"]);
    p.expect_output(&out, "Describing process with id 0 - name other");
}
