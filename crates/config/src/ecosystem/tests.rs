//! Ecosystem files in JSON5, YAML and on stdin; env merging; `--only`; the error corpus.

use super::*;
use pm2_proto::ExecMode;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh folder per test (tests run in parallel).
pub(super) fn tmpdir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!("pm2eco-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

pub(super) fn ctx(dir: &Path) -> ResolveContext {
    ResolveContext {
        cwd: dir.to_path_buf(),
        env: [
            (
                "PATH".to_string(),
                std::env::var("PATH").unwrap_or_default(),
            ),
            ("HOME".to_string(), "/home/u".to_string()),
            ("SHARED".to_string(), "from-shell".to_string()),
        ]
        .into(),
        cpus: 4,
        username: "u".into(),
        pm2_exe: std::env::current_exe().expect("the test binary"),
    }
}

pub(super) fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn load(dir: &Path, file: &str, opts: &EcosystemOptions) -> Result<Ecosystem, Vec<String>> {
    load_ecosystem(file, opts, &ctx(dir)).map_err(|e| e.into_iter().map(|e| e.0).collect())
}

fn env(name: &str) -> EcosystemOptions {
    EcosystemOptions {
        env_name: Some(name.into()),
        only: vec![],
        ..Default::default()
    }
}

#[test]
fn detection_follows_pm2() {
    for yes in [
        "ecosystem.json",
        "a.json5",
        "x.yml",
        "x.yaml",
        "ecosystem.config.js",
        "e.config.cjs",
        "e.config.mjs",
        "-",
    ] {
        assert!(is_ecosystem_file(yes), "{yes}");
    }
    for no in ["app.js", "server.mjs", "run.sh", "api", "config.js"] {
        assert!(!is_ecosystem_file(no), "{no}");
    }
}

#[test]
fn json5_is_read_leniently() {
    let d = tmpdir("json5");
    write(&d, "api.js", "");
    write(
        &d,
        "ecosystem.json",
        r#"{
  // comments, unquoted keys, single quotes and trailing commas, as PM2's eval allows
  apps: [{
    name: 'api',
    script: 'api.js',
    instances: 2,
    exec_mode: 'cluster',
    args: "--port 80 'a b'",
    node_args: ['--max-old-space-size=64'],
    kill_timeout: '3s',
    min_uptime: 5000,
    max_restarts: 3,
    env: { NUM: 1, FLAG: true, },
  },],
}"#,
    );
    let eco = load(&d, "ecosystem.json", &Default::default()).unwrap();
    assert!(eco.warnings.is_empty(), "{:?}", eco.warnings);
    assert_eq!(
        eco.file,
        std::fs::canonicalize(d.join("ecosystem.json")).unwrap()
    );
    let app = &eco.apps[0];
    assert_eq!(app.name, "api");
    assert_eq!(app.instances, 2);
    assert_eq!(app.exec_mode, ExecMode::Cluster);
    assert_eq!(app.args, vec!["--port", "80", "a b"]);
    assert_eq!(app.interpreter_args, vec!["--max-old-space-size=64"]);
    assert_eq!(app.kill_timeout, Some(3000));
    assert_eq!(app.min_uptime, 5000);
    assert_eq!(app.max_restarts, 3);
    assert_eq!(app.env["NUM"], "1");
    assert_eq!(app.env["FLAG"], "true");
    assert_eq!(app.env["SHARED"], "from-shell");
    assert!(!app.merge_logs);
}

#[test]
fn yaml_with_camel_case_and_aliases() {
    let d = tmpdir("yaml");
    write(&d, "w.sh", "");
    write(
        &d,
        "ecosystem.yml",
        "apps:\n  - cmd: w.sh\n    name: worker\n    autorestart: false\n    killTimeout: 2000\n    stopExitCodes: [0, 3]\n    out: logs/out.log\n    env:\n      RATE: 0.5\n",
    );
    let eco = load(&d, "ecosystem.yml", &Default::default()).unwrap();
    let app = &eco.apps[0];
    assert_eq!(app.name, "worker");
    assert_eq!(app.interpreter, "bash");
    assert!(!app.autorestart);
    assert_eq!(app.kill_timeout, Some(2000));
    assert_eq!(app.stop_exit_codes, vec![0, 3]);
    assert_eq!(app.env["RATE"], "0.5");
    assert_eq!(
        app.out_file.as_deref(),
        Some(d.join("logs/out.log").to_str().unwrap())
    );
    assert!(app.merge_logs);
}

