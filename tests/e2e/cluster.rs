//! Cluster mode end to end: the daemon is the Node cluster primary, and unmodified
//! `server.listen()` apps share one port (round-robin or shared handles), a unix socket, a
//! UDP socket or a TLS port; `listen(0)`, EADDRINUSE and a SIGKILLed worker under load.
//!
//! Every scenario runs twice: `node20::*` on the `node` on PATH, `node22::*` on Node 22
//! (ignored when it is not installed).

use crate::harness::cluster::*;
use crate::harness::*;
use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

on_each_node!(
    round_robin_spreads_requests_over_both_workers,
    shared_handles_serve_from_both_workers,
    a_sigkilled_worker_under_load_is_respawned_and_no_client_hangs,
    unix_socket_listener_serves_and_is_removed_on_delete,
    udp_datagrams_are_echoed_by_the_workers,
    #[cfg_attr(no_openssl, ignore = "openssl not installed (scripts/install-deps.sh)")]
    tls_servers_in_both_workers,
    listen_zero_gives_both_workers_the_same_port,
    a_taken_port_is_an_error_event_not_a_hang,
    two_cluster_apps_on_one_port_share_its_socket,
);

/// Starts `http_pid.js` as app `web` with `PORT=port` and `extra` flags.
fn start_web(p: &Pm2, node: &Node, port: &str, env: &[(&str, &str)], extra: &[&str]) {
    p.fixture("http_pid.js");
    let mut flags = vec!["--name", "web"];
    flags.extend_from_slice(extra);
    let mut env = env.to_vec();
    env.push(("PORT", port));
    p.ok_env(&env, &node.start_args("http_pid.js", &flags));
}

/// The pids of app `web`'s `n` online instances, in pm_id order.
fn web_pids(p: &Pm2, n: usize) -> Vec<i32> {
    wait_all_online(p, "web", n).iter().map(pid_of).collect()
}

fn round_robin_spreads_requests_over_both_workers(node: &Node) {
    let p = Pm2::new("rr");
    let port = free_port();
    start_web(&p, node, &port.to_string(), &[], &["-i", "2"]);
    let apps = wait_all_online(&p, "web", 2);
    let pids: Vec<i32> = apps.iter().map(pid_of).collect();
    for (i, app) in apps.iter().enumerate() {
        assert_eq!(app["pm_id"], i, "{app:#}");
        assert_eq!(env_str(app, "exec_mode"), "cluster_mode", "{app:#}");
        assert_eq!(env_u64(app, "NODE_APP_INSTANCE"), i as u64, "{app:#}");
        if let Some(path) = &node.path {
            let exe = std::fs::read_link(format!("/proc/{}/exe", pid_of(app)));
            assert_eq!(
                exe.ok().as_ref(),
                Some(path),
                "worker runs on {}",
                node.label
            );
        }
    }
    // Each worker joins the listener when its listen() reaches the primary.
    until_each_pid_serves(&p, &pids, || http_get(port));
    let stats = requests(100, || http_get(port));
    note(&format!(
        "{}: round-robin split over 100 requests: {:?}",
        node.label, stats.by_pid
    ));
    assert_eq!(stats.failed, 0, "{stats:?}");
    for pid in &pids {
        let n = stats.by_pid.get(pid).copied().unwrap_or(0);
        assert!((35..=65).contains(&n), "uneven round-robin: {stats:?}");
    }
    for (i, pid) in pids.iter().enumerate() {
        let log = out_log(&p, "web", i as u64);
        let line = format!("listening port={port} pid={pid} instance={i}");
        p.wait_file_contains(&log, &line, T);
    }
    assert!(
        !p.log_path("web-out.log").exists(),
        "cluster logs are per id"
    );
}

fn shared_handles_serve_from_both_workers(node: &Node) {
    let p = Pm2::new("shared");
    let port = free_port();
    let env = [("NODE_CLUSTER_SCHED_POLICY", "none")];
    start_web(&p, node, &port.to_string(), &env, &["-i", "2"]);
    let pids = web_pids(&p, 2);
    // `online` comes before listen(); a shared socket refuses connections until a worker
    // listens on it.
    for (i, pid) in pids.iter().enumerate() {
        let line = format!("listening port={port} pid={pid} instance={i}");
        p.wait_file_contains(&out_log(&p, "web", i as u64), &line, T);
    }
    let warmup = until_each_pid_serves(&p, &pids, || http_get(port));
    assert_eq!(warmup.failed, 0, "{warmup:?}");
    let stats = requests(200, || http_get(port));
    note(&format!(
        "{}: shared-handle split over 200 requests: {:?} (warm-up {:?})",
        node.label, stats.by_pid, warmup.by_pid
    ));
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert!(
        stats.by_pid.keys().all(|pid| pids.contains(pid)),
        "{stats:?}"
    );
}

