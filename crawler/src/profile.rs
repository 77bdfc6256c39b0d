//! Site profiles: how to crawl one site. A profile file is TOML: its
//! extraction rules (root, scope, zone, engine, selectors, links) are parsed
//! by [`extract::SiteRules`], its crawl settings (seeds, limits, rate,
//! recrawl, session) here, and a key that is neither is an error naming its
//! line. Parsed once into a validated [`SiteProfile`]; a profile that loads
//! cannot fail later for a bad selector or pattern.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use extract::{parse_error, EngineChoice, ProfileError, SiteRules};
use regex::Regex;
use scraper::Selector;
use serde::Deserialize;
use url::Url;

use crate::channels::{Backfill, BackfillSince};
use crate::duration::parse_duration;
use crate::fetch::RateFloor;
use crate::recrawl::RecrawlPolicy;
use crate::session::{parse_cookie_file, parse_cookie_line, Secret, SessionConfig, SessionCookie};

/// The top-level keys of a profile that the crawler reads; the rest are
/// the extraction rules' ([`extract::RULE_KEYS`]).
const CRAWL_KEYS: &[&str] = &[
    "seeds",
    "min_transfer_rate",
    "max_pages",
    "max_depth",
    "user_agent",
    "headers",
    "rate_limit",
    "concurrency",
    "recrawl",
    "session",
    "backfill_messages",
    "backfill_since",
];

#[derive(Debug, Deserialize)]
struct RawProfile {
    #[serde(default)]
    seeds: Vec<String>,
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
    #[serde(default)]
    concurrency: Option<usize>,
    #[serde(default)]
    min_transfer_rate: Option<RawRateFloor>,
    #[serde(default)]
    recrawl: Option<RawRecrawl>,
    #[serde(default)]
    session: Option<RawSession>,
    #[serde(default)]
    backfill_messages: Option<u64>,
    #[serde(default)]
    backfill_since: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecrawl {
    #[serde(default)]
    list_interval: Option<String>,
    #[serde(default)]
    topic_interval: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSession {
    #[serde(default)]
    cookies: Vec<String>,
    #[serde(default)]
    cookie_file: Option<PathBuf>,
    #[serde(default)]
    logged_out: Option<String>,
    #[serde(default)]
    login_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    requests_per_minute: u32,
    #[serde(default)]
    burst: Option<u32>,
    #[serde(default)]
    headroom_percent: Option<u8>,
}

/// `min_transfer_rate = { bytes_per_sec = 1024, window_secs = 30 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateFloor {
    bytes_per_sec: u64,
    window_secs: u64,
}

/// Requests per minute and burst for one site.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Requests a minute the site is sent at most (default 30).
    pub per_minute: NonZeroU32,
    /// Requests that may go out back to back before the pacing applies
    /// (default 1: every request waits its interval).
    pub burst: NonZeroU32,
    /// How much wider than the budget's own interval requests are spaced,
    /// in percent (default 2): the site's clock sees our requests after a
    /// variable delay, and a request that arrives late followed by one on
    /// time would otherwise look like a burst to it.
    pub headroom_percent: u8,
}

impl Default for RateLimit {
    /// 30 requests a minute, one at a time.
    fn default() -> Self {
        RateLimit {
            per_minute: NonZeroU32::new(30).expect("30 is not zero"),
            burst: NonZeroU32::MIN,
            headroom_percent: RateLimit::DEFAULT_HEADROOM_PERCENT,
        }
    }
}

impl RateLimit {
    /// Default headroom: 2 % of the interval (1.2 s at 1 request a minute,
    /// 40 ms at the default 30 a minute).
    pub const DEFAULT_HEADROOM_PERCENT: u8 = 2;

    /// The spacing the crawler keeps: the budget's interval plus headroom.
    pub fn paced_interval(&self) -> Duration {
        (Duration::from_secs(60) / self.per_minute.get())
            .mul_f64(1.0 + f64::from(self.headroom_percent) / 100.0)
    }
}

