//! `pm2 inspect <app|id>` and `pm2 profile:cpu|profile:mem <app|id> [time]`: a running Node
//! app's own inspector, opened with SIGUSR1 (no restart, no code run in the app), and
//! profiles recorded over it. Cluster instances get a free inspector port
//! (`--inspect-port=0`); fork-mode apps keep Node's 9229, so the fork-mode tests here give
//! their app `--inspect-port=0` themselves (tests run side by side).
//!
//! Observed with PM2 7.0.4: `pm2 inspect <anything>` prints "Unable to activate inspect
//! mode on <name> !!!" and exits 0; `pm2 profile:cpu [time]` profiles PM2's own Node daemon
//! ("Starting profileCPU profiling for 2000ms...", "Profile done in <cwd>/Th-07:18:51.cpuprofile",
//! exit 0; an app name in place of the time profiles the daemon for "appms"). pm2-rs's
//! daemon is not Node, so pm2-rs profiles the app (docs/MIGRATION.md).

use crate::harness::cluster::{on_each_node, Node};
use crate::harness::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

/// Node args that give a fork-mode app a free inspector port.
const ANY_PORT: [&str; 2] = ["--node-args", "--inspect-port=0"];

/// Starts busy.js as `name` (extra start flags in `more`) on the `node` on PATH and waits
/// for its instances.
fn start_busy(p: &Pm2, name: &str, more: &[&str]) {
    start_busy_on(p, &Node::system(), name, more);
}

/// [`start_busy`] on `node` (Node 22 is given as `--interpreter <absolute path>`).
fn start_busy_on(p: &Pm2, node: &Node, name: &str, more: &[&str]) {
    if !p.dir.join("busy.js").exists() {
        p.fixture("busy.js");
    }
    let mut extra = vec!["--name", name];
    extra.extend_from_slice(more);
    p.ok(&node.start_args("busy.js", &extra));
    p.wait_until(T, &format!("every instance of {name} online"), || {
        let apps: Vec<Value> = p.apps().into_iter().filter(|a| a["name"] == name).collect();
        !apps.is_empty() && apps.iter().all(|a| st(a) == "online")
    });
}

/// Tests that hold 9229 take turns, so one never frees it while another counts on it
/// being taken.
static PORT_9229: Mutex<()> = Mutex::new(());

/// Holds 127.0.0.1:9229 for the caller's lifetime: this test's listener, or (when the bind
/// fails) whatever outside this test binary listens there already.
fn hold_9229() -> (MutexGuard<'static, ()>, Option<TcpListener>) {
    let turn = PORT_9229.lock().unwrap_or_else(|p| p.into_inner());
    (turn, TcpListener::bind("127.0.0.1:9229").ok())
}

/// The `(name, id, ws url)` of every `webSocketDebuggerUrl:` line of `inspect`'s stdout.
fn ws_urls(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| {
            l.split_once("webSocketDebuggerUrl: ")
                .map(|(_, u)| u.to_string())
        })
        .collect()
}

/// The port of `ws://127.0.0.1:<port>/<id>`.
fn port_of(ws: &str) -> u16 {
    let rest = ws
        .strip_prefix("ws://127.0.0.1:")
        .expect("a loopback ws url");
    rest.split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port")
}

/// What the inspector at `port` lists, as JSON. Node's inspector keeps the connection
/// open after its answer, so the body is read until it parses rather than to the end.
fn json_list(port: u16) -> Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the inspector");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let req = format!("GET /json/list HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    s.write_all(req.as_bytes()).expect("send the request");
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s
            .read(&mut chunk)
            .expect("the inspector answers /json/list");
        assert!(
            n > 0,
            "closed before a full answer: {}",
            String::from_utf8_lossy(&raw)
        );
        raw.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some((_, body)) = text.split_once("\r\n\r\n") {
            if let Ok(v) = serde_json::from_str(body) {
                return v;
            }
        }
    }
}

on_each_node!(
    inspect_opens_a_running_node_apps_inspector_without_restarting_it,
    inspect_gives_every_cluster_instance_its_own_port_while_9229_is_taken,
    profile_cpu_writes_a_devtools_cpuprofile_that_names_the_busy_function,
    profile_mem_writes_a_sampling_heapprofile_per_cluster_instance,
);

