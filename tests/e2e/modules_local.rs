//! Modules from this machine: `pm2 install .` (PM2's development mode: the module runs in
//! its folder, watched, and is not recorded for the daemon's next start) and
//! `pm2 module:update` (PM2's alias of install: the new package replaces the old, the
//! settings stay).

use crate::harness::*;
use crate::modules::{
    by_name, module_conf, module_folder, npm_found, out_log, pack, wait_module_online, NPM, T,
};

/// `pm2 install .` in a module's folder runs it there with watch on; an edit restarts it,
/// and after `pm2 kill` the new daemon does not start it (nothing recorded it).
#[test]
fn install_dot_runs_the_module_in_place_and_restarts_it_on_edit() {
    install_dot(Pm2::new("mod_dev_mode"));
}

/// The same against PM2 7 (`PM2_REF`).
#[test]
#[ignore = "reference run against PM2 7: PM2_REF=.../node_modules/.bin/pm2 cargo test -p pm2 --test e2e modules_local:: -- --ignored"]
fn reference_install_dot() {
    install_dot(Pm2::reference("mod_dev_mode_ref"));
}

fn install_dot(p: Pm2) {
    let folder = module_folder(&p, "devmod", "0.1.0");
    let out = p.run_in(&folder, &["install", "."]);
    p.expect_code(&out, 0);
    p.expect_output(&out, "DEVELOPMENT MODE with WATCH");
    let module = wait_module_online(&p, "devmod");
    let env = &module["pm2_env"];
    assert_eq!(env["pmx_module"], true, "{env}");
    assert_eq!(env["watch"], true, "{env}");
    assert_eq!(env["pm_cwd"], folder.to_str().unwrap(), "{env}");
    assert!(!p.home.join("modules/devmod").exists(), "nothing copied");
    assert!(module_conf(&p)["module-db-v2"].get("devmod").is_none());
    p.wait_file_contains(&out_log(&p, "devmod"), "greeting=", T);

    let app = folder.join("app.js");
    let mut text = std::fs::read_to_string(&app).expect("app.js");
    text.push_str("console.log('edited once');\n");
    std::fs::write(&app, text).expect("edit app.js");
    p.wait_file_contains(&out_log(&p, "devmod"), "edited once", T);
    let module = wait_module_online(&p, "devmod");
    assert!(
        module["pm2_env"]["restart_time"].as_u64() >= Some(1),
        "{module}"
    );

    p.ok(&["kill"]);
    p.ok(&["ping"]);
    assert!(by_name(&p, "devmod").is_none(), "not started at boot");
}

/// `pm2 module:update <tarball>` installs the new version over the old one: one process,
/// the new version, the user's setting kept.
#[test]
#[cfg_attr(
    no_npm,
    ignore = "npm not on PATH (scripts/install-deps.sh installs node with npm)"
)]
fn module_update_replaces_the_package_and_keeps_the_settings() {
    require(npm_found(), NPM);
    let p = Pm2::new("mod_update");
    let first = pack(&p, &module_folder(&p, "updmod", "1.0.0"));
    p.ok(&["install", first.to_str().unwrap()]);
    wait_module_online(&p, "updmod");
    p.ok(&["set", "updmod:greeting", "bonjour"]);
    std::fs::remove_dir_all(p.dir.join("updmod")).expect("remove the first folder");
    let second = pack(&p, &module_folder(&p, "updmod", "1.1.0"));
    p.ok(&["module:update", second.to_str().unwrap()]);
    let module = p.wait_until(T, "version 1.1.0 online", || {
        by_name(&p, "updmod").filter(|m| m["pm2_env"]["version"] == "1.1.0" && st(m) == "online")
    });
    assert_eq!(module["pm2_env"]["greeting"], "bonjour", "{module}");
    let count = p.apps().iter().filter(|a| a["name"] == "updmod").count();
    assert_eq!(count, 1, "one process");
}
