//! Errors of extraction rules: a site profile file that cannot be used,
//! with the file, the line or field, and the fix.

use std::path::PathBuf;

/// A site profile that cannot be used, with the file and the fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The file cannot be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, or a key of the wrong type or unknown.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The 1-based line (0 when unknown).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A value that cannot be used (a bad selector, URL, zone…).
    #[error("{path}: {field}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The key (`topic.title`, `base_url`).
        field: String,
        /// What is wrong and the fix.
        message: String,
    },
}
