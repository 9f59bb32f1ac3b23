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