#[test]
fn app_list_forms() {
    let d = tmpdir("forms");
    write(&d, "a.sh", "");
    write(&d, "single.json", r#"{"apps": {"script": "a.sh"}}"#);
    write(
        &d,
        "pm2key.json",
        r#"{"pm2": [{"script": "a.sh", "name": "p"}]}"#,
    );
    write(&d, "bare.json", r#"{"script": "a.sh", "name": "bare"}"#);
    write(
        &d,
        "array.json",
        r#"[{"script": "a.sh", "name": "x"}, {"script": "a.sh", "name": "y"}]"#,
    );
    let names = |f: &str| -> Vec<String> {
        load(&d, f, &Default::default())
            .unwrap()
            .apps
            .into_iter()
            .map(|a| a.name)
            .collect()
    };
    assert_eq!(names("single.json"), vec!["a"]);
    assert_eq!(names("pm2key.json"), vec!["p"]);
    assert_eq!(names("bare.json"), vec!["bare"]);
    assert_eq!(names("array.json"), vec!["x", "y"]);
}

#[test]
fn paths_follow_pm2() {
    // A relative `cwd` resolves against the shell's folder, `script` and logs against `cwd`.
    let d = tmpdir("paths");
    write(&d, "srv/app.sh", "");
    write(
        &d,
        "conf/eco.json",
        r#"{"apps": [{"script": "app.sh", "cwd": "srv", "error": "e.log", "pid": "/tmp/x.pid"}]}"#,
    );
    let app = load(&d, "conf/eco.json", &Default::default())
        .unwrap()
        .apps
        .remove(0);
    assert_eq!(app.cwd, d.join("srv").to_str().unwrap());
    assert_eq!(
        app.script,
        std::fs::canonicalize(d.join("srv/app.sh"))
            .unwrap()
            .to_str()
            .unwrap()
    );
    assert_eq!(
        app.error_file.as_deref(),
        Some(d.join("srv/e.log").to_str().unwrap())
    );
    assert_eq!(app.pid_file.as_deref(), Some("/tmp/x.pid"));
}

const ENV_FILE: &str = r#"{
  apps: [
    { name: "api", script: "a.sh", append_env_to_name: true, port: 8080,
      env: { NODE_ENV: "development", ONLY_DEV: "1", SHARED: "from-env" },
      env_production: { NODE_ENV: "production", DB: 5 } },
    { name: "web", script: "a.sh", env: { NODE_ENV: "development" } },
  ],
  deploy: { production: { env: { DEPLOYED: "yes", NODE_ENV: "deploy" } } },
}"#;

#[test]
fn env_merging_with_env_name() {
    let d = tmpdir("env");
    write(&d, "a.sh", "");
    write(&d, "eco.json", ENV_FILE);
    let eco = load(&d, "eco.json", &env("production")).unwrap();
    let api = &eco.apps[0];
    assert_eq!(api.name, "api-production");
    assert_eq!(api.env["NODE_ENV"], "production");
    assert_eq!(api.env["DB"], "5");
    assert_eq!(api.env["ONLY_DEV"], "1");
    assert_eq!(api.env["SHARED"], "from-env");
    assert_eq!(api.env["DEPLOYED"], "yes");
    assert_eq!(api.env["PORT"], "8080");
    assert_eq!(api.env["HOME"], "/home/u");
    let web = &eco.apps[1];
    assert_eq!(web.name, "web");
    assert_eq!(web.env["NODE_ENV"], "development");
    assert_eq!(web.env["DEPLOYED"], "yes");
    assert_eq!(
        eco.warnings,
        vec!["apps[1]: no env_production block for --env production; using env only"]
    );
    let plain = load(&d, "eco.json", &Default::default()).unwrap();
    assert_eq!(plain.apps[0].name, "api");
    assert_eq!(plain.apps[0].env["NODE_ENV"], "development");
    assert!(!plain.apps[0].env.contains_key("DEPLOYED"));
}

#[test]
fn only_selects_apps_by_declared_name() {
    let d = tmpdir("only");
    write(&d, "a.sh", "");
    write(&d, "eco.json", ENV_FILE);
    let opts = EcosystemOptions {
        env_name: Some("production".into()),
        only: vec!["api".into(), "nope".into()],
        ..Default::default()
    };
    let eco = load(&d, "eco.json", &opts).unwrap();
    assert_eq!(
        eco.apps.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        vec!["api-production"]
    );
    assert_eq!(
        eco.warnings,
        vec!["--only nope: no app of that name in eco.json"]
    );
    let names = ecosystem_app_names("eco.json", &opts, &ctx(&d)).unwrap();
    assert_eq!(names, vec!["api-production"]);
    let all = ecosystem_app_names("eco.json", &Default::default(), &ctx(&d)).unwrap();
    assert_eq!(all, vec!["api", "web"]);
}

#[test]
fn app_names_need_no_scripts() {
    let d = tmpdir("names");
    write(&d, "eco.yaml", "apps:\n  - script: ./missing/server.js\n  - script: x.py\n    name: py\n    name_prefix: team\n");
    let names = ecosystem_app_names("eco.yaml", &Default::default(), &ctx(&d)).unwrap();
    assert_eq!(names, vec!["server", "team:py"]);
}

#[test]
fn filter_env_drops_the_shell_environment_only() {
    let d = tmpdir("filter");
    write(&d, "a.sh", "");
    write(
        &d,
        "all.json",
        r#"{"script": "a.sh", "filter_env": true, "env": {"KEPT": "1"}}"#,
    );
    write(
        &d,
        "some.json",
        r#"{"script": "a.sh", "filter_env": ["SHA", "HOM"]}"#,
    );
    let all = load(&d, "all.json", &Default::default())
        .unwrap()
        .apps
        .remove(0);
    assert_eq!(all.env.keys().collect::<Vec<_>>(), vec!["KEPT"]);
    let some = load(&d, "some.json", &Default::default())
        .unwrap()
        .apps
        .remove(0);
    assert!(some.env.contains_key("PATH"));
    assert!(!some.env.contains_key("SHARED") && !some.env.contains_key("HOME"));
}

#[test]
fn stdin_is_json() {
    let d = tmpdir("stdin");
    write(&d, "a.sh", "");
    let input = br#"{apps: [{script: "a.sh", name: "from-stdin",},]}"#;
    let eco = load_ecosystem_from_reader(&input[..], &Default::default(), &ctx(&d)).unwrap();
    assert_eq!(eco.apps[0].name, "from-stdin");
    assert_eq!(eco.file, PathBuf::from("-"));
    let names = ecosystem_app_names_from_reader(&input[..], &Default::default()).unwrap();
    assert_eq!(names, vec!["from-stdin"]);
    // Without node (no context to run it in), JSON5's own error, at the same place.
    let err = ecosystem_app_names_from_reader(&b"{apps: [}"[..], &Default::default()).unwrap_err();
    assert_eq!(err[0].0, "<stdin>:1:9: expected value");
}

#[test]
fn trigger_options_reach_the_spec() {
    let d = tmpdir("unsupported");
    write(&d, "a.sh", "");
    write(
        &d,
        "eco.json",
        r#"{"script": "a.sh", "watch": ["src"], "ignore_watch": "node_modules", "watch_delay": 500,
            "max_memory_restart": "200M", "cron_restart": "0 3 * * *", "vizion": false}"#,
    );
    let eco = load(&d, "eco.json", &Default::default()).unwrap();
    assert!(eco.apps[0].watch);
    assert_eq!(eco.apps[0].max_memory_restart, Some(200 << 20));
    assert_eq!(eco.apps[0].cron_restart.as_deref(), Some("0 3 * * *"));
    assert_eq!(eco.apps[0].ignore_watch, vec!["node_modules"]);
    assert_eq!(eco.apps[0].watch_delay, Some(500));
    assert!(eco.apps[0].watch_paths[0].ends_with("/src"));
    assert!(eco.warnings.is_empty(), "{:?}", eco.warnings);
}

