//! Errors of the crawler: bad site profiles, failed fetches and a state
//! store that cannot be used. Messages name the file, URL or site involved
//! and never carry cookie or header values.

use std::path::PathBuf;

pub use extract::ProfileError;

/// Why one URL could not be fetched.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CrawlError {
    #[error("{url}: HTTP status {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: content type {content_type:?} is not a page (only HTML, XHTML and plain text are fetched)")]
    ContentType { url: String, content_type: String },
    #[error("{url}: body larger than the {limit}-byte cap (after decompression)")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: {phase} timed out after {secs:.1} s")]
    Timeout {
        url: String,
        phase: &'static str,
        secs: f64,
    },
    #[error("{url}: transfer too slow: {received} bytes in the last {window_secs:.0} s, under the floor of {floor} bytes/s (min_transfer_rate)")]
    TooSlow {
        url: String,
        received: u64,
        window_secs: f64,
        floor: u64,
    },
    #[error("{url}: redirect loop (back to {target})")]
    RedirectLoop { url: String, target: String },
    #[error("{url}: more than {limit} redirects")]
    TooManyRedirects { url: String, limit: usize },
    #[error("{url}: redirect leaves the site (to {target})")]
    OffSiteRedirect { url: String, target: String },
    #[error("{url}: the site shows its login page: the session has expired or was never valid")]
    LoggedOut { url: String },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: refused: {reason}")]
    Refused { url: String, reason: String },
}

impl CrawlError {
    /// Whether trying again later may succeed (timeouts, connection
    /// failures, 408, 429, 5xx). Only these count against a site's circuit
    /// breaker: a 404 says nothing about whether the site is up.
    pub fn is_transient(&self) -> bool {
        match self {
            CrawlError::Status { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            CrawlError::Transport { .. }
            | CrawlError::Timeout { .. }
            | CrawlError::TooSlow { .. } => true,
            _ => false,
        }
    }

    /// Whether the page was too slow to come (a timeout or a transfer under
    /// the rate floor): tried once more in a pass at most, since a site that
    /// trickles one page would otherwise hold the pass for many minutes.
    pub fn is_slow(&self) -> bool {
        matches!(
            self,
            CrawlError::Timeout { .. } | CrawlError::TooSlow { .. }
        )
    }
}

/// The frontier's SQLite store failed.
#[derive(Debug, thiserror::Error)]
pub enum FrontierError {
    #[error("{path}: cannot open the crawl state: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path}: cannot create its folder: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: another leakwatch process (a `crawl` or `run`) is using this data dir; \
         stop it first, or give this one its own --data-dir"
    )]
    Locked { path: PathBuf },
    #[error("{path}: cannot lock the crawl state: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("crawl state: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("crawl state: document in the outbox is unreadable: {0}")]
    Outbox(#[from] serde_json::Error),
}
