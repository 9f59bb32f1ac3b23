//! Two sshd hosts in network namespaces, for `pm2 deploy`'s tests: the fixture of the study
//! (`../shared/docs/pm2-deploy.md` §9), brought up by `fixtures/deploy/up.sh` and torn
//! down by `down.sh` when the [`Hosts`] is dropped, even after a failed assertion.
//!
//! Host a is 10.200.1.2 (hostname `pm2host-a`), host b 10.200.2.2; each has a private
//! `/tmp`, visible here as `<fx>/hosts/<h>/tmp`, and `<fx>` itself bound at the same path,
//! so a file a remote command writes under `<fx>` appears here. `pm2 deploy` runs in the
//! client namespace, in the work clone `<fx>/work` of the bare repository `<fx>/repo.git`.

use super::child::Spawned;
use super::pm2::{Output, FIXTURES};
use super::require::require;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Host a's address.
pub const HOST_A: &str = "10.200.1.2";
/// Host b's address.
pub const HOST_B: &str = "10.200.2.2";
/// How long one deploy command may take.
const DEPLOY_TIMEOUT: Duration = Duration::from_secs(60);

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The two hosts and the local repository; dropping it stops the sshds and removes the
/// namespaces and the folder.
pub struct Hosts {
    /// The fixture's folder (under /tmp).
    pub fx: PathBuf,
    /// The namespace prefix (`<prefix>-c`, `-a`, `-b`).
    ns: String,
}

impl Hosts {
    /// Brings the hosts up; fails the test when it cannot (the build marks such tests
    /// ignored when root, sshd or the tools are missing, except under CI).
    pub fn up() -> Hosts {
        require(
            nix::unistd::geteuid().is_root() && Path::new("/usr/sbin/sshd").is_file(),
            "pm2 deploy's tests need root and /usr/sbin/sshd (scripts/install-deps.sh)",
        );
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let ns = format!("pd{}x{n}", std::process::id() % 100_000);
        let fx = PathBuf::from(format!("/tmp/pm2dfx.{ns}"));
        let _ = std::fs::remove_dir_all(&fx);
        std::fs::create_dir_all(&fx).expect("create the fixture folder");
        let hosts = Hosts { fx, ns };
        let out = hosts.script("up.sh");
        require(
            out.code != Some(77),
            &format!("deploy fixture: {}", out.stdout),
        );
        assert_eq!(
            out.code,
            Some(0),
            "deploy fixture did not come up\n{}",
            out.report()
        );
        hosts
    }

    fn script(&self, name: &str) -> Output {
        let path = Path::new(FIXTURES).join("deploy").join(name);
        let mut cmd = Command::new(path);
        cmd.env("FX", &self.fx).env("T", &self.ns);
        run(cmd, name.to_string(), DEPLOY_TIMEOUT)
    }

    /// The local view of `path` (under /tmp) on host `h` (`'a'` or `'b'`).
    pub fn remote(&self, h: char, path: &str) -> PathBuf {
        let rel = path.strip_prefix('/').expect("an absolute remote path");
        self.fx.join(format!("hosts/{h}")).join(rel)
    }

    /// The local work clone, where `pm2 deploy` runs.
    pub fn work(&self) -> PathBuf {
        self.fx.join("work")
    }

    /// The remote host's home (`SetEnv HOME` of its sshd).
    pub fn home(&self, h: char) -> PathBuf {
        self.fx.join(format!("hosts/{h}/home"))
    }

    /// A deploy environment reaching both hosts as root with the fixture's key, the bare
    /// repository, `origin/main` and `/tmp/app`; `extra` keys are merged over it.
    pub fn target(&self, extra: Value) -> Value {
        let fx = self.fx.display();
        let mut t = json!({
            "user": "root",
            "host": [HOST_A, HOST_B],
            "key": format!("{fx}/keys/id"),
            "repo": format!("{fx}/repo.git"),
            "ref": "origin/main",
            "path": "/tmp/app",
            "ssh_options": [
                format!("UserKnownHostsFile={fx}/known_hosts"),
                "StrictHostKeyChecking=no", "BatchMode=yes", "ConnectTimeout=3", "LogLevel=ERROR"
            ],
        });
        if let (Some(t), Value::Object(extra)) = (t.as_object_mut(), extra) {
            t.extend(extra);
        }
        t
    }

