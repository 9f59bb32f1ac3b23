//! The npm packages (`scripts/npm-packages.sh`): packed from the binary under test,
//! installed globally into a temporary prefix from the tarballs alone, and used: `pm2`,
//! `pm2-runtime` from that prefix, linked to the native binary by the install script, and
//! still working through the Node.js launchers when npm ran with `--ignore-scripts`.

use crate::harness::child::Spawned;
use crate::harness::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// Packs the two packages into `out`; returns the main package's tarball.
fn pack(out: &Path) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/npm-packages.sh");
    let run = Command::new("bash")
        .arg(&script)
        .arg(out)
        .arg(bin())
        .arg("--local")
        .output()
        .expect("run npm-packages.sh");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    PathBuf::from(stdout.lines().last().expect("the main tarball").trim())
}

/// `npm install -g --prefix prefix tarball` without the network.
fn install(prefix: &Path, tarball: &Path, extra: &[&str]) {
    let out = Command::new("npm")
        .args([
            "install",
            "-g",
            "--offline",
            "--no-audit",
            "--no-fund",
            "--prefix",
        ])
        .arg(prefix)
        .args(extra)
        .arg(tarball)
        .output()
        .expect("npm install");
    assert!(
        out.status.success(),
        "npm install: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn version_of(program: &Path) -> String {
    let out = Command::new(program)
        .arg("--version")
        .output()
        .expect("--version");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
#[cfg_attr(
    no_node,
    ignore = "node and npm not installed (scripts/install-deps.sh)"
)]
fn npm_install_g_from_the_tarballs_gives_the_four_commands() {
    require(have("npm"), "npm not installed (scripts/install-deps.sh)");
    let p = Pm2::new("npm_package");
    let tarball = pack(&p.dir.join("packages"));
    let prefix = p.dir.join("prefix");
    install(&prefix, &tarball, &[]);
    let bin_dir = prefix.join("bin");
    let linked = std::fs::canonicalize(bin_dir.join("pm2-runtime")).expect("pm2-runtime");
    assert!(
        linked.ends_with("node_modules/@pm2-rs/linux-x64/bin/pm2")
            || linked.ends_with("node_modules/@pm2-rs/linux-arm64/bin/pm2"),
        "the install script links the commands to the native binary: {}",
        linked.display()
    );
    assert_eq!(version_of(&bin_dir.join("pm2")), env!("CARGO_PKG_VERSION"));

    // pm2 from the prefix: a daemon, an app, the list.
    let pm2 = |args: &[&str]| {
        Command::new(bin_dir.join("pm2"))
            .args(args)
            .current_dir(&p.dir)
            .env("PM2_HOME", &p.home)
            .output()
            .expect("pm2")
    };
    std::fs::write(p.dir.join("app.sh"), "echo \"up $$\"; exec sleep 1000\n").expect("app");
    assert!(pm2(&["start", "app.sh"]).status.success());
    let list = String::from_utf8_lossy(&pm2(&["list"]).stdout).into_owned();
    assert!(list.contains("app") && list.contains("online"), "{list}");
    assert!(pm2(&["kill"]).status.success());

    // pm2-runtime from the prefix, in the foreground until SIGTERM.
    let mut cmd = Command::new(bin_dir.join("pm2-runtime"));
    cmd.arg("app.sh")
        .current_dir(&p.dir)
        .env("PM2_HOME", &p.home);
    let rt = Spawned::spawn(cmd, "prefix/bin/pm2-runtime app.sh".into());
    p.wait_until(T, "the app's first line", || rt.stdout().contains("up "));
    kill(Pid::from_raw(rt.pid()), Signal::SIGTERM).expect("SIGTERM");
    let (code, out, err) = rt.finish(T);
    assert_eq!(code, Some(0), "{out}\n{err}");

    // Without the install script, the Node.js launchers run the same binary.
    let plain = p.dir.join("prefix-no-scripts");
    install(&plain, &tarball, &["--ignore-scripts"]);
    let shim = std::fs::read_to_string(plain.join("lib/node_modules/pm2-rs/bin/pm2"))
        .expect("the launcher is a script");
    assert!(shim.starts_with("#!/usr/bin/env node"), "{shim}");
    assert_eq!(
        version_of(&plain.join("bin/pm2")),
        env!("CARGO_PKG_VERSION")
    );
    let help = Command::new(plain.join("bin/pm2-dev"))
        .arg("--help")
        .output()
        .expect("pm2-dev");
    assert!(String::from_utf8_lossy(&help.stdout).contains("Usage: pm2-dev"));
}
