//! A peer that accepts and then says nothing never holds a caller past its deadline: not
//! the target list, not the websocket handshake, not a protocol call.

use pm2_inspector::{targets, Error, Session};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// A loopback listener whose accepted connections are kept open and never answered.
fn silent_peer() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut kept: Vec<TcpStream> = Vec::new();
        for stream in listener.incoming().flatten() {
            kept.push(stream);
        }
    });
    addr
}

/// A loopback websocket server that completes the handshake, then never answers.
fn mute_websocket() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        for stream in listener.incoming().flatten() {
            if let Ok(ws) = tungstenite::accept(stream) {
                kept.push(ws);
            }
        }
    });
    addr
}

fn within(limit: Duration, started: Instant) {
    let took = started.elapsed();
    assert!(took < limit + Duration::from_secs(1), "took {took:?}");
}

#[test]
fn a_silent_http_peer_is_a_timeout_not_a_hang() {
    let addr = silent_peer();
    let started = Instant::now();
    let e = targets::list(addr, Duration::from_millis(300)).unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    within(Duration::from_millis(300), started);
}

#[test]
fn a_silent_websocket_handshake_is_a_timeout_not_a_hang() {
    let addr = silent_peer();
    let started = Instant::now();
    let url = format!("ws://{addr}/x");
    let e = Session::connect(addr, &url, Duration::from_millis(300))
        .err()
        .expect("no session");
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    within(Duration::from_millis(300), started);
}

#[test]
fn an_unanswered_call_is_a_timeout_not_a_hang() {
    let addr = mute_websocket();
    let url = format!("ws://{addr}/x");
    let mut session = Session::connect(addr, &url, Duration::from_secs(5)).expect("session");
    let started = Instant::now();
    let e = session
        .call(
            "Profiler.enable",
            serde_json::json!({}),
            Duration::from_millis(300),
        )
        .unwrap_err();
    assert!(e.to_string().contains("Profiler.enable"), "{e}");
    within(Duration::from_millis(300), started);
}
