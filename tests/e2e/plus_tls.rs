//! `pm2 plus` over TLS (pm2-rs beyond PM2 7, whose `pm2 plus` logs in to the hosted PM2
//! Plus service, so no reference twins): with `pm2-plus:tls_cert` and `tls_key` set the
//! dashboard serves HTTPS only (the printed URL and `listening.json` say https://, the
//! session cookie is `Secure`, responses carry HSTS), plain HTTP and failed handshakes
//! to its port end only that connection, bad files are refused by `pm2 plus` naming the
//! setting and the file, a browser logs in over https://, and `https://` webhooks reach
//! a receiver signed by `pm2-plus:webhook_ca` while an untrusted one gets nothing and the
//! failure is logged without the URL's secret path.

use crate::harness::browser::Browser;
use crate::harness::cluster::free_port;
use crate::harness::http::{request, Reply};
use crate::harness::tls::{self, make_pki, Pki};
use crate::harness::webhook::Webhook;
use crate::harness::*;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// Sets a free port and the certificate and key; the port.
fn tls_settings(p: &Pm2, pki: &Pki) -> u16 {
    tls_settings_at(p, pki, free_port())
}

/// Sets `port` and the certificate and key; the port.
fn tls_settings_at(p: &Pm2, pki: &Pki, port: u16) -> u16 {
    p.ok(&["set", "pm2-plus:port", &port.to_string()]);
    p.ok(&["set", "pm2-plus:tls_cert", &path(&pki.cert)]);
    p.ok(&["set", "pm2-plus:tls_key", &path(&pki.key)]);
    port
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `pm2 plus`, checked to print the https:// URL; the one-time login token.
fn plus_https(p: &Pm2, port: u16) -> String {
    let out = p.ok(&["plus"]);
    let url = format!("https://127.0.0.1:{port}");
    p.expect_output(&out, &format!("PM2 Plus dashboard: {url}"));
    let link = format!("{url}/login?token=");
    let at = out
        .stdout
        .find(&link)
        .unwrap_or_else(|| p.fail("no https:// login link printed", Some(&out)));
    out.stdout[at + link.len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

fn https(
    p: &Pm2,
    config: &Arc<rustls::ClientConfig>,
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
) -> Reply {
    tls::send(config, port, "GET", path, headers, b"")
        .unwrap_or_else(|e| p.fail(&format!("GET {path} over TLS: {e}"), None))
}

/// The dashboard's pid and restart count.
fn dashboard(p: &Pm2) -> (i64, u64) {
    let app = p
        .apps()
        .into_iter()
        .find(|a| a["name"] == "pm2-plus")
        .unwrap_or_else(|| p.fail("pm2-plus is not in the list", None));
    (
        app["pid"].as_i64().unwrap_or(0),
        env_u64(&app, "restart_time"),
    )
}

fn need_openssl() {
    require(
        have("openssl"),
        "openssl not installed (scripts/install-deps.sh)",
    );
}

#[test]
#[cfg_attr(no_openssl, ignore = "openssl not installed (scripts/install-deps.sh)")]
fn plus_serves_https_only_with_a_certificate_and_survives_plaintext_and_bad_handshakes() {
    need_openssl();
    let p = Pm2::new("plus_tls_api");
    let pki = make_pki(&p.dir, "dash");
    // A dashboard running on plain HTTP is restarted on HTTPS once a certificate is set.
    let port = free_port();
    p.ok(&["set", "pm2-plus:port", &port.to_string()]);
    let out = p.ok(&["plus"]);
    p.expect_output(
        &out,
        &format!("PM2 Plus dashboard: http://127.0.0.1:{port}"),
    );
    assert_eq!(tls_settings_at(&p, &pki, port), port);
    let token = plus_https(&p, port);
    let listening = std::fs::read_to_string(p.home.join("plus").join("listening.json"))
        .unwrap_or_else(|e| p.fail(&format!("no listening.json: {e}"), None));
    let listening: Value = serde_json::from_str(&listening).expect("listening.json is JSON");
    assert_eq!(
        listening["url"],
        format!("https://127.0.0.1:{port}"),
        "{listening}"
    );
    let before = dashboard(&p);

    let trusting = tls::client_config(&pki.ca);
    let login = https(&p, &trusting, port, &format!("/login?token={token}"), &[]);
    assert_eq!(login.status, 303, "login link over TLS: {}", login.text());
    let cookie = login.header("set-cookie").unwrap_or_default().to_string();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert_eq!(
        login.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    let cookie = cookie.split(';').next().unwrap_or_default().to_string();
    let list = https(
        &p,
        &trusting,
        port,
        "/api/processes",
        &[("Cookie", &cookie)],
    );
    assert_eq!(list.status, 200, "{}", list.text());
    let list: Value = serde_json::from_slice(&list.body).expect("JSON");
    assert!(
        list.as_array()
            .is_some_and(|l| l.iter().any(|a| a["name"] == "pm2-plus")),
        "{list}"
    );
    let refused = https(&p, &trusting, port, "/api/processes", &[]);
    assert_eq!(refused.status, 401, "no session over TLS either");

    // Plain HTTP to the HTTPS port: told to use https://, nothing served.
    let plain = request(port, "GET", "/api/processes", &[("Cookie", &cookie)])
        .unwrap_or_else(|e| p.fail(&format!("plain request: {e}"), None));
    assert_eq!(plain.status, 400, "{}", plain.text());
    assert!(
        plain.text().contains("serves HTTPS only") && !plain.text().contains("pm2-plus\""),
        "{}",
        plain.text()
    );
    // A client that does not trust the certificate: its handshake fails.
    let other = make_pki(&p.dir, "other");
    let untrusting = tls::client_config(&other.ca);
    let e = tls::send(&untrusting, port, "GET", "/", &[], b"")
        .expect_err("a client not trusting the CA must not get an answer");
    assert!(e.contains("certificate") || e.contains("Unknown"), "{e}");
    // Garbage that starts like a TLS record, then a half-open connection.
    let mut junk = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    std::io::Write::write_all(&mut junk, b"\x16\x03\x01\x00\x05hello").expect("write");
    let _idle = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");

    let again = https(
        &p,
        &trusting,
        port,
        "/api/processes",
        &[("Cookie", &cookie)],
    );
    assert_eq!(again.status, 200, "still serving: {}", again.text());
    assert_eq!(
        dashboard(&p),
        before,
        "the dashboard neither crashed nor restarted"
    );
}

#[test]
#[cfg_attr(no_openssl, ignore = "openssl not installed (scripts/install-deps.sh)")]
fn bad_tls_settings_are_refused_naming_the_setting_and_the_file() {
    need_openssl();
    let p = Pm2::new("plus_tls_bad");
    let pki = make_pki(&p.dir, "dash");
    let other = make_pki(&p.dir, "other");
    let port = free_port();
    p.ok(&["set", "pm2-plus:port", &port.to_string()]);
    let not_pem = p.dir.join("not.pem");
    std::fs::write(&not_pem, "just text\n").expect("write not.pem");
    let missing = p.dir.join("missing.pem");
    let (cert, key) = (path(&pki.cert), path(&pki.key));
    let cases: [(&str, String, String, &str); 5] = [
        ("tls_cert", path(&missing), key.clone(), "cannot read it"),
        ("tls_cert", path(&not_pem), key.clone(), "not a PEM file"),
        ("tls_key", cert.clone(), path(&not_pem), "not a PEM file"),
        (
            "tls_key",
            cert.clone(),
            path(&other.key),
            "is not the certificate's",
        ),
        ("tls_key", cert.clone(), "key.pem".into(), "absolute"),
    ];
    for (setting, cert, key, why) in cases {
        p.ok(&["set", "pm2-plus:tls_cert", &cert]);
        p.ok(&["set", "pm2-plus:tls_key", &key]);
        let out = p.fails(&["plus"], 1);
        p.expect_output(&out, &format!("pm2-plus:{setting}"));
        p.expect_output(&out, why);
        let file = if setting == "tls_cert" { &cert } else { &key };
        p.expect_output(&out, file);
        assert!(
            p.apps().iter().all(|a| a["name"] != "pm2-plus"),
            "nothing started for {setting}={file}"
        );
    }
    // Valid files do not open a public address without a password.
    p.ok(&["set", "pm2-plus:tls_key", &path(&pki.key)]);
    p.ok(&["set", "pm2-plus:host", "0.0.0.0"]);
    let out = p.fails(&["plus"], 1);
    p.expect_output(&out, "without a password");
    p.ok(&["unset", "pm2-plus:host"]);
    p.ok(&["unset", "pm2-plus:tls_key"]);
    let out = p.fails(&["plus"], 1);
    p.expect_output(&out, "pm2-plus:tls_key is not");
    p.ok(&["unset", "pm2-plus:tls_cert"]);
    p.ok(&["set", "pm2-plus:webhook_ca", &path(&not_pem)]);
    let out = p.fails(&["plus"], 1);
    p.expect_output(&out, "pm2-plus:webhook_ca");
    p.expect_output(&out, &path(&not_pem));
    assert!(
        p.apps().is_empty(),
        "the daemon runs nothing: {:?}",
        p.apps()
    );
}

#[test]
#[cfg_attr(no_openssl, ignore = "openssl not installed (scripts/install-deps.sh)")]
#[cfg_attr(no_chromium, ignore = "chromium not on PATH (scripts/install-deps.sh)")]
fn chromium_logs_in_over_https() {
    need_openssl();
    require(
        have("chromium"),
        "chromium not on PATH (scripts/install-deps.sh)",
    );
    let p = Pm2::new("plus_tls_browser");
    let pki = make_pki(&p.dir, "dash");
    let port = tls_settings(&p, &pki);
    let token = plus_https(&p, port);
    // The throwaway CA is not in the browser's store; the check of the chain is the API
    // test's (a client trusting only that CA).
    let mut browser = Browser::launch_with(&p.dir, &["--ignore-certificate-errors"])
        .unwrap_or_else(|e| p.fail(&e, None));
    browser
        .navigate(&format!("https://127.0.0.1:{port}/login?token={token}"))
        .unwrap_or_else(|e| p.fail(&e, None));
    let names = "Array.from(document.querySelectorAll('#processes tbody tr')).map(r => r.dataset.name).join(',')";
    p.wait_until(T, "the page lists the dashboard's own app", || {
        browser
            .eval(names)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            == Some("pm2-plus".into())
    });
    let page = browser
        .eval("location.protocol + ' ' + location.pathname + ' ' + window.isSecureContext")
        .unwrap_or_default();
    assert_eq!(page, Value::String("https: / true".into()));
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plus-tls-login.png");
    if let Err(e) = browser.screenshot(&shot) {
        eprintln!("note: no screenshot: {e}");
    }
}

/// Crashes once, after the dashboard has started watching.
const CRASHER: &str = "setTimeout(() => { throw new Error('tls boom'); }, 500);\n";

#[test]
#[cfg_attr(no_openssl, ignore = "openssl not installed (scripts/install-deps.sh)")]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn https_webhooks_reach_a_receiver_of_the_webhook_ca_and_not_an_untrusted_one() {
    need_openssl();
    let p = Pm2::new("plus_tls_hooks");
    let private = make_pki(&p.dir, "private");
    let stranger = make_pki(&p.dir, "stranger");
    let trusted = Webhook::https(&private.cert, &private.key);
    let untrusted = Webhook::https(&stranger.cert, &stranger.key);
    let secret_path = "/services/T0/B0/s3cr3t";
    let urls = format!("{},{}", trusted.url("/hook"), untrusted.url(secret_path));
    p.ok(&["set", "pm2-plus:port", &free_port().to_string()]);
    p.ok(&["set", "pm2-plus:alert_url", &urls]);
    p.ok(&["set", "pm2-plus:webhook_ca", &path(&private.ca)]);
    p.ok(&["plus"]);
    std::fs::write(p.dir.join("crasher.js"), CRASHER).expect("write crasher.js");
    p.ok(&["start", "crasher.js", "--no-autorestart"]);

    let crash = p.wait_until(T, "the crash alert over https://", || {
        trusted
            .bodies()
            .iter()
            .filter_map(|b| serde_json::from_str::<Value>(b).ok())
            .find(|a| a["event"] == "crash" && a["app"] == "crasher")
    });
    assert_eq!(crash["source"], "pm2-plus", "{crash}");

    let err_log = p.home.join("logs").join("pm2-plus-error.log");
    let shown = format!("https://127.0.0.1:{}/…", untrusted.port);
    let line = p.wait_until(T, "the untrusted receiver's failure logged", || {
        let text = std::fs::read_to_string(&err_log).ok()?;
        text.lines()
            .find(|l| l.contains("not delivered to") && l.contains(&shown))
            .map(String::from)
    });
    assert!(
        line.contains("certificate") && line.contains("5 tries"),
        "{line}"
    );
    let text = std::fs::read_to_string(&err_log).unwrap_or_default();
    assert!(
        !text.contains("s3cr3t"),
        "the secret path is never logged:\n{text}"
    );
    assert_eq!(
        untrusted.posts(),
        0,
        "nothing reached the untrusted receiver"
    );
}
