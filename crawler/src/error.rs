//! Errors of the crawler: bad site profiles, failed fetches and a state
//! store that cannot be used. Messages name the file, URL or site involved
//! and never carry cookie or header values.

use std::path::PathBuf;

pub use extract::ProfileError;

/// Why one URL could not be fetched.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CrawlError {
    /// The server answered with a status that is not a page: 4xx or 5xx, a
    /// redirect without a `Location` header, or a `304` to a fetch that sent
    /// no validators.
    #[error("{url}: HTTP status {status}")]
    Status {
        /// The URL that answered (the last hop when redirects were followed).
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The response is not HTML, XHTML or plain text, by its `Content-Type`
    /// or, when it has none, by a body that looks binary.
    #[error("{url}: content type {content_type:?} is not a page (only HTML, XHTML and plain text are fetched)")]
    ContentType {
        /// The URL that answered.
        url: String,
        /// The `Content-Type` header as sent, or `(none; the body is
        /// binary)` when there was none.
        content_type: String,
    },
    /// The body is larger than the cap, by its `Content-Length` or once
    /// decompressed.
    #[error("{url}: body larger than the {limit}-byte cap (after decompression)")]
    TooLarge {
        /// The URL that answered.
        url: String,
        /// The cap, in bytes (`FetchOptions::max_body_bytes`).
        limit: u64,
    },
    /// Connecting, reading or the whole request took longer than its
    /// timeout.
    #[error("{url}: {phase} timed out after {secs:.1} s")]
    Timeout {
        /// The URL being fetched when time ran out.
        url: String,
        /// Which timeout ran out: `connect`, `read` or `request` (one whole
        /// request, body included).
        phase: &'static str,
        /// That timeout, in seconds.
        secs: f64,
    },
    /// The body came in slower than the minimum transfer rate (the
    /// profile's `min_transfer_rate`, else the service's).
    #[error("{url}: transfer too slow: {received} bytes in the last {window_secs:.0} s, under the floor of {floor} bytes/s (min_transfer_rate)")]
    TooSlow {
        /// The URL being fetched.
        url: String,
        /// Body bytes received in the last window.
        received: u64,
        /// The window the rate is measured over, in seconds.
        window_secs: f64,
        /// The minimum rate, in bytes per second.
        floor: u64,
    },
    /// A redirect led back to a URL this fetch had already visited.
    #[error("{url}: redirect loop (back to {target})")]
    RedirectLoop {
        /// The URL the fetch was asked for.
        url: String,
        /// The URL reached a second time.
        target: String,
    },
    /// The server redirected more times than the fetcher follows.
    #[error("{url}: more than {limit} redirects")]
    TooManyRedirects {
        /// The URL the fetch was asked for.
        url: String,
        /// The most redirects followed (`FetchOptions::max_redirects`).
        limit: usize,
    },
    /// A redirect points outside the site's scope, or to a URL that cannot
    /// be crawled at all (not http or https, no host).
    #[error("{url}: redirect leaves the site (to {target})")]
    OffSiteRedirect {
        /// The URL that answered with the redirect.
        url: String,
        /// Where the redirect points; for a URL that cannot be crawled,
        /// the URL with the reason.
        target: String,
    },
    /// A redirect led to the profile's `session.login_url`: the session has
    /// expired or was never valid. The crawl stops the site until its
    /// cookies change.
    #[error("{url}: the site shows its login page: the session has expired or was never valid")]
    LoggedOut {
        /// The URL the fetch was asked for.
        url: String,
    },
    /// The connection or the HTTP exchange failed (refused, reset, TLS,
    /// SOCKS, Tor), or the site's HTTP client could not be built.
    #[error("{url}: {message}")]
    Transport {
        /// The URL being fetched; when the client could not be built, the
        /// proxy's address or the site's base URL.
        url: String,
        /// The transport's error with its causes.
        message: String,
    },
    /// The page stands for a source that cannot be read — a Telegram
    /// channel without a public preview (the request landed on its landing
    /// page), private, blocked or unknown. The site's other sources go on;
    /// this one is looked at again at the next list interval.
    #[error("{url}: unavailable: {reason}")]
    Unavailable {
        /// The page.
        url: String,
        /// Why, as the extraction read it.
        reason: String,
    },
    /// The crawler will not fetch the URL or use its page: the URL cannot be
    /// made canonical, an `.onion` address with Tor off, a redirect to an
    /// invalid URL, or a page whose extraction failed. Never retried.
    #[error("{url}: refused: {reason}")]
    Refused {
        /// The URL refused.
        url: String,
        /// Why, for the operator.
        reason: String,
    },
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
#[non_exhaustive]
pub enum FrontierError {
    /// The state store could not be opened, set up (WAL, busy timeout) or
    /// given its tables.
    #[error("{path}: cannot open the crawl state: {source}")]
    Open {
        /// The state store's SQLite file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The state store's folder did not exist and could not be created.
    #[error("{path}: cannot create its folder: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// Why it could not be created.
        source: std::io::Error,
    },
    /// Another process holds the state store's lock: one crawler per data
    /// dir.
    #[error(
        "{path}: another leakwatch process (a `crawl` or `run`) is using this data dir; \
         stop it first, or give this one its own --data-dir"
    )]
    Locked {
        /// The state store's SQLite file (the lock is the `.lock` file
        /// beside it).
        path: PathBuf,
    },
    /// The lock file could not be created or locked, for another reason
    /// than a process holding it.
    #[error("{path}: cannot lock the crawl state: {source}")]
    Lock {
        /// The lock file (the state store's path with `.lock` appended).
        path: PathBuf,
        /// Why it could not be locked.
        source: std::io::Error,
    },
    /// A query or transaction on the open store failed.
    #[error("crawl state: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A document could not be written to the outbox as JSON, or read back
    /// from it.
    #[error("crawl state: document in the outbox is unreadable: {0}")]
    Outbox(#[from] serde_json::Error),
    /// A row the crawler wrote cannot be read back (an imported session's
    /// cookies edited by hand): import it again.
    #[error("crawl state: {what}; import the session again (`leakwatch session import`)")]
    Corrupt {
        /// What could not be read.
        what: String,
    },
}
