//! Persistence: `save`/`dump`, `resurrect`, `cleardump`, `update`, a dump written by PM2
//! itself, the `.bak` fallback, recovery after the daemon was SIGKILLed, save on SIGTERM,
//! and `pm2 kill` not saving.

use crate::harness::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

/// `(name, status)` of every app, sorted: a duplicated app shows up twice.
fn table(p: &Pm2) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = p
        .apps()
        .iter()
        .map(|a| (a["name"].as_str().unwrap_or("").into(), st(a).into()))
        .collect();
    rows.sort();
    rows
}

fn rows(want: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = want
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
    rows.sort();
    rows
}

/// Polls until the table is exactly `want` (names with their statuses, once each).
fn wait_table(p: &Pm2, want: &[(&str, &str)]) {
    let want = rows(want);
    p.wait_until(T, &format!("the app table to be {want:?}"), || {
        table(p) == want
    });
}

/// The jlist element named `name`; fails when it is missing.
fn named(p: &Pm2, name: &str) -> Value {
    match p.apps().into_iter().find(|a| a["name"] == name) {
        Some(a) => a,
        None => p.fail(&format!("no app named {name}"), None),
    }
}

/// `pid`'s NUL-separated /proc file (`environ` or `cmdline`) as strings.
fn proc_words(pid: i32, file: &str) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/{file}"))
        .unwrap_or_default()
        .split(|b| *b == 0)
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect()
}

fn dump(p: &Pm2) -> PathBuf {
    p.home.join("dump.pm2")
}

/// The names in a dump file, in file order.
fn dump_names(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    json.as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str().map(String::from))
        .collect()
}

/// Starts `envapp` (node, with E2E_VAR), `shtick` (bash, with args) and `idle` (stopped).
fn start_three(p: &Pm2) -> [i32; 2] {
    p.fixture("env.js");
    p.fixture("ticker.sh");
    p.ok_env(
        &[("E2E_VAR", "kept")],
        &["start", "env.js", "--name", "envapp"],
    );
    p.ok(&[
        "start",
        "ticker.sh",
        "--name",
        "shtick",
        "--",
        "alpha",
        "beta",
    ]);
    p.ok(&["start", "sleep", "--name", "idle", "--", "1000"]);
    let pids = [p.wait_online(0), p.wait_online(1)];
    p.wait_online(2);
    p.ok(&["stop", "idle"]);
    wait_table(
        p,
        &[
            ("envapp", "online"),
            ("shtick", "online"),
            ("idle", "stopped"),
        ],
    );
    pids
}

const THREE: [(&str, &str); 3] = [
    ("envapp", "online"),
    ("shtick", "online"),
    ("idle", "stopped"),
];

/// The running apps' env and args are the ones they were started with.
fn check_env_and_args(p: &Pm2) {
    let envapp = pid_of(&named(p, "envapp"));
    let environ = proc_words(envapp, "environ");
    assert!(
        environ.iter().any(|kv| kv == "E2E_VAR=kept"),
        "envapp keeps E2E_VAR=kept: {environ:?}"
    );
    let shtick = named(p, "shtick");
    assert_eq!(
        shtick["pm2_env"]["args"],
        serde_json::json!(["alpha", "beta"])
    );
    let cmdline = proc_words(pid_of(&shtick), "cmdline");
    assert!(
        cmdline.ends_with(&["alpha".into(), "beta".into(), String::new()])
            || cmdline.ends_with(&["alpha".into(), "beta".into()]),
        "shtick runs with its args: {cmdline:?}"
    );
    assert_eq!(
        named(p, "idle")["pm2_env"]["args"],
        serde_json::json!(["1000"])
    );
}

#[test]
fn save_kill_resurrect_restores_names_statuses_env_and_args_once() {
    let p = Pm2::new("resurrect");
    let old = start_three(&p);
    let out = p.ok(&["save"]);
    p.expect_output(&out, "Successfully saved");
    let mut saved = dump_names(&dump(&p));
    saved.sort();
    assert_eq!(saved, ["envapp", "idle", "shtick"], "every app is saved");
    p.ok(&["kill"]);
    for pid in old {
        assert!(!alive(pid), "pm2 kill stopped app pid {pid}");
    }
    p.ok(&["resurrect"]);
    wait_table(&p, &THREE);
    check_env_and_args(&p);
    let pids: Vec<i32> = p.apps().iter().map(pid_of).collect();
    let out = p.ok(&["resurrect"]);
    wait_table(&p, &THREE);
    let again: Vec<i32> = p.apps().iter().map(pid_of).collect();
    p.check(again == pids, "a second resurrect touches nothing", &out);
}

