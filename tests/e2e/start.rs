//! `pm2 start`: PM2's naming, ids, log and pid files, instances, refusals.

use crate::harness::*;
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

/// PM2's file-name form of an app name (`name.replace(/[^a-zA-Z0-9\\.\\-]/g,'-')`).
fn pm2_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '\\' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[test]
fn default_name_is_the_basename_and_ids_count_from_zero() {
    let p = Pm2::new("default_name");
    p.fixture("ticker.js");
    p.fixture("app.py");
    p.ok(&["start", "ticker.js"]);
    p.ok(&["start", "app.py"]);
    let apps = p.apps();
    let names: Vec<&str> = apps
        .iter()
        .map(|a| a["name"].as_str().unwrap_or(""))
        .collect();
    let ids: Vec<u64> = apps
        .iter()
        .map(|a| a["pm_id"].as_u64().unwrap_or(99))
        .collect();
    assert_eq!(names, ["ticker", "app"], "{apps:#?}");
    assert_eq!(ids, [0, 1]);
    for (id, name) in [(0, "ticker"), (1, "app")] {
        let pid = p.wait_online(id);
        let pid_file = p.home.join(format!("pids/{name}-{id}.pid"));
        let content = std::fs::read_to_string(&pid_file).unwrap_or_default();
        assert_eq!(content.trim(), pid.to_string(), "{}", pid_file.display());
    }
    p.wait_file_contains(&p.log_path("ticker-out.log"), "tick 1", T);
    p.wait_file_contains(&p.log_path("app-out.log"), "py tick 1", T);
    assert!(p.log_path("ticker-error.log").exists());
}

