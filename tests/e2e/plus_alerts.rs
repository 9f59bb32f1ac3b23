//! `pm2 plus`'s issues inbox and alerts (pm2-rs beyond PM2 7, whose issues and alerts live
//! in the hosted PM2 Plus service: no reference twins). A crashing app and one reporting
//! `process:exception` become grouped issues with their count, stack and log lines, kept
//! across a restart of the dashboard; webhooks get the crash, first-seen, restart storm,
//! errored and memory alerts (JSON or Slack's `{"text"}`), a receiver that fails at first
//! gets them after retries, and one that never answers holds nothing else up.

use crate::harness::browser::Browser;
use crate::harness::cluster::free_port;
use crate::harness::http::{request, Reply};
use crate::harness::webhook::Webhook;
use crate::harness::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

pub(crate) const T: Duration = Duration::from_secs(30);

/// Prints a line on each stream, then throws an error whose message changes every run.
pub(crate) const CRASHER: &str = "console.log('crasher up ' + process.pid);\n\
console.error('about to fail at ' + Date.now());\n\
setTimeout(() => { throw new Error('boom ' + Date.now()); }, 200);\n";

/// Reports two exceptions that differ only by a number, as `@pm2/io` does, then idles.
const REPORTER: &str = "let n = 0;\n\
const report = () => process.send({ type: 'process:exception', data: {\n\
  name: 'TypeError', message: 'cannot read id of undefined (request ' + (++n * 1000 + 7) + ')',\n\
  stack: 'TypeError: cannot read id of undefined\\n    at handler (/srv/api.js:12:3)' } });\n\
console.log('handling request');\n\
setTimeout(report, 300); setTimeout(report, 600);\n\
setInterval(() => {}, 1000);\n";

/// The dashboard's port and the API token's `Authorization` value, after `pm2 plus`.
pub(crate) struct Dashboard {
    pub(crate) port: u16,
    pub(crate) bearer: String,
    /// The one-time login token `pm2 plus` printed.
    pub(crate) login: String,
}

impl Dashboard {
    pub(crate) fn start(p: &Pm2, settings: &[(&str, &str)]) -> Dashboard {
        let port = free_port();
        p.ok(&["set", "pm2-plus:port", &port.to_string()]);
        for (key, value) in settings {
            p.ok(&["set", &format!("pm2-plus:{key}"), value]);
        }
        let out = p.ok(&["plus"]);
        let link = "/login?token=";
        let login = out.stdout.find(link).map_or_else(String::new, |at| {
            out.stdout[at + link.len()..]
                .chars()
                .take_while(char::is_ascii_hexdigit)
                .collect()
        });
        let token = std::fs::read_to_string(p.home.join("plus").join("api-token"))
            .unwrap_or_else(|e| p.fail(&format!("no API token: {e}"), None));
        Dashboard {
            port,
            bearer: format!("Bearer {}", token.trim()),
            login,
        }
    }

    pub(crate) fn call(&self, p: &Pm2, method: &str, path: &str) -> Reply {
        request(self.port, method, path, &[("Authorization", &self.bearer)])
            .unwrap_or_else(|e| p.fail(&format!("{method} {path}: {e}"), None))
    }

    pub(crate) fn json(&self, p: &Pm2, path: &str) -> Value {
        let r = self.call(p, "GET", path);
        serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| p.fail(&format!("{path}: not JSON ({e}): {}", r.text()), None))
    }

    /// Waits for the issue of `app` that `accept` takes.
    fn wait_issue(&self, p: &Pm2, app: &str, what: &str, accept: impl Fn(&Value) -> bool) -> Value {
        p.wait_until(T, what, || {
            let list = self.json(p, "/api/issues");
            list.as_array()?
                .iter()
                .find(|i| i["app"] == app && accept(i))
                .cloned()
        })
    }
}

pub(crate) fn write(p: &Pm2, name: &str, text: &str) {
    std::fs::write(p.dir.join(name), text).expect("write the app");
}

/// The JSON bodies a webhook got.
pub(crate) fn alerts(hook: &Webhook) -> Vec<Value> {
    hook.bodies()
        .iter()
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect()
}

