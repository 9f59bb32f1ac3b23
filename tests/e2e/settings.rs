//! What reaches an app's environment from files and settings, as PM2 does it: `.json`
//! ecosystem files and stdin are JavaScript expressions (comments, trailing commas,
//! unquoted keys, computed values); objects and arrays in `env` arrive JSON-stringified;
//! `pm2 set <app>.<key>` stores the value nested in `module_conf.json` and restarts the app
//! with it in its env; `multiset`, `unset` (absent keys, `all`); an app's settings on start
//! and on restart by name; `module_conf.json` after any call.

use crate::harness::*;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

/// A world with the `keys.js` fixture (prints the env variables named by its arguments).
fn world(p: Pm2) -> Pm2 {
    std::fs::copy(Path::new(FIXTURES).join("keys.js"), p.dir.join("keys.js")).expect("copy");
    p
}

/// The last `KEYS {json}` line `app` printed to its out log, once it has printed `count`.
fn keys_line(p: &Pm2, app: &str, count: usize) -> Value {
    let path = p.log_path(&format!("{app}-out.log"));
    let what = format!("{app} to print KEYS {count} times");
    let line = p.wait_until(T, &what, || {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("KEYS ").map(String::from))
            .collect();
        (lines.len() >= count).then(|| lines[count - 1].clone())
    });
    serde_json::from_str(&line).unwrap_or(Value::Null)
}

/// The jlist element of the app named `name`.
fn by_name(p: &Pm2, name: &str) -> Value {
    let found = p.apps().into_iter().find(|a| a["name"] == name);
    found.unwrap_or_else(|| p.fail(&format!("no app named {name}"), None))
}

