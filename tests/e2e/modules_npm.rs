//! Real PM2 modules from the npm registry, each pinned and installed with `pm2 install`:
//! pm2-server-monit (metrics and actions over IPC, `describe`), pm2-metrics (a Prometheus
//! exporter that lists our apps through its bundled `require('pm2')` on every scrape) and
//! pm2-slack (bus events posted to a webhook, here a receiver on loopback), pm2-logrotate
//! (rotates our apps' log files) and a module `pm2 module:generate` wrote. Each checks
//! that the module's own npm client never spawned PM2's Node daemon.

use crate::harness::cluster::free_port;
use crate::harness::webhook::Webhook;
use crate::harness::*;
use crate::modules::{by_name, list_sections, module_conf, npm_found, wait_module_online, NPM, T};
use std::process::Command;
use std::time::Duration;

/// The versions of the real modules installed from the registry: pinned, so the tests do
/// not follow the registry (their own dependency ranges still resolve at install time).
const SERVER_MONIT: &str = "pm2-server-monit@3.0.0";
const PM2_METRICS: &str = "pm2-metrics@1.0.47";
const PM2_SLACK: &str = "pm2-slack@0.3.4";
const PM2_LOGROTATE: &str = "pm2-logrotate@3.0.0";

/// Whether the npm registry answers for the pinned package (one look-up). Without it the
/// test is left out, as a failure under CI.
fn registry_reachable(package: &str) -> bool {
    let found = Command::new("npm")
        .args(["view", package, "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    optional_part(
        found,
        &format!("the npm registry does not answer for {package}"),
    )
}

/// The real pm2-server-monit from npm: installed, online as a module with its package's
/// settings, its @pm2/io registers its actions and module options over IPC, its metrics
/// (under PM2 they flow through the agent PM2 injects; here its own @pm2/io 2.4
/// initialises itself, `PMX_FORCE_UPDATE`) reach `jlist` and `describe`, and the daemon
/// starts it again at boot.
#[test]
#[cfg_attr(
    no_npm,
    ignore = "npm not on PATH (scripts/install-deps.sh installs node with npm)"
)]
fn the_npm_pm2_server_monit_runs_as_a_module() {
    require(npm_found(), NPM);
    if !registry_reachable(SERVER_MONIT) {
        return;
    }
    let p = Pm2::new("mod_server_monit");
    p.ok(&["install", SERVER_MONIT]);
    let name = "pm2-server-monit";
    assert_eq!(module_conf(&p)[name]["drive"], "/", "{}", module_conf(&p));
    let module = wait_module_online(&p, name);
    assert_eq!(module["pm2_env"]["pmx_module"], true);
    assert_eq!(module["pm2_env"]["version"], "3.0.0");
    assert_eq!(module["pm2_env"]["drive"], "/");
    let module = p.wait_until(T, "its actions and module options over IPC", || {
        by_name(&p, name).filter(|m| {
            let env = &m["pm2_env"];
            env["axm_options"]["module_name"] == name
                && env["axm_actions"].as_array().is_some_and(|a| a.len() > 3)
        })
    });
    let actions = module["pm2_env"]["axm_actions"].to_string();
    assert!(actions.contains("disk usage"), "{actions}");
    let module = p.wait_until(T, "its metrics over IPC", || {
        by_name(&p, name).filter(|m| m["pm2_env"]["axm_monitor"].get("Free memory").is_some())
    });
    let metrics = &module["pm2_env"]["axm_monitor"];
    assert_eq!(metrics["CPU usage"]["unit"], "%", "{metrics}");
    assert!(metrics.get("Avail. Disk").is_some(), "{metrics}");
    let describe = p.ok(&["describe", name]).stdout;
    assert!(
        describe.contains("Code metrics value") && describe.contains("Free memory"),
        "{describe}"
    );
    let (_, modules) = list_sections(&p);
    assert!(
        modules.contains(name) && modules.contains("3.0.0"),
        "{modules}"
    );
    p.ok(&["kill"]);
    p.ok(&["ping"]);
    wait_module_online(&p, name);
    p.ok(&["uninstall", name]);
    assert!(by_name(&p, name).is_none());
    assert!(!p.home.join("modules").join(name).exists());
}

