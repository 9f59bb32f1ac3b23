//! PM2 7's smaller commands: `examples`, `logrotate` (written under a moved root, never
//! the machine's `/etc`), the PM2 Plus family, `autoinstall`, `sysmonit`, `deepUpdate`,
//! and `dashboard|dash|imonit` as `monit`.

use crate::harness::*;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn examples_scenario(p: &Pm2) {
    let out = p.ok(&["examples"]);
    for line in [
        "$ pm2 start app.js --name app",
        "$ pm2 ls",
        "$ pm2 delete app",
    ] {
        p.check(out.stdout.contains(line), line, &out);
    }
}

#[test]
fn examples_print_the_everyday_commands() {
    examples_scenario(&Pm2::new("examples"));
}

#[test]
#[ignore = "reference run against PM2 7: PM2_REF=... -- --ignored"]
fn examples_print_the_everyday_commands_reference() {
    examples_scenario(&Pm2::reference("examples_ref"));
}

#[test]
fn logrotate_writes_the_config_for_this_home_under_the_root_given() {
    let p = Pm2::new("logrotate");
    let root = p.dir.join("sysroot");
    let root_s = root.to_string_lossy().into_owned();
    // No logrotate.d folder: refused, nothing written.
    let out = p.fails(&["logrotate", "--root", &root_s], 1);
    p.check(out.stderr.contains("does not exist"), "says why", &out);
    std::fs::create_dir_all(root.join("etc/logrotate.d")).expect("mkdir");
    let out = p.ok(&["logrotate", "--root", &root_s, "-u", "deploy"]);
    let file = root.join("etc/logrotate.d/pm2-deploy");
    p.check(
        out.stdout.contains(&file.display().to_string()),
        "names the file",
        &out,
    );
    let text = std::fs::read_to_string(&file).expect("the config was written");
    let home = p.home.display();
    assert!(
        text.starts_with(&format!("{home}/pm2.log {home}/logs/*.log {{\n")),
        "{text}"
    );
    for directive in [
        "rotate 12",
        "weekly",
        "copytruncate",
        "create 0640 deploy deploy",
    ] {
        assert!(text.contains(directive), "{directive} in {text}");
    }
    // The environment seam, and root as PM2's default user.
    p.ok_env(&[("PM2_LOGROTATE_ROOT", &root_s)], &["logrotate"]);
    let text = std::fs::read_to_string(root.join("etc/logrotate.d/pm2-root")).expect("root's");
    assert!(text.contains("create 0640 root root"), "{text}");
}

fn plus_scenario(p: &Pm2) {
    p.ok(&["unlink"]);
    // `pm2 link` alone with nothing linked: PM2 says to run `pm2 plus`, pm2-rs how to
    // link; both exit 1.
    p.fails(&["link"], 1);
    p.fails(&["autoinstall"], 1);
    p.fails(&["sysmonit"], 1);
}

#[test]
fn link_without_a_url_and_login_change_nothing() {
    let p = Pm2::new("plus");
    plus_scenario(&p);
    for cmd in [&["link", "sec", "pub"][..], &["login"], &["monitor"]] {
        let out = p.fails(cmd, 1);
        p.check(out.stderr.contains("PM2 Plus"), "names PM2 Plus", &out);
        p.check(
            out.stderr.contains("nothing was done"),
            "says nothing changed",
            &out,
        );
    }
    for cmd in ["logout", "unlink"] {
        let out = p.ok(&[cmd]);
        p.check(out.stdout.contains("Not linked"), "nothing to undo", &out);
    }
}

#[test]
#[ignore = "reference run against PM2 7: PM2_REF=... -- --ignored"]
fn link_without_a_url_and_login_change_nothing_reference() {
    plus_scenario(&Pm2::reference("plus_ref"));
}

#[test]
fn dashboard_dash_and_imonit_are_monit() {
    let p = Pm2::new("dash");
    for cmd in ["dashboard", "dash", "imonit"] {
        let out = p.fails(&[cmd], 1);
        p.check(
            out.stderr.contains("pm2 monit needs a terminal"),
            "monit",
            &out,
        );
    }
}

#[test]
fn deep_update_moves_the_apps_to_a_new_daemon() {
    let p = Pm2::new("deep_update");
    let script = p.sleeper_script("sleeper.sh");
    p.ok(&["start", &script.to_string_lossy(), "--name", "kept"]);
    p.wait_online(0);
    let before = p.daemon_pid();
    let out = p.ok(&["deepUpdate"]);
    p.check(
        out.stdout.contains("not installed by npm"),
        "explains",
        &out,
    );
    p.wait_online(0);
    assert_ne!(p.daemon_pid(), before, "a new daemon");
    assert_eq!(p.app(0)["name"], "kept");
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn mem_total() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").expect("read /proc/meminfo");
    let kb = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("MemTotal");
    kb * 1024
}

fn slist_scenario(p: &Pm2) {
    // PM2's daemon answers `{}` until its first sample; pm2-rs samples on the spot.
    let out = poll_until(T, "a first sample", || {
        let out = p.ok(&["slist"]);
        out.stdout.contains("RAM Total").then_some(out)
    });
    let total = format!(
        "'RAM Total': {{ value: {}, type: 'metric', unit: 'b', historic: true }}",
        mem_total()
    );
    p.check(
        out.stdout.contains(&total),
        "RAM Total from /proc/meminfo",
        &out,
    );
    for key in [
        "'CPU Usage': { value: ",
        "'RAM Usage': { value: ",
        "'fs:use:/': { value: ",
        "'net:rx_5:lo': { value: ",
    ] {
        p.check(out.stdout.contains(key), key, &out);
    }
    let out = p.ok(&["sysinfos", "--tree"]);
    p.check(
        out.stdout.contains("├─ RAM Total\n│  ├─ value: "),
        "the tree",
        &out,
    );
}

#[test]
fn slist_prints_the_hosts_metrics_in_pm2s_shape() {
    slist_scenario(&Pm2::new("slist"));
}

#[test]
#[ignore = "reference run against PM2 7: PM2_REF=... -- --ignored"]
fn slist_prints_the_hosts_metrics_in_pm2s_shape_reference() {
    slist_scenario(&Pm2::reference("slist_ref"));
}

fn report_scenario(p: &Pm2) -> Output {
    let script = p.sleeper_script("sleeper.sh");
    p.ok(&["start", &script.to_string_lossy(), "--name", "sleepy"]);
    p.wait_online(0);
    let out = p.ok(&["report"]);
    // PM2 colours its titles even into a pipe.
    let text = strip_ansi(&out.stdout);
    for needle in [
        "```\n--- PM2 report ---",
        "--- Daemon ---",
        "--- CLI ---",
        "--- System info ---",
        "--- PM2 list ---",
        "│ sleepy",
        "--- Daemon logs ---",
        "pm2.log last 20 lines:",
        "App [sleepy:0] online",
    ] {
        p.check(text.contains(needle), needle, &out);
    }
    out
}

/// `text` without its SGR colour sequences.
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn report_shows_versions_system_apps_and_last_log_lines() {
    let p = Pm2::new("report");
    let out = report_scenario(&p);
    p.check(
        out.stdout.contains("--- App logs ---"),
        "the apps' logs",
        &out,
    );
    p.check(
        out.stdout.contains("sleepy-out.log last 10 lines:"),
        "each app's out log",
        &out,
    );
}

#[test]
#[ignore = "reference run against PM2 7: PM2_REF=... -- --ignored"]
fn report_shows_versions_system_apps_and_last_log_lines_reference() {
    report_scenario(&Pm2::reference("report_ref"));
}