fn a_sigkilled_worker_under_load_is_respawned_and_no_client_hangs(node: &Node) {
    let p = Pm2::new("sigkill");
    let port = free_port();
    start_web(&p, node, &port.to_string(), &[], &["-i", "2"]);
    let pids = web_pids(&p, 2);
    until_each_pid_serves(&p, &pids, || http_get(port));
    let traffic = Traffic::http(port, 2);
    traffic.wait_for_more(&p, 100);
    sigkill(pids[0]);
    let mut fresh = 0;
    p.wait_until(T, "worker 0 to be respawned", || {
        let app = p.app(0);
        fresh = pid_of(&app);
        st(&app) == "online" && fresh > 0 && fresh != pids[0]
    });
    // The new worker must take its share again, not only be alive.
    p.wait_until(T, "the respawned worker to serve", || {
        http_get(port).is_ok_and(|pid| pid == fresh)
    });
    traffic.wait_for_more(&p, 100);
    let stats = traffic.finish(&p, 300);
    note(&format!(
        "{}: SIGKILL under load: {} requests, {} failed, split {:?}",
        node.label,
        stats.total(),
        stats.failed,
        stats.by_pid
    ));
    assert_eq!(stats.timeouts, 0, "a client hung: {stats:?}");
    assert!(stats.failed <= 5, "more than a few failures: {stats:?}");
    let (killed, other) = (p.app(0), p.app(1));
    assert_eq!(env_u64(&killed, "restart_time"), 1, "{killed:#}");
    assert_eq!(pid_of(&other), pids[1], "the other worker was left alone");
    assert_eq!(env_u64(&other, "restart_time"), 0, "{other:#}");
}

fn unix_socket_listener_serves_and_is_removed_on_delete(node: &Node) {
    let p = Pm2::new("unix");
    let sock = p.dir.join("web.sock");
    start_web(
        &p,
        node,
        sock.to_str().expect("UTF-8 path"),
        &[],
        &["-i", "2"],
    );
    let pids = web_pids(&p, 2);
    until_each_pid_serves(&p, &pids, || unix_get(&sock));
    let stats = requests(50, || unix_get(&sock));
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert_eq!(stats.by_pid.len(), 2, "both workers serve: {stats:?}");
    // The listener (and its path) outlives a reload: new workers join before old ones leave.
    p.ok(&["reload", "web"]);
    let fresh = web_pids(&p, 2);
    assert!(fresh.iter().all(|pid| !pids.contains(pid)), "{fresh:?}");
    until_each_pid_serves(&p, &fresh, || unix_get(&sock));
    assert!(sock.exists());
    p.ok(&["delete", "web"]);
    p.wait_until(T, "the socket file to be removed", || !sock.exists());
    for pid in fresh {
        assert!(!alive(pid), "worker {pid} survived delete");
    }
}

fn udp_datagrams_are_echoed_by_the_workers(node: &Node) {
    let p = Pm2::new("udp");
    let port = free_udp_port();
    p.fixture("udp_echo.js");
    let flags = ["--name", "udp", "-i", "2"];
    let port_s = port.to_string();
    p.ok_env(
        &[("PORT", &port_s)],
        &node.start_args("udp_echo.js", &flags),
    );
    let apps = wait_all_online(&p, "udp", 2);
    let pids: Vec<i32> = apps.iter().map(pid_of).collect();
    for (i, pid) in pids.iter().enumerate() {
        let line = format!("bound port={port} pid={pid}");
        p.wait_file_contains(&out_log(&p, "udp", i as u64), &line, T);
    }
    let client = UdpSocket::bind("127.0.0.1:0").expect("client socket");
    client
        .set_read_timeout(Some(REQUEST_TIMEOUT))
        .expect("timeout");
    let mut stats = Stats::default();
    for i in 0..40 {
        let payload = format!("ping-{i}");
        client
            .send_to(payload.as_bytes(), ("127.0.0.1", port))
            .expect("send");
        let mut buf = [0u8; 512];
        let reply = match client.recv(&mut buf) {
            Ok(n) => {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                match text.split_once(' ') {
                    Some((pid, rest)) if rest == payload => pid
                        .strip_prefix("pid=")
                        .and_then(|s| s.parse().ok())
                        .ok_or(text.clone()),
                    _ => Err(format!("unexpected echo {text:?} for {payload}")),
                }
            }
            Err(e) => Err(format!("recv: {e}")),
        };
        stats.add(reply);
    }
    note(&format!(
        "{}: UDP echo split over 40 datagrams: {:?}",
        node.label, stats.by_pid
    ));
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert!(
        stats.by_pid.keys().all(|pid| pids.contains(pid)),
        "{stats:?}"
    );
}

