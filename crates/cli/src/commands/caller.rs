//! The caller's world (cwd, environment, CPUs, user), which start options and ecosystem
//! files are resolved in, so that the daemon receives self-contained specs.

use anyhow::{Context, Result};
use pm2_config::ResolveContext;

/// The caller's world, for resolving apps.
pub(crate) fn context() -> Result<ResolveContext> {
    Ok(ResolveContext {
        cwd: std::env::current_dir().context("cannot read the current directory")?,
        env: std::env::vars().collect(),
        cpus: std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1),
        username: nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| nix::unistd::getuid().to_string()),
        pm2_exe: std::env::current_exe().context("cannot find the pm2 executable")?,
    })
}
