//! `pm2 plus`: the self-hosted dashboard (pm2-rs beyond PM2 7, whose `pm2 plus` logs in
//! to the hosted PM2 Plus service, so these tests have no reference twins). It runs as the
//! supervised app `pm2-plus`, prints a one-time login link, serves its JSON API, SSE and
//! Prometheus page only to a session or the API token, audits every action, refuses a
//! public address without a password, and `pm2 plus stop` ends it. The browser test drives
//! headless Chromium through the page: log in, see the apps, click restart, read a log line.

use crate::harness::cluster::free_port;
use crate::harness::http::{request, send, Reply};
use crate::harness::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// An app that prints a line every 200 ms, one that an HTML page must show as text.
const TALKER: &str =
    "setInterval(() => console.log('talker says <script>window.pwned=1</script>'), 200);\n";

/// Two apps (`axm`, reporting a custom metric, and `talker`) and the dashboard's port.
pub(crate) fn world(p: &Pm2) -> u16 {
    p.fixture("axm.js");
    std::fs::write(p.dir.join("talker.js"), TALKER).expect("write talker.js");
    p.ok(&["start", "axm.js", "--name", "axm"]);
    p.ok(&["start", "talker.js", "--name", "talker"]);
    let port = free_port();
    p.ok(&["set", "pm2-plus:port", &port.to_string()]);
    port
}

