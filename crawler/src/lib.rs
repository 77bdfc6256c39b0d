//! Fetching and extraction of dark-web forum and market pages.
//!
//! The crawler turns a [`SiteProfile`] into [`Document`]s: it fetches pages
//! politely through a [`Transport`] (rate limit per site, timeouts, size cap),
//! hands each page to the `extract` crate (charset decoding, presets,
//! generic detection) and follows the in-site links it returns. It knows
//! nothing of indexes, watchlists or alerts: the binary wires those together.
//!
//! A [`Crawler`] keeps its [`Frontier`] in SQLite and hands documents on as
//! [`Delivery`]s whose receipts the consumer acknowledges once they are
//! durable: a crawl killed at any moment resumes without losing or
//! repeating work. [`crawl_site`] is the same pass with a throwaway frontier.

mod channels;
mod cookies;
mod crawl;
mod duration;
#[cfg(feature = "embedded-tor")]
mod embedded_tor;
mod error;
mod fetch;
mod frontier;
mod in_flight;
mod politeness;
mod profile;
mod recrawl;
mod session;

pub use channels::{Backfill, BackfillSince};
pub use cookies::CookieVault;
pub use crawl::{
    crawl_site, CrawlEvent, CrawlOptions, CrawlStats, Crawler, Delivery, SiteEvent, SiteOutcome,
    SiteReport,
};
pub use duration::{parse_duration, DurationError};
#[cfg(feature = "embedded-tor")]
pub use embedded_tor::{EmbeddedTor, EmbeddedTorConfig, TorError};
pub use error::{CrawlError, CrawlErrorKind, FrontierError, ProfileError};
/// The documents the crawler hands on are the extraction crate's.
pub use extract::{Document, DocumentKind};
pub use fetch::{
    looks_binary, FetchFailure, FetchOptions, FetchOutcome, FetchedPage, Fetcher, PageCapture,
    RateFloor, Transport, Validators,
};
pub use frontier::{
    Frontier, FrontierCounts, FrontierUrl, ImportedSession, NewLink, PageOutcome, PageRole,
    Receipt, SiteHealth, SiteState, NEVER,
};
pub use in_flight::{InFlight, Place};
pub use politeness::{backoff_delay, parse_retry_after, CircuitBreaker, SiteGate};
pub use profile::{RateLimit, SiteProfile};
pub use recrawl::RecrawlPolicy;
pub use session::{
    parse_cookie_file, parse_cookie_header, parse_cookie_line, Secret, SessionConfig, SessionCookie,
};
