//! What an export produces, apart from how each target fills it.

/// One written file: its name (no folder) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFile {
    /// The file name, e.g. `pm2-api.service`.
    pub name: String,
    /// Its contents.
    pub text: String,
}
