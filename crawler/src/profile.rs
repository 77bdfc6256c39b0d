//! Site profiles: how to crawl one site and turn its pages into documents.
//!
//! A profile is TOML (`deny_unknown_fields`), parsed once into a validated
//! [`SiteProfile`] whose selectors and patterns are compiled; a profile that
//! loads cannot fail later for a bad selector.

use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use encoding_rs::Encoding;
use regex::Regex;
use scraper::Selector;
use serde::Deserialize;
use url::Url;

use crate::document::DocumentKind;
use crate::error::ProfileError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    base_url: String,
    #[serde(default)]
    seeds: Vec<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    time_zone: Option<String>,
    #[serde(default)]
    max_pages: Option<usize>,
    #[serde(default)]
    max_depth: Option<u32>,
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(default)]
    headers: Vec<String>,
    #[serde(default)]
    rate_limit: Option<RawRateLimit>,
    links: RawLinks,
    topic: RawTopic,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    requests_per_minute: u32,
    #[serde(default)]
    burst: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLinks {
    follow: Vec<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    url: String,
    #[serde(default)]
    kind: Option<DocumentKind>,
    title: RawField,
    body: RawField,
    #[serde(default)]
    price: Option<RawField>,
    #[serde(default)]
    seller: Option<RawField>,
    #[serde(default)]
    posted_at: Option<RawField>,
    #[serde(default)]
    category: Option<RawField>,
    #[serde(default)]
    listing_number: Option<RawField>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawField {
    Css(String),
    Spec(RawFieldSpec),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFieldSpec {
    css: String,
    #[serde(default)]
    attr: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    regex: Option<String>,
}

/// Requests per minute and burst for one site.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub per_minute: NonZeroU32,
    pub burst: NonZeroU32,
}

/// Which links of a page the crawler follows.
#[derive(Debug, Clone)]
pub struct LinkRules {
    /// Elements whose `href` is followed (`a` elements, or containers of them).
    pub follow: Vec<Selector>,
    /// A followed URL must match one of these (when any are given)…
    pub allow: Vec<Regex>,
    /// …and none of these.
    pub deny: Vec<Regex>,
}

/// How one field is found on a page.
///
/// `css` selects elements; the first one whose text starts with `label`
/// (when given) is used, its `attr` or text, with the label cut off, and
/// `regex`'s first capture group (or whole match) kept.
#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub css: Selector,
    pub css_source: String,
    pub attr: Option<String>,
    pub label: Option<String>,
    pub regex: Option<Regex>,
}

/// Selectors of a topic (listing/thread) page.
#[derive(Debug, Clone)]
pub struct TopicSelectors {
    /// Which pages are topic pages (regex on the full URL).
    pub url: Regex,
    pub kind: DocumentKind,
    pub title: FieldSpec,
    pub body: FieldSpec,
    pub price: Option<FieldSpec>,
    pub seller: Option<FieldSpec>,
    pub posted_at: Option<FieldSpec>,
    pub category: Option<FieldSpec>,
    pub listing_number: Option<FieldSpec>,
}

/// A validated site profile.
#[derive(Debug, Clone)]
pub struct SiteProfile {
    /// Site id; documents carry it.
    pub name: String,
    /// The site's root; the crawl never leaves its host and path prefix.
    pub base_url: Url,
    /// Start pages (absolute, resolved against `base_url`).
    pub seeds: Vec<Url>,
    pub lang: Option<String>,
    pub encoding: Option<&'static Encoding>,
    /// Offset of the site's local time from UTC, in seconds.
    pub utc_offset_secs: i32,
    pub max_pages: usize,
    pub max_depth: u32,
    pub user_agent: Option<String>,
    pub headers: Vec<(String, String)>,
    pub rate_limit: RateLimit,
    pub links: LinkRules,
    pub topic: TopicSelectors,
}

