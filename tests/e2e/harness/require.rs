//! What a test does when a tool it needs is missing. The build script (`build.rs` at the
//! repository root) already marks such tests ignored, with the reason, unless under CI; so
//! a test reaching [`require`] without its tool is under CI (or the tool vanished since the
//! build), and must fail rather than pass without having run.

/// Whether this run is under CI (`CI` set to anything but "", "0" or "false"), where a
/// test that cannot run fails.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

/// Fails the test with `reason` unless `found`.
pub fn require(found: bool, reason: &str) {
    if !found {
        panic!("cannot run this test: {reason}");
    }
}

/// For an optional part of a test: whether to run it. A missing tool fails the test under
/// CI; elsewhere the part is left out with a note naming `reason`.
pub fn optional_part(found: bool, reason: &str) -> bool {
    if !found {
        if under_ci() {
            panic!("cannot run part of this test under CI: {reason}");
        }
        eprintln!("note: part of this test left out: {reason}");
    }
    found
}

/// `NODE_PATH` for apps that load the npm `@pm2/io` that `scripts/install-deps.sh` put in
/// `target/pm2-io` (the test fails without it, see [`require`]).
pub fn pm2_io_path() -> String {
    let modules =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pm2-io/node_modules");
    let found = modules.join("@pm2/io/package.json").is_file();
    require(found, "@pm2/io not installed (scripts/install-deps.sh)");
    modules.to_string_lossy().into_owned()
}