#[test]
fn save_refuses_an_empty_list_unless_forced_and_keeps_a_bak() {
    let p = Pm2::new("save_empty");
    p.ok(&["start", "sleep", "--name", "one", "--", "1000"]);
    p.wait_online(0);
    p.ok(&["dump"]);
    let first = std::fs::read(dump(&p)).expect("dump.pm2 after save");
    assert_eq!(dump_names(&dump(&p)), ["one"]);
    p.ok(&["delete", "all"]);
    let out = p.fails(&["save"], 1);
    p.check(
        out.stderr.contains("not managing any process") && out.stderr.contains("--force"),
        "says why and how to force",
        &out,
    );
    p.check(
        std::fs::read(dump(&p)).ok() == Some(first.clone()),
        "a refused save leaves the dump alone",
        &out,
    );
    let out = p.ok(&["save", "--force"]);
    let now: Value =
        serde_json::from_slice(&std::fs::read(dump(&p)).unwrap_or_default()).unwrap_or(Value::Null);
    p.check(
        now == serde_json::json!([]),
        "a forced save writes []",
        &out,
    );
    let bak = std::fs::read(p.home.join("dump.pm2.bak")).unwrap_or_default();
    p.check(bak == first, "dump.pm2.bak is the previous dump", &out);
}

#[test]
fn a_dump_written_by_pm2_resurrects() {
    let p = Pm2::new("pm2_dump");
    p.fixture("env.js");
    p.fixture("ticker.sh");
    p.ok(&["ping"]);
    let template = std::fs::read_to_string(Path::new(FIXTURES).join("pm2-dump.json"))
        .expect("the PM2 dump fixture");
    let text = template
        .replace("@APP_DIR@", &p.dir.display().to_string())
        .replace("@PM2_HOME@", &p.home.display().to_string())
        .replace("@PATH@", &std::env::var("PATH").unwrap_or_default());
    std::fs::write(dump(&p), text).expect("write dump.pm2");
    p.ok(&["resurrect"]);
    wait_table(
        &p,
        &[
            ("pm2-node", "online"),
            ("pm2-shell", "online"),
            ("pm2-paused", "stopped"),
        ],
    );
    let node = pid_of(&named(&p, "pm2-node"));
    let environ = proc_words(node, "environ");
    assert!(
        environ.iter().any(|kv| kv == "E2E_VAR=from-pm2"),
        "{environ:?}"
    );
    let home = format!("PM2_HOME={}", p.home.display());
    assert!(
        environ.contains(&home),
        "the app gets this PM2_HOME: {environ:?}"
    );
    p.wait_file_contains(
        &p.log_path("pm2-node-out.log"),
        "\"E2E_VAR\":\"from-pm2\"",
        T,
    );
    let shell = named(&p, "pm2-shell");
    assert_eq!(
        shell["pm2_env"]["args"],
        serde_json::json!(["first", "second"])
    );
    let cmdline = proc_words(pid_of(&shell), "cmdline");
    assert!(cmdline.iter().any(|w| w == "second"), "{cmdline:?}");
    p.wait_file_contains(&p.log_path("pm2-shell-out.log"), "sh tick", T);
}

#[test]
fn a_corrupt_dump_falls_back_to_the_bak_and_is_kept_aside() {
    let p = Pm2::new("corrupt");
    p.ok(&["start", "sleep", "--name", "keeper", "--", "1000"]);
    p.wait_online(0);
    p.ok(&["save"]);
    p.ok(&["save"]); // the first dump becomes dump.pm2.bak
    p.ok(&["kill"]);
    let garbage = b"[{\"name\": \"keeper\", \"pm_exec_path\": ";
    std::fs::write(dump(&p), garbage).expect("corrupt dump.pm2");
    let out = p.ok(&["resurrect"]);
    let dump_s = dump(&p).display().to_string();
    let bak_s = format!("{dump_s}.bak");
    p.check(
        out.stderr.contains(&dump_s) && out.stderr.contains(&bak_s),
        "a warning names dump.pm2 and dump.pm2.bak",
        &out,
    );
    wait_table(&p, &[("keeper", "online")]);
    let broken: Vec<PathBuf> = std::fs::read_dir(&p.home)
        .expect("PM2_HOME")
        .flatten()
        .map(|e| e.path())
        .filter(|f| {
            f.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("dump.pm2.broken-"))
        })
        .collect();
    p.check(broken.len() == 1, "the broken dump is kept aside", &out);
    let kept = std::fs::read(&broken[0]).unwrap_or_default();
    p.check(kept == garbage, "with its content", &out);
}

