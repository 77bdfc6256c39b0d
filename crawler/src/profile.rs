//! Site profiles: how to crawl one site and turn its pages into documents.
//!
//! A profile is TOML (`deny_unknown_fields`), parsed once into a validated
//! [`SiteProfile`] whose selectors and patterns are compiled; a profile that
//! loads cannot fail later for a bad selector.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use encoding_rs::Encoding;
use regex::Regex;
use scraper::Selector;
use serde::Deserialize;
use url::Url;

use crate::canonical::{UrlRules, DEFAULT_STRIP_PARAMS};
use crate::dates::SiteZone;
use crate::engines::{any_links, any_topic_url, EngineChoice, PresetLinks};
use crate::error::ProfileError;
use crate::fetch::RateFloor;
use crate::recrawl::RecrawlPolicy;
use crate::selectors::{Compiler, ListSelectors, RawList, RawTopic, RuleOrigin};
use crate::session::{parse_cookie_file, parse_cookie_line, Secret, SessionConfig};

pub use crate::selectors::{FieldSpec, TopicSelectors};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    base_url: String,
    #[serde(default)]
    mirrors: Vec<String>,
    #[serde(default)]
    seeds: Vec<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    currency: Option<String>,
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
    #[serde(default)]
    concurrency: Option<usize>,
    #[serde(default)]
    min_transfer_rate: Option<RawRateFloor>,
    #[serde(default)]
    links: RawLinks,
    #[serde(default)]
    recrawl: Option<RawRecrawl>,
    #[serde(default)]
    session: Option<RawSession>,
    /// An engine preset (`phpbb`, …), `auto` or `generic`; see `engines`.
    #[serde(default)]
    engine: Option<String>,
    #[serde(default)]
    list: Option<RawList>,
    #[serde(default)]
    topic: Option<RawTopic>,
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLinks {
    #[serde(default)]
    follow: Vec<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default)]
    strip_params: Option<Vec<String>>,
    #[serde(default)]
    sort_params: Option<bool>,
}

/// Requests per minute and burst for one site.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub per_minute: NonZeroU32,
    pub burst: NonZeroU32,
    /// How much wider than the budget's own interval requests are spaced,
    /// in percent (default 2): the site's clock sees our requests after a
    /// variable delay, and a request that arrives late followed by one on
    /// time would otherwise look like a burst to it.
    pub headroom_percent: u8,
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

/// Which links of a page the crawler follows.
#[derive(Debug, Clone)]
pub struct LinkRules {
    /// Elements whose `href` is followed (`a` elements, or containers of them).
    pub follow: Vec<Selector>,
    /// A followed URL must match one of these (when any are given)…
    pub allow: Vec<Regex>,
    /// …and none of these (both matched against the canonical URL).
    pub deny: Vec<Regex>,
    /// How URLs are canonicalised (session and tracking parameters).
    pub url_rules: UrlRules,
}

