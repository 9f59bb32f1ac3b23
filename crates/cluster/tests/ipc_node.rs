//! The IPC channel against real Node children (fork mode, plus one cluster
//! worker). Skipped, with a message, when `node` is not on PATH.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use pm2_cluster::ipc::{self, HandleKind, Incoming, IpcSender, SendError};
use serde_json::{json, Value};
use tokio::sync::mpsc::Receiver;

const STEP: Duration = Duration::from_secs(10);

/// Kills (by pid) and reaps the child it guards.
struct NodeChild(Child);

impl NodeChild {
    fn kill(&self) {
        let _ = kill(Pid::from_raw(self.0.id() as i32), Signal::SIGKILL);
    }
}

impl Drop for NodeChild {
    fn drop(&mut self) {
        self.kill();
        let _ = self.0.wait();
    }
}

fn node_available() -> bool {
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !ok {
        eprintln!("SKIPPED: `node` is not on PATH; the Node IPC tests need it");
    }
    ok
}

/// Spawns `node <args>` with the channel on fd 3; `None` when node is missing.
fn spawn_node(
    args: &[&str],
    cluster_id: Option<u32>,
) -> Option<(NodeChild, IpcSender, Receiver<Incoming>)> {
    spawn_node_with(args, cluster_id, false)
}

/// `child_end_on_3` first moves the child end to fd 3 (still CLOEXEC) in the
/// child, to exercise the `child_end == 3` case of `install_child_end`.
fn spawn_node_with(
    args: &[&str],
    cluster_id: Option<u32>,
    child_end_on_3: bool,
) -> Option<(NodeChild, IpcSender, Receiver<Incoming>)> {
    if !node_available() {
        return None;
    }
    let (parent_end, child_end) = ipc::channel_pair().expect("socketpair");
    let raw = child_end.as_raw_fd();
    let mut command = Command::new("node");
    command
        .args(args)
        .envs(ipc::child_env(cluster_id))
        .stdin(Stdio::null());
    // SAFETY: install_child_end only calls async-signal-safe libc functions.
    unsafe {
        command.pre_exec(move || {
            if !child_end_on_3 {
                return ipc::install_child_end(raw);
            }
            if libc::dup3(raw, 3, libc::O_CLOEXEC) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            ipc::install_child_end(3)
        })
    };
    let child = NodeChild(command.spawn().expect("spawn node"));
    drop(child_end);
    let (sender, incoming) = ipc::start(parent_end).expect("start channel");
    Some((child, sender, incoming))
}

async fn next(incoming: &mut Receiver<Incoming>) -> Incoming {
    tokio::time::timeout(STEP, incoming.recv())
        .await
        .expect("timed out waiting for a message from the child")
        .expect("incoming stream ended without Closed")
}

async fn next_user(incoming: &mut Receiver<Incoming>) -> Value {
    match next(incoming).await {
        Incoming::User(value) => value,
        other => panic!("expected a user message, got {other:?}"),
    }
}

#[tokio::test]
async fn fork_child_ping_pong_keeps_unicode_and_newlines() {
    let script = r#"
        process.on('message', (m) => {
          if (m && m.type === 'ping') {
            process.send({type: 'pong', n: m.n, unicode: 'h\u00e9llo \u2028 \u{1F600}', nl: 'a\nb'});
          }
        });
        process.send('ready');
    "#;
    let Some((_child, sender, mut incoming)) = spawn_node(&["-e", script], None) else {
        return;
    };
    assert_eq!(next_user(&mut incoming).await, json!("ready"));
    sender
        .send(json!({"type": "ping", "n": 1}))
        .expect("send ping");
    let pong = next_user(&mut incoming).await;
    assert_eq!(
        pong,
        json!({"type": "pong", "n": 1, "unicode": "h\u{e9}llo \u{2028} \u{1F600}", "nl": "a\nb"})
    );
    assert!(sender.is_open());
}

