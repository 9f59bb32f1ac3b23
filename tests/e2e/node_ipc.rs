//! Fork-mode Node IPC: an app's `process.send` reaches the daemon (odd payloads included)
//! without hurting it, `--wait-ready` works in fork mode, `--shutdown-with-message` stops a
//! fork app by message; and a non-Node app with `-i 2` runs as two fork instances.
//!
//! The Node scenarios run on the `node` on PATH and on Node 22 (ignored when not installed).

use crate::harness::cluster::*;
use crate::harness::*;

on_each_node!(
    fork_messages_reach_the_daemon_without_crashing_it,
    wait_ready_in_fork_mode,
    shutdown_message_stops_a_fork_app,
);

/// The executable `pid` runs, for checking which Node an app really got.
fn exe_of(pid: i32) -> std::path::PathBuf {
    std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default()
}

fn fork_messages_reach_the_daemon_without_crashing_it(node: &Node) {
    let p = Pm2::new("ipc_fork");
    p.fixture("ipc_fork.js");
    let events = p.dir.join("events.log");
    let env = [("EVENTS", events.to_str().expect("UTF-8 path"))];
    p.ok_env(&env, &node.start_args("ipc_fork.js", &["--name", "ipc"]));
    let daemon = p.daemon_pid().expect("daemon pid");
    let pid = p.wait_online(0);
    if let Some(path) = &node.path {
        assert_eq!(&exe_of(pid), path, "the app runs on {}", node.label);
    }
    let app = p.app(0);
    assert_eq!(env_str(&app, "exec_mode"), "fork_mode", "{app:#}");
    // The app confirms its sends completed and its channel is still up afterwards.
    p.wait_file_contains(&events, &format!("sent pid={pid}"), T);
    p.wait_file_contains(&events, &format!("still connected pid={pid}"), T);
    assert!(!read(&events).contains("disconnected"), "{}", read(&events));
    // And the daemon is the same process, still answering.
    assert_eq!(p.daemon_pid(), Some(daemon));
    assert!(alive(daemon));
    let app = p.app(0);
    assert_eq!(st(&app), "online", "{app:#}");
    assert_eq!(pid_of(&app), pid);
    assert_eq!(env_u64(&app, "restart_time"), 0, "{app:#}");
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    assert!(!log.contains("panic"), "daemon log:\n{log}");
}

fn wait_ready_in_fork_mode(node: &Node) {
    let p = Pm2::new("fork_ready");
    p.fixture("ipc_fork.js");
    let events = p.dir.join("events.log");
    let env = [
        ("EVENTS", events.to_str().expect("UTF-8 path")),
        ("READY_AFTER_MS", "1500"),
    ];
    // A listen timeout far away: `online` can only come from 'ready'.
    let flags = ["--name", "ipc", "--wait-ready", "--listen-timeout", "20000"];
    p.ok_env(&env, &node.start_args("ipc_fork.js", &flags));
    online_once_ready(&p, 0, &events, "sending ready");
    let app = p.app(0);
    assert_eq!(env_str(&app, "exec_mode"), "fork_mode", "{app:#}");
    assert_eq!(app["pm2_env"]["wait_ready"], true, "{app:#}");
    // A restart also replies once the new process sent 'ready', as PM2's does.
    p.ok(&["restart", "ipc"]);
    let new = pid_of(&p.app(0));
    online_once_ready(&p, 0, &events, &format!("sending ready pid={new}"));
}

fn shutdown_message_stops_a_fork_app(node: &Node) {
    let p = Pm2::new("fork_shutdown");
    p.fixture("http_pid.js");
    let events = p.dir.join("events.log");
    let port = free_port().to_string();
    let env = [
        ("EVENTS", events.to_str().expect("UTF-8 path")),
        ("PORT", port.as_str()),
    ];
    let flags = [
        "--name",
        "web",
        "--shutdown-with-message",
        "--kill-timeout",
        "5000",
    ];
    p.ok_env(&env, &node.start_args("http_pid.js", &flags));
    let pid = p.wait_online(0);
    assert_eq!(env_str(&p.app(0), "exec_mode"), "fork_mode");
    p.wait_file_contains(&events, &format!("listening port={port} pid={pid} "), T);
    p.ok(&["stop", "web"]);
    assert!(!alive(pid), "pid {pid} survived stop");
    let text = read(&events);
    let got = text.find(&format!("shutdown received pid={pid} "));
    let exit = text.find(&format!("exit code=0 pid={pid} "));
    assert!(
        got.is_some() && got < exit,
        "no shutdown then exit 0:\n{text}"
    );
    let app = p.app(0);
    assert_eq!(st(&app), "stopped", "{app:#}");
    assert_eq!(app["pm2_env"]["exit_code"], 0, "{app:#}");
}

#[test]
fn a_non_node_app_with_two_instances_runs_as_two_forks() {
    let p = Pm2::new("sh_instances");
    p.fixture("ticker.sh");
    p.ok(&["start", "ticker.sh", "-i", "2"]);
    let apps = wait_all_online(&p, "ticker", 2);
    for (i, app) in apps.iter().enumerate() {
        assert_eq!(app["pm_id"], i, "{app:#}");
        assert_eq!(env_str(app, "exec_mode"), "fork_mode", "{app:#}");
        assert_eq!(env_u64(app, "NODE_APP_INSTANCE"), i as u64, "{app:#}");
        let line = format!("sh ticker pid={} instance={i}", pid_of(app));
        p.wait_file_contains(&out_log(&p, "ticker", i as u64), &line, T);
    }
    assert_ne!(pid_of(&apps[0]), pid_of(&apps[1]));
}
