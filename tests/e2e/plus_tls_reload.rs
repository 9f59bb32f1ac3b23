//! A renewed certificate without a restart of `pm2-plus` (pm2-rs beyond PM2 7, whose
//! dashboard is the hosted PM2 Plus service: no reference twin). The dashboard serves the
//! files `pm2-plus:tls_cert` and `tls_key` name; the test swaps them for a pair of another
//! throwaway CA (made with the `openssl` CLI), as a certbot renewal does, and reads the
//! certificate presented over real TLS connections: new ones get the new certificate, one
//! opened before still answers, a bad new pair (the key of another certificate) keeps the
//! one in force and the dashboard's log says why, and the next good pair is taken. The
//! dashboard's pid never changes.

use crate::harness::cluster::free_port;
use crate::harness::tls::{client_config, make_pki, Pki};
use crate::harness::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// A TLS connection to the dashboard verified with `config`, and the certificate it
/// presented (DER).
fn connect(config: &Arc<rustls::ClientConfig>, port: u16) -> Result<(Tls, Vec<u8>), String> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let mut conn =
        rustls::ClientConnection::new(Arc::clone(config), name).map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)
            .map_err(|e| format!("handshake: {e}"))?;
    }
    let presented = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .ok_or("no certificate presented")?;
    Ok((rustls::StreamOwned::new(conn, tcp), presented))
}

/// The certificate of a PEM file (DER).
fn der(path: &Path) -> Vec<u8> {
    CertificateDer::pem_file_iter(path)
        .expect("the certificate file")
        .next()
        .expect("a certificate")
        .expect("a readable certificate")
        .to_vec()
}

/// Replaces `to` with `from`'s bytes at once (a new file renamed over it, as certbot's
/// new links are).
fn swap(from: &Path, to: &Path) {
    let tmp = to.with_extension("new");
    std::fs::copy(from, &tmp).expect("copy the new file");
    std::fs::rename(&tmp, to).expect("rename it over the served one");
}

/// Whether a new connection trusting `pki`'s CA gets `pki`'s certificate.
fn serves(port: u16, pki: &Pki) -> Option<()> {
    let (_, presented) = connect(&client_config(&pki.ca), port).ok()?;
    (presented == der(&pki.cert)).then_some(())
}

/// One keep-alive request on an open connection, its answer read whole; its status line.
fn status_line(tls: &mut Tls, bearer: &str) -> String {
    let req =
        format!("GET /api/session HTTP/1.1\r\nHost: localhost\r\nAuthorization: {bearer}\r\n\r\n");
    tls.write_all(req.as_bytes())
        .expect("write on the open connection");
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&raw).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if body.len() >= length {
                return head.lines().next().unwrap_or_default().to_string();
            }
        }
        let n = tls.read(&mut buf).expect("read on the open connection");
        assert!(n > 0, "the open connection closed: {text}");
        raw.extend_from_slice(&buf[..n]);
    }
}

fn dashboard_pid(p: &Pm2) -> i64 {
    p.apps()
        .into_iter()
        .find(|a| a["name"] == "pm2-plus")
        .and_then(|a| a["pid"].as_i64())
        .unwrap_or_else(|| p.fail("pm2-plus is not in the list", None))
}

/// The dashboard's log file `key` (`pm_out_log_path`, `pm_err_log_path`).
fn log(p: &Pm2, key: &str) -> String {
    let path = p
        .apps()
        .into_iter()
        .find(|a| a["name"] == "pm2-plus")
        .map(|a| env_str(&a, key).to_string())
        .unwrap_or_else(|| p.fail("pm2-plus is not in the list", None));
    std::fs::read_to_string(path).unwrap_or_default()
}

fn err_log(p: &Pm2) -> String {
    log(p, "pm_err_log_path")
}

#[test]
#[cfg_attr(no_openssl, ignore = "openssl not installed (scripts/install-deps.sh)")]
fn a_renewed_certificate_is_served_without_a_restart_and_a_bad_pair_keeps_the_old_one() {
    require(
        have("openssl"),
        "openssl not installed (scripts/install-deps.sh)",
    );
    let p = Pm2::new("plus_tls_reload");
    let (old, new) = (make_pki(&p.dir, "oldca"), make_pki(&p.dir, "newca"));
    let served = p.dir.join("served");
    std::fs::create_dir_all(&served).expect("the served folder");
    let (cert, key) = (served.join("cert.pem"), served.join("key.pem"));
    swap(&old.cert, &cert);
    swap(&old.key, &key);
    let port = free_port();
    p.ok(&["set", "pm2-plus:port", &port.to_string()]);
    p.ok(&["set", "pm2-plus:tls_cert", &cert.to_string_lossy()]);
    p.ok(&["set", "pm2-plus:tls_key", &key.to_string_lossy()]);
    p.ok(&["plus"]);
    let token = std::fs::read_to_string(p.home.join("plus/api-token")).expect("the API token");
    let bearer = format!("Bearer {}", token.trim());
    let pid = dashboard_pid(&p);
    p.wait_until(T, "the old certificate served", || serves(port, &old));
    let (mut open, _) = connect(&client_config(&old.ca), port).unwrap_or_else(|e| p.fail(&e, None));
    assert_eq!(status_line(&mut open, &bearer), "HTTP/1.1 200 OK");

    // Renewed: new connections get the new certificate; the open one goes on.
    swap(&new.cert, &cert);
    swap(&new.key, &key);
    p.wait_until(T, "the new certificate served", || serves(port, &new));
    assert_eq!(status_line(&mut open, &bearer), "HTTP/1.1 200 OK");
    let out = log(&p, "pm_out_log_path");
    assert!(out.contains("TLS certificate reloaded from"), "{out}");

    // A bad pair (the old certificate with the new key): the new one stays in force.
    let refused = "TLS certificate not reloaded, the previous one stays in force";
    let before = err_log(&p).matches(refused).count();
    swap(&old.cert, &cert);
    let why = p.wait_until(T, "the bad pair refused in the log", || {
        let _ = serves(port, &new); // The files are looked at on accept.
        let log = err_log(&p);
        (log.matches(refused).count() > before).then_some(log)
    });
    assert!(why.contains("the key is not the certificate's"), "{why}");
    serves(port, &new).unwrap_or_else(|| p.fail("the new certificate is no longer served", None));

    // Fixed: the next good pair is taken.
    swap(&old.key, &key);
    p.wait_until(T, "the old pair served again", || serves(port, &old));
    assert_eq!(dashboard_pid(&p), pid, "no restart of pm2-plus");
}
