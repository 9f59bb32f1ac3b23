//! `pm2 startup` / `pm2 unstartup` end to end: the real binary writes each platform's init
//! script into a temporary root (`--root`, or `PM2_STARTUP_ROOT`), where the enable and
//! disable commands are printed, never run. The systemd unit is checked with
//! `systemd-analyze verify` when that tool exists.

use crate::harness::{bin, require, Output};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// A private folder: `root` is the fake `/`, `bin` holds fake init-system commands.
struct World {
    dir: PathBuf,
    root: PathBuf,
    /// PATH for the child (detection looks there): only `bin` unless a test adds more.
    path: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl World {
    fn new(tag: &str) -> World {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir()
            .join("pm2rs-startup")
            .join(format!("{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("root");
        std::fs::create_dir_all(dir.join("bin")).expect("create the test folder");
        std::fs::create_dir_all(&root).expect("create the fake root");
        let path = dir.join("bin").display().to_string();
        World { dir, root, path }
    }

    /// Puts an executable `name` in the PATH folder, so detection finds it.
    fn fake_command(&self, name: &str) {
        let file = self.dir.join("bin").join(name);
        std::fs::write(&file, "#!/bin/sh\nexit 0\n").expect("write fake command");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))
            .expect("chmod fake command");
    }

    /// A `pm2` call with a controlled environment.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .env_clear()
            .env("PATH", &self.path)
            .env("HOME", "/home/ignored")
            .env("USER", "carol")
            .env("PM2_HOME", "/srv/pm2home")
            .env("TMPDIR", "/var/tmp")
            .env("NO_COLOR", "1")
            .current_dir(&self.dir);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        run(&mut self.cmd(args))
    }

    /// `startup <args> --root <root>`, which must succeed.
    fn startup(&self, args: &[&str]) -> Output {
        let root = self.root.display().to_string();
        let mut all = vec!["startup"];
        all.extend_from_slice(args);
        all.extend(["--root", root.as_str()]);
        let out = self.run(&all);
        out.ok();
        out
    }

