//! What the child sees (environment, PM2 variables, `--update-env`) and what it writes
//! (stdout and stderr captured completely, in order, in the right files).

use crate::harness::*;
use serde_json::Value;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

/// The `ENV {...}` lines env.js printed, parsed, oldest first.
fn env_lines(p: &Pm2, log: &str) -> Vec<Value> {
    std::fs::read_to_string(p.log_path(log))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("ENV "))
        .filter_map(|j| serde_json::from_str(j).ok())
        .collect()
}

/// Waits until env.js has printed `n` ENV lines and returns the last one.
fn nth_env(p: &Pm2, log: &str, n: usize) -> Value {
    p.wait_until(T, &format!("{n} ENV lines in {log}"), || {
        env_lines(p, log).len() >= n
    });
    env_lines(p, log).pop().unwrap_or(Value::Null)
}

#[test]
fn the_child_sees_the_cli_env_and_pm2_variables() {
    let p = Pm2::new("env_vars");
    p.fixture("env.js");
    p.ok_env(&[("E2E_VAR", "one")], &["start", "env.js"]);
    let seen = nth_env(&p, "env-out.log", 1);
    assert_eq!(seen["E2E_VAR"], "one", "{seen}");
    assert_eq!(seen["pm_id"], "0");
    assert_eq!(seen["name"], "env");
    assert_eq!(seen["NODE_APP_INSTANCE"], "0");
    assert_eq!(seen["PM2_HOME"], p.home.to_str().unwrap());

    // A second app of the same name gets the next free instance index.
    p.ok_env(
        &[("E2E_VAR", "one")],
        &["start", "env.js", "-f", "-o", "second.log"],
    );
    p.wait_file_contains(&p.dir.join("second.log"), "ENV ", T);
    let text = std::fs::read_to_string(p.dir.join("second.log")).unwrap_or_default();
    let second: Value = text
        .lines()
        .find_map(|l| serde_json::from_str(l.strip_prefix("ENV ")?).ok())
        .unwrap_or(Value::Null);
    assert_eq!(second["pm_id"], "1", "{second}");
    assert_eq!(second["NODE_APP_INSTANCE"], "1");

    let out = p.ok(&["env", "0"]);
    p.expect_output(&out, "E2E_VAR: one");
    p.expect_output(&out, "NODE_APP_INSTANCE: 0");
}

#[test]
fn restart_keeps_the_env_unless_update_env() {
    let p = Pm2::new("update_env");
    p.fixture("env.js");
    p.ok_env(&[("E2E_VAR", "one")], &["start", "env.js"]);
    assert_eq!(nth_env(&p, "env-out.log", 1)["E2E_VAR"], "one");

    let out = p.ok_env(&[("E2E_VAR", "two")], &["restart", "env"]);
    p.expect_output(&out, "Use --update-env to update environment variables");
    assert_eq!(
        nth_env(&p, "env-out.log", 2)["E2E_VAR"],
        "one",
        "env is kept"
    );

    p.ok_env(&[("E2E_VAR", "three")], &["restart", "env", "--update-env"]);
    assert_eq!(nth_env(&p, "env-out.log", 3)["E2E_VAR"], "three");
    assert_eq!(p.app(0)["pm2_env"]["env"]["E2E_VAR"], "three");
    let out = p.ok(&["env", "0"]);
    p.expect_output(&out, "E2E_VAR: three");

    // `start <name>` restarts too, and `-a` is its --update-env.
    p.ok_env(&[("E2E_VAR", "four")], &["start", "env", "-a"]);
    assert_eq!(nth_env(&p, "env-out.log", 4)["E2E_VAR"], "four");
}

#[test]
fn ten_thousand_lines_arrive_complete_and_in_order() {
    let p = Pm2::new("output_10k");
    p.fixture("lines.js");
    p.ok(&["start", "lines.js", "--no-autorestart", "--", "10000"]);
    p.wait_status(0, "stopped", T);
    let out = std::fs::read_to_string(p.log_path("lines-out.log")).unwrap_or_default();
    let expected: String = (0..10000).map(|i| format!("line {i}\n")).collect();
    if out != expected {
        let got: Vec<&str> = out.lines().collect();
        let first_bad = got
            .iter()
            .enumerate()
            .find(|(i, l)| **l != format!("line {i}"))
            .map(|(i, l)| format!("line index {i} is {l:?}"));
        p.fail(
            &format!(
                "out log has {} lines; first difference: {first_bad:?}",
                got.len()
            ),
            None,
        );
    }
    let err = std::fs::read_to_string(p.log_path("lines-error.log")).unwrap_or_default();
    assert_eq!(
        err, "err line 0\nerr line 1\nerr line 2\n",
        "stderr goes to the error log"
    );
}

#[test]
fn stderr_goes_to_the_error_log_only() {
    let p = Pm2::new("stderr");
    let cmd = "echo to-out; echo to-err >&2; sleep 100";
    p.ok(&["start", cmd, "--name", "both"]);
    p.wait_file_contains(&p.log_path("both-error.log"), "to-err", T);
    p.wait_file_contains(&p.log_path("both-out.log"), "to-out", T);
    let out = std::fs::read_to_string(p.log_path("both-out.log")).unwrap_or_default();
    let err = std::fs::read_to_string(p.log_path("both-error.log")).unwrap_or_default();
    assert!(!out.contains("to-err"), "out log: {out:?}");
    assert!(!err.contains("to-out"), "error log: {err:?}");
}