#[tokio::test]
async fn child_end_already_on_fd_3_still_reaches_node() {
    let script = "process.on('message', (m) => process.send({echo: m}));";
    let Some((_child, sender, mut incoming)) = spawn_node_with(&["-e", script], None, true) else {
        return;
    };
    sender.send(json!([1, "two"])).expect("send");
    assert_eq!(next_user(&mut incoming).await, json!({"echo": [1, "two"]}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handles_arrive_in_order_and_are_usable() {
    let script = r#"
        const net = require('net');
        process.on('message', (m, handle) => {
          if (m && typeof m.hello === 'number') {
            const evidence = {got: m.hello, type: typeof handle,
                              ctor: handle && handle.constructor.name, fd: handle && handle.fd};
            new net.Socket({handle}).end('hi' + m.hello);
            process.send(evidence);
          } else {
            process.send({echo: m});
          }
        });
        process.send('ready');
    "#;
    let Some((_child, sender, mut incoming)) = spawn_node(&["-e", script], None) else {
        return;
    };
    assert_eq!(next_user(&mut incoming).await, json!("ready"));

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut clients = Vec::new();
    let mut handles = Vec::new();
    for i in 0..5 {
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        client.set_read_timeout(Some(STEP)).expect("timeout");
        let (conn, _) = listener.accept().expect("accept");
        conn.set_nonblocking(true).expect("O_NONBLOCK (study P1)");
        let fd = Arc::new(OwnedFd::from(conn));
        sender
            .send_handle(json!({"hello": i}), HandleKind::NetNative, Arc::clone(&fd))
            .expect("queue handle");
        clients.push(client);
        handles.push(fd);
    }
    // Queued behind five un-ACKed handles; must still come out last.
    sender.send(json!("after")).expect("queue plain message");

    for i in 0..5 {
        let evidence = next_user(&mut incoming).await;
        assert_eq!(
            evidence["got"],
            json!(i),
            "handles out of order: {evidence}"
        );
        assert_eq!(evidence["type"], json!("object"));
        assert_eq!(evidence["ctor"], json!("TCP"), "raw TCPWrap expected");
        assert!(evidence["fd"].as_i64().is_some_and(|fd| fd > 2));
    }
    assert_eq!(next_user(&mut incoming).await, json!({"echo": "after"}));

    for (i, client) in clients.iter_mut().enumerate() {
        let mut got = String::new();
        client.read_to_string(&mut got).expect("read from client");
        assert_eq!(got, format!("hi{i}"));
    }
    // Every handle was ACKed, so the channel let go of its references.
    wait_until(|| handles.iter().all(|fd| Arc::strong_count(fd) == 1)).await;
}

#[tokio::test]
async fn closed_is_delivered_when_the_child_exits() {
    let script = "process.send('ready'); setTimeout(() => process.exit(0), 100);";
    let Some((_child, sender, mut incoming)) = spawn_node(&["-e", script], None) else {
        return;
    };
    assert_eq!(next_user(&mut incoming).await, json!("ready"));
    assert_eq!(next(&mut incoming).await, Incoming::Closed);
    assert!(!sender.is_open());
    assert_eq!(sender.send(json!(1)), Err(SendError::Closed));
    let end = tokio::time::timeout(STEP, incoming.recv()).await;
    assert!(matches!(end, Ok(None)), "Closed must be the last item");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_that_never_reads_makes_send_return_full() {
    let script = "process.send('ready'); setTimeout(() => { for (;;) {} }, 10);";
    let Some((child, sender, mut incoming)) = spawn_node(&["-e", script], None) else {
        return;
    };
    assert_eq!(next_user(&mut incoming).await, json!("ready"));
    let payload = "x".repeat(1024);
    let started = Instant::now();
    let mut sent = 0u32;
    let full = 'filling: loop {
        for _ in 0..64 {
            match sender.send(json!({"n": sent, "pad": payload})) {
                Ok(()) => sent += 1,
                Err(error) => break 'filling error,
            }
        }
        // Let the writer fill the socket buffer for real.
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(sent < 1_000_000, "send never reported Full");
    };
    assert_eq!(full, SendError::Full);
    assert!(started.elapsed() < STEP, "sending blocked");
    assert!(
        sent > ipc::SEND_QUEUE_CAPACITY as u32,
        "the socket buffer took some too"
    );

    child.kill();
    assert_eq!(next(&mut incoming).await, Incoming::Closed);
    wait_until(|| !sender.is_open()).await;
}

#[tokio::test]
async fn cluster_worker_reports_online_as_a_cluster_message() {
    let script = std::env::temp_dir().join(format!("pm2-cluster-ipc-{}.js", std::process::id()));
    std::fs::write(
        &script,
        "const c = require('cluster');\n\
         process.send({isWorker: c.isWorker, id: c.worker.id, env: process.env.NODE_UNIQUE_ID === undefined});\n\
         setTimeout(() => {}, 60000);\n",
    )
    .expect("write worker script");
    let path = script.to_str().expect("utf-8 temp path").to_string();
    let spawned = spawn_node(&[&path], Some(1));
    let Some((_child, _sender, mut incoming)) = spawned else {
        let _ = std::fs::remove_file(&script);
        return;
    };
    match next(&mut incoming).await {
        Incoming::Cluster(online) => {
            assert_eq!(
                online,
                json!({"cmd": "NODE_CLUSTER", "act": "online", "seq": 0})
            );
        }
        other => panic!("expected the online message, got {other:?}"),
    }
    assert_eq!(
        next_user(&mut incoming).await,
        json!({"isWorker": true, "id": 1, "env": true})
    );
    let _ = std::fs::remove_file(&script);
}

async fn wait_until(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + STEP;
    while !condition() {
        assert!(Instant::now() < deadline, "condition not met in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
