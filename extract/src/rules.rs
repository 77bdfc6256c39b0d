//! Extraction rules of one site: where the site is (its root and mirrors),
//! how its pages are read (time zone, encoding, currency, engine preset and
//! selectors) and which of its links are followed. The extraction half of a
//! site profile; the crawler parses the crawl half (seeds, limits, rate,
//! recrawl, session) from the same TOML file.
//!
//! Rules are TOML, parsed once into validated [`SiteRules`] whose selectors
//! and patterns are compiled: rules that load cannot fail later for a bad
//! selector.

use std::path::Path;

use encoding_rs::Encoding;
use regex::{Regex, RegexSet};
use scraper::Selector;
use serde::Deserialize;
use url::Url;

use crate::canonical::{UrlRules, DEFAULT_STRIP_PARAMS};
use crate::dates::SiteZone;
use crate::engines::telegram::TelegramChannel;
use crate::engines::{any_links, any_topic_url, Engine, EngineChoice, PresetLinks};
use crate::error::ProfileError;
use crate::selectors::{Compiler, ListSelectors, RawList, RawTopic, RuleOrigin, TopicSelectors};

/// The top-level keys these rules read from a profile file.
pub const RULE_KEYS: &[&str] = &[
    "name",
    "base_url",
    "mirrors",
    "lang",
    "currency",
    "encoding",
    "time_zone",
    "engine",
    "links",
    "list",
    "topic",
    "channels",
];

#[derive(Debug, Deserialize)]
struct RawRules {
    name: String,
    /// Required, except for Telegram channels (then `https://t.me/`).
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    mirrors: Vec<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    time_zone: Option<String>,
    #[serde(default)]
    links: RawLinks,
    /// An engine preset (`phpbb`, …), `auto` or `generic`; see `engines`.
    #[serde(default)]
    engine: Option<String>,
    #[serde(default)]
    list: Option<RawList>,
    #[serde(default)]
    topic: Option<RawTopic>,
    /// Telegram channels (names or t.me links) read through `base_url`'s
    /// public previews.
    #[serde(default)]
    channels: Option<Vec<String>>,
}

/// Where Telegram's public channel previews are, when a profile names no
/// other host (`telegram.me` and mirrors serve the same pages).
pub const TELEGRAM_PREVIEW_ROOT: &str = "https://t.me/";

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

/// Which links of a page the crawler follows.
#[derive(Debug, Clone)]
pub struct LinkRules {
    /// Elements whose `href` is followed (`a` elements, or containers of them).
    pub follow: Vec<Selector>,
    /// A followed URL must match one of these (when any are given)…
    pub allow: Vec<Regex>,
    /// …and none of these (both matched against the canonical URL).
    pub deny: Vec<Regex>,
    /// `deny` as one set: a link is tested against every pattern in one
    /// pass.
    pub deny_set: RegexSet,
    /// The site's login page: never followed.
    pub login_url: Option<Regex>,
    /// How URLs are canonicalised (session and tracking parameters).
    pub url_rules: UrlRules,
}

/// The validated extraction rules of one site.
#[derive(Debug, Clone)]
pub struct SiteRules {
    /// Site id; documents carry it.
    pub name: String,
    /// The site's root; links outside its host and path prefix are out of scope.
    pub base_url: Url,
    /// Other roots of the same site (mirrors, an old onion address): links
    /// into them are in scope, at the same place under `base_url`, so a
    /// listing has one URL whichever mirror linked it.
    pub mirrors: Vec<Url>,
    /// The language of the site's pages (`zh`, `ja`, `en`), copied onto its
    /// documents; `None` when the profile does not say.
    pub lang: Option<String>,
    /// The currency of prices written as a bare number (`0.013902` on a
    /// market that quotes BTC), if the site has one.
    pub currency: Option<prices::Currency>,
    /// The profile's encoding override, for sites whose headers lie: used to
    /// decode pages that have no BOM and to encode link queries. `None`:
    /// the page's own label or detection decides.
    pub encoding: Option<&'static Encoding>,
    /// The site's clock: a UTC offset or a named zone (DST-aware).
    pub zone: SiteZone,
    /// Whether the rules (or their fixed preset) set the zone; if not, a
    /// preset recognised on the page may supply its own.
    pub time_zone_given: bool,
    /// Whether the rules name their own `topic.url`; if not, under `auto`
    /// the recognised engine's pattern says which pages are topics.
    pub topic_url_given: bool,
    /// Which links are followed and how their URLs are canonicalised.
    pub links: LinkRules,
    /// How extraction rules are chosen: own selectors, a preset, auto.
    pub engine: EngineChoice,
    /// List-page rows (fields left out fall back to the preset).
    pub list: ListSelectors,
    /// Which pages are topics, and where a topic page's fields are (fields
    /// left out fall back to the preset).
    pub topic: TopicSelectors,
    /// The Telegram channels of a `telegram` profile, read through the
    /// public previews on `base_url`'s host (see
    /// [`SiteRules::channel_start_urls`]).
    pub channels: Vec<TelegramChannel>,
}