fn inspect_opens_a_running_node_apps_inspector_without_restarting_it(node: &Node) {
    let p = Pm2::new(&format!("inspect_open_{}", node.label));
    start_busy_on(&p, node, "busy", &ANY_PORT);
    let pid = p.wait_online(0);
    let out = p.ok(&["inspect", "busy"]);
    let urls = ws_urls(&out.stdout);
    p.check(urls.len() == 1, "one webSocketDebuggerUrl", &out);
    let devtools = format!(
        "devtools://devtools/bundled/js_app.html?experiments=true&v8only=true&ws={}",
        urls[0].trim_start_matches("ws://")
    );
    p.check(out.stdout.contains(&devtools), "the DevTools URL", &out);
    let list = json_list(port_of(&urls[0]));
    assert_eq!(
        list[0]["webSocketDebuggerUrl"],
        urls[0].as_str(),
        "{list:#}"
    );
    let app = p.app(0);
    assert_eq!(pid_of(&app), pid, "same process: not restarted");
    assert_eq!(env_u64(&app, "restart_time"), 0, "{app:#}");

    // Again, by id: the inspector already open is found, not opened twice.
    let again = p.ok(&["inspect", "0"]);
    assert_eq!(ws_urls(&again.stdout), urls, "{}", again.report());
    p.check(
        again.stdout.contains("already open"),
        "said already open",
        &again,
    );
}

fn inspect_gives_every_cluster_instance_its_own_port_while_9229_is_taken(node: &Node) {
    let p = Pm2::new(&format!("inspect_cluster_{}", node.label));
    let _held = hold_9229();
    start_busy_on(&p, node, "web", &["-i", "2"]);
    let out = p.ok(&["inspect", "web"]);
    let urls = ws_urls(&out.stdout);
    p.check(urls.len() == 2, "one URL per instance", &out);
    let ports: Vec<u16> = urls.iter().map(|u| port_of(u)).collect();
    assert_ne!(ports[0], ports[1], "{}", out.report());
    assert!(!ports.contains(&9229), "{}", out.report());
    for port in &ports {
        assert!(json_list(*port)[0]["webSocketDebuggerUrl"].is_string());
    }
    // The selected id alone.
    let one = p.ok(&["inspect", "1"]);
    assert_eq!(
        ws_urls(&one.stdout),
        vec![urls[1].clone()],
        "{}",
        one.report()
    );
    // A fork-mode app keeps Node's 9229, which is taken: said, with what to do.
    start_busy_on(&p, node, "solo", &[]);
    let out = p.fails(&["inspect", "solo"], 1);
    let said = "Starting inspector on 127.0.0.1:9229 failed: address already in use";
    p.check(out.stderr.contains(said), "quotes Node", &out);
    p.check(
        out.stderr
            .contains("pm2 restart solo --node-args=\"--inspect-port=<port>\""),
        "says what to do",
        &out,
    );
}

#[test]
fn only_cluster_instances_get_a_free_inspector_port_so_an_apps_own_cluster_works() {
    let p = Pm2::new("inspect_flags");
    start_busy(&p, "forked", &[]);
    start_busy(&p, "web", &["-i", "1"]);
    p.fixture("own_cluster.js");
    p.ok(&["start", "own_cluster.js", "--name", "own"]);
    let line = |log: &str| {
        p.wait_file_contains(&p.log_path(log), "execArgv ", T);
        let text = std::fs::read_to_string(p.log_path(log)).unwrap_or_default();
        text.lines()
            .find(|l| l.starts_with("execArgv "))
            .unwrap_or_default()
            .to_string()
    };
    let forked = line("forked-out.log");
    assert!(
        !forked.contains("--inspect"),
        "fork mode keeps Node's default: {forked}"
    );
    let web = line("web-out-1.log");
    assert!(web.contains("\"--inspect-port=0\""), "{web}");
    // Node gives an app's own cluster workers its port plus one: with 0 they would exit.
    p.wait_file_contains(&p.log_path("own-out.log"), "own worker up", T);
    let own = std::fs::read_to_string(p.log_path("own-out.log")).unwrap_or_default();
    assert!(!own.contains("own worker exited"), "{own}");
}

#[test]
fn inspect_refuses_what_has_no_inspector_and_changes_nothing() {
    let p = Pm2::new("inspect_refuse");
    start_busy(&p, "node-app", &[]);
    p.sleeper_script("sleep.sh");
    p.ok(&["start", "sleep.sh", "--name", "shell"]);
    p.wait_online(1);
    fails_saying(
        &p,
        &["inspect", "nope"],
        1,
        "nope not found",
        "names the missing app",
    );
    fails_saying(
        &p,
        &["inspect", "shell"],
        1,
        "shell (id 1) is not a Node app (its interpreter is bash)",
        "says not a Node app",
    );
    p.ok(&["stop", "node-app"]);
    fails_saying(
        &p,
        &["inspect", "node-app"],
        1,
        "node-app (id 0) is stopped, not online",
        "says not online",
    );
    assert_eq!(st(&p.app(0)), "stopped");
    assert_eq!(st(&p.app(1)), "online");
    assert_eq!(env_u64(&p.app(1), "restart_time"), 0);
}

