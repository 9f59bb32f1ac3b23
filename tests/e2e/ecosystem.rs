//! Ecosystem files end to end: every format starts its apps, every option reaches the
//! process, `--env`/`--only`, starting a running file restarts it, the file actions
//! (`restart|reload|stop|delete <file>`, `startOrRestart`, `startOrReload`) and JSON on
//! stdin. Broken files, `pm2 init` and `pm2 start` with no argument: ecosystem_errors.rs.

use crate::harness::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

/// Writes `text` to `dir/name` (creating folders) and returns the path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("mkdir");
    std::fs::write(&path, text).expect("write test file");
    path
}

/// Copies the probe app to `dir/probe.js`.
fn probe_in(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::copy(
        Path::new(FIXTURES).join("eco_probe.js"),
        dir.join("probe.js"),
    )
    .expect("copy the probe");
}

/// The `PROBE {...}` lines in `$PM2_HOME/logs/<log>`, oldest first.
fn probes(p: &Pm2, log: &str) -> Vec<Value> {
    std::fs::read_to_string(p.log_path(log))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l.strip_prefix("PROBE ")?).ok())
        .collect()
}

/// Waits until `log` holds `n` probe lines and returns the last one.
fn nth_probe(p: &Pm2, log: &str, n: usize) -> Value {
    p.wait_until(T, &format!("{n} PROBE lines in {log}"), || {
        probes(p, log).len() >= n
    });
    probes(p, log).pop().unwrap_or(Value::Null)
}

/// The registered app names, sorted.
fn names(p: &Pm2) -> Vec<String> {
    let mut names: Vec<String> = p
        .apps()
        .iter()
        .map(|a| a["name"].as_str().unwrap_or("").to_string())
        .collect();
    names.sort();
    names
}

/// The jlist elements named `name`.
fn named(p: &Pm2, name: &str) -> Vec<Value> {
    p.apps().into_iter().filter(|a| a["name"] == name).collect()
}

/// Waits until exactly the apps `expected` (sorted) are registered and all online.
fn wait_apps_online(p: &Pm2, expected: &[&str]) {
    p.wait_until(T, &format!("exactly {expected:?} online"), || {
        let apps = p.apps();
        names(p) == expected && apps.iter().all(|a| st(a) == "online")
    });
}

