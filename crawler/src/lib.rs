//! Fetching and extraction of dark-web forum and market pages.
//!
//! The crawler turns a [`SiteProfile`] into [`Document`]s: it fetches pages
//! politely through a [`Transport`] (rate limit per site, timeouts, size cap),
//! decodes legacy charsets, follows pagination and topic links inside the site,
//! and extracts listings with the profile's CSS selectors. It knows nothing of
//! indexes, watchlists or alerts: the binary wires those together.
//!
//! A [`Crawler`] keeps its [`Frontier`] in SQLite and hands documents on as
//! [`Delivery`]s whose receipts the consumer acknowledges once they are
//! durable: a crawl killed at any moment resumes without losing or
//! repeating work. [`crawl_site`] is the same pass with a throwaway frontier.

mod canonical;
mod charset;
mod cookies;
mod crawl;
mod dates;
mod document;
#[cfg(feature = "embedded-tor")]
mod embedded_tor;
mod engines;
mod error;
mod extract;
mod fetch;
mod frontier;
mod generic;
mod nesting;
mod onion;
mod politeness;
mod profile;
mod recrawl;
mod scope;
mod selectors;
mod session;
mod text;

pub use canonical::{
    encoding_for_label, resolve_href, CanonicalUrl, UrlError, UrlRules, DEFAULT_STRIP_PARAMS,
};
pub use charset::{decode_html, Decoded, EncodingSource};
pub use cookies::CookieVault;
pub use crawl::{
    crawl_site, CrawlEvent, CrawlOptions, CrawlStats, Crawler, Delivery, SiteEvent, SiteOutcome,
    SiteReport,
};
pub use dates::{parse_date, parse_posted_at, DateContext, SiteZone};
pub use document::{Document, DocumentKind};
#[cfg(feature = "embedded-tor")]
pub use embedded_tor::{EmbeddedTor, EmbeddedTorConfig, TorError};
pub use engines::{detect, Detection, Engine, EngineChoice, Preset, ENGINES};
pub use error::{CrawlError, FrontierError, ProfileError};
pub use extract::{
    canonical_link, extract_page, extract_page_explained, Explanation, ExtractOptions, Extracted,
    FieldTrace,
};
pub use fetch::{
    looks_binary, FetchFailure, FetchOptions, FetchOutcome, FetchedPage, Fetcher, RateFloor,
    Transport, Validators,
};
pub use frontier::{
    Frontier, FrontierCounts, FrontierUrl, NewLink, PageOutcome, PageRole, Receipt, SiteState,
    NEVER,
};
pub use generic::{find_rows, main_text, GenericRow, MainText, RecordSet};
pub use nesting::{cap_nesting, MAX_DEPTH};
pub use onion::{is_onion, validate_onion_host, OnionError};
pub use politeness::{backoff_delay, parse_retry_after, CircuitBreaker, SiteGate};
pub use profile::{FieldSpec, LinkRules, RateLimit, SiteProfile, TopicSelectors};
pub use recrawl::{content_hash, topic_row_signatures, RecrawlPolicy};
pub use scope::{admit, OutOfScope};
pub use selectors::{FieldRule, ListSelectors, Pick, RuleOrigin};
pub use session::{parse_cookie_file, parse_cookie_line, Secret, SessionConfig, SessionCookie};
