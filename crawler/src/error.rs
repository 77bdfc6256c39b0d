//! Errors of the crawler: bad site profiles, failed fetches and a state
//! store that cannot be used. Messages name the file, URL or site involved
//! and never carry cookie or header values.

use std::path::PathBuf;

pub use extract::ProfileError;

/// Why one URL could not be fetched: the URL and what went wrong with it.
///
/// Displays as `{url}: {kind}`, e.g. `http://x.onion/a: HTTP status 404`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{url}: {kind}")]
pub struct CrawlError {
    url: String,
    kind: CrawlErrorKind,
}

/// What went wrong with the URL of a [`CrawlError`].
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CrawlErrorKind {
    /// The server answered with a status that is not a page: 4xx or 5xx, a
    /// redirect without a `Location` header, or a `304` to a fetch that sent
    /// no validators.
    #[error("HTTP status {status}")]
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// The response is not HTML, XHTML or plain text, by its `Content-Type`
    /// or, when it has none, by a body that looks binary.
    #[error(
        "content type {content_type:?} is not a page (only HTML, XHTML and plain text are fetched)"
    )]
    ContentType {
        /// The `Content-Type` header as sent, or `(none; the body is
        /// binary)` when there was none.
        content_type: String,
    },
    /// The body is larger than the cap, by its `Content-Length` or once
    /// decompressed.
    #[error("body larger than the {limit}-byte cap (after decompression)")]
    TooLarge {
        /// The cap, in bytes (`FetchOptions::max_body_bytes`).
        limit: u64,
    },
    /// Connecting, reading or the whole request took longer than its
    /// timeout.
    #[error("{phase} timed out after {secs:.1} s")]
    Timeout {
        /// Which timeout ran out: `connect`, `read` or `request` (one whole
        /// request, body included).
        phase: &'static str,
        /// That timeout, in seconds.
        secs: f64,
    },
    /// The body came in slower than the minimum transfer rate (the
    /// profile's `min_transfer_rate`, else the service's).
    #[error("transfer too slow: {received} bytes in the last {window_secs:.0} s, under the floor of {floor} bytes/s (min_transfer_rate)")]
    TooSlow {
        /// Body bytes received in the last window.
        received: u64,
        /// The window the rate is measured over, in seconds.
        window_secs: f64,
        /// The minimum rate, in bytes per second.
        floor: u64,
    },
    /// A redirect led back to a URL this fetch had already visited.
    #[error("redirect loop (back to {target})")]
    RedirectLoop {
        /// The URL reached a second time.
        target: String,
    },
    /// The server redirected more times than the fetcher follows.
    #[error("more than {limit} redirects")]
    TooManyRedirects {
        /// The most redirects followed (`FetchOptions::max_redirects`).
        limit: usize,
    },
    /// A redirect points outside the site's scope, or to a URL that cannot
    /// be crawled at all (not http or https, no host).
    #[error("redirect leaves the site (to {target})")]
    OffSiteRedirect {
        /// Where the redirect points; for a URL that cannot be crawled,
        /// the URL with the reason.
        target: String,
    },
    /// A redirect led to the profile's `session.login_url`: the session has
    /// expired or was never valid. The crawl stops the site until its
    /// cookies change.
    #[error("the site shows its login page: the session has expired or was never valid")]
    LoggedOut,
    /// The connection or the HTTP exchange failed (refused, reset, TLS,
    /// SOCKS, Tor), or the site's HTTP client could not be built.
    #[error("{message}")]
    Transport {
        /// The transport's error with its causes.
        message: String,
    },
    /// The page stands for a source that cannot be read — a Telegram
    /// channel without a public preview (the request landed on its landing
    /// page), private, blocked or unknown. The site's other sources go on;
    /// this one is looked at again at the next list interval.
    #[error("unavailable: {reason}")]
    Unavailable {
        /// Why, as the extraction read it.
        reason: String,
    },
    /// The crawler will not fetch the URL or use its page: the URL cannot be
    /// made canonical, an `.onion` address with Tor off, a redirect to an
    /// invalid URL, or a page whose extraction failed. Never retried.
    #[error("refused: {reason}")]
    Refused {
        /// Why, for the operator.
        reason: String,
    },
}

impl CrawlError {
    /// An error about `url`.
    pub fn new(url: impl Into<String>, kind: CrawlErrorKind) -> CrawlError {
        CrawlError {
            url: url.into(),
            kind,
        }
    }

    /// The URL the error is about: the one that answered (the last hop when
    /// redirects were followed) for a status, the one the fetch was asked
    /// for for redirect errors, and, when a site's HTTP client could not be
    /// built, the proxy's address or the site's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What went wrong.
    pub fn kind(&self) -> &CrawlErrorKind {
        &self.kind
    }

    /// Whether trying again later may succeed (timeouts, connection
    /// failures, 408, 429, 5xx). Only these count against a site's circuit
    /// breaker: a 404 says nothing about whether the site is up.
    pub fn is_transient(&self) -> bool {
        match &self.kind {
            CrawlErrorKind::Status { status, .. } => {
                *status == 408 || *status == 429 || *status >= 500
            }
            CrawlErrorKind::Transport { .. }
            | CrawlErrorKind::Timeout { .. }
            | CrawlErrorKind::TooSlow { .. } => true,
            _ => false,
        }
    }

    /// Whether the page was too slow to come (a timeout or a transfer under
    /// the rate floor): tried once more in a pass at most, since a site that
    /// trickles one page would otherwise hold the pass for many minutes.
    pub fn is_slow(&self) -> bool {
        matches!(
            self.kind,
            CrawlErrorKind::Timeout { .. } | CrawlErrorKind::TooSlow { .. }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_url_then_the_kind() {
        let e = CrawlError::new("http://x.onion/a", CrawlErrorKind::Status { status: 404 });
        assert_eq!(e.to_string(), "http://x.onion/a: HTTP status 404");
        assert_eq!(e.url(), "http://x.onion/a");
        assert!(!e.is_transient());
        let e = CrawlError::new(
            "http://x.onion/b",
            CrawlErrorKind::Transport {
                message: "connection refused".into(),
            },
        );
        assert_eq!(e.to_string(), "http://x.onion/b: connection refused");
        assert!(e.is_transient() && !e.is_slow());
        let e = CrawlError::new("http://x.onion/c", CrawlErrorKind::LoggedOut);
        assert_eq!(
            e.to_string(),
            "http://x.onion/c: the site shows its login page: the session has expired or was never valid"
        );
        let e = CrawlError::new(
            "http://x.onion/d",
            CrawlErrorKind::Timeout {
                phase: "read",
                secs: 2.0,
            },
        );
        assert_eq!(
            e.to_string(),
            "http://x.onion/d: read timed out after 2.0 s"
        );
        assert!(e.is_transient() && e.is_slow());
    }
}
