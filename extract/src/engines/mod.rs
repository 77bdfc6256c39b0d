//! Engine presets shipped in the binary (phpBB, MyBB, XenForo, Discuz!, SMF,
//! vBulletin, Invision Community, the 暗网中文网-style market; Telegram
//! channel previews and paste sites) and recognition of the engine from a
//! page. A preset is the same `[links]`/`[list]`/`[topic]` shape as a
//! profile, so a site on a known engine needs only its URL; Telegram and
//! paste pages are no forum lists and topics, and have readers of their own.

pub(crate) mod paste;
pub(crate) mod telegram;

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use scraper::{Html, Selector};
use serde::Deserialize;

use crate::selectors::{Compiler, ListSelectors, RawList, RawTopic, RuleOrigin, TopicSelectors};

/// A forum or market engine with a shipped preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// phpBB 3 (prosilver and derivatives).
    Phpbb,
    /// The 暗网中文网-style market: phpBB topic pages with a 交易信息 block.
    Anwang,
    /// MyBB 1.8.
    Mybb,
    /// XenForo 1 and 2.
    Xenforo,
    /// Discuz! X.
    Discuz,
    /// Simple Machines Forum.
    Smf,
    /// vBulletin 3, 4 and 5.
    Vbulletin,
    /// Invision Community 4 (IPB), with IPB 3's URLs.
    Invision,
    /// Telegram public-channel previews (`https://t.me/s/<channel>`).
    Telegram,
    /// Paste sites in pastebin's markup: paste pages and the archive.
    Paste,
}

/// Every engine, in the order detection prefers them (the market before the
/// phpBB it is built on).
pub const ENGINES: [Engine; 10] = [
    Engine::Anwang,
    Engine::Phpbb,
    Engine::Mybb,
    Engine::Xenforo,
    Engine::Discuz,
    Engine::Smf,
    Engine::Vbulletin,
    Engine::Invision,
    Engine::Telegram,
    Engine::Paste,
];

impl Engine {
    /// The name used in profiles and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Phpbb => "phpbb",
            Engine::Anwang => "anwang",
            Engine::Mybb => "mybb",
            Engine::Xenforo => "xenforo",
            Engine::Discuz => "discuz",
            Engine::Smf => "smf",
            Engine::Vbulletin => "vbulletin",
            Engine::Invision => "invision",
            Engine::Telegram => "telegram",
            Engine::Paste => "paste",
        }
    }

    /// Whether the engine's pages are read by a reader of its own (a
    /// channel's messages, a paste and the paste archive) rather than by
    /// list and topic selectors. Such engines take no part in what `auto`
    /// profiles follow and call topic pages: those are forums' rules.
    pub fn has_own_reader(self) -> bool {
        matches!(self, Engine::Telegram | Engine::Paste)
    }

    /// The engine of a name (any case; a few common aliases).
    pub fn from_name(name: &str) -> Option<Engine> {
        match name.trim().to_ascii_lowercase().as_str() {
            "phpbb" | "phpbb3" | "prosilver" => Some(Engine::Phpbb),
            "anwang" | "anwang-market" | "暗网中文网" => Some(Engine::Anwang),
            "mybb" => Some(Engine::Mybb),
            "xenforo" | "xf" => Some(Engine::Xenforo),
            "discuz" | "discuz!" | "discuzx" => Some(Engine::Discuz),
            "smf" | "simplemachines" => Some(Engine::Smf),
            "vbulletin" | "vb" | "vb3" | "vb4" | "vb5" => Some(Engine::Vbulletin),
            "invision" | "ipb" | "ips" | "ipboard" | "invisioncommunity" => Some(Engine::Invision),
            "telegram" | "tg" | "t.me" => Some(Engine::Telegram),
            "paste" | "pastebin" => Some(Engine::Paste),
            _ => None,
        }
    }

    fn preset_text(self) -> &'static str {
        match self {
            Engine::Phpbb => include_str!("phpbb.toml"),
            Engine::Anwang => include_str!("anwang.toml"),
            Engine::Mybb => include_str!("mybb.toml"),
            Engine::Xenforo => include_str!("xenforo.toml"),
            Engine::Discuz => include_str!("discuz.toml"),
            Engine::Smf => include_str!("smf.toml"),
            Engine::Vbulletin => include_str!("vbulletin.toml"),
            Engine::Invision => include_str!("invision.toml"),
            Engine::Telegram => include_str!("telegram.toml"),
            Engine::Paste => include_str!("paste.toml"),
        }
    }

    /// The compiled preset.
    pub fn preset(self) -> &'static Preset {
        let i = ENGINES
            .iter()
            .position(|e| *e == self)
            .expect("ENGINES lists every engine");
        &PRESETS[i]
    }
}

