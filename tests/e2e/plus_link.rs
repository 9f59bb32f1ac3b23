//! `pm2 link` / `pm2 unlink`: several hosts on one dashboard. Two PM2_HOMEs on this
//! machine, the dashboard on home A, home B linked with A's link secret: B's apps show
//! through A's API under B's host name, an action through A restarts B's app (B's own
//! jlist counts it), B's log lines reach A's SSE stream, a wrong secret is refused and
//! shows nothing, a killed agent is restarted by B's daemon and links again, and `pm2
//! unlink` makes B disappear. PM2 7's `pm2 link <secret> <public>` connects to the hosted
//! PM2 Plus service instead (its scenario has no local twin; the words it shares, `pm2
//! link` alone and `pm2 unlink` with nothing linked, are checked in `compat_commands`).

use crate::harness::http::{request, send, Reply};
use crate::harness::*;
use crate::plus::{plus, world};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);
/// B's app: a line every 200 ms.
const HOSTB_APP: &str = "setInterval(() => console.log('hello from host b'), 200);\n";

fn bearer(a: &Pm2) -> String {
    let token = std::fs::read_to_string(a.home.join("plus/api-token")).expect("the API token");
    format!("Bearer {}", token.trim())
}

fn json(p: &Pm2, r: Result<Reply, String>) -> Value {
    let r = r.unwrap_or_else(|e| p.fail(&format!("request failed: {e}"), None));
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| p.fail(&format!("not JSON ({e}): {}", r.text()), None))
}

/// The link line `pm2 plus` printed: the secret and the URL.
fn link_line(p: &Pm2, out: &str) -> (String, String) {
    let at = out
        .find("pm2 link ")
        .unwrap_or_else(|| p.fail(&format!("no `pm2 link` line in {out}"), None));
    let words: Vec<&str> = out[at..].split_whitespace().collect();
    (words[2].to_string(), words[3].to_string())
}

/// The linked host `name` as `/api/hosts` lists it.
fn host(a: &Pm2, port: u16, auth: &[(&str, &str)], name: &str) -> Option<Value> {
    let hosts = json(a, request(port, "GET", "/api/hosts", auth));
    hosts
        .as_array()?
        .iter()
        .find(|h| h["host"] == name)
        .cloned()
}

fn restarts(p: &Pm2, name: &str) -> u64 {
    p.apps()
        .iter()
        .find(|a| a["name"] == name)
        .map(|a| env_u64(a, "restart_time"))
        .unwrap_or_else(|| p.fail(&format!("no app {name}"), None))
}

