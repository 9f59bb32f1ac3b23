//! The small `pm2-runtime`, `pm2-docker` and `pm2-dev` executables that `cargo install`
//! puts beside `pm2`: each execs the `pm2` next to it with its own name as `argv[0]`, which
//! is how `pm2` chooses the program it plays. Cargo cannot make links at install time; a
//! launcher of a few hundred KB beats three more copies of the whole binary.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;

/// Replaces this process with `pm2` (in the same folder) run as `name`; returns only on
/// failure, with the exit code.
pub fn exec_pm2_as(name: &str) -> i32 {
    let pm2 = match sibling_pm2() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{name}: cannot locate the pm2 executable beside this one: {e}");
            return 1;
        }
    };
    let err = std::process::Command::new(&pm2)
        .arg0(name)
        .args(std::env::args_os().skip(1))
        .exec();
    eprintln!("{name}: cannot run {}: {err}", pm2.display());
    1
}

fn sibling_pm2() -> std::io::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let dir = me
        .parent()
        .ok_or_else(|| std::io::Error::other("the executable has no folder"))?;
    Ok(dir.join("pm2"))
}