/// How a profile chooses its extraction rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineChoice {
    /// Only the profile's own selectors (no `engine` key, `[topic]` given).
    Custom,
    /// One engine's preset under the profile's overrides.
    Fixed(Engine),
    /// Recognise the engine on each page; generic extraction when none is.
    Auto,
    /// Generic extraction only (repeated rows, main text).
    Generic,
}

impl EngineChoice {
    /// Parses `engine = "…"`/`--engine`: an engine name, `auto` or `generic`.
    pub fn parse(name: &str) -> Option<EngineChoice> {
        match name.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(EngineChoice::Auto),
            "generic" => Some(EngineChoice::Generic),
            "none" | "custom" => Some(EngineChoice::Custom),
            other => Engine::from_name(other).map(EngineChoice::Fixed),
        }
    }

    /// The names accepted, for error messages.
    pub fn known_names() -> String {
        let mut names: Vec<&str> = ENGINES.iter().map(|e| e.name()).collect();
        names.extend(["auto", "generic"]);
        names.join(", ")
    }
}

impl std::fmt::Display for EngineChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineChoice::Custom => f.write_str("custom"),
            EngineChoice::Fixed(e) => f.write_str(e.name()),
            EngineChoice::Auto => f.write_str("auto"),
            EngineChoice::Generic => f.write_str("generic"),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPreset {
    #[serde(default)]
    extends: Option<String>,
    #[serde(default)]
    time_zone: Option<String>,
    links: PresetLinks,
    #[serde(default)]
    list: RawList,
    #[serde(default)]
    topic: RawTopic,
}

/// A preset's link rules, as text: the profile loader compiles them with its
/// own (and the profile's) rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetLinks {
    /// CSS selectors of the elements whose links are followed (`a`
    /// elements, or containers of them).
    pub follow: Vec<String>,
    /// Regexes a followed URL must match one of; empty: any in-site URL.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Regexes of URLs never followed (login, posting and profile pages).
    #[serde(default)]
    pub deny: Vec<String>,
}

/// A compiled engine preset.
#[derive(Debug, Clone)]
pub struct Preset {
    /// The engine this preset reads.
    pub engine: Engine,
    /// The preset this one refines (its fields fill the gaps).
    pub base: Option<Engine>,
    /// The time zone the engine's sites usually print (`+08:00`), when a
    /// profile names none.
    pub time_zone: Option<String>,
    /// The links the engine's pages should be crawled by, as text for the
    /// profile loader to merge with the profile's own.
    pub links: PresetLinks,
    /// `links.follow`, compiled: what an engine with a reader of its own
    /// follows also when `auto` recognised it.
    pub follow: Vec<Selector>,
    /// Where the rows of the engine's list pages (board indexes, search
    /// results) and their fields are.
    pub list: ListSelectors,
    /// Which URLs are the engine's topic pages, and where their fields are.
    pub topic: TopicSelectors,
}

static PRESETS: LazyLock<Vec<Preset>> = LazyLock::new(|| {
    ENGINES
        .iter()
        .map(|&engine| {
            compile_preset(engine)
                .unwrap_or_else(|e| panic!("shipped preset {} is valid: {e}", engine.name()))
        })
        .collect()
});

