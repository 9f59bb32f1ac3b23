//! Read-only views: list, jlist, prettylist, describe, env, pid, id; and sendSignal.

use crate::harness::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);
const HEADER: [&str; 13] = [
    "id",
    "name",
    "namespace",
    "version",
    "mode",
    "pid",
    "uptime",
    "↺",
    "status",
    "cpu",
    "mem",
    "user",
    "watching",
];

fn cells(line: &str) -> Vec<&str> {
    line.split('│')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// Starts ticker.js as app 0 and waits until it has printed its first line.
fn start_ticker(p: &Pm2) -> i32 {
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js"]);
    let pid = p.wait_online(0);
    p.wait_file_contains(&p.log_path("ticker-out.log"), "ticker started", T);
    pid
}

#[test]
fn list_prints_pm2_table_without_colours_when_piped() {
    let p = Pm2::new("list");
    let pid = start_ticker(&p);
    for cmd in ["list", "ls", "ps", "status"] {
        for env in [&[][..], &[("NO_COLOR", "1")][..]] {
            let out = p.ok_env(env, &[cmd]);
            p.check(!out.stdout.contains('\x1b'), "no ANSI escapes", &out);
            let lines: Vec<&str> = out.stdout.lines().collect();
            let header = lines.iter().find(|l| l.contains("│ id"));
            p.check(
                header.is_some_and(|h| cells(h) == HEADER),
                "PM2's header",
                &out,
            );
            let row = lines.iter().find(|l| cells(l).first() == Some(&"0"));
            let row = row.map(|r| cells(r)).unwrap_or_default();
            p.check(
                row.len() == HEADER.len(),
                "one row per app, every column",
                &out,
            );
            assert_eq!(row[1], "ticker");
            assert_eq!(row[2], "default");
            assert_eq!(row[4], "fork");
            assert_eq!(row[5], pid.to_string());
            assert_eq!(row[8], "online");
            assert_eq!(row[12], "disabled");
            p.check(lines[0].starts_with('┌'), "table starts with ┌", &out);
        }
    }
}

#[test]
fn jlist_is_pm2_json() {
    let p = Pm2::new("jlist");
    let pid = start_ticker(&p);
    let out = p.ok(&["jlist"]);
    p.check(
        !out.stdout.ends_with('\n'),
        "one line, no trailing newline",
        &out,
    );
    let app = p.app(0);
    assert_eq!(pid_of(&app), pid);
    assert_eq!(app["name"], "ticker");
    assert_eq!(app["pm_id"], 0);
    let env = &app["pm2_env"];
    assert_eq!(env["name"], "ticker");
    assert_eq!(env["namespace"], "default");
    assert_eq!(env["pm_id"], 0);
    assert_eq!(env["status"], "online");
    assert_eq!(env["restart_time"], 0);
    assert_eq!(env["exec_mode"], "fork_mode");
    assert_eq!(env["exec_interpreter"], "node");
    assert_eq!(
        env["pm_exec_path"],
        p.dir.join("ticker.js").to_str().unwrap()
    );
    assert_eq!(env["pm_cwd"], p.dir.to_str().unwrap());
    assert!(env["pm_uptime"].as_u64().unwrap_or(0) > 0);
    let keys: Vec<&str> = app
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["pid", "name", "pm2_env", "pm_id", "monit"]);
    p.wait_until(T, "monit.memory > 0 for the running node app", || {
        p.app(0)["monit"]["memory"].as_u64().unwrap_or(0) > 0
    });
}

