//! `pm2-dev`: runs the `pm2` beside it as `pm2-dev` (see `src/launcher.rs`).

#[path = "../launcher.rs"]
mod launcher;

fn main() {
    std::process::exit(launcher::exec_pm2_as("pm2-dev"));
}