impl SiteProfile {
    /// Loads and validates a profile file.
    pub fn load(path: &Path) -> Result<SiteProfile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.to_owned(),
            source,
        })?;
        SiteProfile::parse(&text, path)
    }

    /// Parses and validates profile text; `path` is used in errors only.
    pub fn parse(text: &str, path: &Path) -> Result<SiteProfile, ProfileError> {
        let raw: RawProfile = toml::from_str(text).map_err(|e| ProfileError::Parse {
            path: path.to_owned(),
            line: e.span().map_or(0, |s| line_of(text, s.start)),
            message: e.message().to_owned(),
        })?;
        let invalid = |field: &str, message: String| ProfileError::Invalid {
            path: path.to_owned(),
            field: field.to_owned(),
            message,
        };
        if raw.name.trim().is_empty() {
            return Err(invalid("name", "must not be empty".into()));
        }
        let base_url = Url::parse(&raw.base_url).map_err(|e| {
            invalid(
                "base_url",
                format!(
                    "{:?} is not an absolute URL ({e}); write e.g. \"http://example.onion/\"",
                    raw.base_url
                ),
            )
        })?;
        let mut seeds = Vec::new();
        for seed in if raw.seeds.is_empty() {
            vec![String::new()]
        } else {
            raw.seeds
        } {
            seeds.push(base_url.join(&seed).map_err(|e| {
                invalid(
                    "seeds",
                    format!("{seed:?} is not a URL relative to base_url: {e}"),
                )
            })?);
        }
        let encoding = match raw.encoding {
            None => None,
            Some(name) => Some(Encoding::for_label(name.as_bytes()).ok_or_else(|| {
                invalid(
                    "encoding",
                    format!("unknown encoding {name:?}; use a WHATWG label such as \"gbk\", \"big5\", \"shift_jis\", \"euc-jp\""),
                )
            })?),
        };
        let utc_offset_secs = match raw.time_zone.as_deref() {
            None | Some("UTC") | Some("Z") => 0,
            Some(tz) => parse_utc_offset(tz).ok_or_else(|| {
                invalid(
                    "time_zone",
                    format!("{tz:?} is not a UTC offset; write e.g. \"+08:00\" or \"UTC\""),
                )
            })?,
        };
        let rate_limit = match raw.rate_limit {
            None => RateLimit {
                per_minute: NonZeroU32::new(30).expect("30 is not zero"),
                burst: NonZeroU32::new(1).expect("1 is not zero"),
            },
            Some(r) => RateLimit {
                per_minute: NonZeroU32::new(r.requests_per_minute).ok_or_else(|| {
                    invalid(
                        "rate_limit.requests_per_minute",
                        "must be at least 1".into(),
                    )
                })?,
                burst: NonZeroU32::new(r.burst.unwrap_or(1))
                    .ok_or_else(|| invalid("rate_limit.burst", "must be at least 1".into()))?,
            },
        };
        let mut headers = Vec::new();
        for line in raw.headers {
            let (k, v) = line
                .split_once(':')
                .ok_or_else(|| invalid("headers", "each header is \"Name: value\"".into()))?;
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        let selector = |field: &str, css: &str| {
            Selector::parse(css)
                .map_err(|e| invalid(field, format!("bad CSS selector {css:?}: {e}")))
        };
        let regex = |field: &str, re: &str| {
            Regex::new(re).map_err(|e| invalid(field, format!("bad regex {re:?}: {e}")))
        };
        let field = |name: &str, raw: RawField| -> Result<FieldSpec, ProfileError> {
            let spec = match raw {
                RawField::Css(css) => RawFieldSpec {
                    css,
                    attr: None,
                    label: None,
                    regex: None,
                },
                RawField::Spec(spec) => spec,
            };
            Ok(FieldSpec {
                css: selector(name, &spec.css)?,
                css_source: spec.css,
                attr: spec.attr,
                label: spec.label,
                regex: spec.regex.as_deref().map(|r| regex(name, r)).transpose()?,
            })
        };
        let optional = |name: &str, raw: Option<RawField>| raw.map(|r| field(name, r)).transpose();
        let links = LinkRules {
            follow: raw
                .links
                .follow
                .iter()
                .map(|css| selector("links.follow", css))
                .collect::<Result<_, _>>()?,
            allow: raw
                .links
                .allow
                .iter()
                .map(|r| regex("links.allow", r))
                .collect::<Result<_, _>>()?,
            deny: raw
                .links
                .deny
                .iter()
                .map(|r| regex("links.deny", r))
                .collect::<Result<_, _>>()?,
        };
        let t = raw.topic;
        let topic = TopicSelectors {
            url: regex("topic.url", &t.url)?,
            kind: t.kind.unwrap_or_default(),
            title: field("topic.title", t.title)?,
            body: field("topic.body", t.body)?,
            price: optional("topic.price", t.price)?,
            seller: optional("topic.seller", t.seller)?,
            posted_at: optional("topic.posted_at", t.posted_at)?,
            category: optional("topic.category", t.category)?,
            listing_number: optional("topic.listing_number", t.listing_number)?,
        };
        Ok(SiteProfile {
            name: raw.name,
            base_url,
            seeds,
            lang: raw.lang,
            encoding,
            utc_offset_secs,
            max_pages: raw.max_pages.unwrap_or(10_000),
            max_depth: raw.max_depth.unwrap_or(20),
            user_agent: raw.user_agent,
            headers,
            rate_limit,
            links,
            topic,
        })
    }

    /// Moves the site to another root URL (a new mirror, or the demo market's
    /// random port), rebasing the seeds.
    pub fn rebase(&mut self, new_base: &Url) {
        for seed in &mut self.seeds {
            let rel = seed
                .as_str()
                .strip_prefix(self.base_url.as_str())
                .unwrap_or(seed.path())
                .to_owned();
            if let Ok(rebased) = new_base.join(&rel) {
                *seed = rebased;
            }
        }
        self.base_url = new_base.clone();
    }

    /// Whether `url` is inside this site (same scheme, host, port and path prefix).
    pub fn contains(&self, url: &Url) -> bool {
        url.scheme() == self.base_url.scheme()
            && url.host_str() == self.base_url.host_str()
            && url.port_or_known_default() == self.base_url.port_or_known_default()
            && url.path().starts_with(self.base_url.path())
    }

    /// Minimum spacing between requests implied by the rate limit.
    pub fn request_interval(&self) -> Duration {
        Duration::from_secs(60) / self.rate_limit.per_minute.get()
    }
}