#[test]
fn a_sigkilled_daemon_is_recovered_from_once() {
    let p = Pm2::new("recover");
    // Apps that stay quiet once up: a ticker would die of SIGPIPE with its daemon's pipes,
    // and the test is about the apps that survive it.
    p.fixture("env.js");
    p.ok(&["start", "env.js", "--name", "t1"]);
    p.ok(&["start", "sleep", "--name", "t2", "--", "1000"]);
    p.ok(&["start", "sleep", "--name", "s3", "--", "1000"]);
    let old = [p.wait_online(0), p.wait_online(1)];
    p.wait_online(2);
    p.wait_file_contains(&p.log_path("t1-out.log"), "ENV ", T);
    p.ok(&["stop", "s3"]);
    let want = [("t1", "online"), ("t2", "online"), ("s3", "stopped")];
    wait_table(&p, &want);
    // No wait for the state files: the reply to `stop` promises s3 stopped is recorded.
    let daemon = p.daemon_pid().expect("daemon pid");
    assert!(is_daemon_of(daemon, &p.home));
    sigkill(daemon);
    p.wait_until(T, "the SIGKILLed daemon to be gone", || !alive(daemon));
    assert!(
        old.iter().all(|pid| alive(*pid)),
        "the condition under test: the apps outlived their daemon"
    );
    p.ok(&["list"]);
    let new_daemon = p.daemon_pid().expect("a new daemon");
    assert_ne!(new_daemon, daemon);
    wait_table(&p, &want);
    for pid in old {
        p.wait_until(T, &format!("old app pid {pid} to be gone"), || !alive(pid));
    }
    for name in ["t1", "t2"] {
        let pid = pid_of(&named(&p, name));
        assert!(alive(pid) && !old.contains(&pid), "{name} runs anew: {pid}");
    }
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    assert!(log.contains("recovering"), "pm2.log says it recovered");
    let line = log
        .lines()
        .find(|l| l.contains("left running by the previous daemon"))
        .unwrap_or("");
    let listed: Vec<i32> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    for pid in old {
        assert!(
            listed.contains(&pid),
            "pm2.log names survivor {pid}: {line:?}"
        );
    }
    wait_table(&p, &want);
}

#[test]
fn sigterm_saves_stops_every_app_and_exits() {
    let p = Pm2::new("sigterm");
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js", "--name", "a"]);
    p.ok(&["start", "sleep", "--name", "b", "--", "1000"]);
    let pids = [p.wait_online(0), p.wait_online(1)];
    assert!(!dump(&p).exists(), "no dump yet");
    let daemon = p.daemon_pid().expect("daemon pid");
    assert!(is_daemon_of(daemon, &p.home));
    kill(Pid::from_raw(daemon), Signal::SIGTERM).expect("SIGTERM the daemon");
    p.wait_until(T, "the daemon to exit on SIGTERM", || !alive(daemon));
    for pid in pids {
        p.wait_until(T, &format!("app pid {pid} to be stopped"), || !alive(pid));
    }
    let mut names = dump_names(&dump(&p));
    names.sort();
    assert_eq!(names, ["a", "b"], "SIGTERM saved the list");
    p.ok(&["resurrect"]);
    wait_table(&p, &[("a", "online"), ("b", "online")]);
}

#[test]
fn kill_does_not_save() {
    let p = Pm2::new("kill_nosave");
    p.ok(&["start", "sleep", "--name", "x", "--", "1000"]);
    p.wait_online(0);
    let out = p.ok(&["kill"]);
    p.check(!dump(&p).exists(), "pm2 kill wrote no dump.pm2", &out);
}

#[test]
fn update_keeps_every_app_under_a_new_daemon() {
    let p = Pm2::new("update");
    start_three(&p);
    let old = p.daemon_pid().expect("daemon pid");
    let out = p.ok(&["update"]);
    let new = p.daemon_pid().expect("a daemon after update");
    p.check(
        new != old && is_daemon_of(new, &p.home),
        "a new daemon",
        &out,
    );
    p.check(!alive(old), "the old daemon is gone", &out);
    wait_table(&p, &THREE);
    check_env_and_args(&p);
}

#[test]
fn cleardump_writes_an_empty_list() {
    let p = Pm2::new("cleardump");
    p.ok(&["start", "sleep", "--name", "y", "--", "1000"]);
    p.wait_online(0);
    p.ok(&["save"]);
    assert_eq!(dump_names(&dump(&p)), ["y"]);
    let out = p.ok(&["cleardump"]);
    let text = std::fs::read_to_string(dump(&p)).unwrap_or_default();
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    p.check(v == serde_json::json!([]), "dump.pm2 is []", &out);
}