/// A Node app that stays up and writes `line` to stderr every second (so a subscriber that
/// connects after the app started still sees it).
fn node_app(p: &Pm2, file: &str, line: &str) -> std::path::PathBuf {
    let path = p.dir.join(file);
    let body = format!("setInterval(() => console.error({line:?}), 1000);\n");
    std::fs::write(&path, body).expect("write the app");
    path
}

/// The value of the Prometheus sample `metric{...name="<app>"...}` in `text`.
fn sample(text: &str, metric: &str, app: &str) -> Option<f64> {
    let label = format!("name=\"{app}\"");
    text.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")) && l.contains(&label))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}

/// pm2-metrics from npm: its exporter, which `require('pm2')`s the npm client bundled with
/// it (PM2 4), answers each scrape with a `pm2.list()` from this daemon: our app is up,
/// with its memory, and its restarts count after `pm2 restart`. Host and port come from
/// `pm2 set` before the install (install keeps values already set).
#[test]
#[cfg_attr(
    no_npm,
    ignore = "npm not on PATH (scripts/install-deps.sh installs node with npm)"
)]
fn the_npm_pm2_metrics_exporter_scrapes_our_apps() {
    require(npm_found(), NPM);
    if !registry_reachable(PM2_METRICS) {
        return;
    }
    let p = Pm2::new("mod_pm2_metrics");
    let port = free_port().to_string();
    p.ok(&["set", "pm2-metrics:host", "127.0.0.1"]);
    p.ok(&["set", "pm2-metrics:port", &port]);
    let app = node_app(&p, "web.js", "web up");
    p.ok(&["start", app.to_str().unwrap(), "--name", "web"]);
    let daemon = p.daemon_pid();
    p.ok(&["install", PM2_METRICS]);
    wait_module_online(&p, "pm2-metrics");
    let port: u16 = port.parse().expect("a port");
    let scrape = || {
        http::get(port, "/metrics")
            .ok()
            .map(|r| r.text())
            .filter(|t| sample(t, "pm2_up", "web").is_some())
    };
    let text = p.wait_until(T, "a scrape that lists web", scrape);
    assert_eq!(sample(&text, "pm2_up", "web"), Some(1.0), "{text}");
    assert!(
        sample(&text, "pm2_memory", "web").is_some_and(|m| m > 0.0),
        "{text}"
    );
    assert_eq!(sample(&text, "pm2_restarts", "web"), Some(0.0), "{text}");
    p.ok(&["restart", "web"]);
    p.wait_until(T, "a scrape after the restart", || {
        scrape().filter(|t| sample(t, "pm2_restarts", "web") == Some(1.0))
    });
    assert_eq!(p.daemon_pid(), daemon, "the same daemon");
    assert_eq!(
        node_daemons_of(&p.home),
        Vec::<i32>::new(),
        "no Node daemon"
    );
    p.ok(&["uninstall", "pm2-metrics"]);
}

/// pm2-slack from npm: it subscribes to the bus through its bundled client (PM2 0.15) and
/// posts each app's stderr line (`log:err`, on by default) to its `slack_url`, here a
/// receiver on loopback, in Slack's body. It sends from a queue it looks at every 10 s.
#[test]
#[cfg_attr(
    no_npm,
    ignore = "npm not on PATH (scripts/install-deps.sh installs node with npm)"
)]
fn the_npm_pm2_slack_posts_bus_events_to_its_webhook() {
    require(npm_found(), NPM);
    if !registry_reachable(PM2_SLACK) {
        return;
    }
    let hook = Webhook::start();
    let p = Pm2::new("mod_pm2_slack");
    p.ok(&["set", "pm2-slack:slack_url", &hook.url("/services/hook")]);
    p.ok(&["install", PM2_SLACK]);
    wait_module_online(&p, "pm2-slack");
    let daemon = p.daemon_pid();
    let app = node_app(&p, "worker.js", "disk almost full on /var");
    p.ok(&["start", app.to_str().unwrap(), "--name", "worker"]);
    let body = p.wait_until(
        Duration::from_secs(45),
        "a post naming the app's line",
        || {
            hook.bodies()
                .into_iter()
                .find(|b| b.contains("disk almost full on /var"))
        },
    );
    let post: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
    let field = &post["attachments"][0]["fields"][0];
    assert_eq!(field["title"], "worker - error", "{post}");
    assert_eq!(p.daemon_pid(), daemon, "the same daemon");
    assert_eq!(
        node_daemons_of(&p.home),
        Vec::<i32>::new(),
        "no Node daemon"
    );
    p.ok(&["uninstall", "pm2-slack"]);
}