fn tls_servers_in_both_workers(node: &Node) {
    require(
        have("openssl"),
        "openssl not installed (scripts/install-deps.sh)",
    );
    let p = Pm2::new("tls");
    let args = [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-days",
        "1",
        "-keyout",
        "key.pem",
        "-out",
        "cert.pem",
    ];
    if let Err(e) = command_stdout("openssl", &args, &p.dir) {
        p.fail(&format!("cannot make a self-signed certificate: {e}"), None);
    }
    p.fixture("https_pid.js");
    let port = free_port().to_string();
    let (key, cert) = (p.dir.join("key.pem"), p.dir.join("cert.pem"));
    let env = [
        ("PORT", port.as_str()),
        ("KEY", key.to_str().expect("UTF-8")),
        ("CERT", cert.to_str().expect("UTF-8")),
    ];
    let flags = ["--name", "tls", "-i", "2"];
    p.ok_env(&env, &node.start_args("https_pid.js", &flags));
    let pids: Vec<i32> = wait_all_online(&p, "tls", 2).iter().map(pid_of).collect();
    for (i, pid) in pids.iter().enumerate() {
        let line = format!("listening port={port} pid={pid}");
        p.wait_file_contains(&out_log(&p, "tls", i as u64), &line, T);
    }
    if have("curl") {
        let url = format!("https://127.0.0.1:{port}/");
        let curl = || -> Reply {
            let body = command_stdout("curl", &["-ks", "--max-time", "5", &url], &p.dir)?;
            body.trim()
                .strip_prefix("pid=")
                .and_then(|s| s.parse().ok())
                .ok_or(body)
        };
        let stats = until_each_pid_serves(&p, &pids, curl);
        assert_eq!(stats.failed, 0, "{stats:?}");
    } else {
        note("curl missing: only checking that both TLS workers listen and stay up");
        // No request possible: watch for a crash loop for a while instead.
        during(Duration::from_secs(2), Duration::from_millis(100), || {
            let crashed = instances(&p, "tls")
                .iter()
                .any(|a| env_u64(a, "restart_time") > 0);
            assert!(!crashed, "a TLS worker restarted");
        });
    }
    for app in instances(&p, "tls") {
        assert_eq!(
            env_u64(&app, "restart_time"),
            0,
            "a TLS worker crashed: {app:#}"
        );
        assert!(pids.contains(&pid_of(&app)), "{app:#}");
    }
}

fn listen_zero_gives_both_workers_the_same_port(node: &Node) {
    let p = Pm2::new("listen0");
    start_web(&p, node, "0", &[], &["-i", "2"]);
    let pids = web_pids(&p, 2);
    let mut ports = Vec::new();
    for (i, pid) in pids.iter().enumerate() {
        let log = out_log(&p, "web", i as u64);
        let tail = format!(" pid={pid} instance={i}");
        let mut port = None;
        p.wait_until(T, &format!("worker {i} to log its port"), || {
            port = read(&log).lines().find_map(|l| {
                l.strip_prefix("listening port=")?
                    .strip_suffix(&tail)?
                    .parse::<u16>()
                    .ok()
            });
            port.is_some()
        });
        ports.push(port.expect("found above"));
    }
    assert_ne!(ports[0], 0, "listen(0) must report the real port");
    assert_eq!(ports[0], ports[1], "both workers share one port");
    let stats = until_each_pid_serves(&p, &pids, || http_get(ports[0]));
    assert_eq!(stats.failed, 0, "{stats:?}");
    // Reloaded workers are handed the same listener, so the same port.
    p.ok(&["reload", "web"]);
    let fresh = web_pids(&p, 2);
    for (i, pid) in fresh.iter().enumerate() {
        let line = format!("listening port={} pid={pid} instance={i}", ports[0]);
        p.wait_file_contains(&out_log(&p, "web", i as u64), &line, T);
    }
    let stats = until_each_pid_serves(&p, &fresh, || http_get(ports[0]));
    assert_eq!(stats.failed, 0, "{stats:?}");
}