/// A validated site profile.
#[derive(Debug, Clone)]
pub struct SiteProfile {
    /// Site id; documents carry it.
    pub name: String,
    /// The site's root; the crawl never leaves its host and path prefix.
    pub base_url: Url,
    /// Other roots of the same site (mirrors, an old onion address): links
    /// into them are in scope and are crawled at the same place under
    /// `base_url`, so a listing has one URL whichever mirror linked it.
    pub mirrors: Vec<Url>,
    /// Start pages (absolute, resolved against `base_url`).
    pub seeds: Vec<Url>,
    pub lang: Option<String>,
    /// The currency of prices written as a bare number (`0.013902` on a
    /// market that quotes BTC), if the site has one.
    pub currency: Option<prices::Currency>,
    pub encoding: Option<&'static Encoding>,
    /// The site's clock: a UTC offset or a named zone (DST-aware).
    pub zone: SiteZone,
    /// Whether the profile (or its fixed preset) set the zone; if not, a
    /// preset recognised on the page may supply its own.
    pub time_zone_given: bool,
    pub max_pages: usize,
    pub max_depth: u32,
    pub user_agent: Option<String>,
    /// Extra request headers; values are secrets (they may carry cookies).
    pub headers: Vec<(String, Secret)>,
    pub rate_limit: RateLimit,
    /// Requests in flight to this site at once.
    pub concurrency: usize,
    /// The slowest transfer tolerated from this site, instead of the
    /// service's (`bytes_per_sec = 0`: none); `None`: the service's.
    pub min_transfer_rate: Option<RateFloor>,
    pub links: LinkRules,
    pub recrawl: RecrawlPolicy,
    pub session: SessionConfig,
    /// How extraction rules are chosen: own selectors, a preset, auto.
    pub engine: EngineChoice,
    /// List-page rows (fields left out fall back to the preset).
    pub list: ListSelectors,
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
        if let Some(host) = base_url.host_str().filter(|h| crate::onion::is_onion(h)) {
            crate::onion::validate_onion_host(host)
                .map_err(|e| invalid("base_url", e.to_string()))?;
        }
        let currency = match raw.currency.as_deref() {
            None => None,
            Some(code) => Some(prices::Currency::from_code(code).ok_or_else(|| {
                invalid(
                    "currency",
                    format!("{code:?} is not a currency this parser knows; write e.g. \"BTC\", \"XMR\", \"USDT\", \"USD\", \"CNY\" or \"JPY\""),
                )
            })?),
        };
        let mut mirrors = Vec::new();
        for mirror in &raw.mirrors {
            let url = Url::parse(mirror).map_err(|e| {
                invalid(
                    "mirrors",
                    format!("{mirror:?} is not an absolute URL ({e}); write e.g. \"http://example.onion/\""),
                )
            })?;
            if let Some(host) = url.host_str().filter(|h| crate::onion::is_onion(h)) {
                crate::onion::validate_onion_host(host)
                    .map_err(|e| invalid("mirrors", e.to_string()))?;
            }
            // A mirror is a folder: `/bbs` means `/bbs/`, never `/bbsx`.
            let mut url = url;
            if !url.path().ends_with('/') {
                let folder = format!("{}/", url.path());
                url.set_path(&folder);
            }
            url.set_query(None);
            url.set_fragment(None);
            mirrors.push(url);
        }
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
        let engine = match raw.engine.as_deref() {
            Some(name) => EngineChoice::parse(name).ok_or_else(|| {
                invalid(
                    "engine",
                    format!(
                        "unknown engine {name:?}; use one of {}",
                        EngineChoice::known_names()
                    ),
                )
            })?,
            None if raw.topic.is_some() => EngineChoice::Custom,
            None => EngineChoice::Auto,
        };
        let preset = match engine {
            EngineChoice::Fixed(e) => Some(e.preset()),
            _ => None,
        };
        let time_zone = raw.time_zone.clone().or_else(|| {
            preset.and_then(|p| {
                p.time_zone
                    .clone()
                    .or_else(|| p.base.and_then(|b| b.preset().time_zone.clone()))
            })
        });
        let zone = match time_zone.as_deref() {
            None => SiteZone::utc(),
            Some(tz) => SiteZone::parse(tz).ok_or_else(|| {
                invalid(
                    "time_zone",
                    format!(
                        "{tz:?} is neither a UTC offset nor a time zone name; write e.g. \"+08:00\", \"UTC\" or \"Asia/Shanghai\""
                    ),
                )
            })?,
        };
        let rate_limit = match raw.rate_limit {
            None => RateLimit {
                per_minute: NonZeroU32::new(30).expect("30 is not zero"),
                burst: NonZeroU32::new(1).expect("1 is not zero"),
                headroom_percent: RateLimit::DEFAULT_HEADROOM_PERCENT,
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
        let link_defaults: Option<PresetLinks> = match engine {
            EngineChoice::Custom => None,
            EngineChoice::Fixed(e) => Some(e.preset().links.clone()),
            EngineChoice::Auto | EngineChoice::Generic => Some(any_links()),
        };
        let (follow, allow, deny) = match (&link_defaults, raw.links.follow.is_empty()) {
            (None, true) => {
                return Err(invalid(
                    "links.follow",
                    "list the selectors of links to follow, or set engine = \"phpbb\" (or another preset, or \"auto\")".into(),
                ))
            }
            // A preset's links, with the profile's allow replacing and its
            // deny adding to the preset's.
            (Some(d), true) => (
                d.follow.clone(),
                if raw.links.allow.is_empty() { d.allow.clone() } else { raw.links.allow.clone() },
                d.deny.iter().chain(&raw.links.deny).cloned().collect(),
            ),
            (_, false) => (raw.links.follow.clone(), raw.links.allow.clone(), raw.links.deny.clone()),
        };
        let links = LinkRules {
            follow: follow
                .iter()
                .map(|css| selector("links.follow", css))
                .collect::<Result<_, _>>()?,
            allow: allow
                .iter()
                .map(|r| regex("links.allow", r))
                .collect::<Result<_, _>>()?,
            deny: deny
                .iter()
                .map(|r| regex("links.deny", r))
                .collect::<Result<_, _>>()?,
            url_rules: match &raw.links.strip_params {
                Some(names) => UrlRules::new(
                    names.iter().map(String::as_str),
                    raw.links.sort_params.unwrap_or(true),
                ),
                None => UrlRules::new(
                    DEFAULT_STRIP_PARAMS.iter().copied(),
                    raw.links.sort_params.unwrap_or(true),
                ),
            },
        };
        let recrawl = match raw.recrawl {
            None => RecrawlPolicy::default(),
            Some(r) => {
                let default = RecrawlPolicy::default();
                let interval = |field: &str, value: Option<String>, default: Duration| {
                    match value {
                    None => Ok(default),
                    Some(v) => parse_duration(&v).ok_or_else(|| {
                        invalid(field, format!("{v:?} is not a duration; write e.g. \"90s\", \"30m\", \"1h\" or \"7d\""))
                    }),
                }
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
        let compiler = Compiler {
            path,
            origin: RuleOrigin::Profile,
        };
        let raw_topic = raw.topic.unwrap_or_default();
        let topic_url = match (&raw_topic.url, engine) {
            (Some(url), _) => regex("topic.url", url)?,
            (None, EngineChoice::Fixed(e)) => e.preset().topic.url.clone(),
            (None, EngineChoice::Auto | EngineChoice::Generic) => {
                regex("topic.url", &any_topic_url())?
            }
            (None, EngineChoice::Custom) => {
                return Err(invalid(
                    "topic.url",
                    "a regex on the URLs of topic pages is required without an engine".into(),
                ))
            }
        };
        let topic = compiler.topic(raw_topic, topic_url)?;
        if engine == EngineChoice::Custom && topic.title.is_none() && topic.body.is_none() {
            return Err(invalid(
                "topic",
                "give topic.title or topic.body selectors, or set engine = \"phpbb\" (or another preset, or \"auto\")".into(),
            ));
        }
        let list = compiler.list(raw.list.unwrap_or_default())?;
        Ok(SiteProfile {
            name: raw.name,
            base_url,
            mirrors,
            currency,
            seeds,
            lang: raw.lang,
            encoding,
            zone,
            time_zone_given: time_zone.is_some(),
            max_pages: raw.max_pages.unwrap_or(10_000),
            max_depth: raw.max_depth.unwrap_or(20),
            user_agent: raw.user_agent,
            headers,
            rate_limit,
            concurrency,
            min_transfer_rate,
            links,
            recrawl,
            session,
            engine,
            list,
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
        within(url, &self.base_url)
    }

    /// `url` moved from a mirror to the same place under `base_url`
    /// (unchanged when it is not under a mirror).
    pub fn to_primary(&self, url: Url) -> Url {
        if self.contains(&url) {
            return url;
        }
        let Some(mirror) = self.mirrors.iter().find(|m| within(&url, m)) else {
            return url;
        };
        let mut moved = self.base_url.clone();
        let rest = url.path().strip_prefix(mirror.path()).unwrap_or("");
        let base = self.base_url.path();
        let base = base.strip_suffix('/').unwrap_or(base);
        moved.set_path(&format!("{base}/{rest}"));
        moved.set_query(url.query());
        moved.set_fragment(url.fragment());
        moved
    }

    /// `url` (under `base_url`) moved to the same place under root `root`:
    /// 0 is `base_url` itself, `k` the k-th mirror. Unchanged when `url` is
    /// not under `base_url` or there is no such mirror.
    pub fn on_root(&self, url: &Url, root: usize) -> Url {
        let Some(mirror) = root.checked_sub(1).and_then(|k| self.mirrors.get(k)) else {
            return url.clone();
        };
        if !self.contains(url) {
            return url.clone();
        }
        let rest = url
            .path()
            .strip_prefix(self.base_url.path())
            .unwrap_or("")
            .trim_start_matches('/');
        let mut moved = mirror.clone();
        moved.set_path(&format!("{}{rest}", mirror.path()));
        moved.set_query(url.query());
        moved.set_fragment(url.fragment());
        moved
    }

    /// Whether `url` is under `base_url` or one of the mirrors.
    pub fn contains_any(&self, url: &Url) -> bool {
        self.contains(url) || self.mirrors.iter().any(|m| within(url, m))
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

/// `90s`, `30m`, `1h`, `7d`, or plain seconds.
fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = number.parse().ok()?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// Whether `url` is under `root` (same scheme, host, port and path prefix).
fn within(url: &Url, root: &Url) -> bool {
    url.scheme() == root.scheme()
        && url.host_str() == root.host_str()
        && url.port_or_known_default() == root.port_or_known_default()
        && url.path().starts_with(root.path())
}

pub(crate) fn parse_utc_offset(tz: &str) -> Option<i32> {
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
            .unwrap_err()
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
            p.zone,
            SiteZone::from_offset_secs(8 * 3600).expect("offset")
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
            .unwrap_err()
            .to_string();
        assert!(err.contains("min_transfer_rate.window_secs"), "{err}");
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
            .unwrap_err()
            .to_string();
        assert!(err.contains("recrawl.list_interval"), "{err}");
        let missing = MINIMAL.replace(
            "[topic]",
            "[session]\ncookie_file = \"no-such-jar.txt\"\n[topic]",
        );
        let err = SiteProfile::parse(&missing, Path::new("/nonexistent/m.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no-such-jar.txt"), "{err}");
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