    /// Where a path of the target system lands.
    fn at(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(cmd: &mut Command) -> Output {
    let line = format!("{cmd:?}");
    let started = Instant::now();
    let output = cmd.output().expect("run pm2");
    Output::of(line, output, started.elapsed())
}

/// The binary as `current_exe` reports it (what `%PM2_PATH%` becomes).
fn pm2_path() -> String {
    Path::new(bin())
        .canonicalize()
        .expect("canonical binary path")
        .display()
        .to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

fn assert_lines(text: &str, lines: &[String]) {
    for line in lines {
        assert!(
            text.lines().any(|l| l == line),
            "missing line {line:?} in:\n{text}"
        );
    }
}

/// `systemd-analyze verify` on the unit when the tool exists; otherwise a printed note.
fn verify_unit(unit: &Path) {
    let Ok(out) = Command::new("systemd-analyze")
        .arg("verify")
        .arg(unit)
        .output()
    else {
        eprintln!("note: systemd-analyze not found, unit not verified");
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "systemd-analyze verify {} failed:\n{stderr}\n{}",
        unit.display(),
        read(unit)
    );
    // Warnings (an unknown key, a key in the wrong section) do not fail verify: refuse them.
    let own: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(&*unit.file_name().expect("name").to_string_lossy()))
        .collect();
    assert!(own.is_empty(), "systemd-analyze warned:\n{stderr}");
}

#[test]
fn systemd_unit_has_pm2s_lines_and_verifies() {
    let w = World::new("systemd");
    let out = w.startup(&["systemd", "-u", "root", "--hp", "/root"]);
    let unit = w.at("/etc/systemd/system/pm2-root.service");
    let text = read(&unit);
    let bin = pm2_path();
    assert_lines(
        &text,
        &[
            "[Unit]".into(),
            "After=network.target".into(),
            "Type=forking".into(),
            "User=root".into(),
            format!("ExecStart={bin} resurrect"),
            format!("ExecReload={bin} reload all"),
            format!("ExecStop={bin} kill"),
            "PIDFile=/root/.pm2/pm2.pid".into(),
            "Environment=PM2_HOME=/root/.pm2".into(),
            format!(
                "Environment=PATH={}:/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin",
                w.path
            ),
            "WantedBy=multi-user.target".into(),
        ],
    );
    assert_eq!(mode(&unit), 0o644);
    assert!(
        out.stdout.contains("systemctl enable pm2-root"),
        "{}",
        out.report()
    );
    assert!(out.stdout.contains("Not executing"), "{}", out.report());
    assert!(
        out.stdout.contains("$ pm2 unstartup systemd"),
        "{}",
        out.report()
    );
    verify_unit(&unit);
}

#[test]
fn systemd_defaults_user_from_env_and_home_from_pm2_home() {
    let w = World::new("defaults");
    w.startup(&["systemd"]);
    let text = read(&w.at("/etc/systemd/system/pm2-carol.service"));
    assert_lines(
        &text,
        &[
            "User=carol".into(),
            "Environment=PM2_HOME=/srv/pm2home".into(),
            "PIDFile=/srv/pm2home/pm2.pid".into(),
        ],
    );
}

#[test]
fn systemd_service_name_and_wait_ip() {
    let w = World::new("named");
    w.startup(&[
        "systemd",
        "-u",
        "root",
        "--service-name",
        "myapp",
        "--wait-ip",
    ]);
    let unit = w.at("/etc/systemd/system/myapp.service");
    let text = read(&unit);
    assert_lines(
        &text,
        &[
            "After=network.target network-online.target".into(),
            "Wants=network-online.target".into(),
            "WantedBy=multi-user.target network-online.target".into(),
            format!("ExecStart={} resurrect", pm2_path()),
        ],
    );
    assert!(!w.at("/etc/systemd/system/pm2-root.service").exists());
    verify_unit(&unit);
}

#[test]
fn every_platform_writes_its_script_and_unstartup_removes_it() {
    let w = World::new("platforms");
    let cases = [
        (
            "upstart",
            "/etc/init.d/pm2-dave",
            0o755,
            "update-rc.d pm2-dave defaults",
        ),
        (
            "systemv",
            "/etc/init.d/pm2-dave",
            0o755,
            "chkconfig --add pm2-dave",
        ),
        (
            "openrc",
            "/etc/init.d/pm2",
            0o755,
            "rc-update add pm2 default",
        ),
        (
            "rcd",
            "/usr/local/etc/rc.d/pm2_dave",
            0o755,
            "sysrc pm2_dave_enable=YES",
        ),
        (
            "rcd-openbsd",
            "/etc/rc.d/pm2_dave",
            0o755,
            "rcctl enable pm2_dave",
        ),
        (
            "smf",
            "/var/tmp/pm2_dave.xml",
            0o644,
            "svcadm enable pm2_dave",
        ),
        (
            "launchd",
            "/home/ignored/Library/LaunchAgents/pm2.dave.plist",
            0o644,
            "launchctl load -w /home/ignored/Library/LaunchAgents/pm2.dave.plist",
        ),
    ];
    let bin = pm2_path();
    let root = w.root.display().to_string();
    for (platform, dest, want_mode, command) in cases {
        let out = w.startup(&[platform, "-u", "dave", "--hp", "/home/dave"]);
        let file = w.at(dest);
        let text = read(&file);
        assert!(text.contains(&bin), "{platform}: no binary path in\n{text}");
        assert!(
            text.contains("/home/dave/.pm2"),
            "{platform}: no home in\n{text}"
        );
        for placeholder in [
            "%PM2_PATH%",
            "%NODE_PATH%",
            "%USER%",
            "%HOME_PATH%",
            "%SERVICE_NAME%",
        ] {
            assert!(
                !text.contains(placeholder),
                "{platform}: {placeholder} in\n{text}"
            );
        }
        assert_eq!(mode(&file), want_mode, "{platform}");
        assert!(out.stdout.contains(command), "{platform}: {}", out.report());

        let out = w.run(&["unstartup", platform, "-u", "dave", "--root", &root]);
        out.ok();
        assert!(!file.exists(), "{platform}: still there: {}", out.report());
        assert!(
            out.stdout.contains("Init file disabled."),
            "{}",
            out.report()
        );
    }
}

#[test]
fn unstartup_systemd_removes_the_unit_and_tolerates_a_missing_one() {
    let w = World::new("unstartup");
    w.startup(&["systemd", "-u", "erin"]);
    let unit = w.at("/etc/systemd/system/pm2-erin.service");
    assert!(unit.exists());
    let root = w.root.display().to_string();
    let out = w.run(&["unstartup", "systemd", "-u", "erin", "--root", &root]);
    out.ok();
    assert!(!unit.exists(), "{}", out.report());
    assert!(
        out.stdout.contains("systemctl stop pm2-erin"),
        "{}",
        out.report()
    );
    assert!(
        out.stdout.contains("systemctl disable pm2-erin"),
        "{}",
        out.report()
    );
    assert!(out.stdout.contains("Removed"), "{}", out.report());

    // PM2 reports a missing script but exits 0.
    let out = w.run(&["unstartup", "systemd", "-u", "erin", "--root", &root]);
    out.ok();
    assert!(out.stdout.contains("No init script at"), "{}", out.report());
}

#[test]
fn root_from_environment_variable() {
    let w = World::new("envroot");
    let out = run(w
        .cmd(&["startup", "systemd", "-u", "frank"])
        .env("PM2_STARTUP_ROOT", &w.root));
    out.ok();
    assert!(
        w.at("/etc/systemd/system/pm2-frank.service").exists(),
        "{}",
        out.report()
    );
}

#[test]
fn detection_follows_path_and_warns_on_a_different_choice() {
    let w = World::new("detect");
    w.fake_command("rc-update");
    let out = w.startup(&["-u", "gina"]);
    assert!(
        out.stdout.contains("Init System found: openrc"),
        "{}",
        out.report()
    );
    assert!(w.at("/etc/init.d/pm2").exists(), "{}", out.report());

    let out = w.startup(&["systemd", "-u", "gina"]);
    assert!(
        out.stdout
            .contains("PM2 detected openrc but you precised systemd"),
        "{}",
        out.report()
    );
}

#[test]
fn nothing_detected_is_a_clear_error() {
    let w = World::new("none");
    let root = w.root.display().to_string();
    let out = w.run(&["startup", "--root", &root]);
    assert_eq!(out.code, Some(1), "{}", out.report());
    for word in [
        "Init system not found",
        "systemctl",
        "systemd",
        "launchd",
        "rcd-openbsd",
    ] {
        assert!(out.stderr.contains(word), "{word}: {}", out.report());
    }
    let out = w.run(&["startup", "windows", "--root", &root]);
    assert_eq!(out.code, Some(1), "{}", out.report());
    assert!(out.stderr.contains("Unknown platform"), "{}", out.report());
}

#[test]
#[cfg_attr(
    no_unprivileged_exec,
    ignore = "run by root, but the pm2 binary is not reachable by an unprivileged user here"
)]
fn without_root_rights_prints_the_sudo_command_and_writes_nothing() {
    require(
        !nix::unistd::geteuid().is_root() || others_can_run(Path::new(&pm2_path())),
        "run by root, but the pm2 binary is not reachable by an unprivileged user here",
    );
    let w = World::new("nonroot");
    let mut cmd = w.cmd(&["startup", "systemd", "-u", "hank"]);
    cmd.env("HOME", "/home/hank");
    if nix::unistd::geteuid().is_root() {
        // Drop to nobody so the real-root path (no --root) takes the non-root branch.
        cmd.uid(65534).gid(65534).current_dir("/");
    }
    let out = run(&mut cmd);
    // PM2's callback receives "You have to run this with elevated rights": exit 1.
    assert_eq!(out.code, Some(1), "{}", out.report());
    assert!(
        out.stdout
            .contains("[PM2] To setup the Startup Script, copy/paste the following command:"),
        "{}",
        out.report()
    );
    let want = format!(
        "sudo env PATH=$PATH:{} {} startup systemd -u hank --hp /home/hank",
        Path::new(&pm2_path()).parent().expect("bin dir").display(),
        pm2_path()
    );
    assert!(out.stdout.contains(&want), "want {want}\n{}", out.report());
    assert!(!Path::new("/etc/systemd/system/pm2-hank.service").exists());
}

/// Whether a user other than the owner can execute `bin`: it and every folder above it
/// must have the "others" execute bit (a clone under /root, mode 0700, does not).
fn others_can_run(bin: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    bin.ancestors().all(|p| {
        p.as_os_str().is_empty()
            || std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o001 != 0)
    })
}