fn compile_preset(engine: Engine) -> Result<Preset, String> {
    let raw: RawPreset = toml::from_str(engine.preset_text()).map_err(|e| e.to_string())?;
    let base = raw
        .extends
        .as_deref()
        .map(|name| {
            Engine::from_name(name).ok_or_else(|| format!("extends unknown engine {name:?}"))
        })
        .transpose()?;
    let file = format!("preset {}", engine.name());
    let compiler = Compiler {
        path: Path::new(&file),
        origin: RuleOrigin::Preset(engine.name()),
    };
    let url = match (&raw.topic.url, base) {
        (Some(url), _) => compiler
            .regex("topic.url", url)
            .map_err(|e| e.to_string())?,
        (None, Some(base)) => {
            let text =
                toml::from_str::<RawPreset>(base.preset_text()).map_err(|e| e.to_string())?;
            let url = text.topic.url.ok_or("the base preset has no topic.url")?;
            compiler
                .regex("topic.url", &url)
                .map_err(|e| e.to_string())?
        }
        (None, None) => return Err("topic.url is missing".into()),
    };
    let follow = raw
        .links
        .follow
        .iter()
        .map(|css| compiler.selector("links.follow", css))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    Ok(Preset {
        engine,
        base,
        time_zone: raw.time_zone,
        links: raw.links,
        follow,
        list: compiler.list(raw.list).map_err(|e| e.to_string())?,
        topic: compiler.topic(raw.topic, url).map_err(|e| e.to_string())?,
    })
}

/// The topic-page pattern of `auto`: any forum engine's.
pub(crate) fn any_topic_url() -> String {
    ENGINES
        .iter()
        .filter(|e| !e.has_own_reader())
        .filter_map(|e| toml::from_str::<RawPreset>(e.preset_text()).ok()?.topic.url)
        .map(|u| format!("(?:{u})"))
        .collect::<Vec<_>>()
        .join("|")
}

/// Pages no crawl of an unknown site should follow: logging in or out,
/// registering, user profiles, private messages, carts and posting forms.
const GENERIC_DENY: &[&str] = &[
    r"(?i)/(log_?in|log_?out|sign_?in|sign_?out|sign_?up|register|registration|join|lostpassword|lost-password)(\.php|\.html?|\.aspx?)?(?:$|[?#/])",
    r"(?i)/(user|users|profile|member|account|cart|basket|checkout|pm|messages|inbox|compose)(\.php|\.html?)?(?:$|[?#])",
    r"(?i)[?&;](action|mode|do|act)=(login|logout|register|signup|profile|reply|post|newthread|edit|delete|report)(?:$|[&#;])",
];

/// Link rules when the engine is not known in advance: every in-site link
/// except the login, posting, profile and search pages of every engine and
/// of sites in general.
pub(crate) fn any_links() -> PresetLinks {
    let mut deny: Vec<String> = GENERIC_DENY.iter().map(|d| (*d).to_owned()).collect();
    for e in ENGINES.into_iter().filter(|e| !e.has_own_reader()) {
        for d in &e.preset().links.deny {
            if !deny.contains(d) {
                deny.push(d.clone());
            }
        }
    }
    // The rules test them all in one pass (a `RegexSet`), and name the one
    // that matched.
    PresetLinks {
        follow: vec!["a[href]".to_owned()],
        allow: Vec::new(),
        deny,
    }
}

/// The engine a page was made with, and the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// The engine with the highest score.
    pub engine: Engine,
    /// What on the page gave it away, comma-separated, for `--explain`:
    /// `Powered by phpBB, a.topictitle links`.
    pub evidence: String,
}

/// One piece of evidence: text in the raw page (markup the engine's
/// templates always print), worth `weight` for `engine`. Raw text, not
/// selectors: detection must cost next to nothing beside the parse.
struct Signal {
    engine: Engine,
    weight: u32,
    what: &'static str,
    text: &'static str,
}

const fn signal(engine: Engine, weight: u32, what: &'static str, text: &'static str) -> Signal {
    Signal {
        engine,
        weight,
        what,
        text,
    }
}

