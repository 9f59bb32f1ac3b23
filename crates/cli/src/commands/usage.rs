//! Errors in how a command was called, as opposed to a refusal or a failure: they exit 2,
//! as clap's own usage errors do.

/// A usage error found after parsing (an option that needs another, an argument in the
/// wrong form); `main` prints it like any error and exits 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The exit code for an error: 2 for a usage error, 1 for anything else.
pub fn exit_code(e: &anyhow::Error) -> i32 {
    if e.downcast_ref::<UsageError>().is_some() {
        2
    } else {
        1
    }
}
