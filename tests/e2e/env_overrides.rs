//! PM2's variables for the daemon's paths and options: `PM2_<KEY>` moves an entry of the
//! `PM2_HOME` layout (pid file, pm2.log, module_conf.json, the dump, the apps' log and pid
//! folders), `PM2_CONCURRENT_ACTIONS`, `PM2_GRACEFUL_LISTEN_TIMEOUT`, `PM2_KILL_USE_MESSAGE`
//! and `PM2_DEEP_MONITORING`; and `axm_options`, filled from what an app's own `@pm2/io`
//! says of it. Each scenario runs against pm2-rs and, in its `_reference` twin, PM2 7.

use crate::harness::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(15);

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 test path")
}

/// The lines of the EVENTS file that `farewell.js` apps write.
fn events(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// Whether `pid` is a live process of `home` (pm2-rs's daemon or PM2's God daemon alike).
fn runs_for(pid: i32, home: &Path) -> bool {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    let wanted = format!("PM2_HOME={}", home.display());
    alive(pid) && environ.split(|b| *b == 0).any(|kv| kv == wanted.as_bytes())
}

/// Observed with PM2 7.0.4: each variable moves its file (a relative folder is taken
/// against the CLI's directory); the dump's backup stays `$PM2_HOME/dump.pm2.bak` unless
/// `PM2_DUMP_BACKUP_FILE_PATH` moves it; `resurrect` reads the moved dump; a `save` from a
/// shell with another `PM2_DUMP_FILE_PATH` writes there; an empty value is ignored.
fn paths_scenario(p: &Pm2) {
    p.fixture("ticker.js");
    let alt = p.dir.join("alt");
    std::fs::create_dir_all(&alt).expect("create alt/");
    let (pid_file, daemon_log) = (alt.join("daemon.pid"), alt.join("daemon.log"));
    let (module_conf, dump) = (alt.join("modules.json"), alt.join("apps.dump"));
    let pids = alt.join("apppids");
    let env = [
        ("PM2_PID_FILE_PATH", s(&pid_file)),
        ("PM2_LOG_FILE_PATH", s(&daemon_log)),
        ("PM2_MODULE_CONF_FILE", s(&module_conf)),
        ("PM2_DUMP_FILE_PATH", s(&dump)),
        ("PM2_DEFAULT_LOG_PATH", "applogs"),
        ("PM2_DEFAULT_PID_PATH", s(&pids)),
    ];
    p.ok_env(&env, &["start", "ticker.js", "--name", "tick"]);
    p.wait_online(0);
    let app = p.app(0);
    let out_log = app["pm2_env"]["pm_out_log_path"].as_str().unwrap_or("");
    let pid_path = app["pm2_env"]["pm_pid_path"].as_str().unwrap_or("");
    assert!(out_log.starts_with(s(&p.dir.join("applogs/"))), "{out_log}");
    assert!(pid_path.starts_with(s(&pids)), "{pid_path}");
    p.wait_file_contains(Path::new(pid_path), "", T);
    let daemon_pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(runs_for(daemon_pid, &p.home), "pid file {pid_file:?}");
    assert!(!p.home.join("pm2.pid").exists());
    p.wait_until(T, "the daemon to log into the moved pm2.log", || {
        std::fs::metadata(&daemon_log).is_ok_and(|m| m.len() > 0)
    });
    assert!(!p.home.join("pm2.log").exists());
    p.ok_env(&env, &["set", "envtest:answer", "42"]);
    // (The harness's own jlist calls run without the variables, so `PM2_HOME` may get a
    // module_conf.json of its own: only the moved one is checked.)
    p.wait_file_contains(&module_conf, "answer", T);
    p.ok_env(&env, &["save"]);
    p.ok_env(&env, &["save"]);
    assert!(dump.is_file() && p.home.join("dump.pm2.bak").is_file());
    assert!(!p.home.join("dump.pm2").exists() && !alt.join("apps.dump.bak").exists());
    let other = alt.join("other.dump");
    p.ok_env(&[("PM2_DUMP_FILE_PATH", s(&other))], &["save"]);
    assert!(
        other.is_file(),
        "a save follows the saving shell's variable"
    );
    p.ok_env(&[("PM2_DUMP_FILE_PATH", "")], &["save"]);
    assert!(
        p.home.join("dump.pm2").is_file(),
        "an empty value is ignored"
    );
    p.ok_env(&env, &["kill"]);
    p.ok_env(&env, &["resurrect"]);
    p.wait_online(0);
    assert_eq!(p.app(0)["name"], "tick");
    p.ok_env(&env, &["kill"]);
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn pm2_path_variables_move_the_daemon_and_app_files() {
    require(have("node"), "node not on PATH (scripts/install-deps.sh)");
    paths_scenario(&Pm2::new("env_paths"));
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2_REF"]
fn pm2_path_variables_move_the_daemon_and_app_files_reference() {
    paths_scenario(&Pm2::reference("env_paths_ref"));
}

/// Observed with PM2 7.0.4: a new app's log and pid files go where the environment of the
/// CLI that starts it says, whatever the daemon was started with (and an ecosystem app's
/// too).
fn app_files_scenario(p: &Pm2) {
    p.fixture("ticker.js");
    let (first, second) = (p.dir.join("first"), p.dir.join("second"));
    let daemon_env = [
        ("PM2_DEFAULT_LOG_PATH", s(&first)),
        ("PM2_DEFAULT_PID_PATH", s(&first)),
    ];
    p.ok_env(&daemon_env, &["start", "ticker.js", "--name", "one"]);
    p.ok(&["start", "ticker.js", "--name", "two"]);
    std::fs::write(
        p.dir.join("eco.config.js"),
        "module.exports = { apps: [{ name: 'three', script: 'ticker.js' }] };\n",
    )
    .expect("write the ecosystem file");
    let other = [("PM2_DEFAULT_LOG_PATH", s(&second))];
    p.ok_env(&other, &["start", "eco.config.js"]);
    let home_logs = p.home.join("logs");
    let home_pids = p.home.join("pids");
    let expected = [
        (s(&first), s(&first)),
        (s(&home_logs), s(&home_pids)),
        (s(&second), s(&home_pids)),
    ];
    for (id, (logs, pids)) in expected.into_iter().enumerate() {
        let env = p.app(id as u64)["pm2_env"].clone();
        let out = env["pm_out_log_path"].as_str().unwrap_or("");
        let err = env["pm_err_log_path"].as_str().unwrap_or("");
        let pid = env["pm_pid_path"].as_str().unwrap_or("");
        assert!(
            out.starts_with(logs) && err.starts_with(logs),
            "{id}: {env:#}"
        );
        assert!(pid.starts_with(pids), "{id}: {env:#}");
    }
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn app_files_follow_the_starting_clis_variables_not_the_daemons() {
    require(have("node"), "node not on PATH (scripts/install-deps.sh)");
    app_files_scenario(&Pm2::new("env_app_files"));
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2_REF"]
fn app_files_follow_the_starting_clis_variables_not_the_daemons_reference() {
    app_files_scenario(&Pm2::reference("env_app_files_ref"));
}

/// A path variable the CLI cannot use is named in the error, nothing starts and no daemon
/// is left behind (PM2 7 dies with Node's ENOENT stack trace).
#[test]
fn a_path_variable_that_cannot_be_used_is_named_in_the_error() {
    let p = Pm2::new("env_bad_path");
    p.sleeper_script("sleeper.sh");
    let missing = p.dir.join("missing/pm2.log");
    let out = p.run_env(
        &[("PM2_LOG_FILE_PATH", s(&missing))],
        &["start", "sleeper.sh"],
    );
    p.expect_code(&out, 1);
    p.check(
        out.stderr.contains("PM2_LOG_FILE_PATH") && out.stderr.contains(s(&missing)),
        "the error names the variable and its value",
        &out,
    );
    assert!(daemons_of(&p.home).is_empty());
    assert!(!p.home.join("daemon.sock").exists());
}

/// Starts `farewell.js` as `label` with `env` (EVENTS and its own settings) plus `args`.
fn start_farewell(p: &Pm2, env: &[(&str, &str)], label: &str, args: &[&str]) {
    let mut cmd = vec!["start", "farewell.js", "--name", label];
    cmd.extend_from_slice(args);
    cmd.extend_from_slice(&["--", label]);
    p.ok_env(env, &cmd);
}

/// Observed with PM2 7.0.4 (`PM2_CONCURRENT_ACTIONS=1`): `stop all` stops one app after
/// the other, the second is signalled only once the first has exited.
fn concurrency_scenario(p: &Pm2) {
    p.fixture("farewell.js");
    let log = p.dir.join("events.log");
    let env = [
        ("PM2_CONCURRENT_ACTIONS", "1"),
        ("EVENTS", s(&log)),
        ("LEAVE_MS", "400"),
    ];
    for label in ["a", "b"] {
        start_farewell(p, &env, label, &[]);
    }
    p.wait_until(T, "both apps to start", || {
        events(&log)
            .iter()
            .filter(|l| l.starts_with("started"))
            .count()
            == 2
    });
    p.ok_env(&env, &["stop", "all"]);
    let order: Vec<String> = events(&log)
        .into_iter()
        .filter(|l| !l.starts_with("started"))
        .collect();
    assert_eq!(order.len(), 4, "{order:?}");
    let first = order[0].rsplit(' ').next().unwrap_or("");
    assert_eq!(
        order[1],
        format!("exit {first}"),
        "one at a time: {order:?}"
    );
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn pm2_concurrent_actions_bounds_how_many_apps_stop_at_once() {
    require(have("node"), "node not on PATH (scripts/install-deps.sh)");
    concurrency_scenario(&Pm2::new("env_concurrent"));
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2_REF"]
fn pm2_concurrent_actions_bounds_how_many_apps_stop_at_once_reference() {
    concurrency_scenario(&Pm2::reference("env_concurrent_ref"));
}

/// Observed with PM2 7.0.4: a `--wait-ready` app that never says `ready` is called online
/// after `PM2_GRACEFUL_LISTEN_TIMEOUT` (the daemon's default `listen_timeout`, 3000 ms
/// without it), not before.
fn listen_timeout_scenario(p: &Pm2) {
    p.fixture("farewell.js");
    let log = p.dir.join("events.log");
    let env = [("PM2_GRACEFUL_LISTEN_TIMEOUT", "4000"), ("EVENTS", s(&log))];
    p.ok_env(&env, &["ping"]);
    let started = Instant::now();
    start_farewell(p, &env, "unready", &["--wait-ready"]);
    p.wait_status(0, "online", T);
    let waited = started.elapsed();
    // Load can only make the wait longer: 3000 ms (the default) must not be enough.
    assert!(
        waited >= Duration::from_millis(3600),
        "online after {waited:?}"
    );
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn pm2_graceful_listen_timeout_is_the_default_listen_timeout() {
    require(have("node"), "node not on PATH (scripts/install-deps.sh)");
    listen_timeout_scenario(&Pm2::new("env_listen"));
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2_REF"]
fn pm2_graceful_listen_timeout_is_the_default_listen_timeout_reference() {
    listen_timeout_scenario(&Pm2::reference("env_listen_ref"));
}

/// Observed with PM2 7.0.4 (`PM2_KILL_USE_MESSAGE=true` in the daemon's environment):
/// stop, restart and reload send the `shutdown` message and no signal; an app that stays
/// is killed (SIGKILL) after its `kill_timeout`.
fn kill_message_scenario(p: &Pm2) {
    p.fixture("farewell.js");
    let log = p.dir.join("events.log");
    let env = [("PM2_KILL_USE_MESSAGE", "true"), ("EVENTS", s(&log))];
    let starts = |n: usize| {
        p.wait_until(T, &format!("polite to have started {n} times"), || {
            events(&log)
                .iter()
                .filter(|l| *l == "started polite")
                .count()
                == n
        });
    };
    start_farewell(p, &env, "polite", &[]);
    starts(1);
    p.ok_env(&env, &["restart", "polite"]);
    starts(2);
    p.ok_env(&env, &["reload", "polite"]);
    starts(3);
    p.ok_env(&env, &["stop", "polite"]);
    let told = events(&log);
    let messages = told.iter().filter(|l| *l == "message polite").count();
    assert_eq!(messages, 3, "{told:?}");
    assert!(!told.iter().any(|l| l.starts_with("signal")), "{told:?}");
    let stay = [("STAY", "1"), env[0], env[1]];
    start_farewell(p, &stay, "stubborn", &["--kill-timeout", "800"]);
    let pid = p.wait_online(1);
    let started = Instant::now();
    p.ok_env(&env, &["stop", "stubborn"]);
    assert!(started.elapsed() >= Duration::from_millis(700));
    p.wait_until(T, "the stubborn app to be gone", || !alive(pid));
    assert_eq!(st(&p.app(1)), "stopped");
    assert!(events(&log).contains(&"message stubborn".to_string()));
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn pm2_kill_use_message_stops_and_reloads_with_the_shutdown_message() {
    require(have("node"), "node not on PATH (scripts/install-deps.sh)");
    kill_message_scenario(&Pm2::new("env_kill_msg"));
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2_REF"]
fn pm2_kill_use_message_stops_and_reloads_with_the_shutdown_message_reference() {
    kill_message_scenario(&Pm2::reference("env_kill_msg_ref"));
}

/// `PM2_DEEP_MONITORING` in the CLI's environment: apps it starts or restarts get
/// `deep_monitoring: true`; the others have no such key.
#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn pm2_deep_monitoring_marks_the_apps_started_or_restarted_with_it() {
    require(have("node"), "node not on PATH (scripts/install-deps.sh)");
    let p = Pm2::new("env_deep");
    p.fixture("ticker.js");
    let deep = [("PM2_DEEP_MONITORING", "true")];
    p.ok_env(&deep, &["start", "ticker.js", "--name", "deep"]);
    p.ok(&["start", "ticker.js", "--name", "plain"]);
    p.wait_online(1);
    assert_eq!(p.app(0)["pm2_env"]["deep_monitoring"], true);
    assert!(p.app(1)["pm2_env"]["deep_monitoring"].is_null());
    p.ok_env(&deep, &["restart", "plain"]);
    assert_eq!(p.app(1)["pm2_env"]["deep_monitoring"], true);
}

/// Observed with PM2 7.0.4: `axm:option:configuration` messages are merged key by key (a
/// later key replaces the earlier one, nested objects whole), a `name` in them renames the
/// app, which is then a target under that name, and `describe` shows their `module_conf`.
fn axm_by_hand_scenario(p: &Pm2) {
    p.fixture("axm_options.js");
    let env = [("RENAME", "renamed")];
    p.ok_env(&env, &["start", "axm_options.js", "--name", "orig"]);
    p.wait_until(T, "the app to take the name it gave itself", || {
        p.app(0)["name"] == "renamed"
    });
    let o = p.app(0)["pm2_env"]["axm_options"].clone();
    assert_eq!(o["module_name"], "by-hand", "{o:#}");
    assert_eq!(o["module_version"], "2.0.0", "{o:#}");
    assert_eq!(o["metrics"], json!({"v8": true}), "{o:#}");
    assert_eq!(o["name"], "renamed", "{o:#}");
    // `describe` shows the module_conf under "Process configuration".
    let out = p.ok(&["describe", "renamed"]);
    p.expect_output(&out, "Process configuration");
    let row = out
        .stdout
        .lines()
        .any(|l| l.contains("region") && l.contains("eu"));
    p.check(row, "describe shows module_conf's region │ eu", &out);
    p.ok(&["restart", "renamed"]);
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn axm_options_merge_key_by_key_and_a_name_renames_the_app() {
    require(have("node"), "node not on PATH (scripts/install-deps.sh)");
    axm_by_hand_scenario(&Pm2::new("env_axm_by_hand"));
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2_REF"]
fn axm_options_merge_key_by_key_and_a_name_renames_the_app_reference() {
    axm_by_hand_scenario(&Pm2::reference("env_axm_by_hand_ref"));
}

/// Observed with PM2 7.0.4 for an app whose own code calls `@pm2/io`'s `init`:
/// `axm_options` holds what it sent (`module_name` the app's name, the metrics options it
/// gave, `apm.type` node, `module_conf` {}, `error` true), and holds it again after a
/// restart. (PM2 7 answers `require('@pm2/io')` with the copy it injects into every app,
/// so `apm.version` is its own, 8.0.0, and it adds `tracing` and `module_version`.)
fn axm_options_scenario(p: &Pm2) {
    p.fixture("pm2io_app.js");
    let node_path = pm2_io_path();
    let env = [("NODE_PATH", node_path.as_str())];
    p.ok_env(&env, &["start", "pm2io_app.js", "--name", "io-app"]);
    let options = |p: &Pm2| p.app(0)["pm2_env"]["axm_options"].clone();
    let check = |o: &Value| {
        assert_eq!(o["metrics"], json!({"http": false}), "{o:#}");
        assert_eq!(o["apm"]["type"], "node", "{o:#}");
        assert_eq!(o["module_conf"], json!({}), "{o:#}");
        assert_eq!(o["error"], true, "{o:#}");
    };
    // @pm2/io reports its options more than once while it initialises (its defaults, then
    // what `init` was given): wait for the app's own, then check the rest of them.
    let own = |o: &Value| o["module_name"] == "io-app" && o["metrics"] == json!({"http": false});
    p.wait_until(T, "axm_options to hold what the app sent", || {
        own(&options(p))
    });
    check(&options(p));
    let restarts = env_u64(&p.app(0), "restart_time");
    p.ok_env(&env, &["restart", "io-app"]);
    p.wait_until(T, "the restarted app to report again", || {
        let app = p.app(0);
        env_u64(&app, "restart_time") > restarts && own(&app["pm2_env"]["axm_options"])
    });
    check(&options(p));
}

#[test]
#[cfg_attr(no_pm2_io, ignore = "@pm2/io not installed (scripts/install-deps.sh)")]
fn axm_options_hold_what_the_apps_own_pm2_io_sends() {
    let p = Pm2::new("env_axm_options");
    axm_options_scenario(&p);
    // pm2-rs injects nothing: an app that loads no @pm2/io says nothing (PM2 7's injected
    // copy fills axm_options for every Node app).
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js"]);
    p.wait_online(1);
    assert_eq!(p.app(1)["pm2_env"]["axm_options"], json!({}));
    assert_eq!(
        p.app(0)["pm2_env"]["axm_options"]["apm"]["version"],
        "6.1.0"
    );
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2_REF"]
fn axm_options_hold_what_the_apps_own_pm2_io_sends_reference() {
    axm_options_scenario(&Pm2::reference("env_axm_options_ref"));
}
