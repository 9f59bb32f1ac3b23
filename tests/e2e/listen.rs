//! Socket activation (`listen`, beyond PM2): the daemon binds an app's sockets and every
//! process of it inherits them as systemd passes them (fd 3, `LISTEN_FDS`, `LISTEN_PID`,
//! `LISTEN_FDNAMES`), so a restart refuses no connection: clients wait in the backlog of
//! the socket the daemon keeps open. The app here is Python, which knows nothing of PM2.

use crate::harness::cluster::free_port;
use crate::harness::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

fn ecosystem(p: &Pm2, listen: serde_json::Value) -> String {
    let app = p.fixture("listen_app.py");
    let conf = serde_json::json!({"apps": [{
        "name": "web", "script": app, "interpreter": "python3", "listen": listen,
    }]});
    let file = p.dir.join("listen.config.json");
    std::fs::write(&file, conf.to_string()).expect("write the ecosystem");
    file.to_string_lossy().into_owned()
}

/// One request on a new connection: the pid that served it (the fixtures answer
/// `pid=<pid>`).
pub(crate) fn served_pid(port: u16) -> Result<i64, String> {
    let reply = http::get(port, "/")?;
    reply
        .text()
        .strip_prefix("pid=")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("unexpected body {:?}", reply.text()))
}

/// Requests in a loop (a new connection each) while `web` is reloaded three times (a fork
/// app's reload replaces its process, as a restart does): every result.
fn restarts_under_load(p: &Pm2, port: u16) -> Vec<Result<i64, String>> {
    let log = p.home.join("logs/web-out.log");
    let first = p.wait_online(0);
    p.wait_file_contains(&log, &format!("pid={first}"), T);
    let stop = Arc::new(AtomicBool::new(false));
    let results = Arc::new(Mutex::new(Vec::new()));
    let client = {
        let (stop, results) = (Arc::clone(&stop), Arc::clone(&results));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let r = served_pid(port);
                results.lock().unwrap().push(r);
            }
        })
    };
    let mut pids = vec![first];
    for _ in 0..3 {
        p.ok(&["reload", "web"]);
        let new = p.wait_until(T, "a new process online", || {
            let app = p.app(0);
            let now = app["pid"].as_i64().unwrap_or(0) as i32;
            (st(&app) == "online" && !pids.contains(&now)).then_some(now)
        });
        p.wait_file_contains(&log, &format!("pid={new}"), T);
        pids.push(new);
    }
    let last = i64::from(*pids.last().unwrap());
    p.wait_until(T, "a request served by the last process", || {
        let served = results
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.as_ref().ok() == Some(&last));
        served.then_some(())
    });
    stop.store(true, Ordering::Relaxed);
    client.join().expect("client thread");
    let results = results.lock().unwrap();
    results.clone()
}

#[test]
fn three_reloads_under_load_fail_no_request_on_the_daemons_socket() {
    let p = Pm2::new("listen_restart");
    let port = free_port();
    let file = ecosystem(&p, serde_json::json!([format!("127.0.0.1:{port}")]));
    p.ok(&["start", &file]);
    let pid = p.wait_online(0);
    let log = p.home.join("logs/web-out.log");
    p.wait_file_contains(&log, &format!("serving fds=1 names=web pid={pid}"), T);
    assert_eq!(
        p.app(0)["pm2_env"]["listen"][0],
        format!("127.0.0.1:{port}")
    );
    let results = restarts_under_load(&p, port);
    let failed: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let served: std::collections::BTreeSet<i64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} failed: {:?}",
        failed.len(),
        results.len(),
        &failed[..failed.len().min(5)]
    );
    assert!(
        served.len() >= 4,
        "every process served: {served:?} of {} requests",
        results.len()
    );
}

/// The contrast, so the test above can fail: the same app binding its port itself is
/// refused connections while it is reloaded.
#[test]
fn without_listen_the_same_reloads_refuse_connections() {
    let p = Pm2::new("listen_contrast");
    let port = free_port();
    let app = p.fixture("listen_app.py");
    let port_text = port.to_string();
    p.ok_env(
        &[("SELF_BIND_PORT", &port_text)],
        &[
            "start",
            app.to_str().unwrap(),
            "--name",
            "web",
            "--interpreter",
            "python3",
        ],
    );
    let results = restarts_under_load(&p, port);
    let refused = results
        .iter()
        .filter(|r| r.as_ref().is_err_and(|e| e.starts_with("connect")))
        .count();
    assert!(
        refused > 0,
        "no refused connection in {} requests",
        results.len()
    );
}

#[test]
fn a_unix_socket_is_served_and_removed_with_the_app() {
    let p = Pm2::new("listen_unix");
    let sock = p.dir.join("web.sock");
    let file = ecosystem(&p, serde_json::json!(format!("unix:{}", sock.display())));
    p.ok(&["start", &file]);
    let pid = p.wait_online(0);
    p.wait_file_contains(&p.home.join("logs/web-out.log"), "serving fds=1", T);
    let mut s = UnixStream::connect(&sock).expect("connect the app's unix socket");
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("write");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read");
    assert!(reply.ends_with(&format!("pid={pid}")), "{reply}");
    p.ok(&["delete", "web"]);
    p.wait_until(T, "the socket file removed", || {
        (!sock.exists()).then_some(())
    });
}

#[test]
fn bad_listen_values_and_a_port_in_use_are_refused_and_start_nothing() {
    let p = Pm2::new("listen_errors");
    let file = ecosystem(&p, serde_json::json!([70000]));
    let out = p.fails(&["start", &file], 1);
    p.expect_output(&out, "listen");
    let cluster = p.dir.join("cluster.config.json");
    let conf = serde_json::json!({"apps": [{"name": "c", "script": p.fixture("listen_app.py"),
        "exec_mode": "cluster", "instances": 2, "listen": [3000]}]});
    std::fs::write(&cluster, conf.to_string()).expect("write");
    let out = p.fails(&["start", cluster.to_str().unwrap()], 1);
    p.expect_output(&out, "fork mode");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").port();
    let file = ecosystem(&p, serde_json::json!([format!("127.0.0.1:{port}")]));
    let out = p.run(&["start", &file]);
    assert_ne!(out.code, Some(0), "{out:?}");
    p.expect_output(&out, &format!("127.0.0.1:{port}"));
    assert_eq!(p.app_count(), 0, "nothing registered");
    assert!(!Path::new(&p.dir).join("nothing").exists());
}

/// `pm2 save` keeps `listen`, and `pm2 resurrect` binds the sockets again.
#[test]
fn save_and_resurrect_keep_the_sockets() {
    let p = Pm2::new("listen_resurrect");
    let port = free_port();
    let file = ecosystem(&p, serde_json::json!([format!("127.0.0.1:{port}")]));
    p.ok(&["start", &file]);
    p.wait_online(0);
    p.ok(&["save"]);
    p.ok(&["kill"]);
    p.ok(&["resurrect"]);
    let pid = p.wait_online(0);
    p.wait_until(T, "the resurrected app serving on its socket", || {
        (served_pid(port).ok() == Some(i64::from(pid))).then_some(())
    });
}
