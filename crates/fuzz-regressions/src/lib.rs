//! The inputs a fuzz target once failed on, replayed by the unit tests of the crate that owns
//! the target.
//!
//! `cargo fuzz` runs on nightly only, outside CI's `cargo test`; a crash it found is kept as
//! a file under `fuzz/regressions/<target>/` so the stable test suite keeps it fixed. Each
//! crate's `fuzzing` module lists its targets and calls [`replay`]; this crate holds the one
//! copy of the directory walk (a dev-dependency only, never in the binary).

use std::path::{Path, PathBuf};

/// A fuzz target's name (its file under `fuzz/fuzz_targets/`) and the crate's entry point
/// that target calls, so a kept input is replayed through the same code.
pub type Target<'a> = (&'a str, fn(&[u8]));

/// Runs each target's check on every kept input of that target.
///
/// Panics when a target has no `fuzz/fuzz_targets/<target>.rs`: a misspelt or renamed
/// target would otherwise replay nothing and pass.
pub fn replay(targets: &[Target<'_>]) {
    for (target, check) in targets {
        let source = fuzz_dir().join("fuzz_targets").join(format!("{target}.rs"));
        assert!(
            source.is_file(),
            "no fuzz target {target}: {} is missing (renamed? update the crate's fuzzing.rs)",
            source.display()
        );
        for input in inputs(target) {
            check(&input);
        }
    }
}

/// The files under `fuzz/regressions/<target>/` (none is fine: nothing has failed yet).
fn inputs(target: &str) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(fuzz_dir().join("regressions").join(target)) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .collect()
}

/// The workspace's `fuzz/` folder (its own cargo workspace, beside `crates/`).
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_target_replays_its_inputs() {
        fn count(_: &[u8]) {
            CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        replay(&[("config_yaml", count)]);
        assert_eq!(
            CALLS.load(std::sync::atomic::Ordering::Relaxed),
            inputs("config_yaml").len()
        );
        assert!(!inputs("config_yaml").is_empty(), "the kept YAML inputs");
    }

    #[test]
    #[should_panic(expected = "no fuzz target no_such_target")]
    fn an_unknown_target_fails() {
        replay(&[("no_such_target", |_| {})]);
    }
}