/// `pm2 module:generate` writes a sample module (package.json with PM2's module fields, an
/// app with a metric and an action over `@pm2/io`) and installs its dependency; `pm2
/// install .` in it runs it, its metric reaches `describe` and its action answers
/// `pm2 trigger`. A second generate of the same name, or a name that is not a package
/// name, is refused and writes nothing.
#[test]
#[cfg_attr(
    no_npm,
    ignore = "npm not on PATH (scripts/install-deps.sh installs node with npm)"
)]
fn a_generated_module_installs_from_its_folder_with_a_metric_and_an_action() {
    require(npm_found(), NPM);
    if !registry_reachable("@pm2/io@6.1.0") {
        return;
    }
    let p = Pm2::new("mod_generate");
    let out = p.ok(&["module:generate", "gen-mod"]);
    p.expect_output(&out, "Module sample created in folder");
    let folder = p.dir.join("gen-mod");
    let package: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(folder.join("package.json")).expect("package.json"),
    )
    .expect("package.json is JSON");
    assert_eq!(package["name"], "gen-mod");
    assert_eq!(package["apps"][0]["script"], "app.js");
    assert!(folder.join("node_modules/@pm2/io/package.json").is_file());

    p.expect_code(&p.run_in(&folder, &["install", "."]), 0);
    let name = "gen-mod";
    p.wait_until(T, "its metric over IPC", || {
        by_name(&p, name).filter(|m| m["pm2_env"]["axm_monitor"].get("ticks").is_some())
    });
    let describe = p.ok(&["describe", name]).stdout;
    assert!(describe.contains("ticks"), "{describe}");
    let out = p.ok(&["trigger", name, "greet"]);
    p.expect_output(&out, "hello");
    let (_, modules) = list_sections(&p);
    assert!(modules.contains(name), "{modules}");

    let again = p.fails(&["module:generate", "gen-mod"], 1);
    p.expect_output(&again, "must be new");
    let bad = p.fails(&["module:generate", "../Evil"], 1);
    p.expect_output(&bad, "cannot name a module");
    assert!(!p.dir.parent().unwrap().join("Evil").exists());
}

/// The npm pm2-logrotate (its bundled PM2 7 client lists our apps every `workerInterval`
/// seconds) rotates our apps' log files once they pass `max_size`: a dated copy appears
/// beside the live file, which starts again from empty.
#[test]
#[cfg_attr(
    no_npm,
    ignore = "npm not on PATH (scripts/install-deps.sh installs node with npm)"
)]
fn the_npm_pm2_logrotate_rotates_our_log_files() {
    require(npm_found(), NPM);
    if !registry_reachable(PM2_LOGROTATE) {
        return;
    }
    let p = Pm2::new("mod_npm_logrotate");
    p.ok(&["set", "pm2-logrotate:max_size", "1K"]);
    p.ok(&["set", "pm2-logrotate:workerInterval", "1"]);
    let app = p.dir.join("chatty.js");
    let line = "y".repeat(100);
    std::fs::write(
        &app,
        format!("setInterval(() => console.log({line:?}), 20);\n"),
    )
    .expect("write the app");
    p.ok(&["start", app.to_str().unwrap(), "--name", "chatty"]);
    p.ok(&["install", PM2_LOGROTATE]);
    wait_module_online(&p, "pm2-logrotate");
    let logs = p.home.join("logs");
    // The module copies the file through streams, then truncates it: the copy is complete
    // once it holds at least max_size.
    let copy = p.wait_until(T, "a rotated copy of chatty's out log", || {
        std::fs::read_dir(&logs)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with("chatty-out__") && name.ends_with(".log")
            })
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .find(|text| text.len() >= 1024)
    });
    assert!(copy.contains(&line), "{copy}");
    assert_eq!(
        node_daemons_of(&p.home),
        Vec::<i32>::new(),
        "no Node daemon"
    );
    p.ok(&["uninstall", "pm2-logrotate"]);
}
