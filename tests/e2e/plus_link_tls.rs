//! `pm2 link` to an `https://` dashboard (pm2-rs beyond PM2 7, whose link goes to the
//! hosted PM2 Plus service, so no reference twin). Home A serves the dashboard with a
//! certificate of a throwaway CA; home B links to it: without the CA (not in the system
//! store) or with another CA, `pm2 link` fails naming `--ca` and the agent keeps trying;
//! with `--ca <the CA>` it links and B's apps show in A's `/api/fleet` over HTTPS. Bad
//! `--ca` input changes nothing.

use crate::harness::tls::{self, make_pki, Pki};
use crate::harness::*;
use crate::plus::world;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// A's dashboard over HTTPS with `pki`'s certificate; its port, link secret and URL.
fn https_dashboard(a: &Pm2, pki: &Pki) -> (u16, String, String) {
    let port = world(a);
    a.ok(&["set", "pm2-plus:tls_cert", &path(&pki.cert)]);
    a.ok(&["set", "pm2-plus:tls_key", &path(&pki.key)]);
    let out = a.ok(&["plus"]);
    let at = out
        .stdout
        .find("pm2 link ")
        .unwrap_or_else(|| a.fail("no `pm2 link` line", Some(&out)));
    let words: Vec<&str> = out.stdout[at..].split_whitespace().collect();
    let (secret, url) = (words[2].to_string(), words[3].to_string());
    assert_eq!(url, format!("https://127.0.0.1:{port}"), "{}", out.stdout);
    (port, secret, url)
}

fn agent_err_log(b: &Pm2) -> String {
    b.apps()
        .into_iter()
        .find(|x| x["name"] == "pm2-link")
        .map(|x| env_str(&x, "pm_err_log_path").to_string())
        .unwrap_or_else(|| b.fail("pm2-link is not in B's list", None))
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
#[cfg_attr(no_openssl, ignore = "openssl not installed (scripts/install-deps.sh)")]
fn a_host_links_over_https_with_its_ca_and_an_untrusted_certificate_is_refused() {
    require(
        have("openssl"),
        "openssl not installed (scripts/install-deps.sh)",
    );
    let a = Pm2::new("linktls_a");
    let pki = make_pki(&a.dir, "linkca");
    let other = make_pki(&a.dir, "otherca");
    let (port, secret, url) = https_dashboard(&a, &pki);
    let b = Pm2::new("linktls_b");
    std::fs::write(b.dir.join("hostb.js"), "setInterval(() => {}, 1000);\n").expect("hostb.js");
    b.ok(&["start", "hostb.js", "--name", "bapp"]);

    // Bad --ca: refused, nothing stored or started.
    let missing = a.dir.join("missing.pem");
    for (args, says) in [
        (
            vec![
                "link",
                &secret,
                "http://127.0.0.1:1",
                "hostb",
                "--ca",
                pki.ca.to_str().unwrap_or(""),
            ],
            "--ca is for an https:// dashboard",
        ),
        (
            vec![
                "link",
                &secret,
                &url,
                "hostb",
                "--ca",
                missing.to_str().unwrap_or(""),
            ],
            "cannot read it",
        ),
        (
            vec![
                "link",
                &secret,
                &url,
                "hostb",
                "--ca",
                pki.key.to_str().unwrap_or(""),
            ],
            "not a PEM file with a CERTIFICATE block",
        ),
    ] {
        let out = b.fails(&args, 1);
        b.check(out.stderr.contains(says), says, &out);
        b.check(
            out.stderr.contains("nothing was done"),
            "nothing done",
            &out,
        );
    }
    assert!(!b.home.join("agent.json5").exists(), "no link kept");

    // The throwaway CA is in no system store: not trusted, said with the fix; the agent
    // keeps trying.
    let out = b.fails(&["link", &secret, &url, "hostb"], 1);
    b.expect_output(&out, "does not trust");
    b.expect_output(&out, "--ca");
    let err_log = agent_err_log(&b);
    b.wait_until(
        T,
        "the agent tried twice, each time refusing the certificate",
        || {
            std::fs::read_to_string(&err_log)
                .unwrap_or_default()
                .matches("is not trusted")
                .count()
                >= 2
        },
    );
    let status = b.ok(&["link"]);
    b.expect_output(&status, "untrusted");

    // Another CA's certificate is not this dashboard's either.
    let out = b.fails(
        &["link", &secret, &url, "hostb", "--ca", &path(&other.ca)],
        1,
    );
    b.expect_output(&out, "does not trust");

    // With the dashboard's CA: linked, B's app in A's fleet over HTTPS.
    let out = b.ok(&["link", &secret, &url, "hostb", "--ca", &path(&pki.ca)]);
    b.expect_output(&out, &format!("Linked to {url} as hostb"));
    let stored: Value = serde_json::from_str(
        &std::fs::read_to_string(b.home.join("agent.json5")).unwrap_or_default(),
    )
    .unwrap_or(Value::Null);
    assert_eq!(stored["ca_file"], path(&pki.ca), "{stored}");
    let token = std::fs::read_to_string(a.home.join("plus/api-token")).expect("API token");
    let bearer = format!("Bearer {}", token.trim());
    let auth = [("Authorization", bearer.as_str())];
    let trusting = tls::client_config(&pki.ca);
    a.wait_until(T, "bapp of hostb in A's /api/fleet over https", || {
        fleet(&trusting, port, &auth)
            .iter()
            .any(|r| r["name"] == "bapp" && r["host"] == "hostb")
    });
    let out = b.ok(&["unlink"]);
    b.expect_output(&out, "Unlinked from");
}

fn fleet(config: &Arc<rustls::ClientConfig>, port: u16, auth: &[(&str, &str)]) -> Vec<Value> {
    tls::send(config, port, "GET", "/api/fleet", auth, b"")
        .ok()
        .and_then(|r| serde_json::from_slice::<Value>(&r.body).ok())
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}