/// Node's rendering of a JSON text: `util.inspect(JSON.parse(text), false, null, false)`.
fn node_inspect(json: &str) -> String {
    let script = "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>\
                  console.log(require('util').inspect(JSON.parse(s),false,null,false)))";
    let mut child = Command::new("node")
        .args(["-e", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run node");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(json.as_bytes())
        .expect("feed node");
    let out = child.wait_with_output().expect("node output");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn prettylist_is_what_node_inspect_prints() {
    require(have("node"), "node not on PATH (scripts/install-deps.sh)");
    let p = Pm2::new("prettylist");
    start_ticker(&p);
    p.fixture("exit_after.js");
    let args = [
        "start",
        "exit_after.js",
        "--no-autorestart",
        "--name",
        "o'k \"q\"",
        "--",
        "7",
    ];
    p.ok(&args);
    p.wait_status(1, "stopped", T);
    let out = p.ok(&["prettylist"]);
    p.check(out.stdout.contains("status: 'online'"), "node syntax", &out);
    // Stopped apps have stable fields (pid 0, monit 0, fixed uptime), so two calls agree.
    p.ok(&["stop", "0"]);
    let jlist = p.ok(&["jlist"]);
    let pretty = p.ok(&["prettylist"]);
    let expected = node_inspect(&jlist.stdout);
    if pretty.stdout != expected {
        let diff = pretty
            .stdout
            .lines()
            .zip(expected.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| format!("line {i}: ours {a:?}, node {b:?}"));
        p.fail(
            &format!("prettylist differs from node: {diff:?}"),
            Some(&pretty),
        );
    }
}

#[test]
fn describe_shows_status_and_script_path() {
    let p = Pm2::new("describe");
    start_ticker(&p);
    let out = p.ok(&["describe", "ticker"]);
    p.expect_output(&out, "Describing process with id 0 - name ticker");
    let row = |key: &str| -> Vec<String> {
        out.stdout
            .lines()
            .map(cells)
            .find(|c| c.first() == Some(&key))
            .map(|c| c.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default()
    };
    p.check(row("status") == ["status", "online"], "status row", &out);
    let script = p.dir.join("ticker.js").to_string_lossy().into_owned();
    p.check(
        row("script path") == ["script path", &script],
        "script path row",
        &out,
    );
    p.check(
        row("exec mode") == ["exec mode", "fork_mode"],
        "exec mode row",
        &out,
    );
    let by_id = p.ok(&["desc", "0"]);
    p.expect_output(&by_id, "Describing process with id 0 - name ticker");
    p.ok(&["stop", "0"]);
    let out = p.ok(&["info", "ticker"]);
    p.expect_output(&out, "stopped");
}

#[test]
fn env_pid_and_id_commands() {
    let p = Pm2::new("env_pid_id");
    p.fixture("ticker.js");
    p.ok_env(&[("E2E_VIEW", "visible")], &["start", "ticker.js"]);
    let pid = p.wait_online(0);
    let out = p.ok(&["env", "0"]);
    p.expect_output(&out, "E2E_VIEW: visible");
    p.expect_output(&out, &format!("PM2_HOME: {}", p.home.display()));

    let out = p.ok(&["pid", "ticker"]);
    p.check(out.stdout.trim() == pid.to_string(), "pid <name>", &out);
    let out = p.ok(&["id", "ticker"]);
    p.check(out.stdout == "[ 0 ]\n", "id <name> prints [ 0 ]", &out);

    p.ok(&["start", "ticker.js", "-f"]);
    let out = p.ok(&["id", "ticker"]);
    p.check(out.stdout == "[ 0, 1 ]\n", "id lists every instance", &out);
    let out = p.ok(&["id", "nope"]);
    p.check(out.stdout == "[]\n", "unknown name: empty array", &out);
    p.ok(&["stop", "1"]);
    let out = p.ok(&["pid", "1"]);
    p.check(out.stdout.trim() == "0", "a stopped app has pid 0", &out);
}

#[test]
fn send_signal_reaches_the_app() {
    let p = Pm2::new("send_signal");
    let pid = start_ticker(&p);
    let out = p.ok(&["sendSignal", "SIGUSR2", "ticker"]);
    p.expect_output(&out, "successfully sent signal SIGUSR2 to process id 0");
    p.wait_file_contains(&p.log_path("ticker-out.log"), "got SIGUSR2", T);
    let app = p.app(0);
    assert_eq!(st(&app), "online");
    assert_eq!(
        pid_of(&app),
        pid,
        "the app handled the signal and kept running"
    );
    let out = p.fails(&["sendSignal", "SIGUSR2", "nope"], 1);
    p.expect_output(&out, "Process or Namespace nope not found");
}
