//! Broken ecosystem files: each gives its exact error (file, line and column for syntax
//! errors, the key path for values, all problems at once), exits 1 and starts nothing, not
//! even the daemon. Unknown keys only warn, with a suggestion. `pm2 init` writes PM2's
//! templates, over an existing file as PM2 does; `pm2 start` alone starts that file.

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

/// Writes `text` to `dir/name` and returns the path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("mkdir");
    std::fs::write(&path, text).expect("write test file");
    path
}

/// A world with the probe app as `probe.js` and `file` written from `text`.
fn world(tag: &str, file: &str, text: &str) -> Pm2 {
    let p = Pm2::new(tag);
    std::fs::copy(
        Path::new(FIXTURES).join("eco_probe.js"),
        p.dir.join("probe.js"),
    )
    .expect("copy the probe");
    write(&p.dir, file, text);
    p
}

/// `pm2 start <file>` must exit 1, print every line of `errors` as an error, and leave
/// no app registered (and no daemon started).
fn rejected(p: &Pm2, file: &str, errors: &[&str]) -> Output {
    let out = p.fails(&["start", file], 1);
    for e in errors {
        p.check(
            out.stderr.lines().any(|l| l == format!("[PM2][ERROR] {e}")),
            &format!("stderr should have the line [PM2][ERROR] {e}"),
            &out,
        );
    }
    p.check(p.daemon_pid().is_none(), "no daemon started", &out);
    p.check(p.app_count() == 0, "no app started", &out);
    out
}

/// The first `[PM2][ERROR]` line of stderr.
fn first_error(out: &Output) -> String {
    out.stderr
        .lines()
        .find_map(|l| l.strip_prefix("[PM2][ERROR] "))
        .unwrap_or("")
        .to_string()
}

#[test]
fn json_syntax_error_names_file_line_and_column() {
    let text = "{\n  apps: [\n    { script: 'probe.js' }\n    { name: 'x' }\n  ]\n}\n";
    let p = world("err_json", "syntax.json", text);
    let out = rejected(&p, "syntax.json", &[]);
    let e = first_error(&out);
    p.check(
        e.starts_with("syntax.json:4:5: "),
        "error at syntax.json:4:5 (the second `{`)",
        &out,
    );
}

#[test]
fn yaml_syntax_error_names_file_line_and_column() {
    let text = "apps:\n  - name: a\n    script: probe.js: x\n";
    let p = world("err_yaml", "bad.yaml", text);
    let out = rejected(&p, "bad.yaml", &[]);
    let e = first_error(&out);
    p.check(
        e.starts_with("bad.yaml:3:21: mapping values are not allowed"),
        "error at bad.yaml:3:21 (the second `:` on line 3)",
        &out,
    );
}

#[test]
fn a_js_file_that_throws_names_the_file_and_the_error() {
    let text = "\nthrow new Error('no config for you');\n";
    let p = world("err_js", "throws.config.js", text);
    let out = rejected(&p, "throws.config.js", &[]);
    let e = first_error(&out);
    let at = format!("{}:2:7", p.dir.join("throws.config.js").display());
    p.check(
        e.starts_with("throws.config.js: Error: no config for you") && e.contains(&at),
        &format!("the error names the file, the message and {at}"),
        &out,
    );

    write(
        &p.dir,
        "syntax.config.js",
        "module.exports = {\n  apps: [\n}\n",
    );
    let out = rejected(&p, "syntax.config.js", &[]);
    p.check(
        first_error(&out).starts_with("syntax.config.js: SyntaxError: "),
        "a JS syntax error names the file",
        &out,
    );
}

#[test]
fn wrong_types_are_all_reported_with_their_key_paths() {
    let text = r#"{"apps": [{"script": "probe.js", "instances": true, "autorestart": "no", "args": {"a": 1}}]}"#;
    let p = world("err_types", "types.json", text);
    rejected(
        &p,
        "types.json",
        &[
            r#"types.json: apps[0].args: expected a string or an array of strings, got {"a":1}"#,
            r#"types.json: apps[0].autorestart: expected true or false, got "no""#,
            r#"types.json: apps[0].instances: expected a number or "max", got true"#,
        ],
    );
}

#[test]
fn invalid_values_in_several_apps_are_reported_together() {
    let text = r#"{"apps": [
      {"name": "fine", "script": "probe.js"},
      {"name": "mem", "script": "probe.js", "max_memory_restart": "10X"},
      {"name": "kill", "script": "probe.js", "killTimeout": "soon"}]}"#;
    let p = world("err_values", "values.json", text);
    rejected(
        &p,
        "values.json",
        &[
            r#"values.json: apps[1].max_memory_restart: "10X" is not a size (bytes, or a whole number with K, M or G)"#,
            r#"values.json: apps[2].killTimeout: "soon" is not a duration (milliseconds, or a number with ms, s, m or h)"#,
        ],
    );
}

#[test]
fn a_missing_script_is_an_error() {
    let text = r#"{"apps": [{"name": "x"}, {"name": "y", "script": "gone.js"}]}"#;
    let p = world("err_script", "noscript.json", text);
    let gone = p.dir.join("gone.js");
    rejected(
        &p,
        "noscript.json",
        &[
            "noscript.json: apps[0].script: missing (every app needs a script)",
            &format!(
                "noscript.json: apps[1].script: Script not found: {}",
                gone.display()
            ),
        ],
    );
}

#[test]
fn a_missing_file_is_an_error() {
    let p = Pm2::new("err_nofile");
    rejected(&p, "nope.config.js", &["nope.config.js: file not found"]);
    rejected(&p, "nope.json", &["nope.json: file not found"]);
}