const SIGNALS: &[Signal] = &[
    signal(
        Engine::Anwang,
        6,
        "交易信息 block (table.v_table_1)",
        "class=\"v_table_1\"",
    ),
    signal(Engine::Anwang, 4, "交易编号 label", "交易编号"),
    signal(Engine::Anwang, 3, "主题帖交易信息一览", "交易信息一览"),
    signal(
        Engine::Anwang,
        6,
        "2020 trade list (table.u_ea_a)",
        "class=u_ea_a",
    ),
    signal(Engine::Anwang, 3, "ea.php?ea= category lists", "ea.php?ea="),
    signal(
        Engine::Anwang,
        2,
        "viewtopic.php?tid= links",
        "viewtopic.php?tid=",
    ),
    signal(Engine::Phpbb, 5, "<body id=\"phpbb\">", "id=\"phpbb\""),
    signal(Engine::Phpbb, 5, "phpBB style comment", "phpBB style name"),
    signal(Engine::Phpbb, 4, "Powered by phpBB", "phpBB</a>"),
    signal(
        Engine::Phpbb,
        3,
        "a.topictitle links",
        "class=\"topictitle\"",
    ),
    signal(
        Engine::Phpbb,
        3,
        "prosilver post markup",
        "class=\"postbody\"",
    ),
    signal(Engine::Phpbb, 2, "viewtopic.php links", "viewtopic.php?"),
    signal(Engine::Mybb, 5, "MyBB scripts", "MyBB."),
    signal(Engine::Mybb, 5, "Powered by MyBB", "mybb.com"),
    signal(Engine::Mybb, 3, "postbit markup", "post_body"),
    signal(Engine::Mybb, 3, "forumdisplay rows", "class=\"inline_row\""),
    signal(
        Engine::Mybb,
        2,
        "showthread.php links",
        "showthread.php?tid=",
    ),
    signal(Engine::Xenforo, 8, "<html id=\"XF\">", "id=\"XF\""),
    signal(
        Engine::Xenforo,
        8,
        "<html id=\"XenForo\">",
        "id=\"XenForo\"",
    ),
    signal(
        Engine::Xenforo,
        5,
        "data-xf-init attributes",
        "data-xf-init",
    ),
    signal(Engine::Xenforo, 5, "Forum software by XenForo", "XenForo"),
    signal(
        Engine::Xenforo,
        3,
        "structItem thread rows",
        "structItem--thread",
    ),
    signal(Engine::Xenforo, 3, "message--post markup", "message--post"),
    signal(Engine::Discuz, 5, "discuz_uid script", "discuz_uid"),
    signal(Engine::Discuz, 4, "Powered by Discuz!", "Discuz!"),
    signal(Engine::Discuz, 3, "td.t_f post markup", "class=\"t_f\""),
    signal(Engine::Discuz, 3, "#threadlisttableid", "threadlisttableid"),
    signal(Engine::Smf, 6, "smf_scripturl script", "smf_scripturl"),
    signal(Engine::Smf, 5, "Powered by SMF", "Simple Machines"),
    signal(Engine::Smf, 3, "#forumposts", "id=\"forumposts\""),
    signal(Engine::Smf, 3, "#messageindex", "id=\"messageindex\""),
    signal(Engine::Smf, 2, "index.php?topic= links", "index.php?topic="),
    signal(Engine::Vbulletin, 5, "Powered by vBulletin", "vBulletin"),
    signal(Engine::Vbulletin, 4, "var SESSIONURL script", "SESSIONURL"),
    signal(
        Engine::Vbulletin,
        3,
        "vb_login_username field",
        "vb_login_username",
    ),
    signal(Engine::Vbulletin, 3, "vB3 thread rows", "threadbits_forum_"),
    signal(
        Engine::Vbulletin,
        3,
        "div#post_message_N",
        "id=\"post_message_",
    ),
    signal(
        Engine::Vbulletin,
        3,
        "vB4 li.threadbit rows",
        "class=\"threadbit",
    ),
    signal(
        Engine::Vbulletin,
        4,
        "vB5 post text",
        "js-post__content-text",
    ),
    signal(Engine::Vbulletin, 3, "vB5 topic rows", "topic-item"),
    signal(Engine::Invision, 6, "<body class=\"ipsApp\">", "ipsApp"),
    signal(
        Engine::Invision,
        5,
        "Powered by Invision Community",
        "Invision Community",
    ),
    signal(
        Engine::Invision,
        5,
        "Invision Power Board",
        "Invision Power",
    ),
    signal(Engine::Invision, 3, "ipsDataItem rows", "ipsDataItem"),
    signal(
        Engine::Invision,
        3,
        "commentContent posts",
        "commentContent",
    ),
    signal(
        Engine::Invision,
        3,
        "cAuthorPane post author",
        "cAuthorPane",
    ),
    signal(
        Engine::Telegram,
        5,
        "Telegram message widgets (div.js-widget_message)",
        "js-widget_message",
    ),
    signal(
        Engine::Telegram,
        3,
        "data-post=\"channel/N\" messages",
        "data-post=\"",
    ),
    signal(
        Engine::Telegram,
        3,
        "a channel preview's history (section.tgme_channel_history)",
        "tgme_channel_history",
    ),
    signal(
        Engine::Telegram,
        3,
        "a channel preview's header (div.tgme_channel_info)",
        "tgme_channel_info",
    ),
    signal(
        Engine::Telegram,
        4,
        "a t.me landing page (div.tgme_page)",
        "class=\"tgme_page\"",
    ),
    signal(
        Engine::Telegram,
        2,
        "tg://resolve links",
        "tg://resolve?domain=",
    ),
    signal(
        Engine::Paste,
        4,
        "pastebin's paste view (div.post-view)",
        "js-post-view",
    ),
    signal(
        Engine::Paste,
        3,
        "pastebin's highlighted code (div.highlighted-code)",
        "class=\"highlighted-code\"",
    ),
    signal(Engine::Paste, 2, "raw links (/raw/KEY)", "href=\"/raw/"),
    signal(
        Engine::Paste,
        4,
        "pastebin's archive table (div.archive-table)",
        "class=\"archive-table\"",
    ),
    signal(
        Engine::Paste,
        3,
        "the Pastes Archive heading",
        "Pastes Archive",
    ),
];