#[test]
fn a_duplicate_is_refused_without_force_and_accepted_with_it() {
    let p = Pm2::new("duplicate");
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js"]);
    let out = p.fails(&["start", "ticker.js"], 1);
    p.expect_output(
        &out,
        "Script already launched, add -f option to force re-execution",
    );
    assert_eq!(p.apps().len(), 1, "nothing added by the refused start");

    p.ok(&["start", "ticker.js", "-f"]);
    let apps = p.apps();
    let summary: Vec<(u64, &str)> = apps
        .iter()
        .map(|a| {
            (
                a["pm_id"].as_u64().unwrap_or(99),
                a["name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(summary, [(0, "ticker"), (1, "ticker")]);
    p.wait_online(1);
}

#[test]
fn starting_an_existing_name_or_id_restarts_it() {
    let p = Pm2::new("start_existing");
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js"]);
    let first = p.wait_online(0);
    p.ok(&["start", "ticker"]);
    let app = p.app(0);
    assert_eq!(env_u64(&app, "restart_time"), 1, "{app:#}");
    let second = p.wait_online(0);
    assert_ne!(first, second, "a new process");
    p.ok(&["start", "0"]);
    assert_eq!(env_u64(&p.app(0), "restart_time"), 2);
    assert_eq!(p.apps().len(), 1, "no app added");
}

#[test]
fn a_command_string_runs_through_bash_and_is_named_by_it() {
    let p = Pm2::new("cmd_string");
    let cmd = "echo from-bash && sleep 100";
    p.ok(&["start", cmd]);
    let app = p.wait_status(0, "online", T);
    assert_eq!(app["name"], cmd);
    assert!(env_str(&app, "pm_exec_path").ends_with("/bash"), "{app:#}");
    assert_eq!(app["pm2_env"]["args"], serde_json::json!(["-c", cmd]));
    let out_log = p.log_path(&format!("{}-out.log", pm2_file_name(cmd)));
    assert_eq!(env_str(&app, "pm_out_log_path"), out_log.to_str().unwrap());
    p.wait_file_contains(&out_log, "from-bash", T);
}

#[test]
fn log_file_names_follow_pm2_and_stay_in_logs() {
    let p = Pm2::new("log_names");
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js", "--name", "my_app"]);
    p.ok(&["start", "ticker.js", "--name", "../../x"]);
    p.wait_file_contains(&p.log_path("my-app-out.log"), "tick", T);
    assert!(p.log_path("my-app-error.log").exists());

    let app = p.app(1);
    assert_eq!(app["name"], "../../x");
    let logs = p.home.join("logs");
    for key in ["pm_out_log_path", "pm_err_log_path"] {
        let path = Path::new(env_str(&app, key));
        assert_eq!(
            path.parent(),
            Some(logs.as_path()),
            "{key}: {}",
            path.display()
        );
        assert!(!path.file_name().unwrap().to_string_lossy().contains('/'));
    }
    p.wait_file_contains(Path::new(env_str(&app, "pm_out_log_path")), "tick", T);
    let pid_path = Path::new(env_str(&app, "pm_pid_path"));
    assert_eq!(pid_path.parent(), Some(p.home.join("pids").as_path()));
    for escaped in [p.dir.join("x-out.log"), p.home.join("x-out.log")] {
        assert!(!escaped.exists(), "{} must not exist", escaped.display());
    }
}

#[test]
fn instances_of_a_shell_script_are_fork_instances_with_per_id_files() {
    let p = Pm2::new("instances_sh");
    p.fixture("ticker.sh");
    p.ok(&["start", "ticker.sh", "-i", "2"]);
    let apps = p.apps();
    assert_eq!(apps.len(), 2);
    for (i, app) in apps.iter().enumerate() {
        let id = i as u64;
        assert_eq!(app["pm_id"], id);
        assert_eq!(app["name"], "ticker");
        assert_eq!(env_str(app, "exec_mode"), "fork_mode");
        assert_eq!(app["pm2_env"]["NODE_APP_INSTANCE"], id);
        let pid = p.wait_online(id);
        let out = p.log_path(&format!("ticker-out-{id}.log"));
        assert_eq!(env_str(app, "pm_out_log_path"), out.to_str().unwrap());
        p.wait_file_contains(&out, &format!("instance={id}"), T);
        assert!(p.log_path(&format!("ticker-error-{id}.log")).exists());
        let pid_file = p.home.join(format!("pids/ticker-{id}.pid"));
        let content = std::fs::read_to_string(&pid_file).unwrap_or_default();
        assert_eq!(content.trim(), pid.to_string());
    }
    assert!(!p.log_path("ticker-out.log").exists(), "no merged file");
}

#[test]
fn custom_output_and_error_paths_are_relative_to_cwd() {
    let p = Pm2::new("custom_paths");
    p.fixture("lines.js");
    let args = [
        "start",
        "lines.js",
        "--no-autorestart",
        "-o",
        "out/o.log",
        "-e",
        "err/e.log",
    ];
    p.ok(&[&args[..], &["--", "5"]].concat());
    p.wait_status(0, "stopped", T);
    let out = std::fs::read_to_string(p.dir.join("out/o.log")).unwrap_or_default();
    let err = std::fs::read_to_string(p.dir.join("err/e.log")).unwrap_or_default();
    assert_eq!(out, "line 0\nline 1\nline 2\nline 3\nline 4\n");
    assert_eq!(err, "err line 0\nerr line 1\nerr line 2\n");
    let app = p.app(0);
    assert_eq!(
        env_str(&app, "pm_out_log_path"),
        p.dir.join("out/o.log").to_str().unwrap()
    );
    assert!(!p.log_path("lines-out.log").exists());
}

fn cmdline(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&raw).replace('\0', " ")
}

#[test]
fn the_interpreter_follows_the_extension() {
    let p = Pm2::new("interpreters");
    for f in ["ticker.js", "app.py", "ticker.sh"] {
        p.fixture(f);
    }
    p.ok(&["start", "ticker.js"]);
    p.ok(&["start", "app.py"]);
    p.ok(&["start", "ticker.sh", "--name", "shell"]);
    let expected = [
        (0, "node", "ticker.js"),
        (1, "python", "app.py"),
        (2, "bash", "ticker.sh"),
    ];
    for (id, interpreter, script) in expected {
        let pid = p.wait_online(id);
        let app = p.app(id);
        let got = env_str(&app, "exec_interpreter");
        assert!(
            got.starts_with(interpreter),
            "app {id}: exec_interpreter {got}"
        );
        assert_eq!(
            env_str(&app, "pm_exec_path"),
            p.dir.join(script).to_str().unwrap()
        );
        let cl = cmdline(pid);
        assert!(cl.contains(script), "pid {pid} runs {cl:?}");
    }
    p.wait_file_contains(&p.log_path("shell-out.log"), "sh tick 1", T);
    p.wait_file_contains(&p.log_path("app-out.log"), "py tick 1", T);
}

#[test]
fn binaries_run_directly() {
    let p = Pm2::new("binaries");
    p.ok(&["start", "sleep", "--", "100"]);
    p.ok(&["start", "/bin/sleep", "--name", "abs", "--", "101"]);
    let mut expected = vec![(0, "sleep", "sleep 100"), (1, "abs", "sleep 101")];
    if optional_part(have("cc"), "cc not found: the compiled-binary case") {
        let src = p.fixture("tiny.c");
        let bin = p.dir.join("tiny");
        let status = std::process::Command::new("cc")
            .arg(&src)
            .arg("-o")
            .arg(&bin)
            .status()
            .expect("run cc");
        assert!(status.success(), "cc tiny.c");
        p.ok(&["start", "./tiny"]);
        expected.push((2, "tiny", "tiny"));
    }
    for (id, name, cl) in expected {
        let pid = p.wait_online(id);
        let app = p.app(id);
        assert_eq!(app["name"], name);
        assert_eq!(env_str(&app, "exec_interpreter"), "none", "{app:#}");
        let got = cmdline(pid);
        assert!(got.contains(cl), "pid {pid} runs {got:?}, expected {cl:?}");
    }
    if p.find(2).is_some() {
        p.wait_file_contains(&p.log_path("tiny-out.log"), "tiny binary", T);
    }
}

#[test]
fn a_missing_script_is_refused_and_nothing_is_registered() {
    let p = Pm2::new("missing_script");
    let out = p.fails(&["start", "nope.js"], 1);
    p.expect_output(&out, "Script not found");
    assert_eq!(p.app_count(), 0);
    // Same with a daemon already running.
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js"]);
    let out = p.fails(&["start", "nope.js"], 1);
    p.expect_output(&out, "Script not found");
    assert_eq!(p.apps().len(), 1);
}

#[test]
fn a_missing_interpreter_is_refused() {
    let p = Pm2::new("missing_interp");
    p.fixture("ticker.js");
    let out = p.fails(&["start", "ticker.js", "--interpreter", "nope"], 1);
    p.expect_output(&out, "NOT AVAILABLE in PATH");
    assert_eq!(p.app_count(), 0);
}

#[test]
fn a_bad_flag_value_is_refused_and_nothing_is_registered() {
    let p = Pm2::new("bad_flag");
    p.fixture("ticker.js");
    let out = p.run(&["start", "ticker.js", "--kill-timeout", "10X"]);
    p.check(matches!(out.code, Some(1) | Some(2)), "exit 1 or 2", &out);
    p.expect_output(&out, "10X");
    assert_eq!(p.app_count(), 0);
}

/// `(name, pm_exec_path, args, status)` of every app, in id order.
fn started_apps(p: &Pm2) -> Vec<(String, String, serde_json::Value, String)> {
    p.apps()
        .iter()
        .map(|a| {
            let name = a["name"].as_str().unwrap_or("").to_string();
            let path = env_str(a, "pm_exec_path").to_string();
            (name, path, a["pm2_env"]["args"].clone(), st(a).to_string())
        })
        .collect()
}

/// PM2 7 starts each script of `pm2 start a b ...` in turn with the same options and the
/// same `--` arguments; `--name` names every one of them (PM2 refuses a start only when an
/// app runs the same script under the same name), and the first script that fails ends the
/// command with exit 1 after the ones before it started. Observed with PM2 7.0.4:
/// `pm2 start app.js b.js --name foo -- one two` gives two apps `foo` with args
/// `["one","two"]`; `pm2 start app.js app.js` starts one, prints "Script already
/// launched" and exits 1; `pm2 start app.js nope.js` starts app.js and exits 1.
fn several_scripts_scenario(p: &Pm2) {
    let a = p.sleeper_script("a.sh").to_string_lossy().into_owned();
    let b = p.sleeper_script("b.sh").to_string_lossy().into_owned();
    let out = p.ok(&["start", "a.sh", "b.sh", "--name", "foo", "--", "one", "two"]);
    p.expect_output(&out, &format!("Starting {a} in fork_mode (1 instance)"));
    p.expect_output(&out, &format!("Starting {b} in fork_mode (1 instance)"));
    let args = serde_json::json!(["one", "two"]);
    let online = |name: &str, path: &str| (name.into(), path.into(), args.clone(), "online".into());
    assert_eq!(started_apps(p), [online("foo", &a), online("foo", &b)]);
    p.ok(&["delete", "all"]);

    // Without --name each is named after its file.
    p.ok(&["start", "a.sh", "b.sh"]);
    let names: Vec<String> = started_apps(p).into_iter().map(|a| a.0).collect();
    assert_eq!(names, ["a", "b"]);
    p.ok(&["delete", "all"]);

    let out = p.fails(&["start", "a.sh", "a.sh"], 1);
    p.expect_output(&out, "Script already launched");
    assert_eq!(p.app_count(), 1, "the same script twice starts once");
    p.ok(&["delete", "all"]);

    p.fails(&["start", "a.sh", "nope.sh"], 1);
    let names: Vec<String> = started_apps(p).into_iter().map(|a| a.0).collect();
    assert_eq!(
        names,
        ["a"],
        "the script before the missing one was started"
    );
}

#[test]
fn several_scripts_start_with_the_same_options_and_arguments() {
    several_scripts_scenario(&Pm2::new("start_several"));
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2 at $PM2_REF (npm install pm2@7, as bench/pm2bench/context.py does)"]
fn several_scripts_start_with_the_same_options_and_arguments_reference() {
    several_scripts_scenario(&Pm2::reference("start_several_ref"));
}