pub(crate) fn wait_alert(p: &Pm2, hook: &Webhook, event: &str, app: &str) -> Value {
    p.wait_until(T, &format!("a {event} alert for {app}"), || {
        alerts(hook)
            .into_iter()
            .find(|a| a["event"] == event && a["app"] == app)
    })
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn crashes_and_reported_exceptions_are_grouped_issues_that_survive_a_restart() {
    let p = Pm2::new("plus_issues");
    let d = Dashboard::start(&p, &[]);
    write(&p, "crasher.js", CRASHER);
    write(&p, "reporter.js", REPORTER);
    p.ok(&["start", "crasher.js", "--restart-delay", "300"]);
    p.ok(&["start", "reporter.js"]);

    let crash = d.wait_issue(&p, "crasher", "the crash counted twice", |i| {
        i["count"].as_u64() >= Some(2)
    });
    assert_eq!(crash["kind"], "crash");
    assert!(
        crash["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("Error: boom "),
        "{crash}"
    );
    assert_eq!(crash["normalised"], "Error: boom <n>");
    assert_eq!(crash["detail"]["exit_code"], 1, "{crash}");
    assert!(
        crash["first_seen"].as_u64() < crash["last_seen"].as_u64(),
        "{crash}"
    );
    p.ok(&["stop", "crasher"]);
    let id = crash["id"].as_str().unwrap_or_default().to_string();
    let full = d.json(&p, &format!("/api/issues/{id}"));
    let stack = full["stack"].as_str().unwrap_or_default();
    assert!(
        stack.contains("Error: boom") && stack.contains("crasher.js"),
        "{full}"
    );
    let logs = full["logs"].to_string();
    assert!(
        logs.contains("crasher up") && logs.contains("about to fail at"),
        "{full}"
    );
    let listed = d.json(&p, "/api/issues");
    let groups = listed
        .as_array()
        .map_or(0, |l| l.iter().filter(|i| i["app"] == "crasher").count());
    assert_eq!(groups, 1, "every crash in one group: {listed}");

    let reported = d.wait_issue(&p, "reporter", "two exceptions in one group", |i| {
        i["count"] == 2
    });
    assert_eq!(reported["kind"], "exception");
    assert_eq!(
        reported["normalised"],
        "TypeError: cannot read id of undefined (request <n>)"
    );
    let rid = reported["id"].as_str().unwrap_or_default().to_string();
    let rfull = d.json(&p, &format!("/api/issues/{rid}"));
    assert!(
        rfull["stack"]
            .as_str()
            .unwrap_or("")
            .contains("/srv/api.js:12:3"),
        "{rfull}"
    );
    assert!(
        rfull["logs"].to_string().contains("handling request"),
        "{rfull}"
    );

    // Resolving is an action: needs the token, is audited, and survives a restart.
    let no_auth = request(d.port, "POST", &format!("/api/issues/{rid}/resolve"), &[]);
    assert_eq!(no_auth.map(|r| r.status).ok(), Some(401));
    let r = d.call(&p, "POST", &format!("/api/issues/{rid}/resolve"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        d.call(&p, "POST", "/api/issues/0000000000000000/resolve")
            .status,
        404
    );
    let audit = std::fs::read_to_string(p.home.join("plus").join("audit.log")).unwrap_or_default();
    assert!(
        audit.contains("\"action\":\"resolve\"") && audit.contains(&rid),
        "{audit}"
    );
    let file = p.home.join("plus").join("issues.json");
    let mode = std::fs::metadata(&file).map(|m| m.permissions().mode() & 0o777);
    assert_eq!(mode.ok(), Some(0o600), "{}", file.display());

    p.ok(&["restart", "pm2-plus"]);
    let after = p.wait_until(T, "the dashboard back with its issues", || {
        let r = request(
            d.port,
            "GET",
            &format!("/api/issues/{id}"),
            &[("Authorization", &d.bearer)],
        )
        .ok()?;
        (r.status == 200)
            .then(|| serde_json::from_slice::<Value>(&r.body).ok())
            .flatten()
    });
    assert_eq!(after["count"], full["count"], "{after}");
    assert_eq!(d.json(&p, &format!("/api/issues/{rid}"))["resolved"], true);
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn webhooks_get_crash_first_seen_storm_errored_and_memory_alerts() {
    let p = Pm2::new("plus_alerts");
    let hook = Webhook::start();
    let url = hook.url("/hooks/pm2");
    Dashboard::start(
        &p,
        &[
            ("alert_url", &url),
            ("alert_storm", "3/60s"),
            ("alert_memory", "1M"),
            ("alert_for", "1s"),
        ],
    );
    write(&p, "crasher.js", CRASHER);
    write(&p, "steady.js", "setInterval(() => {}, 1000);\n");
    p.ok(&["start", "crasher.js", "--max-restarts", "3"]);
    p.ok(&["start", "steady.js"]);

    let crash = wait_alert(&p, &hook, "crash", "crasher");
    assert_eq!(crash["source"], "pm2-plus");
    assert!(
        crash["message"]
            .as_str()
            .unwrap_or("")
            .contains("exited with code 1: Error: boom"),
        "{crash}"
    );
    let first = wait_alert(&p, &hook, "issue_first_seen", "crasher");
    assert_eq!(first["detail"]["count"], 1, "{first}");
    assert_eq!(first["detail"]["kind"], "crash");
    let storm = wait_alert(&p, &hook, "restart_storm", "crasher");
    assert_eq!(storm["detail"]["restarts"], 3, "{storm}");
    let errored = wait_alert(&p, &hook, "errored", "crasher");
    assert!(
        errored["message"]
            .as_str()
            .unwrap_or("")
            .contains("errored"),
        "{errored}"
    );
    let memory = wait_alert(&p, &hook, "memory", "steady");
    assert_eq!(memory["detail"]["limit"], 1 << 20, "{memory}");

    let all = alerts(&hook);
    let count = |event: &str| {
        all.iter()
            .filter(|a| a["event"] == event && a["app"] == "crasher")
            .count()
    };
    assert_eq!(
        count("issue_first_seen"),
        1,
        "one first-seen per group: {all:?}"
    );
    assert_eq!(count("restart_storm"), 1, "one alert per storm: {all:?}");
    assert!(count("crash") >= 3, "{all:?}");
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn the_slack_format_posts_text_only() {
    let p = Pm2::new("plus_slack");
    let hook = Webhook::start();
    let url = hook.url("/services/T000/B000/XXXX");
    Dashboard::start(&p, &[("alert_url", &url), ("alert_format", "slack")]);
    write(&p, "crasher.js", CRASHER);
    p.ok(&["start", "crasher.js", "--no-autorestart"]);
    let text = p.wait_until(T, "a Slack crash message", || {
        alerts(&hook).into_iter().find_map(|a| {
            let text = a["text"].as_str()?.to_string();
            let crash = text.contains("crash: crasher (") && text.contains("exited with code 1");
            crash.then_some((a, text))
        })
    });
    assert_eq!(
        text.0.as_object().map(|o| o.len()),
        Some(1),
        "only `text`: {}",
        text.0
    );
    assert!(text.1.starts_with("[pm2-plus on "), "{}", text.1);
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn a_failing_webhook_gets_its_alerts_after_retries_and_a_dead_one_holds_nothing_up() {
    let p = Pm2::new("plus_retry");
    let dead = Webhook::silent();
    let flaky = Webhook::failing_first(2);
    let good = Webhook::start();
    let urls = [dead.url("/dead"), flaky.url("/flaky"), good.url("/good")].join(",");
    let d = Dashboard::start(&p, &[("alert_url", &urls)]);
    write(&p, "crasher.js", CRASHER);
    p.ok(&["start", "crasher.js", "--no-autorestart"]);

    // The good receiver gets both alerts well before the dead one's 5 s deadline.
    let started = Instant::now();
    wait_alert(&p, &good, "crash", "crasher");
    wait_alert(&p, &good, "issue_first_seen", "crasher");
    p.wait_until(T, "the dead receiver to have been called", || {
        dead.posts() >= 1
    });
    let quick = Instant::now();
    let r = d.call(&p, "GET", "/api/issues");
    assert_eq!(r.status, 200);
    assert!(
        quick.elapsed() < Duration::from_secs(2),
        "the API waits for no webhook"
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    // The flaky one answered 500 twice, then took both.
    wait_alert(&p, &flaky, "crash", "crasher");
    wait_alert(&p, &flaky, "issue_first_seen", "crasher");
    assert_eq!(flaky.posts(), 4, "two refused, two taken");
    let delivered = p.wait_until(T, "the flaky deliveries recorded", || {
        let a = d.json(&p, "/api/alerts");
        let list = a["deliveries"].as_array()?.clone();
        let flaky: Vec<Value> = list
            .into_iter()
            .filter(|x| x["url"] == flaky.url("/flaky"))
            .collect();
        (flaky.len() == 2).then_some(flaky)
    });
    assert!(delivered.iter().all(|x| x["ok"] == true), "{delivered:?}");
    assert!(
        delivered.iter().any(|x| x["tries"].as_u64() >= Some(2)),
        "{delivered:?}"
    );
}

#[test]
fn bad_alert_settings_are_refused_naming_the_key() {
    let p = Pm2::new("plus_alert_bad");
    p.ok(&["set", "pm2-plus:port", &free_port().to_string()]);
    for (key, value) in [
        ("alert_storm", "five"),
        ("alert_url", "ftp://hooks.example/x"),
        ("alert_memory", "lots"),
    ] {
        p.ok(&["set", &format!("pm2-plus:{key}"), value]);
        let out = p.fails(&["plus"], 1);
        p.expect_output(&out, &format!("pm2-plus:{key}"));
        assert!(
            p.apps().iter().all(|a| a["name"] != "pm2-plus"),
            "nothing started"
        );
        p.ok(&["unset", &format!("pm2-plus:{key}")]);
    }
}

#[test]
fn the_page_lists_an_issue_opens_its_stack_and_lines_and_resolves_it() {
    require(
        have("chromium"),
        "chromium not on PATH (scripts/install-deps.sh)",
    );
    require(have("node"), "node not on PATH (scripts/install-deps.sh)");
    let p = Pm2::new("plus_issues_page");
    let d = Dashboard::start(&p, &[]);
    write(&p, "crasher.js", CRASHER);
    p.ok(&["start", "crasher.js", "--no-autorestart"]);
    let issue = d.wait_issue(&p, "crasher", "the crash in the inbox", |_| true);
    let mut browser = Browser::launch(&p.dir).unwrap_or_else(|e| p.fail(&e, None));
    let login = format!("http://127.0.0.1:{}/login?token={}", d.port, d.login);
    browser
        .navigate(&login)
        .unwrap_or_else(|e| p.fail(&e, None));
    let open =
        "(() => { const b = Array.from(document.querySelectorAll('#issues-table tbody tr')) \
                .find(r => r.textContent.includes('crasher'))?.querySelector('button'); \
                if (b) b.click(); return !!b; })()";
    p.wait_until(T, "the issue listed and opened", || {
        browser.eval(open).ok() == Some(Value::Bool(true))
    });
    let text = |browser: &mut Browser, id: &str| {
        let js = format!("document.getElementById('{id}').textContent");
        browser
            .eval(&js)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    };
    p.wait_until(T, "the stack and the lines before it", || {
        text(&mut browser, "issue-stack").contains("Error: boom")
            && text(&mut browser, "issue-logs").contains("err | about to fail at")
    });
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plus-issues.png");
    browser
        .screenshot(&shot)
        .unwrap_or_else(|e| p.fail(&e, None));
    let resolve =
        "window.confirm = () => true; document.getElementById('issue-resolve').click(); true";
    assert_eq!(browser.eval(resolve).ok(), Some(Value::Bool(true)));
    let id = issue["id"].as_str().unwrap_or_default().to_string();
    p.wait_until(T, "the issue resolved from the page", || {
        d.json(&p, &format!("/api/issues/{id}"))["resolved"] == true
    });
    let audit = std::fs::read_to_string(p.home.join("plus").join("audit.log")).unwrap_or_default();
    assert!(
        audit.contains("login link") && audit.contains("\"resolve\""),
        "{audit}"
    );
}