/// `$PM2_HOME/module_conf.json` parsed.
fn module_conf(p: &Pm2) -> Value {
    let text = std::fs::read_to_string(p.home.join("module_conf.json")).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

const COMPUTED: &str = "// a comment before the object\n{\n  apps: [{\n    name: 'comp' + (1 + 1),\n    script: 'keys.js',\n    args: ['SUM', 'FROM_SHELL', 'OBJ', 'ARR', 'NUL', 'POBJ', 'comp2'],\n    env: { SUM: 2 * 21, FROM_SHELL: process.env.E2E_SHELL, OBJ: { a: [1, 2.5, 'x'], b: null }, ARR: [1, 'x', true], NUL: null, },\n    env_production: { POBJ: { p: 1 } },\n  },],\n}\n";

fn json_expression_scenario(p: &Pm2) {
    std::fs::write(p.dir.join("computed.json"), COMPUTED).expect("write");
    p.ok_env(
        &[("E2E_SHELL", "from the shell")],
        &["start", "computed.json", "--env", "production"],
    );
    let seen = keys_line(p, "comp2", 1);
    assert_eq!(seen["SUM"], "42", "{seen}");
    assert_eq!(seen["FROM_SHELL"], "from the shell", "{seen}");
    // Objects and arrays in `env` are JSON-stringified; env_<name> objects never arrive.
    assert_eq!(seen["OBJ"], r#"{"a":[1,2.5,"x"],"b":null}"#, "{seen}");
    assert_eq!(seen["ARR"], r#"[1,"x",true]"#, "{seen}");
    assert_eq!(seen["NUL"], "null", "{seen}");
    assert_eq!(seen["POBJ"], Value::Null, "{seen}");
    // With no settings, an ecosystem app gets `<name>` = "{}".
    assert_eq!(seen["comp2"], "{}", "{seen}");
    let env = &by_name(p, "comp2")["pm2_env"]["env"];
    assert_eq!(env["OBJ"], r#"{"a":[1,2.5,"x"],"b":null}"#);

    // The same text on stdin is the same expression.
    let text = COMPUTED.replace("'comp' + (1 + 1)", "'stdin' + 'app'");
    let out = p.run_stdin(&text, &["start", "-"]);
    p.expect_code(&out, 0);
    assert_eq!(keys_line(p, "stdinapp", 1)["SUM"], "42");
}

#[test]
fn json_files_and_stdin_are_javascript_expressions() {
    json_expression_scenario(&world(Pm2::new("set_jsonexpr")));
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2 at $PM2_REF (npm install pm2@7, as bench/pm2bench/context.py does)"]
fn json_files_and_stdin_are_javascript_expressions_reference() {
    json_expression_scenario(&world(Pm2::reference("set_jsonexpr_ref")));
}

#[test]
fn a_json_expression_that_fails_names_the_place_and_starts_nothing() {
    let p = world(Pm2::new("set_jsonerr"));
    std::fs::write(
        p.dir.join("unknown.json"),
        "{\n  apps: [{ script: nope }]\n}\n",
    )
    .expect("write");
    let out = p.fails(&["start", "unknown.json"], 1);
    p.expect_output(
        &out,
        "[PM2][ERROR] unknown.json:2:20: ReferenceError: nope is not defined",
    );
    p.check(p.daemon_pid().is_none(), "no daemon started", &out);
}

fn settings_scenario(p: &Pm2) {
    // module_conf.json exists after any call.
    p.ok(&["ping"]);
    assert_eq!(module_conf(p), serde_json::json!({}));
    p.ok(&[
        "start", "keys.js", "--name", "svc", "--", "svc", "PORT", "MODE", "E2E_SET",
    ]);
    let first = keys_line(p, "svc", 1);
    assert_eq!(first["PORT"], Value::Null, "{first}");
    assert_eq!(
        first["svc"],
        Value::Null,
        "no settings: `svc` is not in the app's env"
    );
    assert_eq!(
        by_name(p, "svc")["pm2_env"]["env"]["svc"],
        serde_json::json!({})
    );

    // set: nested in module_conf.json; the app is restarted with it (and the CLI's env).
    let out = p.ok_env(&[("E2E_SET", "from set")], &["set", "svc.PORT", "3000"]);
    p.expect_output(&out, "svc");
    assert_eq!(module_conf(p)["svc"]["PORT"], "3000");
    let second = keys_line(p, "svc", 2);
    assert_eq!(second["PORT"], "3000", "{second}");
    assert_eq!(second["svc"], r#"{"PORT":"3000"}"#, "{second}");
    assert_eq!(second["E2E_SET"], "from set", "{second}");
    let app = by_name(p, "svc");
    assert_eq!(env_u64(&app, "restart_time"), 1);
    assert_eq!(app["pm2_env"]["env"]["PORT"], "3000");

    // multiset: every pair stored (quotes kept), one restart.
    p.ok(&["multiset", "svc.MODE prod svc.NOTE \"two words\""]);
    assert_eq!(module_conf(p)["svc"]["MODE"], "prod");
    assert_eq!(module_conf(p)["svc"]["NOTE"], "\"two words\"");
    assert_eq!(keys_line(p, "svc", 3)["MODE"], "prod");

    // unset of an absent key exits 0; restart by name merges the settings again.
    p.ok(&["unset", "svc.ABSENT"]);
    p.ok(&["unset", "ghost.key"]);
    p.ok(&["restart", "svc"]);
    let fourth = keys_line(p, "svc", 4);
    assert_eq!(fourth["PORT"], "3000", "{fourth}");

    // A new start of an app with settings gets them.
    p.ok(&["delete", "svc"]);
    p.ok(&["start", "keys.js", "--name", "svc", "--", "svc", "PORT"]);
    assert_eq!(keys_line(p, "svc", 5)["PORT"], "3000");

    // unset all empties the file.
    p.ok(&["unset", "all"]);
    assert_eq!(module_conf(p), serde_json::json!({}));
}

#[test]
fn app_settings_reach_the_app_as_pm2_does() {
    settings_scenario(&world(Pm2::new("set_settings")));
}

#[test]
#[ignore = "reference run against PM2 7: needs PM2 at $PM2_REF (npm install pm2@7, as bench/pm2bench/context.py does)"]
fn app_settings_reach_the_app_as_pm2_does_reference() {
    settings_scenario(&world(Pm2::reference("set_settings_ref")));
}

#[test]
fn logrotate_settings_still_validate_and_set_without_an_app() {
    let p = Pm2::new("set_logrotate");
    p.ok(&["install", "pm2-logrotate"]);
    p.ok(&["set", "pm2-logrotate:max_size", "1K"]);
    assert_eq!(module_conf(&p)["pm2-logrotate"]["max_size"], "1K");
    let out = p.run(&["set", "pm2-logrotate:max_size", "lots"]);
    p.check(
        out.code != Some(0),
        "an invalid rotation size is refused",
        &out,
    );
    assert_eq!(module_conf(&p)["pm2-logrotate"]["max_size"], "1K");
    assert_eq!(p.ok(&["get", "pm2-logrotate.max_size"]).stdout.trim(), "1K");
}
