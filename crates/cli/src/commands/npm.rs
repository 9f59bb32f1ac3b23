//! npm as a subprocess for `pm2 install`: an argument vector (no shell), its own process
//! group, its output shown to the user, and a deadline after which the whole group is
//! killed, so a hung registry never hangs the CLI.

use anyhow::{bail, Context, Result};
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
    let Some(npm) = pm2_config::which("npm") else {
        bail!("cannot install {spec}: npm is not on PATH (pm2 install runs npm; install Node.js with npm, or add it to PATH)");
    };
    let mut child = Command::new(&npm)
        .arg("install")
        .arg(spec)
        .arg("--prefix")
        .arg(prefix)
        .args([
            "--install-links",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(prefix)
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
            bail!("npm install {spec} failed ({status}); nothing was installed");
        }
        if Instant::now() >= until {
            if let Ok(group) = i32::try_from(child.id()) {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(group),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = child.wait();
            bail!("npm install {spec} took more than {}s and was stopped; nothing was installed (PM2_RS_NPM_TIMEOUT sets the limit in seconds)", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
