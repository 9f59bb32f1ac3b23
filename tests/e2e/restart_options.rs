//! Start options given to `restart`, `reload` and `start` of an app that exists: PM2 7
//! merges them into the app's definition (`_handleAttributeUpdate`, then `extendMix` in the
//! daemon, where the value `null` removes a key), and `start <file>` of a stopped or errored
//! app restarts it with them instead of refusing.

use crate::harness::jlist::{env_u64, st};
use crate::harness::Pm2;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// A Node app that prints its interpreter arguments, then stays up.
fn argv_app(p: &Pm2) {
    std::fs::write(
        p.dir.join("argv.js"),
        "console.log('execArgv=' + JSON.stringify(process.execArgv));\n\
         setInterval(() => {}, 1000);\n",
    )
    .expect("write argv.js");
}

/// The app's out log (merged: one instance, no `-i`).
fn out_log(p: &Pm2, name: &str) -> std::path::PathBuf {
    p.log_path(&format!("{name}-out.log"))
}

/// Observed with PM2 7.0.4: `stop` then `start app.js --watch --max-memory-restart 100M`
/// prints "Applying action restartProcessId on app [app]" and "Process successfully
/// started", exits 0, keeps one app (restart_time stays 0: it was not running) with
/// `watch: true` and `max_memory_restart: 104857600`; a second `start app.js` while it is
/// online exits 1 with "Script already launched". An errored app is restarted the same way
/// (it runs once more, with `autorestart: false`).
fn start_file_scenario(p: &Pm2) {
    // In its own folder: `--watch` watches the app's folder, and PM2_HOME is not in it.
    let app_dir = p.dir.join("app");
    std::fs::create_dir_all(&app_dir).expect("create the app folder");
    std::fs::copy(p.fixture("ticker.js"), app_dir.join("ticker.js")).expect("copy");
    let in_app = |args: &[&str], code: i32| {
        let out = p.run_in(&app_dir, args);
        p.expect_code(&out, code);
        out
    };
    in_app(&["start", "ticker.js"], 0);
    p.wait_online(0);
    p.ok(&["stop", "ticker"]);
    let out = in_app(
        &[
            "start",
            "ticker.js",
            "--watch",
            "--max-memory-restart",
            "100M",
        ],
        0,
    );
    p.expect_output(
        &out,
        "Applying action restartProcessId on app [ticker](ids: [ 0 ])",
    );
    p.expect_output(&out, "Process successfully started");
    assert_eq!(p.app_count(), 1, "no app added");
    p.wait_online(0);
    let app = p.app(0);
    assert_eq!(app["pm2_env"]["watch"], true, "{app:#}");
    assert_eq!(env_u64(&app, "max_memory_restart"), 100 << 20, "{app:#}");
    assert_eq!(env_u64(&app, "restart_time"), 0, "{app:#}");

    let out = in_app(&["start", "ticker.js"], 1);
    p.expect_output(&out, "Script already launched");

    p.fixture("crash.sh");
    p.ok(&["start", "crash.sh", "--max-restarts", "1"]);
    p.wait_status(1, "errored", T);
    let runs = || {
        let log = std::fs::read_to_string(out_log(p, "crash")).unwrap_or_default();
        log.matches("crash pid=").count()
    };
    let before = runs();
    let out = p.ok(&["start", "crash.sh", "--no-autorestart"]);
    p.expect_output(&out, "Process successfully started");
    assert_eq!(p.app_count(), 2, "no app added");
    p.wait_until(T, "the errored app to run once more", || runs() > before);
    let app = p.app(1);
    assert_eq!(app["pm2_env"]["autorestart"], false, "{app:#}");
}

#[test]
fn start_of_a_stopped_or_errored_file_restarts_it_with_the_new_options() {
    start_file_scenario(&Pm2::new("start_stopped"));
}

#[test]
#[ignore = "reference run: needs PM2_REF"]
fn start_of_a_stopped_or_errored_file_restarts_it_with_the_new_options_reference() {
    start_file_scenario(&Pm2::reference("start_stopped_ref"));
}

/// Observed with PM2 7.0.4: `restart argv --name renamed --node-args --trace-warnings
/// --cron '0 0 * * *'` renames the app and runs it with the new node args and cron;
/// `reload renamed --node-args null` removes the key (PM2 7's CLI crashes on
/// `--cron null`, in `_handleAttributeUpdate`); `start renamed
/// --max-memory-restart 50M` (a name) restarts it with that limit.
fn restart_options_scenario(p: &Pm2) {
    argv_app(p);
    p.ok(&["start", "argv.js", "--node-args=--max-old-space-size=100"]);
    p.wait_file_contains(&out_log(p, "argv"), "--max-old-space-size=100", T);

    let out = p.ok(&[
        "restart",
        "argv",
        "--name",
        "renamed",
        "--node-args=--trace-warnings",
        "--cron",
        "0 0 * * *",
    ]);
    p.expect_output(&out, "[renamed](0) ✓");
    let app = p.app(0);
    assert_eq!(app["name"], "renamed", "{app:#}");
    assert_eq!(
        app["pm2_env"]["node_args"],
        serde_json::json!(["--trace-warnings"])
    );
    assert_eq!(app["pm2_env"]["cron_restart"], "0 0 * * *", "{app:#}");
    p.wait_file_contains(&out_log(p, "argv"), r#""--trace-warnings"]"#, T);

    p.ok(&["reload", "renamed", "--node-args", "null"]);
    let app = p.app(0);
    let node_args = &app["pm2_env"]["node_args"];
    let empty = node_args.is_null() || node_args.as_array().is_some_and(|a| a.is_empty());
    assert!(empty, "node_args removed: {app:#}");
    // The third run's arguments: none of the user's (pm2-rs adds Node's
    // `--enable-source-maps`, PM2 turns source maps on from its wrapper).
    p.wait_until(T, "a run without the removed node args", || {
        let log = std::fs::read_to_string(out_log(p, "argv")).unwrap_or_default();
        let runs: Vec<&str> = log.lines().filter(|l| l.starts_with("execArgv=")).collect();
        runs.len() >= 3 && runs.last().is_some_and(|l| !l.contains("--trace-warnings"))
    });

    p.ok(&["start", "renamed", "--max-memory-restart", "50M"]);
    let app = p.app(0);
    assert_eq!(env_u64(&app, "max_memory_restart"), 50 << 20, "{app:#}");
    assert_eq!(st(&app), "online", "{app:#}");
    assert_eq!(p.app_count(), 1);
}

#[test]
fn restart_reload_and_start_of_a_name_apply_the_start_options() {
    restart_options_scenario(&Pm2::new("restart_opts"));
}

#[test]
#[ignore = "reference run: needs PM2_REF"]
fn restart_reload_and_start_of_a_name_apply_the_start_options_reference() {
    restart_options_scenario(&Pm2::reference("restart_opts_ref"));
}

/// pm2-rs only: PM2 7 deletes the name on `--name null` and its `list` then crashes; pm2-rs
/// refuses, names the flag, and changes nothing.
#[test]
fn a_null_name_or_a_bad_value_on_restart_is_refused_and_changes_nothing() {
    let p = Pm2::new("restart_bad");
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js"]);
    let pid = p.wait_online(0);
    let out = p.fails(&["restart", "ticker", "--name", "null"], 1);
    p.expect_output(&out, "--name");
    let out = p.fails(&["restart", "ticker", "--kill-timeout", "soon"], 1);
    p.expect_output(&out, "--kill-timeout");
    let app = p.app(0);
    assert_eq!(app["name"], "ticker");
    assert_eq!(app["pid"], pid, "not restarted");
}
