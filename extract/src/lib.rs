//! Extraction of dark-web forum and market pages, pure: page bytes (or
//! decoded HTML), the page's URL and a site's [`SiteRules`] in; [`Document`]s
//! and the in-site links to follow out. No network, no state store.
//!
//! - [`decode_html`] turns bytes in legacy CJK charsets into text;
//! - [`SiteRules`] are the extraction half of a site profile: the site's
//!   roots and scope, time zone, encoding, engine and selectors, link rules;
//! - [`Engine`] presets know the markup of common forum engines and their
//!   variants, Telegram channel previews and paste sites, and [`detect`]
//!   recognises them on a page;
//! - [`find_rows`] and [`main_text`] read pages of no known engine
//!   (generic list detection, main-text extraction);
//! - [`parse_date`] reads the dates forums print, in the site's zone;
//! - [`extract_page`] puts these together, falling back from a preset that
//!   finds nothing to generic detection, and staying silent on walls
//!   (CAPTCHAs, anti-bot and login pages, script-only shells).

mod canonical;
mod charset;
mod dates;
mod document;
mod engines;
mod error;
mod generic;
mod hidden;
mod nesting;
mod noscript;
mod onion;
mod page;
mod rules;
mod scope;
mod selectors;
mod signatures;
mod text;

pub use canonical::{
    encoding_for_label, resolve_href, CanonicalUrl, UrlError, UrlRules, DEFAULT_STRIP_PARAMS,
};
pub use charset::{decode_html, Decoded, EncodingSource};
pub use dates::{parse_date, parse_posted_at, DateContext, SiteZone};
pub use document::{Document, DocumentKind};
pub use engines::telegram::{message_number as telegram_message_number, TelegramChannel};
pub use engines::{detect, Detection, Engine, EngineChoice, Preset, ENGINES};
pub use error::ProfileError;
pub use generic::{
    find_rows, find_rows_at, main_text, read_each, read_rows, topic_meta, wall, ColumnField, Field,
    GenericRow, MainText, RecordSet, TopicMeta, Wall,
};
pub use nesting::{cap_nesting, MAX_DEPTH};
pub use onion::{is_onion, validate_onion_host, OnionError};
pub use page::{
    canonical_link, extract_page, extract_page_explained, extract_parsed, unfollowed_links,
    Explanation, ExtractOptions, Extracted, FieldTrace, GenericList,
};
pub use rules::{line_of, parse_error, LinkRules, SiteRules, RULE_KEYS, TELEGRAM_PREVIEW_ROOT};
pub use scope::{admit, OutOfScope};
pub use selectors::{FieldRule, FieldSpec, ListSelectors, Pick, RuleOrigin, TopicSelectors};
pub use signatures::{content_hash, topic_row_signatures};