/// All signal texts, found in one pass over the page.
static SIGNAL_TEXTS: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
    aho_corasick::AhoCorasick::new(SIGNALS.iter().map(|s| s.text))
        .expect("signal texts build an automaton")
});

/// The generator meta tag, read from the raw page (no tree walk).
static GENERATOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)<meta\s[^>]*name\s*=\s*["']?generator["']?[^>]*>"#)
        .expect("generator pattern is valid")
});
static CONTENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)content\s*=\s*["']([^"']*)"#).expect("content pattern is valid")
});
/// Generators naming an engine, and the score they give.
const GENERATORS: &[(&str, Engine, u32)] = &[
    ("discuz", Engine::Discuz, 8),
    ("mybb", Engine::Mybb, 6),
    ("phpbb", Engine::Phpbb, 6),
    ("xenforo", Engine::Xenforo, 8),
    ("smf", Engine::Smf, 6),
    ("vbulletin", Engine::Vbulletin, 8),
    ("invision", Engine::Invision, 8),
];

/// Recognises the engine of a page from its raw HTML; `None` when no engine
/// scores at least 5 (one strong signal, or two weak ones). `page` is the
/// parsed page, for signals that need the tree (none at present).
pub fn detect(_page: &Html, html: &str) -> Option<Detection> {
    let mut scores: Vec<(Engine, u32, Vec<&'static str>)> =
        ENGINES.iter().map(|&e| (e, 0, Vec::new())).collect();
    let mut add = |engine: Engine, weight: u32, what: &'static str| {
        if let Some(entry) = scores.iter_mut().find(|(e, _, _)| *e == engine) {
            entry.1 += weight;
            entry.2.push(what);
        }
    };
    let mut seen = [false; SIGNALS.len()];
    for m in SIGNAL_TEXTS.find_overlapping_iter(html) {
        seen[m.pattern().as_usize()] = true;
    }
    for (s, _) in SIGNALS.iter().zip(seen).filter(|(_, hit)| *hit) {
        add(s.engine, s.weight, s.what);
    }
    let generator = GENERATOR
        .find(html)
        .and_then(|tag| CONTENT.captures(tag.as_str()))
        .map(|c| c[1].to_ascii_lowercase())
        .unwrap_or_default();
    for &(name, engine, weight) in GENERATORS {
        if generator.contains(name) {
            add(engine, weight, "generator meta tag");
        }
    }
    // The 2018 market is phpBB too: its trade block counts on top of phpBB
    // markup. The 2020 redesign is its own software.
    let phpbb = scores
        .iter()
        .find(|(e, _, _)| *e == Engine::Phpbb)
        .map_or(0, |s| s.1);
    let redesign = SIGNALS
        .iter()
        .zip(seen)
        .any(|(s, hit)| hit && s.engine == Engine::Anwang && s.text == "class=u_ea_a");
    if let Some(market) = scores.iter_mut().find(|(e, _, _)| *e == Engine::Anwang) {
        if market.1 < 6 || (phpbb < 3 && !redesign) {
            market.1 = 0;
        } else {
            market.1 += phpbb;
        }
    }
    // Highest score wins; ties go to the order of ENGINES.
    let best = scores
        .iter()
        .enumerate()
        .max_by_key(|(i, (_, score, _))| (*score, std::cmp::Reverse(*i)))
        .map(|(_, s)| s)?;
    (best.1 >= 5).then(|| Detection {
        engine: best.0,
        evidence: best.2.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_compiles() {
        for e in ENGINES {
            let p = e.preset();
            assert_eq!(p.engine, e);
            assert!(
                p.topic.title.is_some() || p.base.is_some() || e.has_own_reader(),
                "{}",
                e.name()
            );
            assert!(!p.links.follow.is_empty(), "{}", e.name());
            assert_eq!(p.follow.len(), p.links.follow.len(), "{}", e.name());
        }
        assert_eq!(Engine::Anwang.preset().base, Some(Engine::Phpbb));
        assert!(Regex::new(&any_topic_url()).is_ok());
        for d in any_links().deny {
            assert!(Regex::new(&d).is_ok(), "{d}");
        }
    }

    #[test]
    fn names_round_trip() {
        for e in ENGINES {
            assert_eq!(Engine::from_name(e.name()), Some(e));
            assert_eq!(EngineChoice::parse(e.name()), Some(EngineChoice::Fixed(e)));
        }
        assert_eq!(EngineChoice::parse("AUTO"), Some(EngineChoice::Auto));
        assert_eq!(
            EngineChoice::parse("vbulletin"),
            Some(EngineChoice::Fixed(Engine::Vbulletin))
        );
        assert_eq!(
            EngineChoice::parse("IPB"),
            Some(EngineChoice::Fixed(Engine::Invision))
        );
        assert_eq!(
            EngineChoice::parse("pastebin"),
            Some(EngineChoice::Fixed(Engine::Paste))
        );
        assert_eq!(EngineChoice::parse("nodebb"), None);
    }

    #[test]
    fn detects_by_generator_and_markup() {
        let d = |html: &str| detect(&Html::parse_document(html), html).map(|d| d.engine);
        assert_eq!(
            d(r#"<meta name="generator" content="Discuz! X3.4"><p>x</p>"#),
            Some(Engine::Discuz)
        );
        assert_eq!(
            d(r#"<html id="XF"><body></body></html>"#),
            Some(Engine::Xenforo)
        );
        assert_eq!(
            d(r#"<body id="phpbb"><a class="topictitle" href="viewtopic.php?t=1">x</a></body>"#),
            Some(Engine::Phpbb)
        );
        assert_eq!(
            d(
                r#"<body id="phpbb"><table class="v_table_1"><tr><td>交易编号:</td><td>1</td></tr></table></body>"#
            ),
            Some(Engine::Anwang)
        );
        // A market block without phpBB around it is not the market.
        assert_eq!(
            d(r#"<table class="v_table_1"><tr><td>交易编号:</td></tr></table>"#),
            None
        );
        assert_eq!(d("<p>plain page</p>"), None);
        assert_eq!(
            d(r#"<meta name="generator" content="vBulletin 4.2.5" /><p>x</p>"#),
            Some(Engine::Vbulletin)
        );
        assert_eq!(
            d(r#"<script>var SESSIONURL = "";</script><div id="post_message_1">x</div>"#),
            Some(Engine::Vbulletin)
        );
        assert_eq!(
            d(
                r#"<body class='ipsApp ipsApp_front'><div data-role='commentContent'>x</div></body>"#
            ),
            Some(Engine::Invision)
        );
        // One weak marker is not an engine.
        assert_eq!(d(r#"<tr class="topic-item"><td>x</td></tr>"#), None);
        assert_eq!(
            d(r#"<div class="tgme_widget_message js-widget_message" data-post="x/1"></div>"#),
            Some(Engine::Telegram)
        );
        assert_eq!(
            d(r#"<div class="tgme_page"><a href="tg://resolve?domain=abcde">x</a></div>"#),
            Some(Engine::Telegram)
        );
        assert_eq!(d(r#"<div data-post="x/1">a comment</div>"#), None);
        assert_eq!(
            d(r#"<div class="post-view js-post-view"><a href="/raw/AbCd1234">raw</a></div>"#),
            Some(Engine::Paste)
        );
        assert_eq!(d(r#"<a href="/raw/AbCd1234">raw</a>"#), None);
    }
}