impl SiteRules {
    /// Loads and validates a rules (or whole profile) file that has no keys
    /// but the rules' own.
    pub fn load(path: &Path) -> Result<SiteRules, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.to_owned(),
            source,
        })?;
        SiteRules::parse(&text, path)
    }

    /// Parses and validates rules; any top-level key but [`RULE_KEYS`] is
    /// an error. `path` is used in errors only.
    pub fn parse(text: &str, path: &Path) -> Result<SiteRules, ProfileError> {
        SiteRules::parse_with(text, path, &[])
    }

    /// Parses the rules of a profile file whose other top-level keys
    /// `others` belong to someone else (the crawler's settings); any key in
    /// neither set is an error naming its line.
    pub fn parse_with(text: &str, path: &Path, others: &[&str]) -> Result<SiteRules, ProfileError> {
        let raw: RawRules = toml::from_str(text).map_err(|e| parse_error(text, path, &e))?;
        check_top_level_keys(text, path, others)?;
        SiteRules::from_raw(raw, path)
    }

    /// Validates and compiles rules read from `path`.
    fn from_raw(raw: RawRules, path: &Path) -> Result<SiteRules, ProfileError> {
        let invalid = |field: &str, message: String| ProfileError::Invalid {
            path: path.to_owned(),
            field: field.to_owned(),
            message,
        };
        if raw.name.trim().is_empty() {
            return Err(invalid("name", "must not be empty".into()));
        }
        let base_url_text = match (&raw.base_url, &raw.channels) {
            (Some(url), _) => url.clone(),
            (None, Some(_)) => TELEGRAM_PREVIEW_ROOT.to_owned(),
            (None, None) => {
                return Err(invalid(
                    "base_url",
                    "missing; write the site's root, e.g. \"http://example.onion/\"".into(),
                ))
            }
        };
        let base_url = Url::parse(&base_url_text).map_err(|e| {
            invalid(
                "base_url",
                format!(
                    "{base_url_text:?} is not an absolute URL ({e}); write e.g. \"http://example.onion/\""
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
            None if raw.channels.is_some() => EngineChoice::Fixed(Engine::Telegram),
            None if raw.topic.is_some() => EngineChoice::Custom,
            None => EngineChoice::Auto,
        };
        let channels = match &raw.channels {
            None => Vec::new(),
            Some(entries) => telegram_channels(entries, &base_url, engine, &invalid)?,
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
            deny_set: RegexSet::new(&deny).map_err(|e| {
                invalid(
                    "links.deny",
                    format!("the patterns do not build one set: {e}"),
                )
            })?,
            login_url: None,
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
        let compiler = Compiler {
            path,
            origin: RuleOrigin::Profile,
        };
        let raw_topic = raw.topic.unwrap_or_default();
        let topic_url_given = raw_topic.url.is_some();
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
        Ok(SiteRules {
            name: raw.name,
            base_url,
            channels,
            mirrors,
            currency,
            lang: raw.lang,
            encoding,
            zone,
            time_zone_given: time_zone.is_some(),
            topic_url_given,
            links,
            engine,
            list,
            topic,
        })
    }

    /// Rules with nothing but a name, a root URL and an engine choice: what
    /// `extract --engine` uses, and all a site on a known engine needs.
    pub fn for_engine(
        name: &str,
        base_url: &Url,
        engine: EngineChoice,
    ) -> Result<SiteRules, ProfileError> {
        let raw = RawRules {
            name: name.to_owned(),
            base_url: Some(base_url.to_string()),
            channels: None,
            mirrors: Vec::new(),
            lang: None,
            currency: None,
            encoding: None,
            time_zone: None,
            links: RawLinks::default(),
            engine: (engine != EngineChoice::Custom).then(|| engine.to_string()),
            list: None,
            topic: None,
        };
        SiteRules::from_raw(raw, Path::new("(--engine)"))
    }

    /// Where a crawl of a `telegram` profile starts: each channel's public
    /// preview on `base_url`'s host (`https://t.me/s/<channel>`), in the
    /// order `channels` lists them.
    pub fn channel_start_urls(&self) -> Vec<Url> {
        self.channels
            .iter()
            .map(|c| c.preview_url(&self.base_url))
            .collect()
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
}

/// `channels`, validated: each entry a channel name or link (trimmed), none
/// twice, at least one, on a `telegram` profile whose `base_url` is the
/// preview host's root. An error names the entry and the fix.
fn telegram_channels(
    entries: &[String],
    base_url: &Url,
    engine: EngineChoice,
    invalid: &dyn Fn(&str, String) -> ProfileError,
) -> Result<Vec<TelegramChannel>, ProfileError> {
    if engine != EngineChoice::Fixed(Engine::Telegram) {
        return Err(invalid(
            "channels",
            format!(
                "lists Telegram channels, which engine = \"{engine}\" does not read; set engine = \"telegram\" (or leave engine out)"
            ),
        ));
    }
    if base_url.path() != "/" || base_url.query().is_some() {
        return Err(invalid(
            "base_url",
            format!(
                "{:?}: with channels, base_url is the preview host's root, e.g. \"https://t.me/\" (previews are at /s/<channel>)",
                base_url.as_str()
            ),
        ));
    }
    if entries.is_empty() {
        return Err(invalid(
            "channels",
            "is empty; list channel names or links, e.g. channels = [\"durov\", \"https://t.me/telegram\"]".into(),
        ));
    }
    let host = base_url.host_str().unwrap_or_default();
    let mut channels: Vec<TelegramChannel> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let channel = TelegramChannel::parse(entry, host).map_err(|why| {
            invalid(
                "channels",
                format!(
                    "entry {} ({entry:?}): {why}; write a channel name such as \"durov\" or its link \"https://t.me/durov\"",
                    i + 1
                ),
            )
        })?;
        if let Some(earlier) = channels
            .iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(channel.as_str()))
        {
            return Err(invalid(
                "channels",
                format!(
                    "entry {} ({entry:?}): channel {earlier} is listed twice (Telegram names ignore case)",
                    i + 1
                ),
            ));
        }
        channels.push(channel);
    }
    Ok(channels)
}

/// A TOML error with the file and line.
pub fn parse_error(text: &str, path: &Path, e: &toml::de::Error) -> ProfileError {
    ProfileError::Parse {
        path: path.to_owned(),
        line: e.span().map_or(0, |s| line_of(text, s.start)),
        message: e.message().to_owned(),
    }
}

/// Rejects a top-level key that is neither a rule key nor one of `others`,
/// naming its line and the keys that are known.
fn check_top_level_keys(text: &str, path: &Path, others: &[&str]) -> Result<(), ProfileError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| parse_error(text, path, &e))?;
    let Some(unknown) = table
        .keys()
        .find(|k| !RULE_KEYS.contains(&k.as_str()) && !others.contains(&k.as_str()))
    else {
        return Ok(());
    };
    let mut known: Vec<&str> = RULE_KEYS.iter().chain(others).copied().collect();
    known.sort_unstable();
    let line = text
        .lines()
        .position(|l| {
            let l = l.trim_start().trim_start_matches('[').trim_start();
            l.strip_prefix(unknown.as_str())
                .is_some_and(|rest| rest.trim_start().starts_with(['=', ']', '.']))
        })
        .map_or(0, |i| i + 1);
    Err(ProfileError::Parse {
        path: path.to_owned(),
        line,
        message: format!(
            "unknown field `{unknown}`, expected one of {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// 1-based line number of byte offset `at` in `text`.
pub fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Whether `url` is under `root` (same scheme, host, port and path prefix).
fn within(url: &Url, root: &Url) -> bool {
    url.scheme() == root.scheme()
        && url.host_str() == root.host_str()
        && url.port_or_known_default() == root.port_or_known_default()
        && url.path().starts_with(root.path())
}

/// `+08:00`, `-0330`, `UTC+9` as seconds east of UTC.
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
        let err = SiteRules::parse(&text, Path::new("m.toml"))
            .expect_err("a wrong onion checksum is rejected")
            .to_string();
        assert!(
            err.contains("base_url") && err.contains("checksum"),
            "{err}"
        );
    }

    #[test]
    fn minimal_rules_load() {
        let r = SiteRules::parse(MINIMAL, Path::new("m.toml")).expect("valid rules");
        assert_eq!(
            r.zone,
            SiteZone::from_offset_secs(8 * 3600).expect("offset")
        );
        assert_eq!(r.engine, EngineChoice::Custom);
    }

    #[test]
    fn unknown_key_names_the_line() {
        let text = MINIMAL.replace("time_zone", "timezone");
        let err = SiteRules::parse(&text, Path::new("m.toml"))
            .expect_err("an unknown key is rejected")
            .to_string();
        assert!(err.starts_with("m.toml:4:"), "{err}");
        assert!(err.contains("timezone"), "{err}");
        // Another party's keys are accepted when named.
        let text = format!("seeds = [\"a\"]\n{MINIMAL}");
        assert!(SiteRules::parse(&text, Path::new("m.toml")).is_err());
        assert!(SiteRules::parse_with(&text, Path::new("m.toml"), &["seeds"]).is_ok());
    }

    #[test]
    fn bad_selector_is_rejected_at_load() {
        let text = MINIMAL.replace("\"h2\"", "\"h2[[\"");
        let err = SiteRules::parse(&text, Path::new("m.toml"))
            .expect_err("a bad selector is rejected")
            .to_string();
        assert!(
            err.contains("topic.title") && err.contains("bad CSS selector"),
            "{err}"
        );
    }
}