#[test]
fn inspect_names_the_app_whose_inspector_holds_the_port_and_the_fix_works() {
    let p = Pm2::new("inspect_taken");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let flag = format!("--inspect-port={port}");
    start_busy(&p, "first", &["--node-args", &flag]);
    start_busy(&p, "second", &["--node-args", &flag]);
    let out = p.ok(&["inspect", "first"]);
    assert_eq!(port_of(&ws_urls(&out.stdout)[0]), port, "{}", out.report());
    let out = p.fails(&["inspect", "second"], 1);
    let said = format!("Starting inspector on 127.0.0.1:{port} failed: address already in use");
    p.check(
        out.stderr.contains("Node did not open its inspector"),
        "says why",
        &out,
    );
    p.check(out.stderr.contains(&said), "quotes Node", &out);
    p.check(
        out.stderr
            .contains("(the inspector of first (id 0) holds that port)"),
        "names the holder",
        &out,
    );
    assert_eq!(st(&p.app(1)), "online", "the app is left running");
    // What the message says to do.
    p.ok(&["restart", "second", "--node-args=--inspect-port=0"]);
    p.wait_online(1);
    let out = p.ok(&["inspect", "second"]);
    assert_ne!(port_of(&ws_urls(&out.stdout)[0]), port, "{}", out.report());
}

#[test]
fn a_stopped_process_is_refused_at_once_and_inspected_once_continued() {
    let p = Pm2::new("inspect_frozen");
    start_busy(&p, "frozen", &ANY_PORT);
    let pid = p.wait_online(0);
    let first = p.ok(&["inspect", "frozen"]);
    let stop = |sig| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
    stop(nix::sys::signal::Signal::SIGSTOP).expect("SIGSTOP the app");
    // The signal is delivered asynchronously: wait until the kernel shows it stopped.
    p.wait_until(T, "the app to be stopped (state T)", || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        (state == Some('T')).then_some(())
    });
    for cmd in [
        &["inspect", "frozen"][..],
        &["profile:cpu", "frozen", "100"][..],
    ] {
        let out = p.fails(cmd, 1);
        // The state check's words, not a deadline's: refused at once.
        p.check(
            out.stderr.contains(&format!("pid {pid} is stopped")),
            "says why",
            &out,
        );
    }
    stop(nix::sys::signal::Signal::SIGCONT).expect("SIGCONT the app");
    let again = p.ok(&["inspect", "frozen"]);
    assert_eq!(
        ws_urls(&again.stdout),
        ws_urls(&first.stdout),
        "{}",
        again.report()
    );
}

/// Runs `args`, which must exit with `code` and say `needle` on stderr (`what` names it).
fn fails_saying(p: &Pm2, args: &[&str], code: i32, needle: &str, what: &str) -> Output {
    let out = p.fails(args, code);
    p.check(out.stderr.contains(needle), what, &out);
    out
}

/// The one `Profile done in <file>` of `out`, which must be in `dir` with `ext`.
fn profile_files(p: &Pm2, out: &Output, ext: &str) -> Vec<PathBuf> {
    let files: Vec<PathBuf> = out
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("Profile done in "))
        .map(PathBuf::from)
        .collect();
    for f in &files {
        p.check(
            f.parent() == Some(p.dir.as_path()),
            "written in the CLI's folder",
            out,
        );
        p.check(
            f.extension().and_then(|e| e.to_str()) == Some(ext),
            "extension",
            out,
        );
        p.check(f.is_file(), "the file exists", out);
    }
    files
}

/// Every `callFrame.functionName` in a profile tree (`nodes` or `head.children`).
fn function_names(v: &Value, into: &mut Vec<String>) {
    if let Some(name) = v["callFrame"]["functionName"].as_str() {
        into.push(name.to_string());
    }
    for child in v["children"].as_array().into_iter().flatten() {
        if child.is_object() {
            function_names(child, into);
        }
    }
}

/// What Chrome DevTools needs of a `.cpuprofile`; the function names in it.
fn check_cpuprofile(file: &Path) -> Vec<String> {
    let v: Value = serde_json::from_slice(&std::fs::read(file).expect("read")).expect("JSON");
    let nodes = v["nodes"].as_array().expect("nodes");
    assert!(
        !nodes.is_empty() && nodes[0]["id"].is_u64(),
        "{}",
        file.display()
    );
    assert!(
        v["startTime"].is_u64() && v["endTime"].is_u64(),
        "{}",
        file.display()
    );
    assert!(v["samples"].is_array(), "{}", file.display());
    let mut names = Vec::new();
    nodes.iter().for_each(|n| function_names(n, &mut names));
    names
}