#[test]
fn each_format_starts_its_apps() {
    let p = Pm2::new("eco_formats");
    probe_in(&p.dir);
    let cjs = "const path = require('path');\n\
        const base = Number(process.env.ECO_BASE);\n\
        module.exports = { apps: ['cjs-a', 'cjs-b'].map((name, i) => ({\n  \
        name, script: path.join(__dirname, 'probe.js'), env: { ECO_N: base + i },\n})) };\n";
    write(&p.dir, "cjs.config.js", cjs);
    write(
        &p.dir,
        "single.config.cjs",
        "module.exports = { apps: { name: 'cjs-file', script: 'probe.js' } };\n",
    );
    write(
        &p.dir,
        "esm.config.mjs",
        "import path from 'node:path';\n\
         export default { apps: [{ name: path.basename('x/mjs'), script: 'probe.js' }] };\n",
    );
    let pkg = p.dir.join("pkg");
    probe_in(&pkg);
    write(&pkg, "package.json", r#"{ "type": "module" }"#);
    write(
        &pkg,
        "ecosystem.config.js",
        "export default { apps: [{ name: 'esm-pkg', script: 'probe.js' }] };\n",
    );
    let json5 = "// PM2 evaluates .json as JavaScript\n{\n  apps: [\n    \
        { name: 'json5', script: 'probe.js', env: { ECO_FMT: 'json5', }, }, // trailing\n  ],\n}\n";
    write(&p.dir, "lenient.json", json5);
    let yml = "apps:\n  - name: yml\n    script: probe.js\n    env:\n      ECO_FMT: yml\n";
    write(&p.dir, "app.yml", yml);
    write(
        &p.dir,
        "app.yaml",
        "pm2:\n  name: yaml\n  script: probe.js\n",
    );

    p.ok_env(&[("ECO_BASE", "40")], &["start", "cjs.config.js"]);
    for file in ["single.config.cjs", "esm.config.mjs", "lenient.json"] {
        p.ok(&["start", file]);
    }
    p.ok(&["start", "app.yml"]);
    p.ok(&["start", "app.yaml"]);
    let out = p.run_in(&pkg, &["start", "ecosystem.config.js"]);
    p.expect_code(&out, 0);

    let all = [
        "cjs-a", "cjs-b", "cjs-file", "esm-pkg", "json5", "mjs", "yaml", "yml",
    ];
    wait_apps_online(&p, &all);
    assert_eq!(nth_probe(&p, "cjs-b-out.log", 1)["env"]["ECO_N"], "41");
    assert_eq!(nth_probe(&p, "json5-out.log", 1)["env"]["ECO_FMT"], "json5");
    assert_eq!(nth_probe(&p, "yml-out.log", 1)["env"]["ECO_FMT"], "yml");
    let esm = nth_probe(&p, "esm-pkg-out.log", 1);
    assert_eq!(esm["cwd"], pkg.to_str().unwrap(), "{esm}");
}

#[test]
fn every_option_reaches_the_process() {
    let p = Pm2::new("eco_options");
    probe_in(&p.dir);
    probe_in(&p.dir.join("work"));
    let file = r#"module.exports = {
  apps: [
    { name: 'str-args', cmd: 'probe.js', args: "--port 80 'a b'", namespace: 'team',
      node_args: '--max-old-space-size=100', env: { ECO_A: 'one', ECO_NUM: 7 },
      kill_timeout: '3s', minUptime: '2m', restart_delay: 250 },
    { name: 'arr-args', script: 'probe.js', cwd: 'work', args: ['x y', 'z'],
      interpreterArgs: ['--max-old-space-size=100'] },
    { name: 'inst', script: 'probe.js', instances: 2 },
  ],
};
"#;
    write(&p.dir, "opts.config.js", file);
    p.ok(&["start", "opts.config.js"]);
    wait_apps_online(&p, &["arr-args", "inst", "inst", "str-args"]);

    let s = nth_probe(&p, "str-args-out.log", 1);
    assert_eq!(s["argv"], serde_json::json!(["--port", "80", "a b"]), "{s}");
    assert_eq!(s["env"]["ECO_A"], "one", "{s}");
    assert_eq!(s["env"]["ECO_NUM"], "7", "{s}");
    assert_eq!(s["namespace"], "team", "{s}");
    assert_eq!(s["cwd"], p.dir.to_str().unwrap(), "{s}");
    let exec_argv = s["execArgv"].as_array().cloned().unwrap_or_default();
    assert!(
        exec_argv.contains(&"--max-old-space-size=100".into()),
        "{s}"
    );
    let app = &named(&p, "str-args")[0];
    assert_eq!(env_str(app, "namespace"), "team");
    assert_eq!(
        env_u64(app, "kill_timeout"),
        3000,
        "durations in PM2's forms"
    );
    assert_eq!(env_u64(app, "min_uptime"), 120_000);
    assert_eq!(env_u64(app, "restart_delay"), 250);

    let a = nth_probe(&p, "arr-args-out.log", 1);
    assert_eq!(a["argv"], serde_json::json!(["x y", "z"]), "{a}");
    assert_eq!(a["cwd"], p.dir.join("work").to_str().unwrap(), "{a}");
    let exec_argv = a["execArgv"].as_array().cloned().unwrap_or_default();
    assert!(
        exec_argv.contains(&"--max-old-space-size=100".into()),
        "{a}"
    );

    // Several instances log to one file per pm_id.
    let inst = named(&p, "inst");
    assert_eq!(inst.len(), 2);
    for app in &inst {
        let log = format!("inst-out-{}.log", app["pm_id"]);
        assert_eq!(nth_probe(&p, &log, 1)["name"], "inst");
    }
}

