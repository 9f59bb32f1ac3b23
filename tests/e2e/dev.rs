//! `pm2-dev` (PM2's development mode) and the launchers that put `pm2-runtime`,
//! `pm2-docker` and `pm2-dev` beside `pm2` in an install.

use crate::harness::child::Spawned;
use crate::harness::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// An install's `bin/` as `cargo install` lays it out: `pm2` and the three launchers.
fn install_layout(p: &Pm2) -> PathBuf {
    let bin_dir = p.dir.join("bin");
    std::fs::create_dir_all(&bin_dir).expect("bin dir");
    std::os::unix::fs::symlink(bin(), bin_dir.join("pm2")).expect("pm2");
    for (name, built) in [
        ("pm2-runtime", env!("CARGO_BIN_EXE_pm2-runtime")),
        ("pm2-docker", env!("CARGO_BIN_EXE_pm2-docker")),
        ("pm2-dev", env!("CARGO_BIN_EXE_pm2-dev")),
    ] {
        std::fs::copy(built, bin_dir.join(name)).expect("copy the launcher");
    }
    bin_dir
}

fn write(path: &Path, body: &str) {
    std::fs::write(path, body).expect("write the app");
}

#[test]
fn each_launcher_runs_pm2_under_its_own_name() {
    let p = Pm2::new("launchers");
    let bin_dir = install_layout(&p);
    for (name, says) in [
        ("pm2-runtime", "Usage: pm2-runtime"),
        ("pm2-docker", "Usage: pm2-docker"),
        ("pm2-dev", "Usage: pm2-dev"),
    ] {
        let out = Command::new(bin_dir.join(name))
            .arg("--help")
            .env("PM2_HOME", &p.home)
            .output()
            .expect("run the launcher");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name}: {text}");
        assert!(text.contains(says), "{name} --help: {text}");
    }
    // And for real: pm2-runtime through its launcher runs an app and stops on SIGTERM.
    write(&p.dir.join("app.sh"), "echo \"up $$\"; exec sleep 1000\n");
    let mut cmd = Command::new(bin_dir.join("pm2-runtime"));
    cmd.arg("app.sh")
        .current_dir(&p.dir)
        .env("PM2_HOME", &p.home);
    let rt = Spawned::spawn(cmd, "bin/pm2-runtime app.sh".into());
    p.wait_until(T, "the app's first line", || rt.stdout().contains("up "));
    kill(Pid::from_raw(rt.pid()), Signal::SIGTERM).expect("SIGTERM");
    let (code, out, err) = rt.finish(T);
    assert_eq!(code, Some(0), "{out}\n{err}");
}

#[test]
fn pm2_dev_restarts_on_change_in_its_own_home_and_ctrl_c_stops_everything() {
    let p = Pm2::new("pm2_dev");
    let home = p.dir.join("user");
    let app_dir = p.dir.join("app");
    std::fs::create_dir_all(&home).expect("HOME");
    std::fs::create_dir_all(&app_dir).expect("app dir");
    let app = app_dir.join("app.js");
    write(
        &app,
        "console.log('hello v1'); setInterval(() => {}, 1000);\n",
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pm2-dev"));
    cmd.arg("app.js")
        .current_dir(&app_dir)
        .env("HOME", &home)
        .env_remove("PM2_HOME");
    let dev = Spawned::spawn(cmd, "pm2-dev app.js".into());
    p.wait_until(T, "the app's output in the foreground", || {
        dev.stdout().contains("app-0  | hello v1")
    });
    let out = dev.stdout();
    assert!(out.contains("--- PM2 development mode"), "{out}");
    assert!(out.contains("Watch and Restart    : Enabled"), "{out}");
    let dev_home = home.join(".pm2-dev");
    let pid_in =
        |file: PathBuf| -> Option<i32> { std::fs::read_to_string(file).ok()?.trim().parse().ok() };
    assert_eq!(
        pid_in(dev_home.join("pm2.pid")),
        Some(dev.pid()),
        "pm2-dev runs the daemon of ~/.pm2-dev itself"
    );
    write(
        &app,
        "console.log('hello v2'); setInterval(() => {}, 1000);\n",
    );
    p.wait_until(T, "a restart on change", || {
        let out = dev.stdout();
        out.contains("[rundev] App app restarted") && out.contains("app-0  | hello v2")
    });
    let app_pid = pid_in(dev_home.join("pids/app-0.pid")).expect("the app's pid file");
    kill(Pid::from_raw(dev.pid()), Signal::SIGINT).expect("SIGINT");
    let (code, out, err) = dev.finish(T);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        err.contains(">>>>> [PM2 DEV] Stopping current development session"),
        "{err}"
    );
    assert!(!alive(app_pid), "the app was stopped");
    assert!(!dev_home.join("daemon.sock").exists());
}
