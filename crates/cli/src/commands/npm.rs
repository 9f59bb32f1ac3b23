//! npm as a subprocess for `pm2 install`: an argument vector (no shell), its own process
//! group, its output shown to the user, and a deadline after which the whole group is
//! killed, so a hung registry never hangs the CLI.

use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one `npm install` may take (`PM2_RS_NPM_TIMEOUT`, in seconds, moves it).
fn deadline() -> Duration {
    let secs = std::env::var("PM2_RS_NPM_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    Duration::from_secs(secs)
}

/// `npm install <spec> --prefix <prefix>`, as PM2 runs it; `--install-links` copies a
/// local folder instead of linking it, so the module does not depend on the folder staying.
pub(crate) fn install(spec: &str, prefix: &Path) -> Result<()> {
    let mut args = vec!["install".into(), spec.into(), "--prefix".into()];
    args.push(prefix.as_os_str().to_owned());
    args.push("--install-links".into());
    run(&args, prefix, spec).map_err(|e| anyhow::anyhow!("{e:#}; nothing was installed"))
}

/// `npm install` in `folder`: the dependencies its package.json lists.
pub(crate) fn install_dependencies(folder: &Path) -> Result<()> {
    run(&["install".into()], folder, "the dependencies")
}

/// npm with `args` (and quiet output flags) in `cwd`, within the deadline; `what` names
/// what is installed in the errors.
fn run(args: &[OsString], cwd: &Path, what: &str) -> Result<()> {
    let Some(npm) = pm2_config::which("npm") else {
        bail!("cannot install {what}: npm is not on PATH (pm2 install runs npm; install Node.js with npm, or add it to PATH)");
    };
    let mut child = Command::new(&npm)
        .args(args)
        .args(["--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(cwd)
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot run {}", npm.display()))?;
    let limit = deadline();
    let until = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            if status.success() {
                return Ok(());
            }
            bail!("npm install {what} failed ({status})");
        }
        if Instant::now() >= until {
            if let Ok(group) = i32::try_from(child.id()) {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(group),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = child.wait();
            bail!("npm install {what} took more than {}s and was stopped (PM2_RS_NPM_TIMEOUT sets the limit in seconds)", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