#[test]
fn env_switches_with_the_file_on_restart() {
    let p = Pm2::new("eco_env");
    probe_in(&p.dir);
    let file = "module.exports = { apps: [{ name: 'web', script: 'probe.js',\n  \
        env: { ECO_STAGE: 'dev', ECO_KEEP: 'base' },\n  env_production: { ECO_STAGE: 'prod' } }] };\n";
    write(&p.dir, "env.config.js", file);
    p.ok(&["start", "env.config.js"]);
    assert_eq!(nth_probe(&p, "web-out.log", 1)["env"]["ECO_STAGE"], "dev");

    p.ok(&["restart", "env.config.js", "--env", "production"]);
    let seen = nth_probe(&p, "web-out.log", 2);
    assert_eq!(seen["env"]["ECO_STAGE"], "prod", "{seen}");
    assert_eq!(
        seen["env"]["ECO_KEEP"], "base",
        "env_production merges over env"
    );
    let app = p.app(0);
    assert_eq!(app["pm2_env"]["env"]["ECO_STAGE"], "prod");
    assert_eq!(env_u64(&app, "restart_time"), 1);

    // Without --env the file's plain env applies again.
    p.ok(&["restart", "env.config.js"]);
    assert_eq!(nth_probe(&p, "web-out.log", 3)["env"]["ECO_STAGE"], "dev");
    assert_eq!(names(&p), ["web"]);
}

#[test]
fn reload_with_env_switches_cluster_instances() {
    let p = Pm2::new("eco_env_cluster");
    probe_in(&p.dir);
    let file = "module.exports = { apps: [{ name: 'cl', script: 'probe.js', instances: 2, listen_timeout: 500,\n  \
        env: { ECO_STAGE: 'dev' }, env_production: { ECO_STAGE: 'prod' } }] };\n";
    write(&p.dir, "cl.config.js", file);
    p.ok(&["start", "cl.config.js"]);
    wait_apps_online(&p, &["cl", "cl"]);
    for id in [0, 1] {
        assert_eq!(
            nth_probe(&p, &format!("cl-out-{id}.log"), 1)["env"]["ECO_STAGE"],
            "dev"
        );
    }
    p.ok(&["reload", "cl.config.js", "--env", "production"]);
    for id in [0, 1] {
        assert_eq!(
            nth_probe(&p, &format!("cl-out-{id}.log"), 2)["env"]["ECO_STAGE"],
            "prod"
        );
        assert_eq!(p.app(id)["pm2_env"]["env"]["ECO_STAGE"], "prod");
        assert_eq!(env_str(&p.app(id), "exec_mode"), "cluster_mode");
    }
}

#[test]
fn only_env_deploy_env_and_append_env_to_name() {
    let p = Pm2::new("eco_only");
    probe_in(&p.dir);
    let file = r#"module.exports = {
  apps: [
    { name: 'a', script: 'probe.js' },
    { name: 'b', script: 'probe.js' },
    { name: 'api', script: 'probe.js', append_env_to_name: true,
      env: { ECO_STAGE: 'dev' }, env_staging: { ECO_STAGE: 'staging' } },
  ],
  deploy: { staging: { env: { ECO_DEPLOY: 'yes' } } },
};
"#;
    write(&p.dir, "only.config.js", file);
    p.ok(&[
        "start",
        "only.config.js",
        "--only",
        "a,api",
        "--env",
        "staging",
    ]);
    wait_apps_online(&p, &["a", "api-staging"]);
    let api = nth_probe(&p, "api-staging-out.log", 1);
    assert_eq!(api["env"]["ECO_STAGE"], "staging", "{api}");
    assert_eq!(api["env"]["ECO_DEPLOY"], "yes", "{api}");

    p.ok(&["start", "only.config.js", "--only", "b"]);
    wait_apps_online(&p, &["a", "api-staging", "b"]);
    assert_eq!(
        env_u64(&named(&p, "a")[0], "restart_time"),
        0,
        "a untouched"
    );
}