fn a_taken_port_is_an_error_event_not_a_hang(node: &Node) {
    let p = Pm2::new("eaddrinuse");
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port();
    start_web(&p, node, &port.to_string(), &[], &["-i", "1"]);
    let pid = web_pids(&p, 1)[0];
    let line = format!("listen error EADDRINUSE pid={pid}");
    p.wait_file_contains(&out_log(&p, "web", 0), &line, T);
    let app = p.app(0);
    assert_eq!(st(&app), "online", "{app:#}");
    assert_eq!(env_u64(&app, "restart_time"), 0, "{app:#}");
    assert!(alive(pid));
    drop(holder);
}

/// As in PM2, whose one daemon is the Node primary of every cluster app: a second app
/// listening on the same port joins the first one's socket instead of failing with
/// EADDRINUSE, and connections are spread over the workers of both.
fn two_cluster_apps_on_one_port_share_its_socket(node: &Node) {
    let p = Pm2::new("shared_port");
    let port = free_port();
    p.fixture("http_pid.js");
    let env = [("PORT", port.to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for name in ["blue", "green"] {
        p.ok_env(
            &env,
            &node.start_args("http_pid.js", &["--name", name, "-i", "1"]),
        );
    }
    let pids: Vec<i32> = ["blue", "green"]
        .iter()
        .map(|name| pid_of(&wait_all_online(&p, name, 1)[0]))
        .collect();
    until_each_pid_serves(&p, &pids, || http_get(port));
    let stats = requests(40, || http_get(port));
    assert_eq!(stats.failed, 0, "{stats:?}");
    for pid in &pids {
        assert!(
            stats.by_pid.get(pid).copied().unwrap_or(0) > 0,
            "both apps serve: {stats:?}"
        );
    }
    for app in p.apps() {
        assert_eq!(env_u64(&app, "restart_time"), 0, "no crash loop: {app:#}");
    }
    for (i, pid) in pids.iter().enumerate() {
        let log = std::fs::read_to_string(out_log(&p, ["blue", "green"][i], i as u64));
        assert!(
            !log.unwrap_or_default().contains("EADDRINUSE"),
            "pid {pid} listened"
        );
    }
}

/// `start`, `restart` and `scale` of a cluster app answer once its workers are `online`
/// (Node's cluster `online`), as PM2's do: a `list` right after never shows one
/// `launching`. The workers are slow to come up (their `node` waits a second first).
#[test]
fn start_restart_and_scale_reply_once_cluster_workers_are_online() {
    let p = Pm2::new("online_reply");
    p.fixture("http_pid.js");
    let slow = p.dir.join("slow");
    std::fs::create_dir_all(&slow).expect("slow/");
    let node = slow.join("node");
    std::fs::write(&node, "#!/bin/sh\nsleep 1\nexec node \"$@\"\n").expect("slow node");
    std::fs::set_permissions(&node, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let port = free_port().to_string();
    let node = node.to_string_lossy().into_owned();
    let all_online = |what: &str, n: usize| {
        let apps = instances(&p, "web");
        assert_eq!(apps.len(), n, "{what}: {apps:#?}");
        for app in &apps {
            assert_eq!(st(app), "online", "right after {what}: {app:#}");
            assert_eq!(env_str(app, "exec_mode"), "cluster_mode");
        }
    };
    let start = [
        "start",
        "http_pid.js",
        "--interpreter",
        &node,
        "-i",
        "2",
        "--name",
        "web",
    ];
    p.ok_env(&[("PORT", &port)], &start);
    all_online("start", 2);
    p.ok(&["restart", "web"]);
    all_online("restart", 2);
    p.ok(&["scale", "web", "3"]);
    all_online("scale", 3);
}