/// A validated site profile: the site's extraction rules and how to crawl it.
#[derive(Debug, Clone)]
pub struct SiteProfile {
    /// Where the site is and how its pages are read (see [`SiteRules`]).
    rules: SiteRules,
    /// Start pages (absolute, resolved against the base URL).
    seeds: Vec<Url>,
    /// The most URLs taken from the frontier for this site in one pass
    /// (default 10 000).
    max_pages: usize,
    /// How many link hops from a seed the crawl goes: links on a page this
    /// deep are not followed (default 20).
    max_depth: u32,
    /// The `User-Agent` sent to this site; `None`: the fetcher's
    /// ([`FetchOptions::user_agent`](crate::FetchOptions::user_agent)).
    user_agent: Option<String>,
    /// Extra request headers; values are secrets (they may carry cookies).
    headers: Vec<(String, Secret)>,
    /// How fast requests go to this site (default: 30 a minute, one at a
    /// time).
    rate_limit: RateLimit,
    /// Requests in flight to this site at once.
    concurrency: usize,
    /// The slowest transfer tolerated from this site, instead of the
    /// service's (`bytes_per_sec = 0`: none); `None`: the service's.
    min_transfer_rate: Option<RateFloor>,
    /// When the site's list and topic pages are fetched again.
    recrawl: RecrawlPolicy,
    /// The cookies sent to the site and how a lost session is noticed.
    session: SessionConfig,
    /// How far back a Telegram channel's older pages are read (default:
    /// 200 messages).
    backfill: Backfill,
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
        let mut rules = SiteRules::parse_with(text, path, CRAWL_KEYS)?;
        let raw: RawProfile = toml::from_str(text).map_err(|e| parse_error(text, path, &e))?;
        let invalid = |field: &str, message: String| ProfileError::Invalid {
            path: path.to_owned(),
            field: field.to_owned(),
            message,
        };
        let base_url = rules.base_url.clone();
        // A Telegram profile starts at each of its channels' previews, then
        // at any seeds it also gives.
        let mut seeds = rules.channel_start_urls();
        let raw_seeds = if raw.seeds.is_empty() && seeds.is_empty() {
            vec![String::new()]
        } else {
            raw.seeds
        };
        for seed in raw_seeds {
            seeds.push(base_url.join(&seed).map_err(|e| {
                invalid(
                    "seeds",
                    format!("{seed:?} is not a URL relative to base_url: {e}"),
                )
            })?);
        }
        let rate_limit = match raw.rate_limit {
            None => RateLimit::default(),
            Some(r) => RateLimit {
                per_minute: NonZeroU32::new(r.requests_per_minute).ok_or_else(|| {
                    invalid(
                        "rate_limit.requests_per_minute",
                        "must be at least 1".into(),
                    )
                })?,
                burst: NonZeroU32::new(r.burst.unwrap_or(1))
                    .ok_or_else(|| invalid("rate_limit.burst", "must be at least 1".into()))?,
                headroom_percent: match r.headroom_percent {
                    None => RateLimit::DEFAULT_HEADROOM_PERCENT,
                    Some(h) if h <= 50 => h,
                    Some(h) => {
                        return Err(invalid(
                            "rate_limit.headroom_percent",
                            format!("{h} is too much: use 0–50 (a percentage of the interval)"),
                        ))
                    }
                },
            },
        };
        let mut headers = Vec::new();
        for line in raw.headers {
            let (k, v) = line
                .split_once(':')
                .ok_or_else(|| invalid("headers", "each header is \"Name: value\"".into()))?;
            headers.push((k.trim().to_owned(), Secret::new(v.trim())));
        }
        let selector = |field: &str, css: &str| {
            Selector::parse(css)
                .map_err(|e| invalid(field, format!("bad CSS selector {css:?}: {e}")))
        };
        let regex = |field: &str, re: &str| {
            Regex::new(re).map_err(|e| invalid(field, format!("bad regex {re:?}: {e}")))
        };
        let recrawl = match raw.recrawl {
            None => RecrawlPolicy::default(),
            Some(r) => {
                let default = RecrawlPolicy::default();
                let interval = |field: &str, value: Option<String>, default: Duration| match value {
                    None => Ok(default),
                    Some(v) => parse_duration(&v).map_err(|e| invalid(field, e.to_string())),
                };
                RecrawlPolicy {
                    list_interval: interval(
                        "recrawl.list_interval",
                        r.list_interval,
                        default.list_interval,
                    )?,
                    topic_interval: interval(
                        "recrawl.topic_interval",
                        r.topic_interval,
                        default.topic_interval,
                    )?,
                }
            }
        };
        let session = match raw.session {
            None => SessionConfig::default(),
            Some(s) => {
                let mut cookies = Vec::new();
                for line in &s.cookies {
                    cookies.push(parse_cookie_line(line).ok_or_else(|| {
                        invalid("session.cookies", "each cookie is \"name=value\"".into())
                    })?);
                }
                if let Some(file) = &s.cookie_file {
                    let file = path.parent().unwrap_or(Path::new(".")).join(file);
                    let text =
                        std::fs::read_to_string(&file).map_err(|source| ProfileError::Read {
                            path: file.clone(),
                            source,
                        })?;
                    cookies.extend(parse_cookie_file(&text, &file)?);
                }
                SessionConfig {
                    cookies,
                    logged_out: s
                        .logged_out
                        .as_deref()
                        .map(|css| selector("session.logged_out", css))
                        .transpose()?,
                    login_url: s
                        .login_url
                        .as_deref()
                        .map(|r| regex("session.login_url", r))
                        .transpose()?,
                }
            }
        };
        let concurrency = match raw.concurrency {
            None => 2,
            Some(0) => return Err(invalid("concurrency", "must be at least 1".into())),
            Some(n) => n,
        };
        let min_transfer_rate = match raw.min_transfer_rate {
            None => None,
            Some(RawRateFloor { window_secs: 0, .. }) => {
                return Err(invalid(
                    "min_transfer_rate.window_secs",
                    "must be at least 1 (set bytes_per_sec = 0 to turn the floor off)".into(),
                ))
            }
            Some(r) => Some(RateFloor {
                bytes_per_sec: r.bytes_per_sec,
                window: Duration::from_secs(r.window_secs),
            }),
        };
        let backfill = Backfill {
            messages: match raw.backfill_messages {
                None => Backfill::default().messages,
                Some(0) => {
                    return Err(invalid(
                        "backfill_messages",
                        "must be at least 1 (the newest page is always read)".into(),
                    ))
                }
                Some(n) => n,
            },
            since: match raw.backfill_since.as_deref().map(str::trim) {
                None => None,
                Some(text) => Some(parse_since(text).ok_or_else(|| {
                    invalid(
                        "backfill_since",
                        format!(
                            "{text:?} is neither a date (2026-01-31, or an RFC 3339 time) nor a span ago (90d)"
                        ),
                    )
                })?),
            },
        };
        // The login page is never followed: a scope rule of the extraction.
        rules.links.login_url = session.login_url.clone();
        Ok(SiteProfile {
            rules,
            seeds,
            max_pages: raw.max_pages.unwrap_or(10_000),
            max_depth: raw.max_depth.unwrap_or(20),
            user_agent: raw.user_agent,
            headers,
            rate_limit,
            concurrency,
            min_transfer_rate,
            recrawl,
            session,
            backfill,
        })
    }

    /// A profile with nothing but a name, a root URL and an engine choice:
    /// all a site on a known engine needs.
    pub fn for_engine(
        name: &str,
        base_url: &Url,
        engine: EngineChoice,
    ) -> Result<SiteProfile, ProfileError> {
        let rules = SiteRules::for_engine(name, base_url, engine)?;
        Ok(SiteProfile::with_rules(rules))
    }

    /// A profile of `rules` with the default crawl settings.
    pub fn with_rules(rules: SiteRules) -> SiteProfile {
        SiteProfile {
            seeds: vec![rules.base_url.clone()],
            rules,
            max_pages: 10_000,
            max_depth: 20,
            user_agent: None,
            headers: Vec::new(),
            rate_limit: RateLimit::default(),
            concurrency: 2,
            min_transfer_rate: None,
            recrawl: RecrawlPolicy::default(),
            session: SessionConfig::default(),
            backfill: Backfill::default(),
        }
    }

    /// Moves the site to another root URL (a new mirror, or the demo market's
    /// random port), rebasing the seeds.
    pub fn rebase(&mut self, new_base: &Url) {
        for seed in &mut self.seeds {
            let rel = seed
                .as_str()
                .strip_prefix(self.rules.base_url.as_str())
                .unwrap_or(seed.path())
                .to_owned();
            if let Ok(rebased) = new_base.join(&rel) {
                *seed = rebased;
            }
        }
        self.rules.base_url = new_base.clone();
    }

    /// The site id; documents carry it.
    pub fn name(&self) -> &str {
        &self.rules.name
    }

    /// Where the site is and how its pages are read.
    pub fn rules(&self) -> &SiteRules {
        &self.rules
    }

    /// The extraction rules, without the crawl settings.
    pub fn into_rules(self) -> SiteRules {
        self.rules
    }

    /// Start pages (absolute, resolved against the base URL).
    pub fn seeds(&self) -> &[Url] {
        &self.seeds
    }

    /// The profile with other start pages (each absolute).
    pub fn with_seeds(mut self, seeds: Vec<Url>) -> SiteProfile {
        self.seeds = seeds;
        self
    }

    /// The most URLs taken from the frontier for this site in one pass.
    pub fn max_pages(&self) -> usize {
        self.max_pages
    }

    /// How many link hops from a seed the crawl goes: links on a page this
    /// deep are not followed.
    pub fn max_depth(&self) -> u32 {
        self.max_depth
    }

    /// The `User-Agent` sent to this site; `None`: the fetcher's.
    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    /// Extra request headers; values are secrets (they may carry cookies).
    pub fn headers(&self) -> &[(String, Secret)] {
        &self.headers
    }

    /// How fast requests go to this site.
    pub fn rate_limit(&self) -> RateLimit {
        self.rate_limit
    }

    /// Requests in flight to this site at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// The slowest transfer tolerated from this site, instead of the
    /// service's; `None`: the service's.
    pub fn min_transfer_rate(&self) -> Option<RateFloor> {
        self.min_transfer_rate
    }

    /// When the site's list and topic pages are fetched again.
    pub fn recrawl(&self) -> &RecrawlPolicy {
        &self.recrawl
    }

    /// The cookies sent to the site and how a lost session is noticed.
    pub fn session(&self) -> &SessionConfig {
        &self.session
    }

    /// The profile with an operator's imported cookies in place of its own
    /// cookies of the same names.
    pub fn with_imported_cookies(&self, cookies: &[SessionCookie]) -> SiteProfile {
        SiteProfile {
            session: self.session.with_imported(cookies),
            ..self.clone()
        }
    }

    /// How far back a Telegram channel's older pages are read.
    pub fn backfill(&self) -> &Backfill {
        &self.backfill
    }

    /// Minimum spacing between requests implied by the rate limit.
    pub fn request_interval(&self) -> Duration {
        Duration::from_secs(60) / self.rate_limit.per_minute.get()
    }
}

