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