#[test]
fn unknown_keys_are_warnings_with_suggestions() {
    let d = tmpdir("unknown");
    write(&d, "a.sh", "");
    write(
        &d,
        "eco.json",
        r#"{"apps": [{"script": "a.sh", "instanses": 2, "maxRestrats": 1, "zzz": 1}]}"#,
    );
    let eco = load(&d, "eco.json", &Default::default()).unwrap();
    assert_eq!(eco.apps.len(), 1);
    assert_eq!(
        eco.warnings,
        vec![
            "apps[0].instanses: unknown option (did you mean instances?)",
            "apps[0].maxRestrats: unknown option (did you mean max_restarts?)",
            "apps[0].zzz: unknown option",
        ]
    );
}

/// Broken files and the exact messages they give.
#[test]
fn error_corpus() {
    let d = tmpdir("corpus");
    write(&d, "a.sh", "");
    let cases: &[(&str, &str, &[&str])] = &[
        ("syntax.yaml", "apps:\n  - script: a.sh\n    name: [unclosed\n", &["syntax.yaml:4:1: while parsing a flow sequence, expected ',' or ']'"]),
        ("missing.json", "", &["missing-file.json: file not found"]),
        ("types.json", r#"{"apps": [{"script": "a.sh", "instances": true, "autorestart": "no", "args": {"a": 1}}]}"#, &[
            "types.json: apps[0].args: expected a string or an array of strings, got {\"a\":1}",
            "types.json: apps[0].autorestart: expected true or false, got \"no\"",
            "types.json: apps[0].instances: expected a number or \"max\", got true",
        ]),
        ("values.json", r#"{"apps": [{"script": "a.sh"}, {"script": "a.sh", "max_memory_restart": "10X", "kill_timeout": "soon", "exec_mode": "turbo", "cron": "61 * * * *", "stop_exit_codes": "0,x"}]}"#, &[
            "values.json: apps[1].cron: \"61 * * * *\" is not a cron pattern",
            "values.json: apps[1].exec_mode: expected \"fork\" or \"cluster\" (or fork_mode, cluster_mode), got \"turbo\"",
            "values.json: apps[1].kill_timeout: \"soon\" is not a duration (milliseconds, or a number with ms, s, m or h)",
            "values.json: apps[1].max_memory_restart: \"10X\" is not a size (bytes, or a whole number with K, M or G)",
            "values.json: apps[1].stop_exit_codes: \"x\" is not an exit code",
        ]),
        ("noscript.json", r#"{"apps": [{"name": "x"}, 7]}"#, &["noscript.json: apps[1]: expected an app object, got 7"]),
        ("noscript2.json", r#"{"apps": [{"name": "x"}]}"#, &["noscript2.json: apps[0].script: missing (every app needs a script)"]),
        ("notfound.json", r#"{"apps": [{"script": "nope.sh", "cwd": "nowhere"}, {"script": "gone.sh"}]}"#, &[
            "notfound.json: apps[0].cwd: no such directory: <d>/nowhere",
            "notfound.json: apps[1].script: Script not found: <d>/gone.sh",
        ]),
        ("root.json", "42", &["root.json: expected an object with an `apps` list, got 42"]),
        ("envs.json", r#"{"script": "a.sh", "env": "A=1", "env_prod": [1]}"#, &[
            "envs.json: apps[0].env: expected an object, got \"A=1\"",
            "envs.json: apps[0].env_prod: expected an object, got [1]",
        ]),
    ];
    let dir = d.to_string_lossy().into_owned();
    for (file, text, expected) in cases {
        let arg = if *file == "missing.json" {
            "missing-file.json"
        } else {
            file
        };
        if !text.is_empty() {
            write(&d, file, text);
        }
        let mut errors = load(&d, arg, &Default::default()).unwrap_err();
        // croner's own wording follows the pattern; only the prefix is ours.
        for e in errors.iter_mut() {
            if let Some(at) = e.find(" is not a cron pattern") {
                e.truncate(at + " is not a cron pattern".len());
            }
        }
        let mut errors: Vec<String> = errors.into_iter().map(|e| e.replace(&dir, "<d>")).collect();
        errors.sort();
        assert_eq!(errors, *expected, "{file}");
    }
}

#[test]
fn script_serve_is_the_static_server_as_in_pm2() {
    let d = tmpdir("serve");
    write(
        &d,
        "ecosystem.json",
        r#"{"apps": [{"script": "serve", "args": ["site"], "env": {"PM2_SERVE_PORT": 9000}}]}"#,
    );
    let eco = load(&d, "ecosystem.json", &EcosystemOptions::default()).unwrap();
    let app = &eco.apps[0];
    assert_eq!(app.name, "serve");
    assert_eq!(app.interpreter, "none");
    assert_eq!(app.args, vec![pm2_proto::SERVE_MODE_ARG, "site"]);
    let exe = std::env::current_exe().unwrap().canonicalize().unwrap();
    assert_eq!(app.script, exe.to_string_lossy());
    assert_eq!(
        app.env.get("PM2_SERVE_PORT").map(String::as_str),
        Some("9000")
    );
}
