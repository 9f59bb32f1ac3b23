//! PM2 modules installed with `pm2 install`: a module package built here (package.json
//! `config` defaults and an app that prints its settings), installed from an `npm pack`
//! tarball and from a folder. It runs as an app marked `pmx_module` with its settings in
//! its env, hidden from the process table and shown in the module table, restarted with
//! the new value by `pm2 set mod:key`, skipped by `stop all` and `save`, started again by
//! the daemon itself after `pm2 kill`, and removed by `pm2 uninstall`. Also: npm missing
//! or failing registers nothing, an npm pm2-logrotate makes the built-in one step aside,
//! PM2 7's own npm CLI installs a module into this daemon. Real modules from the npm
//! registry are in `modules_npm`.

use crate::harness::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub(crate) const T: Duration = Duration::from_secs(30);
pub(crate) const NPM: &str = "npm not on PATH (scripts/install-deps.sh installs node with npm)";

/// Whether npm runs here.
pub(crate) fn npm_found() -> bool {
    Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

pub(crate) fn module_conf(p: &Pm2) -> Value {
    let text = std::fs::read_to_string(p.home.join("module_conf.json")).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Writes module package `name` into `<test dir>/<name>`: its app prints its settings
/// (`<name>` as JSON, and `greeting`) once, then every 50 ms prints `filler` when set.
pub(crate) fn module_folder(p: &Pm2, name: &str, version: &str) -> PathBuf {
    let dir = p.dir.join(name);
    std::fs::create_dir_all(&dir).expect("module folder");
    let package = serde_json::json!({
        "name": name, "version": version, "main": "app.js",
        "config": {"greeting": "hello", "port": "4000"}
    });
    std::fs::write(dir.join("package.json"), package.to_string()).expect("package.json");
    let app = r#"
console.log('settings=' + process.env[require('./package.json').name] + ' greeting=' +
  process.env.greeting + ' home=' + process.env.PM2_HOME + ' cwd=' + process.cwd());
setInterval(() => { if (process.env.filler) console.log(process.env.filler); }, 50);
"#;
    std::fs::write(dir.join("app.js"), app).expect("app.js");
    dir
}

/// `npm pack` of a module folder; returns the tarball.
pub(crate) fn pack(p: &Pm2, folder: &Path) -> PathBuf {
    let out = Command::new("npm")
        .arg("pack")
        .arg(folder)
        .current_dir(&p.dir)
        .output()
        .expect("run npm pack");
    assert!(
        out.status.success(),
        "npm pack: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = String::from_utf8_lossy(&out.stdout)
        .trim()
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    p.dir.join(name)
}

pub(crate) fn by_name(p: &Pm2, name: &str) -> Option<Value> {
    p.apps().into_iter().find(|a| a["name"] == name)
}

/// Waits until the module `name` is online and returns its jlist element.
pub(crate) fn wait_module_online(p: &Pm2, name: &str) -> Value {
    p.wait_until(T, &format!("module {name} online"), || {
        by_name(p, name).filter(|a| st(a) == "online")
    })
}

pub(crate) fn out_log(p: &Pm2, name: &str) -> PathBuf {
    p.home.join("logs").join(format!("{name}-out.log"))
}

/// `pm2 list`: the process table (before the `Module` heading) and the module section.
pub(crate) fn list_sections(p: &Pm2) -> (String, String) {
    let out = p.ok(&["list", "--no-color"]);
    let text = out.stdout;
    match text.find("\nModule") {
        Some(at) => (text[..at].to_string(), text[at..].to_string()),
        None => (text, String::new()),
    }
}

#[test]
#[cfg_attr(
    no_npm,
    ignore = "npm not on PATH (scripts/install-deps.sh installs node with npm)"
)]
fn a_module_from_a_tarball_runs_hidden_configured_and_comes_back_at_boot() {
    require(npm_found(), NPM);
    let p = Pm2::new("mod_tarball");
    let tarball = pack(&p, &module_folder(&p, "mymod", "1.2.3"));
    // Not named `app`: PM2 7 first looks the module up by its script's basename, and would
    // restart an app of that name instead of starting the module.
    let app = p.sleeper_script("app.sh");
    p.ok(&["start", app.to_str().unwrap(), "--name", "web"]);
    let out = p.ok(&["install", tarball.to_str().unwrap()]);
    p.expect_output(&out, "Module successfully installed");

    let conf = module_conf(&p);
    assert_eq!(conf["mymod"]["greeting"], "hello", "{conf}");
    assert_eq!(conf["mymod"]["port"], "4000", "{conf}");
    assert_eq!(
        conf["module-db-v2"]["mymod"],
        serde_json::json!({}),
        "{conf}"
    );
    let module = wait_module_online(&p, "mymod");
    let env = &module["pm2_env"];
    assert_eq!(env["pmx_module"], true, "{env}");
    let package = p.home.join("modules/mymod/node_modules/mymod");
    assert_eq!(env["pm_cwd"], package.to_str().unwrap());
    assert_eq!(env["version"], "1.2.3");
    assert_eq!(env["greeting"], "hello");
    assert_eq!(env["PM2_HOME"], p.home.to_str().unwrap());
    assert!(!env_str(&module, "username").is_empty(), "{env}");
    p.wait_file_contains(&out_log(&p, "mymod"), "greeting=hello home=", T);
    p.wait_file_contains(
        &out_log(&p, "mymod"),
        r#"settings={"greeting":"hello","port":"4000"}"#,
        T,
    );

    let (apps, modules) = list_sections(&p);
    assert!(!apps.contains("mymod") && apps.contains("web"), "{apps}");
    assert!(modules.starts_with("\nModule\n"), "{modules}");
    assert!(
        modules.contains("│ module ") && modules.contains("mymod") && modules.contains("1.2.3"),
        "{modules}"
    );

    p.ok(&["set", "mymod:greeting", "bonjour"]);
    p.wait_file_contains(&out_log(&p, "mymod"), "greeting=bonjour", T);
    let module = wait_module_online(&p, "mymod");
    assert_eq!(
        module["pm2_env"]["restart_time"], 1,
        "pm2 set restarts the module once"
    );
    assert_eq!(module["pm2_env"]["greeting"], "bonjour");

    p.ok(&["stop", "all"]);
    p.wait_until(T, "web stopped", || {
        by_name(&p, "web").is_some_and(|a| st(&a) == "stopped")
    });
    assert_eq!(
        st(&by_name(&p, "mymod").unwrap()),
        "online",
        "stop all skips modules"
    );
    p.ok(&["restart", "all"]);
    assert_eq!(
        by_name(&p, "mymod").unwrap()["pm2_env"]["restart_time"],
        1,
        "restart all skips modules"
    );
    p.ok(&["save"]);
    let dump = std::fs::read_to_string(p.home.join("dump.pm2")).expect("dump.pm2");
    assert!(
        dump.contains("\"web\"") && !dump.contains("mymod"),
        "save leaves modules out: {dump}"
    );

    p.ok(&["kill"]);
    p.ok(&["ping"]);
    let module = wait_module_online(&p, "mymod");
    assert_eq!(
        module["pm2_env"]["greeting"], "bonjour",
        "the daemon starts it with its settings"
    );
    assert_eq!(module["pm2_env"]["pmx_module"], true);
    assert!(
        by_name(&p, "web").is_none(),
        "only modules come back by themselves"
    );

    p.ok(&["delete", "all"]);
    assert!(by_name(&p, "mymod").is_some(), "delete all skips modules");
    p.ok(&["uninstall", "mymod"]);
    assert!(by_name(&p, "mymod").is_none());
    assert!(!p.home.join("modules/mymod").exists());
    assert!(module_conf(&p)["module-db-v2"].get("mymod").is_none());
    p.ok(&["kill"]);
    p.ok(&["ping"]);
    assert!(
        by_name(&p, "mymod").is_none(),
        "an uninstalled module stays gone"
    );
    p.fails(&["uninstall", "mymod"], 1);
}

#[test]
#[cfg_attr(
    no_npm,
    ignore = "npm not on PATH (scripts/install-deps.sh installs node with npm)"
)]
fn a_module_from_a_folder_is_copied_and_runs_from_its_package() {
    require(npm_found(), NPM);
    let p = Pm2::new("mod_folder");
    module_folder(&p, "foldermod", "0.1.0");
    p.run_in(&p.dir, &["install", "./foldermod"]).ok();
    let module = wait_module_online(&p, "foldermod");
    let package = p.home.join("modules/foldermod/node_modules/foldermod");
    assert_eq!(
        module["pm2_env"]["pm_exec_path"],
        package.join("app.js").to_str().unwrap()
    );
    assert!(!package.is_symlink(), "the folder is copied, not linked");
    std::fs::remove_dir_all(p.dir.join("foldermod")).expect("remove the source");
    p.ok(&["restart", "foldermod"]);
    wait_module_online(&p, "foldermod");
    p.ok(&["uninstall", "foldermod"]);
    assert!(by_name(&p, "foldermod").is_none());
}

