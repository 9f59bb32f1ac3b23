//! `pm2 serve|expose`: the static file server runs as a supervised app (in `list`,
//! restarted after a crash), answers with PM2's types, custom 404, basic auth and SPA
//! fallback, never serves what is outside its root, and (pm2-rs beyond PM2) answers
//! `Range`, `HEAD` and `If-Modified-Since`. Every server binds 127.0.0.1
//! (`PM2_SERVE_HOST`). The scenarios shared with PM2 have `_reference` twins.

use crate::harness::cluster::free_port;
use crate::harness::http::{get, request, Reply};
use crate::harness::*;
use std::path::PathBuf;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);
const LOOPBACK: (&str, &str) = ("PM2_SERVE_HOST", "127.0.0.1");

/// A site under the test folder (`site/`), and `secret.txt` beside it that a symlink in
/// the site points at.
fn site(p: &Pm2) -> PathBuf {
    let site = p.dir.join("site");
    std::fs::create_dir_all(site.join("sub")).expect("site folder");
    for (name, text) in [
        ("index.html", "<h1>home</h1>"),
        ("style.css", "body{}"),
        ("app.js", "let a;"),
        ("data.json", "{}"),
        ("d.txt", "0123456789"),
        ("README", "plain"),
        ("sub/page.html", "<p>page</p>"),
        ("404.html", "<p>custom 404</p>"),
    ] {
        std::fs::write(site.join(name), text).expect("site file");
    }
    std::fs::write(site.join("logo.png"), [0x89, b'P', b'N', b'G']).expect("png");
    std::fs::write(p.dir.join("secret.txt"), "top secret").expect("secret");
    std::os::unix::fs::symlink(p.dir.join("secret.txt"), site.join("link.txt")).expect("link");
    site
}

/// Waits until the server on `port` answers `/`.
fn wait_serving(p: &Pm2, port: u16) -> Reply {
    p.wait_until(T, &format!("a server on port {port}"), || {
        get(port, "/").ok()
    })
}

fn ok(p: &Pm2, r: Result<Reply, String>) -> Reply {
    r.unwrap_or_else(|e| p.fail(&format!("request failed: {e}"), None))
}

/// `pm2 serve site <port>`: name, list, output lines, types, 404 page, refusals, HEAD.
fn serve_scenario(p: &Pm2) {
    site(p);
    let port = free_port();
    let out = p.ok_env(&[LOOPBACK], &["serve", "site", &port.to_string()]);
    let name = format!("static-page-server-{port}");
    p.expect_output(
        &out,
        &format!("Serving {} on port {port}", p.dir.join("site").display()),
    );
    p.expect_output(&out, &name);
    let home = wait_serving(p, port);
    assert_eq!((home.status, home.text().as_str()), (200, "<h1>home</h1>"));
    let apps = p.apps();
    assert_eq!(apps[0]["name"], name.as_str(), "{apps:#?}");
    assert_eq!(
        env_str(&apps[0], "pm_cwd"),
        p.dir.join("site").to_string_lossy()
    );
    for (path, ty) in [
        ("/index.html", "text/html"),
        ("/style.css", "text/css"),
        ("/app.js", "application/javascript"),
        ("/data.json", "application/json"),
        ("/logo.png", "image/png"),
        ("/README", "text/plain"),
        ("/sub/page.html", "text/html"),
    ] {
        let r = ok(p, get(port, path));
        assert_eq!(
            (r.status, r.header("content-type")),
            (200, Some(ty)),
            "{path}"
        );
    }
    let missing = ok(p, get(port, "/nope.html"));
    assert_eq!(
        (missing.status, missing.text().as_str()),
        (404, "<p>custom 404</p>")
    );
    let escape = ok(p, get(port, "/sub/..%2f..%2fsecret.txt"));
    assert_eq!(escape.status, 403);
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/sub/%2E%2E/%2e%2e/secret.txt",
    ] {
        let r = ok(p, get(port, path));
        assert!(
            r.status != 200 && !r.text().contains("secret"),
            "{path}: {r:?}"
        );
    }
    let head = ok(p, request(port, "HEAD", "/d.txt", &[]));
    assert_eq!((head.status, head.body.len()), (200, 0));
    // A second serve of the same port is the same app: refused, exit 1.
    let again = p.run_env(&[LOOPBACK], &["serve", "site", &port.to_string()]);
    p.expect_code(&again, 1);
    p.expect_output(&again, "Script already launched");
}