/// `backfill_since`: a date (midnight UTC), an RFC 3339 time, or a span
/// before each pass (`90d`).
fn parse_since(text: &str) -> Option<BackfillSince> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(BackfillSince::At(t.with_timezone(&chrono::Utc)));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|t| BackfillSince::At(t.and_utc()));
    }
    crate::duration::parse_duration(text)
        .ok()
        .map(BackfillSince::Ago)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "m"
base_url = "http://2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion/forum/"
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
    fn onion_base_url_is_checksummed() {
        let text = MINIMAL.replace(
            "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid",
            "3gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid",
        );
        let err = SiteProfile::parse(&text, Path::new("m.toml"))
            .expect_err("the profile is refused")
            .to_string();
        assert!(
            err.contains("base_url") && err.contains("checksum"),
            "{err}"
        );
    }

    #[test]
    fn minimal_profile_loads() {
        let p = SiteProfile::parse(MINIMAL, Path::new("m.toml")).expect("valid profile");
        assert_eq!(
            p.seeds[0].as_str(),
            "http://2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion/forum/index.php"
        );
        assert_eq!(
            p.rules.zone,
            extract::SiteZone::from_offset_secs(8 * 3600).expect("offset")
        );
    }

    #[test]
    fn min_transfer_rate_is_optional_and_checked() {
        let p = SiteProfile::parse(MINIMAL, Path::new("m.toml")).expect("valid profile");
        assert_eq!(p.min_transfer_rate, None);
        let text =
            format!("min_transfer_rate = {{ bytes_per_sec = 512, window_secs = 60 }}{MINIMAL}");
        let p = SiteProfile::parse(&text, Path::new("m.toml")).expect("valid profile");
        assert_eq!(
            p.min_transfer_rate,
            Some(RateFloor {
                bytes_per_sec: 512,
                window: Duration::from_secs(60)
            })
        );
        let text =
            format!("min_transfer_rate = {{ bytes_per_sec = 512, window_secs = 0 }}{MINIMAL}");
        let err = SiteProfile::parse(&text, Path::new("m.toml"))
            .expect_err("the profile is refused")
            .to_string();
        assert!(err.contains("min_transfer_rate.window_secs"), "{err}");
    }

    #[test]
    fn unknown_key_names_the_line() {
        let text = MINIMAL.replace("time_zone", "timezone");
        let err = SiteProfile::parse(&text, Path::new("m.toml"))
            .expect_err("the profile is refused")
            .to_string();
        assert!(err.starts_with("m.toml:5:"), "{err}");
        assert!(err.contains("timezone"), "{err}");
    }

    #[test]
    fn bad_selector_is_rejected_at_load() {
        let text = MINIMAL.replace("\"h2\"", "\"h2[[\"");
        let err = SiteProfile::parse(&text, Path::new("m.toml"))
            .expect_err("the profile is refused")
            .to_string();
        assert!(
            err.contains("topic.title") && err.contains("bad CSS selector"),
            "{err}"
        );
    }

    #[test]
    fn crawl_settings_parse_with_defaults_and_errors() {
        let p = SiteProfile::parse(MINIMAL, Path::new("m.toml")).expect("valid profile");
        assert_eq!(p.concurrency, 2);
        assert_eq!(p.recrawl, RecrawlPolicy::default());
        let text = MINIMAL.replace(
            "[topic]",
            "[recrawl]\nlist_interval = \"15m\"\ntopic_interval = \"7d\"\n[session]\ncookies = [\"u=1\"]\nlogged_out = \"form#login\"\n[topic]",
        );
        let p = SiteProfile::parse(&text, Path::new("m.toml")).expect("valid profile");
        assert_eq!(p.recrawl.list_interval, Duration::from_secs(900));
        assert_eq!(p.recrawl.topic_interval, Duration::from_secs(7 * 86_400));
        assert_eq!(p.session.cookies.len(), 1);
        let bad = text.replace("\"15m\"", "\"soon\"");
        let err = SiteProfile::parse(&bad, Path::new("m.toml"))
            .expect_err("the profile is refused")
            .to_string();
        assert!(err.contains("recrawl.list_interval"), "{err}");
        let missing = MINIMAL.replace(
            "[topic]",
            "[session]\ncookie_file = \"no-such-jar.txt\"\n[topic]",
        );
        let err = SiteProfile::parse(&missing, Path::new("/nonexistent/m.toml"))
            .expect_err("the profile is refused")
            .to_string();
        assert!(err.contains("no-such-jar.txt"), "{err}");
    }

    #[test]
    fn rebase_moves_seeds() {
        let mut p = SiteProfile::parse(MINIMAL, Path::new("m.toml")).expect("valid profile");
        p.rebase(&Url::parse("http://127.0.0.1:4000/forum/").expect("url"));
        assert_eq!(p.seeds[0].as_str(), "http://127.0.0.1:4000/forum/index.php");
        assert!(p
            .rules
            .contains(&Url::parse("http://127.0.0.1:4000/forum/viewtopic.php?t=1").expect("url")));
        assert!(!p
            .rules
            .contains(&Url::parse("http://127.0.0.1:4000/other/").expect("url")));
    }
}