#[test]
fn npm_missing_or_failing_registers_nothing() {
    let p = Pm2::new("mod_npm_fail");
    let out = p.run_env(&[("PATH", "/nonexistent")], &["install", "some-module"]);
    p.expect_code(&out, 1);
    p.expect_output(&out, "npm is not on PATH");
    assert!(
        module_conf(&p).get("module-db-v2").is_none(),
        "{}",
        module_conf(&p)
    );
    if !optional_part(npm_found(), NPM) {
        return;
    }
    let out = p.run(&["install", "./no-such-folder"]);
    p.expect_code(&out, 1);
    p.expect_output(&out, "nothing was installed");
    assert!(
        module_conf(&p).get("module-db-v2").is_none(),
        "{}",
        module_conf(&p)
    );
    let leftovers: Vec<_> = std::fs::read_dir(p.home.join("modules"))
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let out = p.run(&["uninstall", "../../etc"]);
    p.expect_code(&out, 1);
    p.expect_output(&out, "not a module name");
}

#[test]
#[cfg_attr(
    no_npm,
    ignore = "npm not on PATH (scripts/install-deps.sh installs node with npm)"
)]
fn an_npm_pm2_logrotate_makes_the_built_in_one_step_aside() {
    require(npm_found(), NPM);
    let p = Pm2::new("mod_logrotate");
    p.ok(&["install", "pm2-logrotate"]);
    p.ok(&["set", "pm2-logrotate:max_size", "1K"]);
    p.ok(&["set", "pm2-logrotate:workerInterval", "1"]);
    // A stand-in for the npm package, named so: installed, it owns rotation.
    let folder = module_folder(&p, "pm2-logrotate", "3.0.0");
    let filler = "x".repeat(100);
    p.ok(&["install", folder.to_str().unwrap()]);
    wait_module_online(&p, "pm2-logrotate");
    assert_eq!(
        module_conf(&p)["pm2-logrotate"]["max_size"],
        "1K",
        "install keeps user values"
    );
    p.ok_env(
        &[("filler", &filler)],
        &["restart", "pm2-logrotate", "--update-env"],
    );
    let log = out_log(&p, "pm2-logrotate");
    p.wait_until(
        T,
        "the module's log to pass 5 times max_size unrotated",
        || std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0) > 5 * 1024,
    );
    let rotated: Vec<_> = std::fs::read_dir(p.home.join("logs"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("__"))
        .collect();
    assert!(
        rotated.is_empty(),
        "the built-in rotator still rotated: {rotated:?}"
    );
    p.ok(&["uninstall", "pm2-logrotate"]);
    assert!(!p.home.join("modules/pm2-logrotate").exists());
    assert!(by_name(&p, "pm2-logrotate").is_none());
}