/// What Chrome DevTools needs of a `.heapprofile`; the function names in it.
fn check_heapprofile(file: &Path) -> Vec<String> {
    let v: Value = serde_json::from_slice(&std::fs::read(file).expect("read")).expect("JSON");
    assert!(v["head"]["callFrame"].is_object(), "{}", file.display());
    assert!(v["samples"].is_array(), "{}", file.display());
    let mut names = Vec::new();
    function_names(&v["head"], &mut names);
    names
}

fn profile_cpu_writes_a_devtools_cpuprofile_that_names_the_busy_function(node: &Node) {
    let p = Pm2::new(&format!("profile_cpu_{}", node.label));
    start_busy_on(&p, node, "busy", &ANY_PORT);
    let pid = p.wait_online(0);
    let out = p.ok(&["profile:cpu", "busy", "1500"]);
    p.check(
        out.stdout
            .contains("Starting profileCPU profiling for 1500ms...\n"),
        "PM2's first line",
        &out,
    );
    let files = profile_files(&p, &out, "cpuprofile");
    p.check(files.len() == 1, "one profile", &out);
    let name = files[0]
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    p.check(
        name.starts_with("busy-0-") && name.len() == "busy-0-We-18:45:45.cpuprofile".len(),
        "named as PM2 with the app",
        &out,
    );
    let names = check_cpuprofile(&files[0]);
    assert!(names.iter().any(|n| n == "burnCpuForProfile"), "{names:?}");
    p.check(
        out.stdout.contains("stays open on 127.0.0.1:"),
        "says the inspector stays open",
        &out,
    );
    assert_eq!(pid_of(&p.app(0)), pid, "not restarted");
}

fn profile_mem_writes_a_sampling_heapprofile_per_cluster_instance(node: &Node) {
    let p = Pm2::new(&format!("profile_mem_{}", node.label));
    start_busy_on(&p, node, "web", &["-i", "2"]);
    let out = p.ok(&["profile:mem", "web", "1500"]);
    p.check(
        out.stdout
            .contains("Starting profileMEM profiling for 1500ms...\n"),
        "PM2's first line",
        &out,
    );
    let files = profile_files(&p, &out, "heapprofile");
    p.check(files.len() == 2, "one profile per instance", &out);
    for f in &files {
        let names = check_heapprofile(f);
        assert!(names.iter().any(|n| n == "allocateForProfile"), "{names:?}");
    }
}

#[test]
fn profile_needs_an_app_and_a_time_in_milliseconds() {
    let p = Pm2::new("profile_args");
    start_busy(&p, "busy", &[]);
    fails_saying(
        &p,
        &["profile:cpu"],
        2,
        "profile:cpu needs an app",
        "asks for an app",
    );
    fails_saying(
        &p,
        &["profile:mem", "busy", "soon"],
        2,
        "in milliseconds",
        "says the unit",
    );
    fails_saying(
        &p,
        &["profile:cpu", "5000"],
        1,
        "pm2-rs profiles an app",
        "explains PM2 7's form",
    );
    let files: Vec<_> = std::fs::read_dir(&p.dir)
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("profile"))
        .collect();
    assert!(files.is_empty(), "no file written");
    assert_eq!(st(&p.app(0)), "online");
}

/// PM2 7 itself: `inspect` is a no-op that exits 0 (for an unknown app too), and `profile:cpu [time]` writes a
/// `.cpuprofile` of its daemon, of the shape the tests above check, named `dd-HH:mm:ss`.
#[test]
#[ignore = "reference run against PM2 7: needs PM2_REF"]
fn inspect_and_profile_reference() {
    let p = Pm2::reference("inspect_ref");
    start_busy(&p, "busy", &[]);
    for app in ["busy", "nope"] {
        let out = p.ok(&["inspect", app]);
        let said = format!("Unable to activate inspect mode on {app} !!!");
        p.check(out.stdout.contains(&said), "PM2's no-op, exit 0", &out);
    }
    let out = p.ok(&["profile:cpu", "1000"]);
    p.check(
        out.stdout
            .contains("Starting profileCPU profiling for 1000ms...\n"),
        "first line",
        &out,
    );
    let files = profile_files(&p, &out, "cpuprofile");
    assert_eq!(files.len(), 1, "{}", out.report());
    let name = files[0]
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    assert_eq!(name.len(), "We-18:45:45.cpuprofile".len(), "{name}");
    check_cpuprofile(&files[0]);
    let out = p.ok(&["profile:mem", "1000"]);
    let files = profile_files(&p, &out, "heapprofile");
    check_heapprofile(&files[0]);
}
