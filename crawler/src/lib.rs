//! Fetching and extraction of dark-web forum and market pages.
//!
//! The crawler turns a [`SiteProfile`] into [`Document`]s: it fetches pages
//! politely through a [`Transport`] (rate limit per site, timeouts, size cap),
//! decodes legacy charsets, follows pagination and topic links inside the site,
//! and extracts listings with the profile's CSS selectors. It knows nothing of
//! indexes, watchlists or alerts: the binary wires those together.

mod charset;
mod crawl;
mod dates;
mod document;
mod error;
mod extract;
mod fetch;
mod profile;

pub use charset::{decode_html, Decoded, EncodingSource};
pub use crawl::{crawl_site, CrawlEvent, CrawlStats};
pub use dates::parse_posted_at;
pub use document::{Document, DocumentKind};
pub use error::{CrawlError, ProfileError};
pub use extract::{extract_page, Extracted};
pub use fetch::{FetchOptions, FetchedPage, Fetcher, Transport};
pub use profile::{FieldSpec, LinkRules, RateLimit, SiteProfile, TopicSelectors};
