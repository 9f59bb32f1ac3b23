//! The apps a dead daemon left running. Every app gets `PM2_HOME`, `pm_id` and `unique_id`
//! in its environment, so they are found by those, whichever daemon started them: the
//! next daemon stops them at start (crash recovery) and `pm2 kill` stops them when no
//! daemon answers.

use crate::layout::Pm2Home;
use crate::liveness::alive;

/// Live processes started by a daemon of `home` (other than the caller) that still run.
/// Processes whose environment cannot be read (another user's) are not included.
pub fn left_running(home: &Pm2Home) -> Vec<i32> {
    let wanted = home.root().display().to_string();
    let me = std::process::id() as i32;
    let Ok(all) = procfs::process::all_processes() else {
        return vec![];
    };
    all.flatten()
        .filter(|p| p.pid != me)
        .filter(|p| p.environ().is_ok_and(|env| is_app_of(&env, &wanted)))
        .map(|p| p.pid)
        .filter(|pid| alive(*pid))
        .collect()
}

/// Whether an environment is that of an app of the daemon in `home`.
fn is_app_of(
    env: &std::collections::HashMap<std::ffi::OsString, std::ffi::OsString>,
    home: &str,
) -> bool {
    let has = |k: &str| env.get(std::ffi::OsStr::new(k));
    has("PM2_HOME").is_some_and(|v| v.to_str() == Some(home))
        && has("pm_id").is_some()
        && has("unique_id").is_some()
}
