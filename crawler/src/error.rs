//! Errors of the crawler: bad site profiles and failed fetches.

use std::path::PathBuf;

/// A site profile that cannot be used, with the file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {field}: {message}")]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
}

/// Why one URL could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error("{url}: HTTP status {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: content type {content_type:?} is not a page (only HTML and text are fetched)")]
    ContentType { url: String, content_type: String },
    #[error("{url}: body larger than the {limit}-byte cap")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: refused: {reason}")]
    Refused { url: String, reason: String },
}

impl CrawlError {
    /// Whether trying again later may succeed (timeouts, 5xx, 429).
    pub fn is_transient(&self) -> bool {
        match self {
            CrawlError::Status { status, .. } => *status == 429 || *status >= 500,
            CrawlError::Transport { .. } => true,
            _ => false,
        }
    }
}
