//! `pm2 completion` (scripts generated from the clap definitions, app names from the
//! daemon, `install`/`uninstall` in the rc file) and the man page kept current.

use crate::harness::*;
use std::process::Command;

/// Runs `script` in bash with the completion of `pm2 completion bash` loaded.
fn bash_with_completion(p: &Pm2, script: &str) -> String {
    let setup = format!("source <('{}' completion bash)\n{script}", bin());
    let out = Command::new("bash")
        .args(["-c", &setup])
        .env("PM2_HOME", &p.home)
        .env(
            "PATH",
            format!(
                "{}:{}",
                dir_of_bin(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn dir_of_bin() -> String {
    std::path::Path::new(bin())
        .parent()
        .map(|d| d.display().to_string())
        .unwrap_or_default()
}

#[test]
fn bash_completion_loads_and_completes_commands_flags_and_app_names() {
    let p = Pm2::new("completion");
    p.fixture("ticker.js");
    p.ok(&["start", "ticker.js", "--name", "api-server"]);
    p.wait_online(0);
    let registered = bash_with_completion(&p, "complete -p pm2");
    assert!(registered.contains("pm2"), "{registered}");
    let complete = |words: &str| {
        let script = format!(
            "COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             COMP_LINE=\"{words}\"; COMP_POINT=${{#COMP_LINE}}; \
             _pm2_with_apps pm2 \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        bash_with_completion(&p, &script)
    };
    let commands = complete("pm2 res");
    assert!(commands.lines().any(|l| l == "restart"), "{commands}");
    assert!(commands.lines().any(|l| l == "reset"), "{commands}");
    let apps = complete("pm2 stop api");
    assert_eq!(apps.trim(), "api-server", "app names from the daemon");
    let flags = complete("pm2 start --wat");
    assert!(flags.lines().any(|l| l == "--watch"), "{flags}");
}

#[test]
fn completion_install_appends_once_and_uninstall_removes_it() {
    let p = Pm2::new("completion_install");
    let home = p.dir.join("user");
    std::fs::create_dir_all(&home).expect("HOME");
    let rc = home.join(".bashrc");
    std::fs::write(&rc, "alias ll='ls -l'\n").expect("rc");
    let run = |arg: &str| {
        p.ok_env(
            &[
                ("HOME", home.to_str().unwrap_or("")),
                ("SHELL", "/bin/bash"),
            ],
            &["completion", arg],
        )
    };
    p.expect_output(&run("install"), "✓ pm2 tab-completion installed.");
    p.expect_output(&run("install"), "has been already installed. Do nothing.");
    let text = std::fs::read_to_string(&rc).expect("rc");
    assert_eq!(text.matches("###-begin-pm2-completion-###").count(), 1);
    assert!(text.starts_with("alias ll='ls -l'\n"));
    let loads = Command::new("bash")
        .args(["-c", &format!("source '{}'; complete -p pm2", rc.display())])
        .output()
        .expect("bash");
    assert!(String::from_utf8_lossy(&loads.stdout).contains("_pm2_with_apps"));
    run("uninstall");
    assert_eq!(
        std::fs::read_to_string(&rc).expect("rc"),
        "alias ll='ls -l'\n"
    );
}

#[test]
fn zsh_and_fish_scripts_are_generated() {
    let p = Pm2::new("completion_shells");
    p.expect_output(&p.ok(&["completion", "zsh"]), "#compdef pm2");
    p.expect_output(&p.ok(&["completion", "fish"]), "complete -c pm2");
    p.fails(&["completion", "tcsh"], 2);
}

/// docs/man/pm2.1 is what clap_mangen makes of the CLI's definitions today
/// (`PM2_RS_BLESS=1` rewrites it).
#[test]
fn the_man_page_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/man/pm2.1");
    let mut page = Vec::new();
    clap_mangen::Man::new(pm2_cli::args::command())
        .render(&mut page)
        .expect("render the man page");
    if std::env::var_os("PM2_RS_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("docs/man")).expect("docs/man");
        std::fs::write(&path, &page).expect("write the man page");
    }
    let current = std::fs::read(&path).unwrap_or_default();
    assert!(
        current == page,
        "{} is stale: run PM2_RS_BLESS=1 cargo test -p pm2 --test e2e the_man_page",
        path.display()
    );
}
