//! How `pm2-runtime` and `pm2-dev` end on a command line clap answers itself (`--version`,
//! `--help`, a usage error), shared by both so they print the version as PM2 does.

/// What a command line clap did not run ends in: `--version` prints the bare version, as
/// PM2's `pm2-runtime`, `pm2-docker` and `pm2-dev` do (clap would prefix the name);
/// `--help` exits 0 and a usage error 2.
pub(crate) fn parse_failure(e: &clap::Error) -> i32 {
    if e.kind() == clap::error::ErrorKind::DisplayVersion {
        println!("{}", pm2_proto::VERSION);
        return 0;
    }
    let _ = e.print();
    if e.use_stderr() {
        2
    } else {
        0
    }
}
