//! `depends_on` (beyond PM2, issue 18, first slice): `start <file>` starts each app once
//! what it depends on is as its condition asks (`online`, `healthy`, `completed`), and
//! `stop|delete <file>` stop dependents first; an unknown name or a cycle is refused with
//! the apps named, and an app whose dependency fails is left out, saying why. PM2 has no
//! such key, so there is no reference twin.

use crate::harness::cluster::free_port;
use crate::harness::*;
use serde_json::{json, Value};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);
const NEED_NODE: &str = "node not on PATH (scripts/install-deps.sh)";

fn write_eco(p: &Pm2, apps: Value) {
    let text = serde_json::to_string_pretty(&json!({ "apps": apps })).expect("json");
    std::fs::write(p.dir.join("eco.json"), text).expect("write eco.json");
}

fn events(p: &Pm2) -> Vec<String> {
    std::fs::read_to_string(p.dir.join("events.log"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn depends_on_starts_in_order_and_stops_in_reverse() {
    require(have("node"), NEED_NODE);
    let p = Pm2::new("depends_order");
    p.fixture("health_app.js");
    let ev = p.dir.join("events.log");
    let ev = ev.to_str().expect("utf-8");
    let port = free_port();
    let app = |name: &str, port: u16, extra: Value| {
        let mut a = json!({
            "name": name, "script": "health_app.js",
            "env": { "PORT": port.to_string(), "EVENTS": ev, "LISTEN_AFTER_MS": "600" }
        });
        if let (Some(a), Value::Object(extra)) = (a.as_object_mut(), extra) {
            a.extend(extra);
        }
        a
    };
    // Declared dependents first: the order comes from depends_on, not the file.
    write_eco(
        &p,
        json!([
            app("web", free_port(), json!({ "depends_on": ["api"] })),
            app(
                "api",
                free_port(),
                json!({ "dependsOn": [{ "name": "db", "condition": "healthy" }] })
            ),
            app(
                "db",
                port,
                json!({ "health_check": { "tcp": port, "interval": 100 } })
            ),
        ]),
    );
    p.ok(&["start", "eco.json"]);
    // The daemon spawns them in this order (its log is written in order)...
    let log = p.daemon_log_tail(400);
    let first_of = |name: &str| {
        log.lines()
            .position(|l| l.contains(&format!("App [{name}:")) && l.contains("starting in"))
    };
    let (db, api, web) = (first_of("db"), first_of("api"), first_of("web"));
    assert!(db < api && api < web && db.is_some(), "spawn order:\n{log}");
    // ...and api only once db listened (healthy), as the apps' own events show.
    p.wait_until(T, "three start events", || {
        events(&p)
            .iter()
            .filter(|l| l.starts_with("start "))
            .count()
            == 3
    });
    let seen = events(&p);
    let at = |line: &str| seen.iter().position(|l| l == line);
    assert!(
        at("listening db").is_some() && at("listening db") < at("start api"),
        "{seen:?}"
    );
    assert_eq!(p.apps().iter().filter(|a| st(a) == "online").count(), 3);
    p.ok(&["stop", "eco.json"]);
    p.wait_until(T, "three stop events", || {
        events(&p).iter().filter(|l| l.starts_with("stop ")).count() == 3
    });
    let stopped: Vec<String> = events(&p)
        .into_iter()
        .filter(|l| l.starts_with("stop "))
        .collect();
    assert_eq!(stopped, ["stop web", "stop api", "stop db"], "stop order");
}

#[test]
fn unknown_names_and_cycles_are_refused_naming_the_apps() {
    let p = Pm2::new("depends_refused");
    p.sleeper_script("a.sh");
    write_eco(
        &p,
        json!([{ "name": "web", "script": "a.sh", "depends_on": ["dbx"] }]),
    );
    let out = p.fails(&["start", "eco.json"], 1);
    let needle = "eco.json: apps[0].depends_on: no app named \"dbx\" in this file";
    assert!(out.stderr.contains(needle), "{}", out.report());
    write_eco(
        &p,
        json!([
            { "name": "a", "script": "a.sh", "depends_on": ["b"] },
            { "name": "b", "script": "a.sh", "depends_on": "a" },
        ]),
    );
    let out = p.fails(&["start", "eco.json"], 1);
    assert!(
        out.stderr.contains("depends_on: a cycle: a → b → a"),
        "{}",
        out.report()
    );
    assert_eq!(p.app_count(), 0, "nothing started");
}

#[test]
fn a_completed_dependency_gates_its_dependent() {
    let p = Pm2::new("depends_completed");
    p.sleeper_script("web.sh");
    std::fs::write(p.dir.join("migrate.sh"), "#!/bin/sh\nexit \"$CODE\"\n").expect("write");
    let eco = |code: &str| {
        json!([
            { "name": "web", "script": "web.sh",
              "depends_on": [{ "name": "migrate", "condition": "completed" }] },
            { "name": "migrate", "script": "migrate.sh", "autorestart": false,
              "env": { "CODE": code } },
        ])
    };
    write_eco(&p, eco("3"));
    let out = p.fails(&["start", "eco.json"], 1);
    let needle =
        "App [web] not started: its dependency migrate is stopped, exit code 3, not completed";
    assert!(out.stderr.contains(needle), "{}", out.report());
    assert!(
        p.apps().iter().all(|a| a["name"] != "web"),
        "web was started"
    );
    p.ok(&["delete", "all"]);
    write_eco(&p, eco("0"));
    p.ok(&["start", "eco.json"]);
    p.wait_until(T, "web online after migrate completed", || {
        p.apps()
            .iter()
            .any(|a| a["name"] == "web" && st(a) == "online")
    });
}

#[test]
fn pm2_runtime_starts_a_file_in_dependency_order() {
    let p = Pm2::new("depends_runtime");
    p.sleeper_script("web.sh");
    std::fs::write(p.dir.join("migrate.sh"), "#!/bin/sh\necho migrated\n").expect("write");
    write_eco(
        &p,
        json!([
            { "name": "web", "script": "web.sh",
              "depends_on": [{ "name": "migrate", "condition": "completed" }] },
            { "name": "migrate", "script": "migrate.sh", "autorestart": false },
        ]),
    );
    let runtime = p.dir.join("pm2-runtime");
    std::os::unix::fs::symlink(bin(), &runtime).expect("symlink pm2-runtime");
    let mut cmd = std::process::Command::new(&runtime);
    cmd.current_dir(&p.dir)
        .env("PM2_HOME", &p.home)
        .arg("eco.json");
    let rt = child::Spawned::spawn(cmd, "pm2-runtime eco.json".into());
    p.wait_until(T, "web online under pm2-runtime", || {
        p.home.join("daemon.sock").exists()
            && p.apps()
                .iter()
                .any(|a| a["name"] == "web" && st(a) == "online")
    });
    let migrate = p.apps().into_iter().find(|a| a["name"] == "migrate");
    let migrate = migrate.expect("migrate registered");
    assert_eq!(
        (st(&migrate), migrate["pm2_env"]["exit_code"].as_i64()),
        ("stopped", Some(0))
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(rt.pid()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let (code, out, err) = rt.finish(T);
    assert_eq!(code, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("migrated"),
        "migrate's output streamed:\n{out}"
    );
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    let at = |app: &str, what: &str| {
        log.lines()
            .position(|l| l.contains(&format!("App [{app}:")) && l.contains(what))
    };
    let (done, web) = (
        at("migrate", "exited with code [0]"),
        at("web", "starting in"),
    );
    assert!(
        done.is_some() && done < web,
        "web started before migrate completed:\n{log}"
    );
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn resurrect_starts_in_dependency_order() {
    require(have("node"), NEED_NODE);
    let p = Pm2::new("depends_resurrect");
    p.fixture("health_app.js");
    let port = free_port();
    let app = |name: &str, port: u16| {
        json!({ "name": name, "script": "health_app.js",
                "env": { "PORT": port.to_string(), "LISTEN_AFTER_MS": "500" } })
    };
    let mut api = app("api", free_port());
    api["depends_on"] = json!([{ "name": "db", "condition": "healthy" }]);
    let mut db = app("db", port);
    db["health_check"] = json!({ "tcp": port, "interval": 100 });
    write_eco(&p, json!([api, db]));
    p.ok(&["start", "eco.json"]);
    p.ok(&["save"]);
    p.ok(&["kill"]);
    let before = std::fs::read_to_string(p.home.join("pm2.log"))
        .unwrap_or_default()
        .len();
    p.ok(&["resurrect"]);
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    let log = &log[before.min(log.len())..];
    let at = |needle: &str| log.lines().position(|l| l.contains(needle));
    let healthy = at("App [db:");
    let (db_ready, api_start) = (at("passed its health check"), at("App [api:"));
    assert!(healthy.is_some() && db_ready.is_some(), "{log}");
    assert!(
        db_ready < api_start,
        "api resurrected before db was healthy:\n{log}"
    );
    p.wait_until(T, "both online", || {
        p.apps().iter().filter(|a| st(a) == "online").count() == 2
    });
}

/// a ← b ← c, each `online` only once it listens (a TCP health check), 500 ms after it
/// starts; the apps append their events to `events.log`.
fn slow_chain(p: &Pm2) {
    p.fixture("health_app.js");
    let ev = p.dir.join("events.log");
    let ev = ev.to_str().expect("utf-8");
    let app = |name: &str, dep: Option<&str>| {
        let port = free_port();
        let mut a = json!({
            "name": name, "script": "health_app.js",
            "env": { "PORT": port.to_string(), "EVENTS": ev, "LISTEN_AFTER_MS": "500" },
            "health_check": { "tcp": port, "interval": 100 },
        });
        if let Some(dep) = dep {
            a["depends_on"] = json!([{ "name": dep, "condition": "online" }]);
        }
        a
    };
    // Dependents first in the file, so their ids come first too: the order is depends_on's.
    write_eco(
        p,
        json!([app("c", Some("b")), app("b", Some("a")), app("a", None)]),
    );
    p.ok(&["start", "eco.json"]);
    assert_eq!(p.apps().iter().filter(|a| st(a) == "online").count(), 3);
}

/// Each of b and c started only once what it depends on listened (online), by the apps'
/// own events since `from`; and their `pm_uptime`s in that order.
fn assert_started_in_order(p: &Pm2, from: usize) {
    p.wait_until(T, "three start events", || {
        let starts = events(p)[from..]
            .iter()
            .filter(|l| l.starts_with("start "))
            .count();
        (starts == 3).then_some(())
    });
    let seen = events(p)[from..].to_vec();
    let at = |line: &str| seen.iter().position(|l| l == line);
    for (dep, app) in [("a", "b"), ("b", "c")] {
        let (ready, start) = (at(&format!("listening {dep}")), at(&format!("start {app}")));
        assert!(
            ready.is_some() && ready < start,
            "{app} started before {dep} was online: {seen:?}"
        );
    }
    p.wait_until(T, "all three online", || {
        (p.apps().iter().filter(|a| st(a) == "online").count() == 3).then_some(())
    });
    let uptime = |name: &str| {
        let app = p
            .apps()
            .into_iter()
            .find(|a| a["name"] == name)
            .expect(name);
        app["pm2_env"]["pm_uptime"].as_u64().expect("pm_uptime")
    };
    assert!(
        uptime("a") < uptime("b") && uptime("b") < uptime("c"),
        "pm_uptime a {} b {} c {}",
        uptime("a"),
        uptime("b"),
        uptime("c")
    );
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn restart_all_restarts_a_chain_in_dependency_order() {
    require(have("node"), NEED_NODE);
    let p = Pm2::new("depends_restart_all");
    slow_chain(&p);
    let from = events(&p).len();
    let out = p.ok(&["restart", "all"]);
    assert_started_in_order(&p, from);
    assert!(!out.stdout.contains("not restarted"), "{}", out.report());
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn a_killed_daemons_recovery_starts_a_chain_in_dependency_order() {
    require(have("node"), NEED_NODE);
    let p = Pm2::new("depends_recovery");
    slow_chain(&p);
    let ids = ids_and_names(&p);
    let daemon = p.daemon_pid().expect("the daemon's pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("SIGKILL the daemon");
    p.wait_until(T, "the SIGKILLed daemon to be gone", || !alive(daemon));
    let from = events(&p).len();
    // The next command's daemon recovers the apps before its first reply.
    p.ok(&["ping"]);
    assert_started_in_order(&p, from);
    assert_eq!(ids_and_names(&p), ids, "the same apps under the same ids");
}

/// Each app's id and name, in the list's order.
fn ids_and_names(p: &Pm2) -> Vec<(u64, String)> {
    let apps = p.apps();
    let pair = |a: &Value| (a["pm_id"].as_u64().unwrap_or(99), a["name"].to_string());
    apps.iter().map(pair).collect()
}