/// PM2 7's own npm CLI (`target/pm2-client`) installing a module against this daemon: it
/// runs npm itself and sends `prepare` with `pmx_module`, which this daemon keeps; the
/// record it writes is what this daemon starts at boot.
#[test]
#[cfg_attr(
    any(no_npm, no_pm2_client),
    ignore = "npm, or the npm pm2 client in target/pm2-client, is missing (scripts/install-deps.sh)"
)]
fn pm2_7s_own_cli_installs_a_module_into_this_daemon() {
    require(npm_found(), NPM);
    let client = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pm2-client/node_modules/pm2");
    require(
        client.join("package.json").is_file(),
        "the npm pm2 client is not in target/pm2-client (scripts/install-deps.sh installs it)",
    );
    let p = Pm2::new("mod_pm2_cli");
    let tarball = pack(&p, &module_folder(&p, "climod", "2.0.0"));
    p.ok(&["ping"]);
    let daemon = p.daemon_pid();
    let out = Command::new("node")
        .arg(client.join("bin/pm2"))
        .arg("install")
        .arg(&tarball)
        .current_dir(&p.dir)
        .env("PM2_HOME", &p.home)
        .output()
        .expect("run PM2 7's CLI");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        p.daemon_pid(),
        daemon,
        "the same daemon, no Node one spawned"
    );
    let module = wait_module_online(&p, "climod");
    assert_eq!(module["pm2_env"]["pmx_module"], true);
    assert_eq!(module["pm2_env"]["greeting"], "hello");
    let (apps, modules) = list_sections(&p);
    assert!(
        !apps.contains("climod") && modules.contains("climod"),
        "{apps}{modules}"
    );
    p.ok(&["kill"]);
    p.ok(&["ping"]);
    assert_eq!(
        wait_module_online(&p, "climod")["pm2_env"]["pmx_module"],
        true
    );
    p.ok(&["uninstall", "climod"]);
    assert!(by_name(&p, "climod").is_none());
}

