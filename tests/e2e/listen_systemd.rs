//! Sockets systemd passes to pm2-rs itself (beyond PM2): under a socket unit, systemd binds
//! the app's port and starts pm2-rs with it (`LISTEN_PID`, `LISTEN_FDS`,
//! `LISTEN_FDNAMES`, fd 3). The real `systemd-socket-activate` plays systemd here: it binds
//! the socket, waits for the first connection, then execs `pm2-runtime` (or the CLI, which
//! hands the sockets to the daemon it spawns). The app whose `listen` names the socket
//! serves on it, so the connection that woke everything up, made before pm2-rs even ran,
//! is answered.

use crate::harness::child::Spawned;
use crate::harness::cluster::free_port;
use crate::harness::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn ecosystem(p: &Pm2, listen: &str) -> String {
    let conf = serde_json::json!({"apps": [{
        "name": "web", "script": p.fixture("listen_app.py"), "interpreter": "python3",
        "listen": listen,
    }]});
    let file = p.dir.join("web.config.json");
    std::fs::write(&file, conf.to_string()).expect("write the ecosystem");
    file.to_string_lossy().into_owned()
}

/// The binary under the name `pm2-runtime` (it dispatches on argv[0]).
fn runtime_bin(p: &Pm2) -> PathBuf {
    let link = p.dir.join("pm2-runtime");
    if !link.exists() {
        std::os::unix::fs::symlink(bin(), &link).expect("symlink pm2-runtime");
    }
    link
}

/// `systemd-socket-activate -l 127.0.0.1:<port> --fdname=web <program> <args>`, with this
/// test's `PM2_HOME` (the tool passes on only the variables named with `-E`), once it says
/// the socket is listening.
fn activate(p: &Pm2, port: u16, program: &std::path::Path, args: &[&str]) -> Spawned {
    require(
        have("systemd-socket-activate"),
        "systemd-socket-activate not installed (Debian's systemd; scripts/install-deps.sh)",
    );
    let mut cmd = Command::new("systemd-socket-activate");
    cmd.current_dir(&p.dir)
        .env("PM2_HOME", &p.home)
        .args(["-l", &format!("127.0.0.1:{port}"), "--fdname=web"])
        .args(["-E", "PM2_HOME", "-E", "PATH", "-E", "HOME"])
        .arg(program)
        .args(args);
    let tool = Spawned::spawn(
        cmd,
        format!("systemd-socket-activate {}", program.display()),
    );
    p.wait_until(T, "systemd-socket-activate listening", || {
        tool.stderr().contains("Listening on").then_some(())
    });
    tool
}

/// Connects and sends a request; the reply is read later ([`reply`]).
fn request(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect the passed socket");
    s.set_read_timeout(Some(T)).expect("read timeout");
    s.write_all(b"GET / HTTP/1.0\r\n\r\n")
        .expect("send the request");
    s
}

/// The pid the app says served the request.
fn reply(mut s: TcpStream) -> i64 {
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read the reply");
    text.rsplit("pid=")
        .next()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid in the reply {text:?}"))
}

#[cfg_attr(
    no_socket_activate,
    ignore = "systemd-socket-activate not installed (Debian's systemd; scripts/install-deps.sh)"
)]
#[test]
fn pm2_runtime_serves_an_app_on_the_socket_systemd_passed() {
    let p = Pm2::new("sd_runtime");
    let port = free_port();
    let file = ecosystem(&p, &format!("127.0.0.1:{port}"));
    let runtime = runtime_bin(&p);
    let mut tool = activate(&p, port, &runtime, &[&file]);
    // Made before pm2-runtime runs: the tool execs it on this connection.
    let early: Vec<TcpStream> = (0..3).map(|_| request(port)).collect();
    let served: Vec<i64> = early.into_iter().map(reply).collect();
    let pid = i64::from(p.wait_online(0));
    assert_eq!(
        served,
        vec![pid; 3],
        "every early connection served by the app"
    );
    assert_eq!(reply(request(port)), pid);
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default();
    assert!(
        log.contains(&format!(
            "Socket from systemd  : 127.0.0.1:{port} (name \"web\""
        )) && log.contains("uses the socket systemd passed"),
        "pm2.log:\n{log}"
    );
    // The daemon took the variables: the app's are its own (LISTEN_PID is the app's pid).
    p.wait_file_contains(
        &p.home.join("logs/web-out.log"),
        &format!("serving fds=1 names=web pid={pid}"),
        T,
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(tool.pid()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM pm2-runtime");
    let (code, _, err) = tool.try_finish(T).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code, Some(0), "{err}");
}

#[cfg_attr(
    no_socket_activate,
    ignore = "systemd-socket-activate not installed (Debian's systemd; scripts/install-deps.sh)"
)]
#[test]
fn the_cli_hands_the_passed_socket_to_its_daemon_and_a_restart_keeps_it() {
    let p = Pm2::new("sd_cli");
    let port = free_port();
    let file = ecosystem(&p, "fd:web");
    let tool = activate(&p, port, p.bin_path(), &["start", &file]);
    let early = request(port);
    // The CLI under the socket must be the one that spawns the daemon: nothing here may
    // ask the daemon anything (which would spawn one without the socket) until it exits.
    let (code, out, err) = tool.finish(T);
    assert_eq!(code, Some(0), "pm2 start under the socket: {out}{err}");
    let first = i64::from(p.wait_online(0));
    assert_eq!(reply(early), first);
    // The daemon outlives the CLI and holds the socket: a restart refuses no connection.
    p.ok(&["restart", "web"]);
    let second = i64::from(p.wait_online(0));
    assert_ne!(first, second);
    assert_eq!(reply(request(port)), second);
}

#[test]
fn a_passed_socket_name_that_was_not_passed_is_refused() {
    let p = Pm2::new("sd_missing");
    let file = ecosystem(&p, "fd:web");
    let out = p.run(&["start", &file]);
    assert_ne!(out.code, Some(0), "{out:?}");
    p.expect_output(&out, "systemd passed the daemon no socket named \"web\"");
    assert_eq!(p.app_count(), 0, "nothing registered");
    let out = p.fails(&["start", &ecosystem(&p, "fd:a:b")], 1);
    p.expect_output(&out, "FileDescriptorName");
}