/// 1-based line number of byte offset `at` in `text`.
pub(crate) fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn parse_utc_offset(tz: &str) -> Option<i32> {
    let tz = tz.trim().trim_start_matches("UTC");
    let (sign, rest) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "m"
base_url = "http://abc.onion/forum/"
seeds = ["index.php"]
time_zone = "+08:00"
[links]
follow = ["a.topictitle"]
[topic]
url = 'viewtopic\.php'
title = "h2"
body = { css = "div.content" }
"#;

    #[test]
    fn minimal_profile_loads() {
        let p = SiteProfile::parse(MINIMAL, Path::new("m.toml")).expect("valid profile");
        assert_eq!(p.seeds[0].as_str(), "http://abc.onion/forum/index.php");
        assert_eq!(p.utc_offset_secs, 8 * 3600);
    }

    #[test]
    fn unknown_key_names_the_line() {
        let text = MINIMAL.replace("time_zone", "timezone");
        let err = SiteProfile::parse(&text, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("m.toml:5:"), "{err}");
        assert!(err.contains("timezone"), "{err}");
    }

    #[test]
    fn bad_selector_is_rejected_at_load() {
        let text = MINIMAL.replace("\"h2\"", "\"h2[[\"");
        let err = SiteProfile::parse(&text, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("topic.title") && err.contains("bad CSS selector"),
            "{err}"
        );
    }

    #[test]
    fn rebase_moves_seeds() {
        let mut p = SiteProfile::parse(MINIMAL, Path::new("m.toml")).expect("valid profile");
        p.rebase(&Url::parse("http://127.0.0.1:4000/forum/").expect("url"));
        assert_eq!(p.seeds[0].as_str(), "http://127.0.0.1:4000/forum/index.php");
        assert!(
            p.contains(&Url::parse("http://127.0.0.1:4000/forum/viewtopic.php?t=1").expect("url"))
        );
        assert!(!p.contains(&Url::parse("http://127.0.0.1:4000/other/").expect("url")));
    }
}