    /// Creates the bare repository and the work clone with `ecosystem.json` holding
    /// `deploy` (the environments) and a first commit `v1`, pushed; returns its SHA.
    pub fn init_repo(&self, deploy: Value) -> String {
        let repo = self.fx.join("repo.git");
        git(
            &self.fx,
            &[
                "init",
                "-q",
                "--bare",
                "-b",
                "main",
                &repo.to_string_lossy(),
            ],
        );
        git(&self.fx, &["clone", "-q", &repo.to_string_lossy(), "work"]);
        self.write_ecosystem(deploy);
        std::fs::write(self.work().join("app.js"), "console.log('hi')\n").expect("write app");
        self.commit("v1")
    }

    /// Rewrites `ecosystem.json` with this `deploy` section (not committed).
    pub fn write_ecosystem(&self, deploy: Value) {
        let eco = json!({ "apps": [{ "name": "hello", "script": "app.js" }], "deploy": deploy });
        let text = serde_json::to_string_pretty(&eco).expect("json");
        std::fs::write(self.work().join("ecosystem.json"), text).expect("write ecosystem");
    }

    /// Writes `version.txt` = `msg`, commits everything as `msg`, pushes; returns the SHA.
    pub fn commit(&self, msg: &str) -> String {
        let work = self.work();
        std::fs::write(work.join("version.txt"), msg).expect("write version");
        git(&work, &["add", "-A"]);
        git(
            &work,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                msg,
            ],
        );
        git(&work, &["push", "-q", "origin", "HEAD:main"]);
        git(&work, &["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Runs `bin args` in the client namespace, in the work clone, with `PM2_HOME` = `home`
    /// and a local `HOME` inside the fixture.
    pub fn run(&self, bin: &Path, home: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &format!("{}-c", self.ns)])
            .arg(bin)
            .args(args)
            .current_dir(self.work())
            .env("PM2_HOME", home)
            .env("HOME", self.fx.join("localhome"))
            .env("USER", format!("pm2rs-{}", self.ns));
        run(
            cmd,
            format!("(cd {} && pm2 {})", self.work().display(), args.join(" ")),
            DEPLOY_TIMEOUT,
        )
    }

    /// The remote command log (one line per ssh connection).
    pub fn remote_commands(&self) -> String {
        std::fs::read_to_string(self.fx.join("logs/remote-cmds.log")).unwrap_or_default()
    }

    /// Every file under the fixture whose name contains `needle` (for injection markers).
    pub fn files_named(&self, needle: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![self.fx.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if entry.file_name().to_string_lossy().contains(needle) {
                    found.push(path.clone());
                }
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(path);
                }
            }
        }
        found
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        let out = self.script("down.sh");
        if out.code != Some(0) {
            eprintln!("deploy fixture teardown failed:\n{}", out.report());
        }
        // The local log PM2 7 writes outside the fixture (reference runs).
        let _ = std::fs::remove_file(format!("/tmp/pm2-deploy-pm2rs-{}.log", self.ns));
    }
}

/// `git args` in `dir`; panics with git's output when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run(cmd: Command, label: String, timeout: Duration) -> Output {
    let started = Instant::now();
    let mut child = Spawned::start(cmd, label.clone()).unwrap_or_else(|e| panic!("{e}"));
    let (code, stdout, stderr) = child.try_finish(timeout).unwrap_or_else(|e| panic!("{e}"));
    Output {
        cmd: label,
        code,
        stdout,
        stderr,
        elapsed: started.elapsed(),
    }
}
