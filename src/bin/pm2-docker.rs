//! `pm2-docker`: runs the `pm2` beside it as `pm2-docker` (see `src/launcher.rs`).

#[path = "../launcher.rs"]
mod launcher;

fn main() {
    std::process::exit(launcher::exec_pm2_as("pm2-docker"));
}