/// Home A with the dashboard (and its two apps), home B with one app; A's port, link
/// secret and URL.
fn two_homes(tag: &str) -> (Pm2, Pm2, u16, String, String) {
    let a = Pm2::new(&format!("{tag}_a"));
    let port = world(&a);
    plus(&a, port);
    let printed = a.ok(&["plus"]).stdout;
    let (secret, url) = link_line(&a, &printed);
    assert_eq!(url, format!("http://127.0.0.1:{port}"));
    let secret_file = a.home.join("plus/link-secret");
    assert_eq!(
        std::fs::read_to_string(&secret_file)
            .unwrap_or_default()
            .trim(),
        secret
    );
    let b = Pm2::new(&format!("{tag}_b"));
    std::fs::write(b.dir.join("hostb.js"), HOSTB_APP).expect("write hostb.js");
    b.ok(&["start", "hostb.js", "--name", "bapp"]);
    (a, b, port, secret, url)
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn a_linked_host_streams_to_the_dashboard_takes_its_actions_and_unlinks() {
    let (a, b, port, secret, url) = two_homes("link");
    let bearer = bearer(&a);
    let auth = [("Authorization", bearer.as_str())];

    bad_input_changes_nothing(&b, &secret);
    wrong_secret_is_refused(&a, &b, port, &url, &auth);

    // Without a name, B would be the dashboard's own host (one machine): refused, undone.
    let own = b.fails(&["link", &secret, &url], 1);
    b.check(
        own.stderr.contains("own host name"),
        "the dashboard's name is refused",
        &own,
    );
    assert!(!b.home.join("agent.json5").exists(), "no link kept");
    let out = b.ok(&["link", &secret, &url, "hostb"]);
    b.expect_output(&out, &format!("Linked to {url} as hostb"));
    let mode = std::fs::metadata(b.home.join("agent.json5")).map(|m| {
        use std::os::unix::fs::PermissionsExt;
        m.permissions().mode() & 0o777
    });
    assert_eq!(mode.ok(), Some(0o600), "the stored link is private");
    let status = b.ok(&["link"]);
    b.expect_output(&status, "Linked to");
    b.expect_output(&status, "connected");
    let agent = b
        .apps()
        .into_iter()
        .find(|x| x["name"] == "pm2-link")
        .unwrap_or_else(|| b.fail("pm2-link is not in B's list", None));
    assert_eq!(st(&agent), "online");

    // B's apps through A's API, under B's name.
    a.wait_until(T, "bapp in A's /api/hosts/hostb/processes", || {
        let rows = json(
            &a,
            request(port, "GET", "/api/hosts/hostb/processes", &auth),
        );
        rows.as_array().is_some_and(|r| {
            r.iter()
                .any(|r| r["name"] == "bapp" && r["host"] == "hostb")
        })
    });
    let hostb = host(&a, port, &auth, "hostb").unwrap_or_else(|| a.fail("no hostb", None));
    assert_eq!(hostb["online"], true, "{hostb}");
    let fleet = json(&a, request(port, "GET", "/api/fleet", &auth));
    let hosts_of = |name: &str| -> Vec<String> {
        fleet
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["name"] == name)
            .map(|r| r["host"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(hosts_of("bapp"), vec!["hostb".to_string()], "{fleet}");
    assert_eq!(hosts_of("axm").len(), 1, "A's own app once: {fleet}");
    a.wait_until(T, "hostb's overview", || {
        let o = json(&a, request(port, "GET", "/api/hosts/hostb/server", &auth));
        o["cores"].as_u64().is_some()
    });
    let metrics = request(port, "GET", "/metrics", &auth)
        .map(|r| r.text())
        .unwrap_or_default();
    let samples = prometheus::parse(&metrics).unwrap_or_else(|e| a.fail(&e, None));
    assert!(
        samples.iter().any(|s| s.name == "pm2_up"
            && s.labels.get("host").map(String::as_str) == Some("hostb")
            && s.labels.get("app").map(String::as_str) == Some("bapp")),
        "{metrics}"
    );

    // A log line of B's app on A's SSE stream, with the host.
    let line = sse::first_event(port, "/api/logs?host=hostb&app=bapp", &auth, "log", T)
        .unwrap_or_else(|e| a.fail(&e, None));
    assert!(
        line.contains("hello from host b") && line.contains(r#""host":"hostb""#),
        "{line}"
    );

    // A restart through A, counted by B.
    assert_eq!(restarts(&b, "bapp"), 0);
    let done = send(
        port,
        "POST",
        "/api/hosts/hostb/processes/bapp/restart",
        &auth,
        b"{}",
    )
    .unwrap_or_else(|e| a.fail(&e, None));
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(restarts(&b, "bapp"), 1, "B's own jlist counts the restart");
    let audit = std::fs::read_to_string(a.home.join("plus/audit.log")).expect("A's audit log");
    let last: Value = serde_json::from_str(audit.lines().last().unwrap_or_default()).expect("JSON");
    assert_eq!(
        (
            last["host"].as_str(),
            last["action"].as_str(),
            last["ok"].as_bool()
        ),
        (Some("hostb"), Some("restart"), Some(true)),
        "{last}"
    );
    let missing = send(
        port,
        "POST",
        "/api/hosts/nohost/processes/bapp/restart",
        &auth,
        b"{}",
    )
    .unwrap_or_else(|e| a.fail(&e, None));
    assert_eq!(missing.status, 404, "{}", missing.text());

    a_stopped_agent_shows_the_host_offline(&a, &b, port, &auth);
    killed_agent_comes_back(&a, &b, port, &auth);

    let out = b.ok(&["unlink"]);
    b.expect_output(&out, "Unlinked from");
    a.wait_until(T, "hostb gone from A's /api/hosts", || {
        host(&a, port, &auth, "hostb").is_none()
    });
    assert!(
        !b.apps().iter().any(|x| x["name"] == "pm2-link"),
        "the agent is gone"
    );
    assert!(!b.home.join("agent.json5").exists(), "the link is removed");
    let again = b.ok(&["unlink"]);
    b.expect_output(&again, "nothing to undo");
    b.fails(&["link"], 1);
}

/// An empty secret, a word that is not a URL, a bad host name, no URL: refused, nothing
/// stored or started.
fn bad_input_changes_nothing(b: &Pm2, secret: &str) {
    for (args, says) in [
        (vec!["link", "", "http://127.0.0.1:1"], "secret is empty"),
        (vec!["link", secret, "pubkey"], "not a dashboard URL"),
        (
            vec!["link", secret, "http://127.0.0.1:1", "bad/name"],
            "cannot name a host",
        ),
        (vec!["link", secret], "needs the dashboard's URL"),
    ] {
        let out = b.fails(&args, 1);
        b.check(out.stderr.contains(says), says, &out);
        b.check(
            out.stderr.contains("nothing was done"),
            "says nothing changed",
            &out,
        );
    }
    assert!(!b.home.join("agent.json5").exists());
    assert!(!b.apps().iter().any(|x| x["name"] == "pm2-link"));
}

/// A wrong secret: `pm2 link` fails and undoes itself, A logs the refusal and lists no host.
fn wrong_secret_is_refused(a: &Pm2, b: &Pm2, port: u16, url: &str, auth: &[(&str, &str)]) {
    let out = b.fails(&["link", "0000wrong", url, "hostb"], 1);
    b.check(
        out.stderr.contains("wrong link secret"),
        "says the secret is wrong",
        &out,
    );
    assert!(!b.home.join("agent.json5").exists(), "no link kept");
    assert!(
        !b.apps().iter().any(|x| x["name"] == "pm2-link"),
        "no agent left"
    );
    let hosts = json(a, request(port, "GET", "/api/hosts", auth));
    assert_eq!(
        hosts.as_array().map(Vec::len),
        Some(1),
        "only A itself: {hosts}"
    );
    let err_log = a
        .apps()
        .into_iter()
        .find(|x| x["name"] == "pm2-plus")
        .map(|x| env_str(&x, "pm_err_log_path").to_string())
        .unwrap_or_default();
    a.wait_file_contains(Path::new(&err_log), "wrong link secret", T);
    // Refused without a secret too, and a browser session cannot open the link.
    let plain = request(
        port,
        "GET",
        "/api/link",
        &[("Upgrade", "pm2-link/1"), ("X-PM2-Link-Host", "x")],
    );
    let status = plain.map(|r| r.status).unwrap_or(0);
    assert!(status == 401 || status == 429, "no secret: {status}");
}

/// `pm2 link stop`: the link is kept, A shows hostb offline with its last table and
/// refuses actions on it; `pm2 restart pm2-link` brings it back.
fn a_stopped_agent_shows_the_host_offline(a: &Pm2, b: &Pm2, port: u16, auth: &[(&str, &str)]) {
    let out = b.ok(&["link", "stop"]);
    b.expect_output(&out, "stopped");
    a.wait_until(T, "hostb offline on A", || {
        host(a, port, auth, "hostb").is_some_and(|h| h["online"] == false)
    });
    let rows = json(a, request(port, "GET", "/api/hosts/hostb/processes", auth));
    let bapp = rows
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "bapp").cloned())
        .unwrap_or_else(|| a.fail(&format!("no bapp in hostb's last table: {rows}"), None));
    assert_eq!(bapp["host_online"], false, "{bapp}");
    let refused = send(
        port,
        "POST",
        "/api/hosts/hostb/processes/bapp/restart",
        auth,
        b"{}",
    )
    .unwrap_or_else(|e| a.fail(&e, None));
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert!(b.home.join("agent.json5").exists(), "the link is kept");
    b.ok(&["restart", "pm2-link"]);
    a.wait_until(T, "hostb online again", || {
        host(a, port, auth, "hostb").is_some_and(|h| h["online"] == true)
    });
}

/// SIGKILL of the agent: B's daemon restarts it, it links again, A sees a new connection.
fn killed_agent_comes_back(a: &Pm2, b: &Pm2, port: u16, auth: &[(&str, &str)]) {
    let before = host(a, port, auth, "hostb")
        .map(|h| h["connected_at"].clone())
        .unwrap_or_default();
    let agent = b
        .apps()
        .into_iter()
        .find(|x| x["name"] == "pm2-link")
        .expect("the agent");
    let id = agent["pm_id"].as_u64().unwrap_or(0);
    let restarted = env_u64(&agent, "restart_time") + 1;
    let daemon = b.daemon_pid();
    sigkill(b.wait_online(id));
    b.wait_until(T, "pm2-link restarted by B's daemon", || {
        env_u64(&b.app(id), "restart_time") == restarted && st(&b.app(id)) == "online"
    });
    assert_eq!(b.daemon_pid(), daemon, "B's daemon untouched");
    a.wait_until(T, "hostb linked again", || {
        host(a, port, auth, "hostb")
            .is_some_and(|h| h["online"] == true && h["connected_at"] != before)
    });
    let status = b.ok(&["link"]);
    b.expect_output(&status, "connected");
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
#[cfg_attr(no_chromium, ignore = "chromium not on PATH (scripts/install-deps.sh)")]
fn the_fleet_view_in_chromium_shows_both_hosts_apps_and_restarts_a_remote_one() {
    require(
        have("chromium"),
        "chromium not on PATH (scripts/install-deps.sh)",
    );
    let (a, b, port, secret, url) = two_homes("fleet");
    b.ok(&["link", &secret, &url, "hostb"]);
    let token = plus(&a, port);
    let mut browser = browser::Browser::launch(&a.dir).unwrap_or_else(|e| a.fail(&e, None));
    browser
        .navigate(&format!("http://127.0.0.1:{port}/login?token={token}"))
        .unwrap_or_else(|e| a.fail(&e, None));
    let rows = "Array.from(document.querySelectorAll('#fleet-table tbody tr')).map(r => r.dataset.host + '/' + r.dataset.name).sort().join(',')";
    a.wait_until(T, "the fleet lists both hosts' apps", || {
        browser
            .eval(rows)
            .ok()
            .and_then(|v| {
                v.as_str().map(|s| {
                    s.contains("hostb/bapp") && s.contains("/axm") && s.contains("/talker")
                })
            })
            .unwrap_or(false)
    });
    let hosts = "Array.from(document.querySelectorAll('#hosts tbody tr')).map(r => r.dataset.host).join(',')";
    let listed = browser
        .eval(hosts)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    assert!(
        listed.contains("hostb") && listed.split(',').count() == 2,
        "{listed}"
    );
    let click = "window.confirm = () => true; \
                 const b = document.querySelector('#fleet-table tr[data-host=\"hostb\"][data-name=\"bapp\"] button[data-action=\"restart\"]'); \
                 if (b) setTimeout(() => b.click(), 0); !!b";
    a.wait_until(T, "the remote restart button", || {
        browser.eval(click).ok() == Some(Value::Bool(true))
    });
    b.wait_until(T, "bapp restarted from A's page", || {
        restarts(&b, "bapp") == 1
    });
    let cell = "document.querySelector('#fleet-table tr[data-host=\"hostb\"][data-name=\"bapp\"] td[data-field=\"restarts\"]').textContent";
    a.wait_until(T, "the fleet shows B's new restart count", || {
        browser.eval(cell).ok() == Some(Value::String("1".into()))
    });
    let audit = std::fs::read_to_string(a.home.join("plus/audit.log")).expect("A's audit log");
    assert!(
        audit.contains(r#""host":"hostb""#) && audit.contains("login link"),
        "{audit}"
    );
    // The live log view of a remote app: hostb sends bapp's lines while the page follows.
    let open = "document.querySelector('#fleet-table tr[data-host=\"hostb\"][data-name=\"bapp\"] a.app').click(); true";
    assert_eq!(browser.eval(open).ok(), Some(Value::Bool(true)));
    a.wait_until(T, "a line of hostb's bapp in the page", || {
        browser
            .eval("document.getElementById('logs-lines').textContent")
            .ok()
            .and_then(|v| v.as_str().map(|t| t.contains("hello from host b")))
            .unwrap_or(false)
    });
    let fleet = "document.getElementById('fleet').scrollIntoView(); true";
    let _ = browser.eval(fleet);
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plus-fleet.png");
    browser
        .screenshot(&shot)
        .unwrap_or_else(|e| a.fail(&e, None));
    b.ok(&["unlink"]);
}
