//! Probes, when the tests are built, for the tools some end-to-end tests need beyond the
//! Rust toolchain (Node 22, tmux, openssl, Chromium, ...). For each missing tool it sets a cfg such as
//! `no_node22`, which the tests turn into `#[cfg_attr(no_node22, ignore = "<why>")]`: a test
//! that cannot run is reported as ignored, with the reason, instead of passing silently.
//!
//! Under CI (`CI` set to anything but "", "0" or "false") no cfg is ever set: such a test
//! runs, and its own check fails it loudly with the same reason (CI must provide the tools;
//! `scripts/install-deps.sh` does).
//!
//! A tool that was found is watched (`rerun-if-changed` on its path), so removing it
//! re-probes. A missing one cannot be watched without re-running this script on every
//! build, so the installers (`scripts/install-deps.sh`, `tests/e2e/fixtures/install-node22.sh`)
//! touch this file after installing Node 22, `@pm2/io` or the npm `pm2` client.
//!
//! It also chooses how `pm2` is linked ([`link_mode`]): a start-up cost of every CLI call.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    link_mode();
    for var in ["CI", "PATH", "PM2_RS_NODE22"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    let probes: [(&str, Option<PathBuf>); 16] = [
        ("no_node", on_path("node")),
        ("no_npm", on_path("npm")),
        ("no_node22", node22()),
        ("no_pm2_client", pm2_client()),
        ("no_pm2_io", pm2_io()),
        ("no_openssl", on_path("openssl")),
        ("no_gzip", on_path("gzip")),
        ("no_ssh", on_path("ssh")),
        ("no_tmux", on_path("tmux")),
        ("no_chromium", on_path("chromium")),
        ("no_pid_namespace", on_path("unshare").filter(|_| is_root())),
        ("no_unprivileged_exec", unprivileged_can_run_binaries()),
        ("no_systemd_analyze", on_path("systemd-analyze")),
        ("no_socket_activate", on_path("systemd-socket-activate")),
        ("no_export_validators", export_validators()),
        ("no_deploy_hosts", deploy_hosts()),
    ];
    for (cfg, found) in probes {
        println!("cargo:rustc-check-cfg=cfg({cfg})");
        match found {
            Some(path) => println!("cargo:rerun-if-changed={}", path.display()),
            None if !ci => println!("cargo:rustc-cfg={cfg}"),
            None => {}
        }
    }
}

/// Links `pm2` as a position-dependent executable when `PM2_RS_PIE=0` is set at build time
/// on Linux with glibc. The default stays PIE: the daemon, the dashboard and the Node API
/// sockets run from this binary and read what apps and clients send, and a PIE keeps the
/// binary's own image at a random address (defence in depth for the C it links: ring,
/// SQLite). Without PIE, a CLI call skips the dynamic linker's ~11,000 relative relocations
/// and the copy of each page of `.data.rel.ro`: `pm2 list` with 5 apps runs 15 % fewer
/// instructions and 12 % less CPU (BENCHMARKS.md, "the CLI's start-up, end to end"), for a
/// packager who weighs start-up over that.
fn link_mode() {
    println!("cargo:rerun-if-env-changed=PM2_RS_PIE");
    let target = |key: &str| std::env::var(key).unwrap_or_default();
    let no_pie = std::env::var("PM2_RS_PIE").is_ok_and(|v| v == "0");
    if target("CARGO_CFG_TARGET_OS") == "linux" && target("CARGO_CFG_TARGET_ENV") == "gnu" && no_pie
    {
        println!("cargo:rustc-link-arg-bin=pm2=-no-pie");
    }
}

/// `program` in a folder of `PATH`, as the shell would find it.
fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

/// Node 22 where the cluster tests look for it: `$PM2_RS_NODE22`, else what
/// `scripts/install-deps.sh` installs into `target/node22`.
fn node22() -> Option<PathBuf> {
    let path = match std::env::var_os("PM2_RS_NODE22") {
        Some(path) => PathBuf::from(path),
        None => {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/node22/node_modules/node/bin/node")
        }
    };
    path.is_file().then_some(path)
}

/// What `pm2 deploy`'s tests need for their two sshd hosts in network namespaces: root,
/// `/usr/sbin/sshd`, and `ssh`, `git`, `ip` and `unshare` on PATH.
fn deploy_hosts() -> Option<PathBuf> {
    let sshd = PathBuf::from("/usr/sbin/sshd");
    let tools = ["ssh", "git", "ip", "unshare"]
        .iter()
        .all(|t| on_path(t).is_some());
    (is_root() && tools && is_executable(&sshd)).then_some(sshd)
}

/// The npm `pm2` packages (PM2 7's and PM2 5's Node API clients) that
/// `scripts/install-deps.sh` installs into `target/pm2-client` and `target/pm2-client5`,
/// for the tests of `rpc.sock` and `pub.sock`.
fn pm2_client() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let v5 = root.join("target/pm2-client5/node_modules/pm2/package.json");
    let v7 = root.join("target/pm2-client/node_modules/pm2/package.json");
    (v5.is_file() && v7.is_file()).then_some(v7)
}

/// The npm `@pm2/io` that `scripts/install-deps.sh` installs into `target/pm2-io`, for the
/// tests whose apps load it themselves.
fn pm2_io() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/pm2-io/node_modules/@pm2/io/package.json");
    path.is_file().then_some(path)
}

/// The Kubernetes and Compose schema validators that `scripts/install-deps.sh` installs
/// into the venv `target/py-export`, for the tests of `pm2 export`.
fn export_validators() -> Option<PathBuf> {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py-export/bin");
    let both = is_executable(&bin.join("kubernetes-validate"))
        && is_executable(&bin.join("check-jsonschema"));
    both.then(|| bin.join("kubernetes-validate"))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The profile folder (`target/debug`) when a non-root user could run the binaries in it
/// (`pm2 startup` without root rights is tested by dropping to `nobody`), or when the
/// build is not by root (the test then needs no other user). None when root built into a
/// folder others cannot enter.
fn unprivileged_can_run_binaries() -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR")?);
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out.
    let profile = out_dir.ancestors().nth(3)?.to_path_buf();
    let others_enter = profile
        .ancestors()
        .all(|p| std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o001 != 0));
    (!is_root() || others_enter).then_some(profile)
}

/// Whether the build (and so, in practice, the test run) is by root: a PID namespace
/// (`unshare --pid`) needs it.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}