/// The tarball scenario's core against PM2 7 (`PM2_REF`): the module table, its settings
/// in env, `pm2 set` restarting it, `stop all` and `save` leaving it alone.
#[test]
#[ignore = "reference run against PM2 7: PM2_REF=.../node_modules/.bin/pm2 cargo test -p pm2 --test e2e modules:: -- --ignored"]
fn reference_a_module_from_a_tarball() {
    let p = Pm2::reference("mod_ref");
    let tarball = pack(&p, &module_folder(&p, "mymod", "1.2.3"));
    let app = p.sleeper_script("app.sh");
    p.ok(&["start", app.to_str().unwrap(), "--name", "web"]);
    p.ok(&["install", tarball.to_str().unwrap()]);
    let conf = module_conf(&p);
    assert_eq!(conf["mymod"]["greeting"], "hello", "{conf}");
    assert_eq!(
        conf["module-db-v2"]["mymod"],
        serde_json::json!({}),
        "{conf}"
    );
    let module = wait_module_online(&p, "mymod");
    assert_eq!(module["pm2_env"]["pmx_module"], true);
    assert_eq!(module["pm2_env"]["greeting"], "hello");
    let (apps, modules) = list_sections(&p);
    assert!(!apps.contains("mymod") && apps.contains("web"), "{apps}");
    assert!(
        modules.starts_with("\nModule\n") && modules.contains("mymod"),
        "{modules}"
    );
    p.ok(&["set", "mymod:greeting", "bonjour"]);
    p.wait_file_contains(&out_log(&p, "mymod"), "greeting=bonjour", T);
    let module = wait_module_online(&p, "mymod");
    assert_eq!(module["pm2_env"]["restart_time"], 1);
    p.ok(&["stop", "all"]);
    p.wait_until(T, "web stopped", || {
        by_name(&p, "web").is_some_and(|a| st(&a) == "stopped")
    });
    assert_eq!(st(&by_name(&p, "mymod").unwrap()), "online");
    p.ok(&["restart", "all"]);
    assert_eq!(by_name(&p, "mymod").unwrap()["pm2_env"]["restart_time"], 1);
    p.ok(&["save"]);
    let dump = std::fs::read_to_string(p.home.join("dump.pm2")).expect("dump.pm2");
    assert!(
        dump.contains("\"web\"") && !dump.contains("mymod"),
        "{dump}"
    );
    p.ok(&["uninstall", "mymod"]);
    assert!(by_name(&p, "mymod").is_none());
    assert!(module_conf(&p)["module-db-v2"].get("mymod").is_none());
}