#[test]
fn serve_runs_a_static_server_app() {
    serve_scenario(&Pm2::new("serve"));
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2 at $PM2_REF (npm install pm2@7, as bench/pm2bench/context.py does)"]
fn serve_runs_a_static_server_app_reference() {
    serve_scenario(&Pm2::reference("serve_ref"));
}

/// `expose --port`, `--name`, `--spa`, basic auth; the server's restart after a SIGKILL.
fn spa_auth_scenario(p: &Pm2) {
    let site = site(p);
    std::fs::remove_file(site.join("404.html")).expect("no 404 page");
    let port = free_port();
    let args = [
        "expose",
        "site",
        "--port",
        &port.to_string(),
        "--spa",
        "--name",
        "front",
        "--basic-auth-username",
        "user",
        "--basic-auth-password",
        "pass",
    ];
    p.ok_env(&[LOOPBACK], &args);
    let denied = wait_serving(p, port);
    assert_eq!(denied.status, 401);
    let challenge = denied.header("www-authenticate");
    assert_eq!(challenge, Some("Basic realm=\"Authentication service\""));
    let auth = [("Authorization", "Basic dXNlcjpwYXNz")]; // user:pass
    let wrong = [("Authorization", "Basic dXNlcjpub3Bl")]; // user:nope
    assert_eq!(ok(p, request(port, "GET", "/", &wrong)).status, 401);
    let cases = [
        ("/", "<h1>home</h1>"),
        ("/deep/route", "<h1>home</h1>"),
        ("/deep/style.css", "body{}"),
        ("/deep/missing.css", "<h1>home</h1>"),
    ];
    for (path, body) in cases {
        let r = ok(p, request(port, "GET", path, &auth));
        assert_eq!((r.status, r.text().as_str()), (200, body), "{path}");
    }
    let apps = p.apps();
    assert_eq!(apps[0]["name"], "front", "{apps:#?}");
    let pid = pid_of(&apps[0]);
    sigkill(pid);
    p.wait_until(T, "the server restarted", || {
        let app = p.find(0)?;
        (st(&app) == "online" && pid_of(&app) != pid && env_u64(&app, "restart_time") == 1)
            .then_some(())
    });
    p.wait_until(T, "the restarted server answers", || {
        request(port, "GET", "/", &auth)
            .ok()
            .filter(|r| r.status == 200)
    });
}

#[test]
fn expose_with_spa_and_basic_auth_restarts_after_a_crash() {
    spa_auth_scenario(&Pm2::new("serve_spa"));
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2 at $PM2_REF (npm install pm2@7, as bench/pm2bench/context.py does)"]
fn expose_with_spa_and_basic_auth_restarts_after_a_crash_reference() {
    spa_auth_scenario(&Pm2::reference("serve_spa_ref"));
}

/// An ecosystem app with `script: "serve"` and PM2's variables is the same server.
fn ecosystem_scenario(p: &Pm2) {
    site(p);
    let port = free_port();
    let eco = format!(
        r#"{{"apps": [{{"name": "web", "script": "serve", "env": {{
            "PM2_SERVE_PATH": "site", "PM2_SERVE_PORT": "{port}",
            "PM2_SERVE_HOST": "127.0.0.1", "PM2_SERVE_SPA": "true"}}}}]}}"#
    );
    std::fs::write(p.dir.join("ecosystem.json"), eco).expect("ecosystem file");
    p.ok(&["start", "ecosystem.json"]);
    assert_eq!(wait_serving(p, port).text(), "<h1>home</h1>");
    let fallback = ok(p, get(port, "/some/route"));
    assert_eq!(
        (fallback.status, fallback.text().as_str()),
        (200, "<h1>home</h1>")
    );
    assert_eq!(p.apps()[0]["name"], "web");
}

#[test]
fn ecosystem_script_serve_is_a_static_server() {
    ecosystem_scenario(&Pm2::new("serve_eco"));
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2 at $PM2_REF (npm install pm2@7, as bench/pm2bench/context.py does)"]
fn ecosystem_script_serve_is_a_static_server_reference() {
    ecosystem_scenario(&Pm2::reference("serve_eco_ref"));
}

/// Beyond PM2: ranges, conditional GETs, and no escape by `..` or symlink (PM2 clamps
/// `..` at the root and follows symlinks out of it; pm2-rs answers 403).
#[test]
fn ranges_conditional_gets_and_escapes() {
    let p = Pm2::new("serve_http");
    site(&p);
    let port = free_port();
    p.ok_env(&[LOOPBACK], &["serve", "site", &port.to_string()]);
    wait_serving(&p, port);
    let part = ok(
        &p,
        request(port, "GET", "/d.txt", &[("Range", "bytes=2-4")]),
    );
    assert_eq!((part.status, part.text().as_str()), (206, "234"));
    assert_eq!(part.header("content-range"), Some("bytes 2-4/10"));
    let tail = ok(&p, request(port, "GET", "/d.txt", &[("Range", "bytes=-3")]));
    assert_eq!((tail.status, tail.text().as_str()), (206, "789"));
    let past = ok(
        &p,
        request(port, "GET", "/d.txt", &[("Range", "bytes=10-")]),
    );
    assert_eq!(
        (past.status, past.header("content-range")),
        (416, Some("bytes */10"))
    );
    let whole = ok(&p, get(port, "/d.txt"));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    assert_eq!(whole.header("content-length"), Some("10"));
    let modified = whole.header("last-modified").unwrap_or("").to_string();
    assert!(!modified.is_empty(), "{whole:?}");
    let same = ok(
        &p,
        request(port, "GET", "/d.txt", &[("If-Modified-Since", &modified)]),
    );
    assert_eq!((same.status, same.body.len()), (304, 0));
    let old = "Mon, 01 Jan 2001 00:00:00 GMT";
    let stale = ok(
        &p,
        request(port, "GET", "/d.txt", &[("If-Modified-Since", old)]),
    );
    assert_eq!((stale.status, stale.text().as_str()), (200, "0123456789"));
    let head = ok(&p, request(port, "HEAD", "/d.txt", &[]));
    assert_eq!(
        (head.header("content-length"), head.body.len()),
        (Some("10"), 0)
    );
    for path in [
        "/link.txt",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/sub/..%2f..%2fsecret.txt",
    ] {
        let r = ok(&p, get(port, path));
        assert_eq!(r.status, 403, "{path}: {r:?}");
    }
    let inside = ok(&p, get(port, "/sub/../style.css"));
    assert_eq!((inside.status, inside.text().as_str()), (200, "body{}"));
}

/// A missing directory or half of the basic auth pair is refused and starts nothing.
#[test]
fn bad_serve_options_are_refused_and_change_nothing() {
    let p = Pm2::new("serve_bad");
    let out = p.fails(&["serve", "no-such-dir", "8080"], 1);
    p.expect_output(&out, "no-such-dir");
    let out = p.fails(&["serve", ".", "--basic-auth-username", "u"], 2);
    p.expect_output(&out, "--basic-auth-password");
    assert_eq!(p.app_count(), 0);
}