/// `pm2 plus`, checked to print the URL; the one-time login token it printed.
pub(crate) fn plus(p: &Pm2, port: u16) -> String {
    let out = p.ok(&["plus"]);
    let url = format!("http://127.0.0.1:{port}");
    p.expect_output(&out, &format!("PM2 Plus dashboard: {url}"));
    let link = format!("{url}/login?token=");
    let at = out
        .stdout
        .find(&link)
        .unwrap_or_else(|| p.fail("no login link printed", Some(&out)));
    out.stdout[at + link.len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

fn ok(p: &Pm2, r: Result<Reply, String>) -> Reply {
    r.unwrap_or_else(|e| p.fail(&format!("request failed: {e}"), None))
}

fn json(p: &Pm2, r: &Reply) -> Value {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| p.fail(&format!("not JSON ({e}): {}", r.text()), None))
}

/// The session cookie a login link gives (checked HttpOnly and SameSite=Strict).
fn login(p: &Pm2, port: u16, token: &str) -> String {
    let r = ok(
        p,
        request(port, "GET", &format!("/login?token={token}"), &[]),
    );
    assert_eq!(r.status, 303, "login link: {}", r.text());
    assert_eq!(r.header("location"), Some("/"));
    let cookie = r.header("set-cookie").unwrap_or_default().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap_or_default().to_string()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn plus_file(p: &Pm2, name: &str) -> PathBuf {
    p.home.join("plus").join(name)
}

fn restarts_of(p: &Pm2, name: &str) -> u64 {
    p.apps()
        .iter()
        .find(|a| a["name"] == name)
        .map(|a| env_u64(a, "restart_time"))
        .unwrap_or_else(|| p.fail(&format!("no app {name}"), None))
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn plus_serves_the_dashboard_api_metrics_and_actions_to_a_session() {
    let p = Pm2::new("plus_api");
    let port = world(&p);
    let token = plus(&p, port);
    let dashboard = p
        .apps()
        .into_iter()
        .find(|a| a["name"] == "pm2-plus")
        .unwrap_or_else(|| p.fail("pm2-plus is not in the list", None));
    assert_eq!(st(&dashboard), "online");
    assert_eq!(
        env_str(&dashboard, "pm_cwd"),
        p.home.to_string_lossy(),
        "works in PM2_HOME"
    );
    assert_eq!(mode(&plus_file(&p, "api-token")), 0o600);
    assert_eq!(mode(&plus_file(&p, "login-token")), 0o600);

    refused_without_a_session(&p, port);
    // The link gives a session once.
    let cookie = login(&p, port, &token);
    let again = ok(
        &p,
        request(port, "GET", &format!("/login?token={token}"), &[]),
    );
    assert_eq!(again.status, 401, "a login link works once");
    let auth = [("Cookie", cookie.as_str())];
    let page = ok(&p, request(port, "GET", "/", &auth));
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("script-src 'self'"), "{csp}");

    table_and_overview(&p, port, &auth);
    session_actions_need_csrf_and_are_audited(&p, port, &cookie);
    let api_token = std::fs::read_to_string(plus_file(&p, "api-token")).expect("token");
    let bearer = format!("Bearer {}", api_token.trim());
    let script = [("Authorization", bearer.as_str())];
    script_actions(&p, port, &script);
    metrics_parse(&p, port, &script);
    described_and_live(&p, port, &script);
    described_and_live(&p, port, &auth);
    // Logging out ends the session.
    let out = ok(&p, request(port, "POST", "/logout", &auth));
    assert_eq!(out.status, 303);
    assert_eq!(
        ok(&p, request(port, "GET", "/api/processes", &auth)).status,
        401
    );
}

/// Nothing without a session or the token, and no foreign `Host`.
fn refused_without_a_session(p: &Pm2, port: u16) {
    for path in [
        "/api/processes",
        "/api/server",
        "/metrics",
        "/api/events",
        "/api/openapi.json",
    ] {
        let r = ok(p, request(port, "GET", path, &[]));
        assert_eq!(r.status, 401, "{path} without auth");
    }
    let page = ok(p, request(port, "GET", "/", &[]));
    assert_eq!(page.status, 401);
    assert!(page.text().contains("pm2 plus"), "{}", page.text());
    let rebinding = ok(p, request(port, "GET", "/", &[("Host", "evil.example:80")]));
    assert_eq!(rebinding.status, 403, "a foreign Host header is refused");
}

/// The table is jlist's; the overview has the host's facts.
fn table_and_overview(p: &Pm2, port: u16, auth: &[(&str, &str)]) {
    let rows = json(p, &ok(p, request(port, "GET", "/api/processes", auth)));
    let ours: Vec<(u64, String, String, u64)> = rows
        .as_array()
        .expect("an array")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (
                r["pm_id"].as_u64().unwrap_or(99),
                s("name"),
                s("status"),
                r["restarts"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    let theirs: Vec<(u64, String, String, u64)> = p
        .apps()
        .iter()
        .map(|a| {
            let id = a["pm_id"].as_u64().unwrap_or(98);
            (
                id,
                a["name"].as_str().unwrap_or_default().to_string(),
                st(a).to_string(),
                env_u64(a, "restart_time"),
            )
        })
        .collect();
    assert_eq!(ours, theirs, "/api/processes against jlist");

    // The overview.
    let server = json(p, &ok(p, request(port, "GET", "/api/server", auth)));
    assert!(server["cores"].as_u64().is_some_and(|c| c >= 1), "{server}");
    assert!(
        server["memory"]["total"].as_u64().is_some_and(|m| m > 0),
        "{server}"
    );
    assert!(
        server["versions"]["node"]
            .as_str()
            .is_some_and(|v| v.starts_with('v')),
        "{server}"
    );
    assert!(
        server["versions"]["pm2_rs"].is_string() && server["hostname"].is_string(),
        "{server}"
    );
}

/// An action needs the CSRF token with a session; it restarts and is audited.
fn session_actions_need_csrf_and_are_audited(p: &Pm2, port: u16, cookie: &str) {
    let auth = [("Cookie", cookie)];
    let csrf = json(p, &ok(p, request(port, "GET", "/api/session", &auth)))["csrf"]
        .as_str()
        .expect("a csrf token")
        .to_string();
    let forged = ok(
        p,
        request(port, "POST", "/api/processes/axm/restart", &auth),
    );
    assert_eq!(forged.status, 403, "no CSRF token: {}", forged.text());
    assert_eq!(restarts_of(p, "axm"), 0);
    let with_csrf = [("Cookie", cookie), ("X-CSRF-Token", csrf.as_str())];
    let done = ok(
        p,
        request(port, "POST", "/api/processes/axm/restart", &with_csrf),
    );
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(restarts_of(p, "axm"), 1);
    let audit = std::fs::read_to_string(plus_file(p, "audit.log")).expect("the audit log");
    let entry: Value =
        serde_json::from_str(audit.lines().last().unwrap_or_default()).expect("JSON line");
    assert_eq!(entry["action"], "restart");
    assert_eq!(entry["target"], "axm");
    assert_eq!(entry["ok"], true);
    assert!(
        entry["who"]
            .as_str()
            .is_some_and(|w| w.starts_with("session")),
        "{entry}"
    );
    assert!(
        entry["at"].as_str().is_some_and(|a| a.ends_with('Z')),
        "{entry}"
    );
    assert_eq!(mode(&plus_file(p, "audit.log")), 0o600);
}

/// Scripts: an unknown action refused (and audited), a missing app, scale by id, the app's own action.
fn script_actions(p: &Pm2, port: u16, auth: &[(&str, &str)]) {
    let nope = ok(p, request(port, "POST", "/api/processes/axm/explode", auth));
    assert_eq!(nope.status, 404, "{}", nope.text());
    let missing = ok(
        p,
        request(port, "POST", "/api/processes/ghost/restart", auth),
    );
    assert_eq!(missing.status, 409, "{}", missing.text());
    let talker_id = p
        .apps()
        .iter()
        .find(|a| a["name"] == "talker")
        .map(|a| a["pm_id"].to_string())
        .unwrap_or_default();
    let scaled = ok(
        p,
        send(
            port,
            "POST",
            &format!("/api/processes/{talker_id}/scale"),
            auth,
            br#"{"instances":"2"}"#,
        ),
    );
    assert_eq!(scaled.status, 200, "{}", scaled.text());
    p.wait_until(T, "talker runs 2 instances", || {
        p.apps()
            .iter()
            .filter(|a| a["name"] == "talker" && st(a) == "online")
            .count()
            == 2
    });
    // The app's own action (axm.js registers `hello`), with its reply.
    p.wait_until(T, "axm's action `hello` in /api/processes", || {
        let rows = request(port, "GET", "/api/processes", auth)
            .map(|r| r.body)
            .unwrap_or_default();
        let rows: Value = serde_json::from_slice(&rows).unwrap_or_default();
        rows.as_array().is_some_and(|r| {
            r.iter()
                .any(|r| r["name"] == "axm" && r["actions"] == serde_json::json!(["hello"]))
        })
    });
    let hello = ok(
        p,
        send(
            port,
            "POST",
            "/api/processes/axm/trigger",
            auth,
            br#"{"action":"hello"}"#,
        ),
    );
    assert_eq!(hello.status, 200, "{}", hello.text());
    let hello = json(p, &hello);
    assert_eq!(
        hello["replies"][0]["value"]["greeting"], "hi from axm",
        "{hello}"
    );
    let audit = std::fs::read_to_string(plus_file(p, "audit.log")).expect("the audit log");
    assert_eq!(audit.lines().count(), 5, "{audit}");
    assert!(audit.contains(r#""who":"api token""#), "{audit}");
}

/// Prometheus: the format holds, our apps are there, the custom metric too.
fn metrics_parse(p: &Pm2, port: u16, auth: &[(&str, &str)]) {
    let metrics = ok(p, request(port, "GET", "/metrics", auth));
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/plain; version=0.0.4"));
    let samples = prometheus::parse(&metrics.text()).unwrap_or_else(|e| p.fail(&e, None));
    let find = |name: &str, app: &str| {
        samples
            .iter()
            .find(|s| s.name == name && s.labels.get("app").map(String::as_str) == Some(app))
            .map(|s| s.value)
    };
    assert_eq!(find("pm2_up", "axm"), Some(1.0));
    assert_eq!(find("pm2_restarts", "axm"), Some(1.0));
    assert!(find("pm2_memory", "talker").is_some());
    for s in samples.iter().filter(|s| s.name == "pm2_up") {
        assert!(
            s.labels.contains_key("id") && s.labels.contains_key("namespace"),
            "{s:?}"
        );
    }
    p.wait_until(T, "the custom metric in /metrics", || {
        let text = request(port, "GET", "/metrics", auth)
            .map(|r| r.text())
            .unwrap_or_default();
        prometheus::parse(&text).ok().is_some_and(|samples| {
            samples.iter().any(|s| {
                s.name == "pm2_custom_metric"
                    && s.labels.get("metric").map(String::as_str) == Some("Req/min")
                    && s.labels.get("unit").map(String::as_str) == Some("req")
                    && s.value == 42.0
            })
        })
    });
}

/// The API's description, and live updates of the table and of an app's logs.
fn described_and_live(p: &Pm2, port: u16, auth: &[(&str, &str)]) {
    let doc = json(p, &ok(p, request(port, "GET", "/api/openapi.json", auth)));
    assert!(
        doc["paths"]["/api/processes/{target}/{action}"].is_object(),
        "{doc}"
    );
    let table = sse::first_event(port, "/api/events", auth, "processes", T)
        .unwrap_or_else(|e| p.fail(&e, None));
    let table: Value = serde_json::from_str(&table).expect("the table as JSON");
    assert!(
        table
            .as_array()
            .is_some_and(|t| t.iter().any(|r| r["name"] == "axm")),
        "{table}"
    );
    let line = sse::first_event(port, "/api/logs?app=talker", auth, "log", T)
        .unwrap_or_else(|e| p.fail(&e, None));
    assert!(line.contains("talker says"), "{line}");
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn plus_is_supervised_refuses_a_public_address_without_a_password_and_stops() {
    let p = Pm2::new("plus_life");
    let port = world(&p);
    plus(&p, port);
    let id = p
        .apps()
        .iter()
        .find(|a| a["name"] == "pm2-plus")
        .map(|a| a["pm_id"].as_u64().unwrap_or(0))
        .expect("pm2-plus");
    let daemon = p.daemon_pid();
    // A crash is the daemon's to repair, and touches nothing else.
    sigkill(p.wait_online(id));
    p.wait_until(T, "pm2-plus restarted", || {
        env_u64(&p.app(id), "restart_time") == 1 && st(&p.app(id)) == "online"
    });
    p.wait_until(T, "the dashboard answering again", || {
        request(port, "GET", "/", &[]).is_ok_and(|r| r.status == 401)
    });
    assert_eq!(p.daemon_pid(), daemon);
    // `pm2 plus` again: the same app, a new link.
    let token = plus(&p, port);
    assert_eq!(
        p.apps().iter().filter(|a| a["name"] == "pm2-plus").count(),
        1
    );
    login(&p, port, &token);
    // `pm2 open`: the same, and the link handed to a browser when there is a desktop.
    let opened = p.ok(&["open"]);
    p.expect_output(&opened, &format!("http://127.0.0.1:{port}/login?token="));
    p.expect_output(&opened, "open the link above in a browser");

    p.ok(&["plus", "stop"]);
    assert!(!p.apps().iter().any(|a| a["name"] == "pm2-plus"), "stopped");
    p.wait_until(T, "the port closed", || {
        request(port, "GET", "/", &[]).is_err()
    });
    let again = p.ok(&["plus", "stop"]);
    p.expect_output(&again, "not running");

    public_address_needs_a_password(&p, port);
}

/// A public address is refused until a password is set; then the password logs in.
fn public_address_needs_a_password(p: &Pm2, port: u16) {
    p.ok(&["set", "pm2-plus:host", "0.0.0.0"]);
    let refused = p.fails(&["plus"], 1);
    p.check(
        refused.stderr.contains("--set-password"),
        "says how",
        &refused,
    );
    assert!(
        !p.apps().iter().any(|a| a["name"] == "pm2-plus"),
        "nothing started"
    );
    let short = p.run_stdin("short\n", &["plus", "--set-password"]);
    p.expect_code(&short, 1);
    assert!(!plus_file(p, "password").exists());
    let set = p.run_stdin("correct horse battery\n", &["plus", "--set-password"]);
    p.expect_code(&set, 0);
    let hash = std::fs::read_to_string(plus_file(p, "password")).expect("the hash");
    assert!(
        hash.starts_with("$argon2id$") && !hash.contains("correct"),
        "{hash}"
    );
    assert_eq!(mode(&plus_file(p, "password")), 0o600);
    plus(p, port);
    let form = |password: &str| {
        let body = format!("password={password}");
        send(
            port,
            "POST",
            "/login",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    };
    assert_eq!(ok(p, form("wrong-password")).status, 401);
    let good = p.wait_until(T, "a password login after the pause", || {
        form("correct+horse+battery")
            .ok()
            .filter(|r| r.status != 429)
    });
    assert_eq!(good.status, 303, "{}", good.text());
    assert!(good
        .header("set-cookie")
        .is_some_and(|c| c.contains("HttpOnly")));
    p.ok(&["plus", "stop"]);
}

#[test]
fn plus_reports_a_port_in_use_and_starts_once_it_is_free() {
    let p = Pm2::new("plus_port");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = taken.local_addr().expect("its address").port();
    p.ok(&["set", "pm2-plus:port", &port.to_string()]);
    let out = p.fails(&["plus"], 1);
    p.check(
        out.stderr.contains("did not start listening"),
        "says it did not listen",
        &out,
    );
    p.check(
        out.stderr.contains("cannot listen on 127.0.0.1"),
        "quotes the dashboard's error",
        &out,
    );
    p.check(
        !out.stdout.contains("login?token="),
        "prints no login link",
        &out,
    );
    assert!(p.daemon_pid().is_some(), "the daemon runs on");
    drop(taken);
    let token = plus(&p, port);
    login(&p, port, &token);
    p.ok(&["plus", "stop"]);
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
#[cfg_attr(no_chromium, ignore = "chromium not on PATH (scripts/install-deps.sh)")]
fn plus_page_in_chromium_shows_the_apps_restarts_one_runs_its_action_and_streams_logs() {
    require(
        have("chromium"),
        "chromium not on PATH (scripts/install-deps.sh)",
    );
    let p = Pm2::new("plus_browser");
    let port = world(&p);
    let token = plus(&p, port);
    let mut browser = browser::Browser::launch(&p.dir).unwrap_or_else(|e| p.fail(&e, None));
    browser
        .navigate(&format!("http://127.0.0.1:{port}/login?token={token}"))
        .unwrap_or_else(|e| p.fail(&e, None));
    let names = "Array.from(document.querySelectorAll('#processes tbody tr')).map(r => r.dataset.name).sort().join(',')";
    p.wait_until(T, "the table lists the apps", || {
        browser
            .eval(names)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            == Some("axm,pm2-plus,talker".into())
    });
    let host = browser
        .eval("document.querySelector('#overview dd').textContent")
        .unwrap_or_default();
    assert!(
        host.as_str().is_some_and(|h| !h.is_empty()),
        "the overview shows the host: {host}"
    );

    let click = "window.confirm = () => true; \
                 document.querySelector('#processes tr[data-name=\"axm\"] button[data-action=\"restart\"]').click(); true";
    assert_eq!(browser.eval(click).ok(), Some(Value::Bool(true)));
    p.wait_until(T, "axm restarted by the click", || {
        restarts_of(&p, "axm") == 1
    });
    let cell = "document.querySelector('#processes tr[data-name=\"axm\"] td[data-field=\"restarts\"]').textContent";
    p.wait_until(T, "the page shows the new restart count", || {
        browser.eval(cell).ok() == Some(Value::String("1".into()))
    });
    let audit = std::fs::read_to_string(plus_file(&p, "audit.log")).expect("the audit log");
    assert!(
        audit.contains(r#""action":"restart""#) && audit.contains("login link"),
        "{audit}"
    );

    // The app's own action, as a button; its reply shows on the page.
    let custom = "(() => { window.confirm = () => true; \
                  const b = document.querySelector('#processes tr[data-name=\"axm\"] button[data-custom=\"hello\"]'); \
                  if (b) setTimeout(() => b.click(), 0); return !!b; })()";
    // The click runs after the evaluation has answered (a click made inside it could hold
    // the answer back while the page handled it). The `const` is inside a function: at
    // the top level, every evaluation after a first one that found no button threw
    // "Identifier 'b' has already been declared", so the wait never saw `true` although
    // the button was there (the row and axm_actions printed below showed it).
    let clicked = crate::harness::poll::try_poll(Duration::from_secs(45), || {
        browser.eval(custom).ok() == Some(Value::Bool(true))
    });
    if clicked.is_err() {
        let row = browser
            .eval("(document.querySelector('#processes tr[data-name=\"axm\"]') || {}).outerHTML");
        let actions = p
            .apps()
            .into_iter()
            .find(|a| a["name"] == "axm")
            .map(|a| a["pm2_env"]["axm_actions"].clone());
        panic!("axm's hello button never showed: row {row:?}, axm_actions in jlist {actions:?}");
    }
    p.wait_until(T, "the reply of hello on the page", || {
        browser
            .eval("document.getElementById('message').textContent")
            .ok()
            .and_then(|v| v.as_str().map(|t| t.contains("hi from axm")))
            .unwrap_or(false)
    });

    let open = "document.querySelector('#processes tr[data-name=\"talker\"] a.app').click(); true";
    assert_eq!(browser.eval(open).ok(), Some(Value::Bool(true)));
    p.wait_until(T, "a log line of talker in the page, as text", || {
        browser
            .eval("document.getElementById('logs-lines').textContent")
            .ok()
            .and_then(|v| v.as_str().map(|t| t.contains("talker says <script>")))
            .unwrap_or(false)
    });
    assert_eq!(
        browser.eval("typeof window.pwned").ok(),
        Some(Value::String("undefined".into()))
    );
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plus-dashboard.png");
    browser
        .screenshot(&shot)
        .unwrap_or_else(|e| p.fail(&e, None));
}