#[test]
fn an_unknown_key_warns_with_a_suggestion_and_the_app_starts() {
    let text =
        r#"{"apps": [{"name": "typo", "script": "probe.js", "instanses": 1, "maxRestrats": 3}]}"#;
    let p = world("warn_unknown", "typo.json", text);
    let out = p.ok(&["start", "typo.json"]);
    for w in [
        "apps[0].instanses: unknown option (did you mean instances?)",
        "apps[0].maxRestrats: unknown option (did you mean max_restarts?)",
    ] {
        p.check(
            out.stderr
                .lines()
                .any(|l| l.starts_with("[PM2][WARN] ") && l.ends_with(w)),
            &format!("a warning ending with {w:?}"),
            &out,
        );
    }
    p.wait_status(0, "online", T);
    assert_eq!(p.app(0)["name"], "typo");
}

#[test]
fn a_broken_file_leaves_a_running_daemon_untouched() {
    let good = r#"{"apps": [{"name": "keep", "script": "probe.js", "env": {"ECO_V": "1"}}]}"#;
    let p = world("err_running", "good.json", good);
    p.ok(&["start", "good.json"]);
    let pid = p.wait_online(0);

    // The same app with a new env, plus a broken one: nothing may change.
    let bad = r#"{"apps": [{"name": "keep", "script": "probe.js", "env": {"ECO_V": "2"}},
      {"name": "new", "script": "probe.js", "instances": "lots"}]}"#;
    write(&p.dir, "bad.json", bad);
    for action in [
        "start",
        "restart",
        "reload",
        "startOrRestart",
        "startOrReload",
    ] {
        let out = p.fails(&[action, "bad.json"], 1);
        let want = r#"bad.json: apps[1].instances: expected a number or "max", got "lots""#;
        p.check(
            out.stderr.contains(&format!("[PM2][ERROR] {want}")),
            &format!("{action}: error names apps[1].instances"),
            &out,
        );
    }
    let apps = p.apps();
    assert_eq!(apps.len(), 1, "no app added");
    assert_eq!(pid_of(&apps[0]), pid, "keep was not restarted");
    assert_eq!(env_u64(&apps[0], "restart_time"), 0);
    assert_eq!(apps[0]["pm2_env"]["env"]["ECO_V"], "1");
}

#[test]
fn env_without_a_file_is_an_error_and_a_missing_env_block_warns() {
    let file = r#"{"apps": [{"name": "w", "script": "probe.js", "env": {"ECO_V": "base"}}]}"#;
    let p = world("err_envname", "w.json", file);
    p.ok(&["start", "w.json"]);
    p.wait_online(0);
    let out = p.fails(&["restart", "w", "--env", "production"], 1);
    p.expect_output(&out, "--env needs an ecosystem file");
    assert_eq!(env_u64(&p.app(0), "restart_time"), 0);

    let out = p.ok(&["restart", "w.json", "--env", "staging"]);
    p.expect_output(&out, "apps[0]: no env_staging block for --env staging");
    p.wait_until(T, "w restarted once", || {
        env_u64(&p.app(0), "restart_time") == 1
    });
    assert_eq!(p.app(0)["pm2_env"]["env"]["ECO_V"], "base");
}

#[test]
fn init_writes_the_templates_over_an_existing_file() {
    let p = Pm2::new("eco_init");
    let full = p.dir.join("ecosystem.config.js");
    p.ok(&["init"]);
    let template = std::fs::read_to_string(&full).unwrap_or_default();
    for needle in ["module.exports", "apps", "script: 'index.js'", "deploy"] {
        assert!(
            template.contains(needle),
            "template lacks {needle:?}:\n{template}"
        );
    }
    std::fs::write(&full, "// mine\n").expect("edit the file");
    let out = p.ok(&["init"]);
    p.expect_output(&out, &format!("File {} generated", full.display()));
    assert_eq!(std::fs::read_to_string(&full).unwrap_or_default(), template);
    std::fs::write(&full, "// mine\n").expect("edit the file");
    p.ok(&["ecosystem", "simple"]);
    let simple = std::fs::read_to_string(&full).unwrap_or_default();
    assert!(simple.contains(r#"name   : "app1""#), "{simple}");

    // `init simple` writes the short template, and it starts as is once app.js exists.
    let sub = p.dir.join("simple");
    std::fs::create_dir_all(&sub).expect("mkdir");
    let out = p.run_in(&sub, &["init", "simple"]);
    p.expect_code(&out, 0);
    let text = std::fs::read_to_string(sub.join("ecosystem.config.js")).unwrap_or_default();
    assert!(text.contains(r#"name   : "app1""#), "{text}");
    assert!(text.contains(r#"script : "./app.js""#), "{text}");
    std::fs::copy(Path::new(FIXTURES).join("eco_probe.js"), sub.join("app.js")).expect("app.js");
    let out = p.run_in(&sub, &["start"]);
    p.expect_code(&out, 0);
    p.wait_status(0, "online", T);
    assert_eq!(p.app(0)["name"], "app1");
    p.wait_file_contains(&p.log_path("app1-out.log"), "PROBE ", T);

    // `pm2 ecosystem` is the same command.
    let other = p.dir.join("alias");
    std::fs::create_dir_all(&other).expect("mkdir");
    p.expect_code(&p.run_in(&other, &["ecosystem"]), 0);
    let written = std::fs::read_to_string(other.join("ecosystem.config.js")).unwrap_or_default();
    assert_eq!(written, template);
}

#[test]
fn start_without_an_argument_uses_ecosystem_config_js() {
    let text = "module.exports = { apps: [{ name: 'dflt', script: 'probe.js' }] };\n";
    let p = world("eco_default", "ecosystem.config.js", text);
    p.ok(&["start"]);
    p.wait_status(0, "online", T);
    assert_eq!(p.app(0)["name"], "dflt");
}
