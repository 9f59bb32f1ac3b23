//! The `pm2` (and `pm2-runtime`) executable: everything lives in the `pm2-cli` crate.

fn main() {
    std::process::exit(pm2_cli::main());
}
