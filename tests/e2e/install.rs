//! `cargo install --path .` as a user runs it: the four commands PM2 users call land in
//! `<root>/bin` and work from there (`--version`, a daemon with an app, `pm2-runtime` and
//! `pm2-dev` in the foreground until Ctrl-C), with the three launchers much smaller than
//! `pm2` itself.
//!
//! The install builds the debug profile (`--debug`) into its own target folder,
//! `target/install-e2e`: a cold build there takes about as long as the test build's own
//! (a few minutes on 2 cores; a release build with the profile's fat LTO takes far longer),
//! and later runs only rebuild what changed. The test build's `target/debug` is not shared:
//! cargo would replace the `pm2` every other test is running.

use crate::harness::child::Spawned;
use crate::harness::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);
const COMMANDS: [&str; 4] = ["pm2", "pm2-runtime", "pm2-docker", "pm2-dev"];

/// `cargo install --path <repo> --root <root> --debug`, offline (the test build already
/// fetched every dependency) and `--locked`; returns `<root>/bin`.
fn cargo_install(root: &Path) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["install", "--debug", "--locked", "--offline", "--path"])
        .arg(repo)
        .arg("--root")
        .arg(root)
        .arg("--target-dir")
        .arg(repo.join("target/install-e2e"))
        // Not the test build's settings: its own target folder and no inherited jobserver.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .output()
        .expect("run cargo install");
    assert!(
        out.status.success(),
        "cargo install failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    root.join("bin")
}

fn size_of(path: &Path) -> u64 {
    std::fs::metadata(path).expect("installed file").len()
}

/// `program --version` prints the bare version and exits 0, as PM2's four commands do.
fn assert_version(program: &Path) {
    let out = Command::new(program)
        .arg("--version")
        .output()
        .expect("--version");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        (out.status.code(), text.trim()),
        (Some(0), env!("CARGO_PKG_VERSION")),
        "{} --version: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A foreground program (`pm2-runtime`, `pm2-dev`) runs `app.sh` until SIGINT, then exits 0.
fn run_until_sigint(p: &Pm2, mut cmd: Command, label: &str) -> String {
    cmd.current_dir(&p.dir);
    let fg = Spawned::spawn(cmd, label.into());
    p.wait_until(T, "the app's first line", || fg.stdout().contains("up "));
    kill(Pid::from_raw(fg.pid()), Signal::SIGINT).expect("SIGINT");
    let (code, out, err) = fg.finish(T);
    assert_eq!(code, Some(0), "{label}\n{out}\n{err}");
    out
}

#[test]
fn cargo_install_puts_the_four_commands_in_root_bin() {
    // The build is CPU-heavy: no other test runs (and times anything) meanwhile.
    let p = Pm2::alone("cargo_install");
    let bin_dir = cargo_install(&p.dir.join("root"));
    let mut names: Vec<String> = std::fs::read_dir(&bin_dir)
        .expect("<root>/bin")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["pm2", "pm2-dev", "pm2-docker", "pm2-runtime"]);
    let pm2_size = size_of(&bin_dir.join("pm2"));
    for name in COMMANDS {
        assert_version(&bin_dir.join(name));
        if name != "pm2" {
            let size = size_of(&bin_dir.join(name));
            assert!(
                size * 4 < pm2_size,
                "{name} is a launcher, not another pm2: {size} bytes vs {pm2_size}"
            );
        }
    }

    // pm2: a daemon in its own PM2_HOME, an app, the list, kill.
    let pm2 = |args: &[&str]| {
        let out = Command::new(bin_dir.join("pm2"))
            .args(args)
            .current_dir(&p.dir)
            .env("PM2_HOME", &p.home)
            .output()
            .expect("pm2");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    std::fs::write(p.dir.join("app.sh"), "echo \"up $$\"; exec sleep 1000\n").expect("app");
    assert_eq!(pm2(&["start", "app.sh"]).0, Some(0));
    let (_, list) = pm2(&["list"]);
    assert!(list.contains("app") && list.contains("online"), "{list}");
    assert_eq!(pm2(&["kill"]).0, Some(0));

    // pm2-runtime and pm2-docker in the foreground until Ctrl-C.
    for name in ["pm2-runtime", "pm2-docker"] {
        let mut cmd = Command::new(bin_dir.join(name));
        cmd.arg("app.sh").env("PM2_HOME", &p.home);
        run_until_sigint(&p, cmd, &format!("<root>/bin/{name} app.sh"));
    }

    // pm2-dev, in its own ~/.pm2-dev.
    let user_home = p.dir.join("user");
    std::fs::create_dir_all(&user_home).expect("HOME");
    let mut cmd = Command::new(bin_dir.join("pm2-dev"));
    cmd.arg("app.sh")
        .env("HOME", &user_home)
        .env_remove("PM2_HOME");
    let out = run_until_sigint(&p, cmd, "<root>/bin/pm2-dev app.sh");
    assert!(out.contains("PM2 development mode"), "{out}");
    assert!(!user_home.join(".pm2-dev/daemon.sock").exists());
}