#[test]
fn starting_a_running_file_restarts_it_with_the_new_definition() {
    let p = Pm2::new("eco_twice");
    probe_in(&p.dir);
    let one = r#"{"apps": [{"name": "one", "script": "probe.js", "env": {"ECO_V": "1"}}]}"#;
    write(&p.dir, "twice.json", one);
    p.ok(&["start", "twice.json"]);
    assert_eq!(nth_probe(&p, "one-out.log", 1)["env"]["ECO_V"], "1");

    let two = r#"{"apps": [
      {"name": "one", "script": "probe.js", "args": ["new"], "env": {"ECO_V": "2"}},
      {"name": "two", "script": "probe.js"}]}"#;
    write(&p.dir, "twice.json", two);
    p.ok(&["start", "twice.json"]);
    wait_apps_online(&p, &["one", "two"]);
    let seen = nth_probe(&p, "one-out.log", 2);
    assert_eq!(seen["env"]["ECO_V"], "2", "{seen}");
    assert_eq!(seen["argv"], serde_json::json!(["new"]), "{seen}");
    assert_eq!(env_u64(&named(&p, "one")[0], "restart_time"), 1);
    assert_eq!(env_u64(&named(&p, "two")[0], "restart_time"), 0);
}

#[test]
fn start_or_restart_and_start_or_reload() {
    let p = Pm2::new("eco_sor");
    probe_in(&p.dir);
    let def =
        |v: &str| format!(r#"{{"name": "sor", "script": "probe.js", "env": {{"ECO_V": "{v}"}}}}"#);
    write(&p.dir, "sor.json", &def("1"));
    p.ok(&["startOrRestart", "sor.json"]);
    wait_apps_online(&p, &["sor"]);
    assert_eq!(nth_probe(&p, "sor-out.log", 1)["env"]["ECO_V"], "1");

    write(&p.dir, "sor.json", &def("2"));
    p.ok(&["startOrRestart", "sor.json"]);
    assert_eq!(nth_probe(&p, "sor-out.log", 2)["env"]["ECO_V"], "2");
    assert_eq!(env_u64(&p.app(0), "restart_time"), 1);

    write(&p.dir, "sor.json", &def("3"));
    p.ok(&["startOrReload", "sor.json"]);
    assert_eq!(nth_probe(&p, "sor-out.log", 3)["env"]["ECO_V"], "3");
    p.ok(&["startOrGracefulReload", "sor.json"]);
    nth_probe(&p, "sor-out.log", 4);
    wait_apps_online(&p, &["sor"]);
}

#[test]
fn restart_reload_stop_and_delete_a_file() {
    let p = Pm2::new("eco_actions");
    probe_in(&p.dir);
    let file =
        r#"{"apps": [{"name": "f1", "script": "probe.js"}, {"name": "f2", "script": "probe.js"}]}"#;
    write(&p.dir, "acts.json", file);
    p.ok(&["start", "acts.json"]);
    p.ok(&["start", "probe.js", "--name", "other"]);
    wait_apps_online(&p, &["f1", "f2", "other"]);
    // Each app must have run its code before it is reloaded, or its first line is lost.
    nth_probe(&p, "f1-out.log", 1);
    nth_probe(&p, "f2-out.log", 1);

    p.ok(&["reload", "acts.json"]);
    nth_probe(&p, "f1-out.log", 2);
    nth_probe(&p, "f2-out.log", 2);
    assert_eq!(env_u64(&named(&p, "other")[0], "restart_time"), 0);

    p.ok(&["stop", "acts.json"]);
    p.wait_until(T, "f1 and f2 stopped", || {
        ["f1", "f2"]
            .iter()
            .all(|n| named(&p, n).iter().all(|a| st(a) == "stopped"))
    });
    assert_eq!(st(&named(&p, "other")[0]), "online");

    p.ok(&["restart", "acts.json"]);
    wait_apps_online(&p, &["f1", "f2", "other"]);

    p.ok(&["delete", "acts.json"]);
    assert_eq!(names(&p), ["other"]);
}

#[test]
fn file_actions_honour_only() {
    let p = Pm2::new("eco_act_only");
    probe_in(&p.dir);
    let file =
        r#"{"apps": [{"name": "o1", "script": "probe.js"}, {"name": "o2", "script": "probe.js"}]}"#;
    write(&p.dir, "o.json", file);
    p.ok(&["start", "o.json"]);
    wait_apps_online(&p, &["o1", "o2"]);
    nth_probe(&p, "o1-out.log", 1);
    nth_probe(&p, "o2-out.log", 1);

    p.ok(&["restart", "o.json", "--only", "o1"]);
    nth_probe(&p, "o1-out.log", 2);
    assert_eq!(env_u64(&named(&p, "o2")[0], "restart_time"), 0);

    // PM2's --only is global: it filters stop and delete of a file too.
    p.ok(&["stop", "o.json", "--only", "o1"]);
    p.wait_until(T, "o1 stopped", || st(&named(&p, "o1")[0]) == "stopped");
    assert_eq!(st(&named(&p, "o2")[0]), "online");
    p.ok(&["delete", "o.json", "--only", "o2"]);
    assert_eq!(names(&p), ["o1"]);
}

#[test]
fn json_on_stdin() {
    let p = Pm2::new("eco_stdin");
    probe_in(&p.dir);
    let json =
        r#"{"apps": [{"name": "piped", "script": "probe.js", "env": {"ECO_FROM": "stdin"}}]}"#;
    let out = p.run_stdin(json, &["start", "-"]);
    p.expect_code(&out, 0);
    wait_apps_online(&p, &["piped"]);
    assert_eq!(
        nth_probe(&p, "piped-out.log", 1)["env"]["ECO_FROM"],
        "stdin"
    );

    let out = p.run_stdin(json, &["delete", "-"]);
    p.expect_code(&out, 0);
    assert!(names(&p).is_empty(), "{:?}", names(&p));

    // Broken JSON on stdin: located, and nothing started.
    let out = p.run_stdin("{\"apps\": [}", &["start", "-"]);
    p.expect_code(&out, 1);
    p.check(
        out.stderr.contains("[PM2][ERROR] <stdin>:1:11: "),
        "stdin syntax error located at 1:11",
        &out,
    );
    assert!(names(&p).is_empty());
}

/// `(instance variable, increment variable)` as the probe of app id `id` saw them.
fn instance_vars(p: &Pm2, id: u64) -> (String, String) {
    let env = &nth_probe(p, &format!("web-out-{id}.log"), 1)["env"];
    let get = |k: &str| env[k].as_str().unwrap_or("unset").to_string();
    (get("ECO_INSTANCE"), get("ECO_PORT"))
}

#[test]
fn instance_var_and_increment_var_number_each_instance() {
    let p = Pm2::new("eco_instance_vars");
    probe_in(&p.dir);
    let file = "module.exports = { apps: [{ name: 'web', script: 'probe.js', instances: 3,\n  \
        exec_mode: 'fork', instance_var: 'ECO_INSTANCE', increment_var: 'ECO_PORT',\n  \
        env: { ECO_PORT: '3000' } }] };\n";
    write(&p.dir, "web.config.js", file);
    p.ok(&["start", "web.config.js"]);
    wait_apps_online(&p, &["web", "web", "web"]);
    for id in 0..3u64 {
        let want = (id.to_string(), (3000 + id).to_string());
        assert_eq!(instance_vars(&p, id), want, "instance {id}");
        let env = &p.app(id)["pm2_env"];
        assert_eq!(env["instance_var"], "ECO_INSTANCE");
        assert_eq!(env["ECO_INSTANCE"], id);
        assert_eq!(env["ECO_PORT"], 3000 + id);
        assert_eq!(env["env"]["ECO_PORT"], 3000 + id);
        assert!(env.get("NODE_APP_INSTANCE").is_none(), "renamed: {env:#}");
    }
    // Scaling up continues the numbering; after scaling down (lowest ids go first) the
    // freed index is reused while the increment keeps going up, as in PM2.
    p.ok(&["scale", "web", "4"]);
    wait_apps_online(&p, &["web"; 4]);
    assert_eq!(instance_vars(&p, 3), ("3".into(), "3003".into()));
    p.ok(&["scale", "web", "2"]);
    wait_apps_online(&p, &["web"; 2]);
    p.ok(&["scale", "web", "3"]);
    wait_apps_online(&p, &["web"; 3]);
    // ids never go back (PM2's next_id): the new one is 4, with the lowest free index.
    assert_eq!(instance_vars(&p, 4), ("0".into(), "3004".into()));
}
