//! Telegram public-channel previews (`https://t.me/s/<channel>`): one
//! document per message, and for a page that is no preview (the channel's
//! landing page, a private, blocked or unknown channel) the reason; also the
//! channel names a profile's `channels` lists. Reads pages, never fetches.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use scraper::{ElementRef, Selector};
use url::Url;

use crate::dates::parse_date;
use crate::document::{Document, DocumentKind};
use crate::page::{document_id, rfc3339, Context, FieldTrace, Reading};
use crate::text::{element_text, text_with_breaks};

fn css(selector: &str) -> Selector {
    Selector::parse(selector).expect("the Telegram reader's selectors are valid")
}

static MESSAGE: LazyLock<Selector> = LazyLock::new(|| css(".tgme_widget_message[data-post]"));
static TEXT: LazyLock<Selector> = LazyLock::new(|| css(".tgme_widget_message_text"));
static REPLY: LazyLock<Selector> = LazyLock::new(|| css(".tgme_widget_message_reply"));
static LINK_PREVIEW: LazyLock<Selector> =
    LazyLock::new(|| css("a.tgme_widget_message_link_preview[href]"));
static DATE_TIME: LazyLock<Selector> =
    LazyLock::new(|| css("a.tgme_widget_message_date time[datetime]"));
static ANY_TIME: LazyLock<Selector> = LazyLock::new(|| css("time[datetime]"));
static DATE_LINK: LazyLock<Selector> = LazyLock::new(|| css("a.tgme_widget_message_date[href]"));
static OWNER: LazyLock<Selector> = LazyLock::new(|| css(".tgme_widget_message_owner_name"));
static SIGNATURE: LazyLock<Selector> = LazyLock::new(|| css(".tgme_widget_message_from_author"));
static FORWARDED: LazyLock<Selector> =
    LazyLock::new(|| css(".tgme_widget_message_forwarded_from_name"));
static VIEWS: LazyLock<Selector> = LazyLock::new(|| css(".tgme_widget_message_views"));
static META: LazyLock<Selector> = LazyLock::new(|| css(".tgme_widget_message_meta"));
static ANCHORS: LazyLock<Selector> = LazyLock::new(|| css("a[href]"));
static ALBUM_ITEM: LazyLock<Selector> =
    LazyLock::new(|| css(".tgme_widget_message_grouped_wrap .grouped_media_wrap[href]"));
static MORE: LazyLock<Selector> = LazyLock::new(|| css("a.tme_messages_more[data-before]"));
static HISTORY: LazyLock<Selector> = LazyLock::new(|| css(".tgme_channel_history"));
static LANDING: LazyLock<Selector> = LazyLock::new(|| css(".tgme_page"));
static LANDING_TITLE: LazyLock<Selector> = LazyLock::new(|| css(".tgme_page_title"));
static LANDING_EXTRA: LazyLock<Selector> = LazyLock::new(|| css(".tgme_page_extra"));
static LANDING_TEXT: LazyLock<Selector> =
    LazyLock::new(|| css(".tgme_page_description, .tgme_page_additional"));
static PREVIEW_LINK: LazyLock<Selector> = LazyLock::new(|| css("a.tgme_page_context_link"));
static RESOLVE: LazyLock<Selector> = LazyLock::new(|| css("a[href^='tg://resolve?domain=']"));
static BODY: LazyLock<Selector> = LazyLock::new(|| css("body"));

/// What a message shows besides text, by the class of its media element, in
/// the order they are tried (an album holds photos and videos).
const MEDIA: &[(&str, &str)] = &[
    (".tgme_widget_message_grouped_wrap", "album"),
    (".tgme_widget_message_photo_wrap", "photo"),
    (".tgme_widget_message_video_player", "video"),
    (".tgme_widget_message_roundvideo_player", "round video"),
    (".tgme_widget_message_voice_player", "voice message"),
    (".tgme_widget_message_document_wrap", "document"),
    (".tgme_widget_message_sticker_wrap", "sticker"),
    (".tgme_widget_message_poll", "poll"),
    (".tgme_widget_message_location_wrap", "location"),
];
static MEDIA_SELECTORS: LazyLock<Vec<(Selector, &'static str)>> =
    LazyLock::new(|| MEDIA.iter().map(|(s, name)| (css(s), *name)).collect());

/// A channel or group that will not show its messages.
static BLOCKED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)can[’']t be displayed|is blocked|was blocked|has been blocked|unavailable due to|violat")
        .expect("a valid pattern")
});
/// Counters of a landing page: `11 311 468 subscribers`, `1 234 members`.
static COUNTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(subscriber|member)s?\b").expect("a valid pattern"));

/// Reads a Telegram page: the messages of a channel preview, or why the page
/// holds none. `None` when the page is no Telegram page at all.
pub(crate) fn read(ctx: &Context<'_>) -> Option<Reading> {
    let messages: Vec<ElementRef<'_>> = ctx.page.select(&MESSAGE).collect();
    if messages.is_empty() {
        return without_messages(ctx);
    }
    let mut reading = Reading::default();
    let mut numbers = Vec::new();
    let mut textless = Vec::new();
    let mut unreadable = Vec::new();
    let mut channel = String::new();
    for message in messages {
        let post = message.value().attr("data-post").unwrap_or_default().trim();
        let Some((name, number)) = split_post(post) else {
            unreadable.push(format!("{post:?}"));
            continue;
        };
        channel = name.to_owned();
        numbers.push(number);
        let index = reading.documents.len();
        match read_message(
            ctx,
            message,
            (post, name, number),
            index,
            &mut reading.traces,
        ) {
            Ok(doc) => reading.documents.push(doc),
            Err(media) => textless.push(format!("{number} ({media})")),
        }
    }
    let range = match (numbers.iter().min(), numbers.iter().max()) {
        (Some(lo), Some(hi)) if lo != hi => format!(" ({lo}–{hi})"),
        (Some(n), _) => format!(" ({n})"),
        _ => String::new(),
    };
    let mut page = format!(
        "Telegram channel preview of @{channel}: {} message{}{range}, {} with text",
        numbers.len(),
        if numbers.len() == 1 { "" } else { "s" },
        reading.documents.len()
    );
    if !textless.is_empty() {
        page.push_str(&format!("; without text: {}", textless.join(", ")));
    }
    if !unreadable.is_empty() {
        page.push_str(&format!(
            "; skipped, data-post not channel/number: {}",
            unreadable.join(", ")
        ));
    }
    match ctx
        .page
        .select(&MORE)
        .next()
        .and_then(|a| a.value().attr("data-before"))
    {
        Some(before) => page.push_str(&format!("; older messages: before={}", before.trim())),
        None => page.push_str("; no older messages linked"),
    }
    reading.page = page;
    Some(reading)
}

/// `durov/519` → (`durov`, 519).
fn split_post(post: &str) -> Option<(&str, u64)> {
    let (name, number) = post.rsplit_once('/')?;
    let number = number.parse().ok()?;
    (!name.is_empty()).then_some((name, number))
}

/// Whether `element` sits inside a part of `message` that is not the
/// message's own: the message it replies to.
fn in_reply(element: ElementRef<'_>, message: ElementRef<'_>) -> bool {
    element
        .ancestors()
        .take_while(|a| a.id() != message.id())
        .filter_map(ElementRef::wrap)
        .any(|a| REPLY.matches(&a))
}

/// The message's own first element matching `selector` (not the replied-to
/// message's).
fn own<'a>(message: ElementRef<'a>, selector: &Selector) -> Option<ElementRef<'a>> {
    message.select(selector).find(|e| !in_reply(*e, message))
}

/// One message as a document; `Err` with what it shows instead when it has
/// no text (a photo, a service message).
fn read_message(
    ctx: &Context<'_>,
    message: ElementRef<'_>,
    (post, channel, number): (&str, &str, u64),
    index: usize,
    traces: &mut Vec<FieldTrace>,
) -> Result<Document, String> {
    let media = media_of(message);
    let text_element = own(message, &TEXT);
    let body = text_element
        .map(|t| text_with_breaks(t, &|e| REPLY.matches(&e)))
        .filter(|t| !t.is_empty());
    let Some(body) = body else {
        return Err(media.unwrap_or_else(|| "no media either".to_owned()));
    };
    let mut trace = |field: &str, rule: &str, raw: &str, value: &str| {
        traces.push(FieldTrace {
            document: index,
            field: field.to_owned(),
            origin: "preset telegram".to_owned(),
            rule: rule.to_owned(),
            raw: raw.to_owned(),
            value: value.to_owned(),
        })
    };
    trace(
        "listing_number",
        "div.tgme_widget_message @data-post",
        post,
        post,
    );
    trace(
        "body",
        "the message's own .tgme_widget_message_text (not the reply's)",
        "",
        &body.chars().take(80).collect::<String>(),
    );
    let url = own(message, &DATE_LINK)
        .and_then(|a| a.value().attr("href"))
        .and_then(|h| Url::parse(h.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .or_else(|| Url::parse(&format!("https://t.me/{channel}/{number}")).ok())
        .map_or_else(|| ctx.url.to_string(), |u| u.to_string());
    trace("url", "a.tgme_widget_message_date @href", &url, &url);
    let posted_at = posted_at(ctx, message);
    if let Some((raw, value)) = &posted_at {
        trace(
            "posted_at",
            "a.tgme_widget_message_date time @datetime",
            raw,
            value,
        );
    }
    trace("seller", "the channel of @data-post", channel, channel);
    let mut extra = BTreeMap::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            extra.insert(key.to_owned(), v);
        }
    };
    put("channel", Some(channel.to_owned()));
    put("message", Some(number.to_string()));
    put(
        "channel_title",
        own(message, &OWNER).map(|e| element_text(e, None)),
    );
    put(
        "author",
        own(message, &SIGNATURE).map(|e| element_text(e, None)),
    );
    put("views", own(message, &VIEWS).map(|e| element_text(e, None)));
    if let Some(from) = own(message, &FORWARDED) {
        put("forwarded_from", Some(element_text(from, None)));
        put(
            "forwarded_from_url",
            from.value()
                .attr("href")
                .and_then(|h| absolute(ctx.url, h))
                .map(|u| u.to_string()),
        );
    }
    put(
        "reply_to",
        own(message, &REPLY)
            .and_then(|r| r.value().attr("href"))
            .and_then(|h| absolute(ctx.url, h))
            .map(|u| u.to_string()),
    );
    if own(message, &META).is_some_and(|m| element_text(m, None).contains("edited")) {
        put("edited", Some("true".to_owned()));
    }
    put("media", media);
    let album: Vec<u64> = message
        .select(&ALBUM_ITEM)
        .filter_map(|a| a.value().attr("href"))
        .filter_map(|h| absolute(ctx.url, h))
        .filter_map(|u| u.path_segments()?.next_back()?.parse().ok())
        .collect();
    if album.len() > 1 {
        put(
            "album",
            Some(
                album
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        );
    }
    put("links", carried_links(ctx.url, message, text_element));
    Ok(Document {
        id: document_id(ctx.profile, ctx.url, Some(post)),
        site: ctx.profile.name.clone(),
        url,
        kind: DocumentKind::Post,
        lang: ctx.profile.lang.clone(),
        body: Some(body),
        seller: Some(channel.to_owned()),
        listing_number: Some(post.to_owned()),
        posted_at: posted_at.map(|(_, v)| v),
        fetched_at: Some(rfc3339(ctx.fetched_at)),
        encoding: ctx.encoding.map(str::to_owned),
        extra,
        ..Document::default()
    })
}

/// The message's time (`time[datetime]`, with its offset) as UTC, and the
/// text it was read from.
fn posted_at(ctx: &Context<'_>, message: ElementRef<'_>) -> Option<(String, String)> {
    let raw = own(message, &DATE_TIME)
        .or_else(|| own(message, &ANY_TIME))?
        .value()
        .attr("datetime")?
        .trim()
        .to_owned();
    let time: DateTime<Utc> = DateTime::parse_from_rfc3339(&raw)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| parse_date(&raw, &ctx.dates))?;
    Some((raw, rfc3339(time)))
}

/// What the message shows besides text: `photo`, `video`, `album of 3`.
fn media_of(message: ElementRef<'_>) -> Option<String> {
    let (_, name) = MEDIA_SELECTORS
        .iter()
        .find(|(s, _)| own(message, s).is_some())?;
    if *name == "album" {
        let n = message.select(&ALBUM_ITEM).count();
        return Some(format!("album of {n}"));
    }
    Some((*name).to_owned())
}

/// The http(s) links the message carries (in its text, and its link
/// preview), absolute, each once, one a line.
fn carried_links(
    page: &Url,
    message: ElementRef<'_>,
    text: Option<ElementRef<'_>>,
) -> Option<String> {
    let mut links: Vec<String> = Vec::new();
    let in_text = text.into_iter().flat_map(|t| t.select(&ANCHORS));
    let preview = own(message, &LINK_PREVIEW);
    for a in in_text.chain(preview) {
        let Some(url) = a.value().attr("href").and_then(|h| absolute(page, h)) else {
            continue;
        };
        let url = url.to_string();
        // A link preview often repeats a link of the text over http.
        let same = |l: &String| without_scheme(l) == without_scheme(&url);
        if !links.iter().any(same) {
            links.push(url);
        }
    }
    (!links.is_empty()).then(|| links.join("\n"))
}

fn without_scheme(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}

/// `href` resolved against the page, when it is an http(s) link.
fn absolute(page: &Url, href: &str) -> Option<Url> {
    page.join(href.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// A Telegram page without messages: a preview with none, or a page that
/// says why the channel shows none. `None` when it is no Telegram page.
fn without_messages(ctx: &Context<'_>) -> Option<Reading> {
    let channel = channel_of(ctx);
    let at = channel
        .as_deref()
        .map_or_else(|| "the channel".to_owned(), |c| format!("@{c}"));
    let path = ctx.url.path();
    let invite = path.starts_with("/+") || path.starts_with("/joinchat/");
    let landing = ctx.page.select(&LANDING).next();
    let reason = if let Some(landing) = landing {
        let text = |s: &Selector| {
            landing
                .select(s)
                .map(|e| element_text(e, None))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let (title, counter, words) = (
            text(&LANDING_TITLE),
            text(&LANDING_EXTRA),
            text(&LANDING_TEXT),
        );
        let counted = COUNTER.is_match(&counter);
        if BLOCKED.is_match(&words) {
            format!("{at} is blocked: {words}")
        } else if invite {
            format!(
                "an invite link to a private channel or group ({}): private chats have no public preview",
                if title.is_empty() { "no title shown" } else { &title }
            )
        } else if counted && counter.to_lowercase().contains("member") {
            format!("{at} is a group ({counter}), not a channel: groups have no public preview")
        } else if counted && landing.select(&PREVIEW_LINK).next().is_some() {
            // The channel has a preview; this page is just not it.
            return Some(Reading {
                page: format!(
                    "{at}: the channel's landing page ({counter}), not its preview, which is at /s/{}: no documents",
                    channel.as_deref().unwrap_or("<channel>")
                ),
                ..Reading::default()
            });
        } else if counted {
            format!("{at} has no public preview: t.me shows its landing page ({counter})")
        } else if title.is_empty() || words.contains("you can contact") {
            format!("{at} is no public channel: t.me offers to contact it (no such channel, or a person's account)")
        } else {
            format!("{at} has no public preview: t.me shows a landing page ({title})")
        }
    } else if ctx.page.select(&HISTORY).next().is_some() {
        let words = ctx
            .page
            .select(&BODY)
            .next()
            .map(|b| element_text(b, None))
            .unwrap_or_default();
        if let Some(line) = words.lines().find(|l| BLOCKED.is_match(l)) {
            format!("{at} is blocked: {line}")
        } else {
            return Some(Reading {
                page: format!("Telegram channel preview of {at}: no messages"),
                ..Reading::default()
            });
        }
    } else if invite && is_telegram_host(ctx.url) {
        "an invite link to a private channel or group: private chats have no public preview"
            .to_owned()
    } else {
        return None;
    };
    Some(Reading {
        page: format!("{reason}: no documents"),
        unavailable: Some(reason),
        ..Reading::default()
    })
}

/// The channel a page without messages is about: from its URL
/// (`/s/<name>` or `/<name>`), else from its `tg://resolve` links.
fn channel_of(ctx: &Context<'_>) -> Option<String> {
    let mut segments = ctx.url.path_segments()?.filter(|s| !s.is_empty());
    let first = segments.next();
    let name = match first {
        Some("s") => segments.next(),
        other => other,
    };
    if let Some(name) = name.filter(|n| valid_name(n).is_ok()) {
        return Some(name.to_owned());
    }
    let href = ctx.page.select(&RESOLVE).next()?.value().attr("href")?;
    let name = href.strip_prefix("tg://resolve?domain=")?;
    let name = name.split('&').next()?;
    valid_name(name).is_ok().then(|| name.to_owned())
}

/// Hosts that serve Telegram's previews (besides a profile's own).
const TELEGRAM_HOSTS: &[&str] = &["t.me", "telegram.me", "telegram.dog"];

fn is_telegram_host(url: &Url) -> bool {
    url.host_str()
        .map(|h| h.strip_prefix("www.").unwrap_or(h))
        .is_some_and(|h| TELEGRAM_HOSTS.contains(&h))
}

/// Paths of t.me that are not channels.
const RESERVED: &[&str] = &[
    "addemoji",
    "addlist",
    "addstickers",
    "addtheme",
    "boost",
    "confirmphone",
    "contact",
    "giftcode",
    "invoice",
    "joinchat",
    "login",
    "proxy",
    "setlanguage",
    "share",
    "socks",
];

/// A public channel's username, as a profile's `channels` lists it: checked
/// when the profile loads, so a start URL built from it is well-formed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TelegramChannel(String);

impl TelegramChannel {
    /// A channel from a name (`durov`, `@durov`) or a link to it
    /// (`https://t.me/durov`, `t.me/s/durov`, on t.me, telegram.me,
    /// telegram.dog or `preview_host`). Surrounding blanks are trimmed. The
    /// error says what is wrong, without the entry (the caller names it).
    pub fn parse(entry: &str, preview_host: &str) -> Result<TelegramChannel, String> {
        let entry = entry.trim();
        if entry.is_empty() {
            return Err("an empty entry".to_owned());
        }
        let looks_like_link = entry.contains("://")
            || entry.contains('/')
            || TELEGRAM_HOSTS.iter().any(|h| entry.starts_with(h));
        let name = if looks_like_link {
            let with_scheme = if entry.contains("://") {
                entry.to_owned()
            } else {
                format!("https://{entry}")
            };
            let url = Url::parse(&with_scheme).map_err(|e| format!("not a link ({e})"))?;
            let host = url.host_str().unwrap_or_default();
            let bare = host.strip_prefix("www.").unwrap_or(host);
            if !TELEGRAM_HOSTS.contains(&bare) && host != preview_host {
                return Err(format!(
                    "a link to {host}, not to t.me, telegram.me or the preview host {preview_host}"
                ));
            }
            let segments: Vec<&str> = url
                .path_segments()
                .map(|s| s.filter(|s| !s.is_empty()).collect())
                .unwrap_or_default();
            match segments.as_slice() {
                [first, ..] if first.starts_with('+') || *first == "joinchat" => {
                    return Err(
                        "an invite link to a private chat, which has no public preview".to_owned(),
                    )
                }
                [name] | ["s", name] => (*name).to_owned(),
                [name, n] | ["s", name, n] if n.bytes().all(|b| b.is_ascii_digit()) => {
                    return Err(format!(
                        "a link to one message; list the channel (\"{name}\") instead"
                    ))
                }
                [] => return Err("a link without a channel name".to_owned()),
                _ => return Err("not a channel link (t.me/<name> or t.me/s/<name>)".to_owned()),
            }
        } else {
            entry.strip_prefix('@').unwrap_or(entry).to_owned()
        };
        valid_name(&name)?;
        if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(format!("{name:?} is a t.me page, not a channel"));
        }
        Ok(TelegramChannel(name))
    }

    /// The username, as the profile wrote it (Telegram ignores case).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The channel's preview on `host`: `https://HOST/s/<name>`.
    pub fn preview_url(&self, host_root: &Url) -> Url {
        let mut url = host_root.clone();
        url.set_path(&format!("/s/{}", self.0));
        url.set_query(None);
        url.set_fragment(None);
        url
    }
}

impl std::fmt::Display for TelegramChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Telegram's rule for public usernames: a letter, then letters, digits and
/// underscores, 4 to 32 in all (4 for collectible names), not ending in an
/// underscore.
fn valid_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(4..=32).contains(&len) {
        return Err(format!(
            "{name:?} is not a channel name: Telegram names have 4 to 32 characters"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(format!(
            "{name:?} is not a channel name: it must start with a letter"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && *c != '_')
    {
        return Err(format!(
            "{name:?} is not a channel name: {c:?} is not a letter, digit or underscore"
        ));
    }
    if name.ends_with('_') {
        return Err(format!(
            "{name:?} is not a channel name: it cannot end with an underscore"
        ));
    }
    Ok(())
}

/// The message number of a document read from a channel preview (`519` of
/// `durov/519`): what a crawl compares to stop at the first known message.
pub fn message_number(document: &Document) -> Option<u64> {
    split_post(document.listing_number.as_deref()?).map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(entry: &str) -> Result<String, String> {
        TelegramChannel::parse(entry, "tg.mirror.example").map(|c| c.as_str().to_owned())
    }

    #[test]
    fn names_and_links_give_the_name() {
        for entry in [
            "durov",
            " @durov ",
            "t.me/durov",
            "https://t.me/durov",
            "https://t.me/s/durov/",
            "http://telegram.me/durov",
            "https://www.t.me/s/durov?before=519",
            "https://tg.mirror.example/s/durov",
        ] {
            assert_eq!(parse(entry).as_deref(), Ok("durov"), "{entry}");
        }
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        for (entry, says) in [
            ("", "empty"),
            ("dur", "4 to 32"),
            ("1durov", "start with a letter"),
            ("du-rov", "'-'"),
            ("durov_", "underscore"),
            ("https://t.me/+AbCdEf123", "invite link"),
            ("https://t.me/joinchat/AbCdEf", "invite link"),
            ("https://t.me/durov/519", "one message"),
            ("https://example.com/durov", "not to t.me"),
            ("https://t.me/addstickers", "not a channel"),
            ("https://t.me/", "without a channel"),
        ] {
            let err = parse(entry).expect_err(entry);
            assert!(err.contains(says), "{entry}: {err}");
        }
    }

    #[test]
    fn preview_urls_and_message_numbers() {
        let root = Url::parse("https://t.me/").expect("valid");
        let c = TelegramChannel::parse("JP_Bank_Shop", "t.me").expect("valid");
        assert_eq!(c.preview_url(&root).as_str(), "https://t.me/s/JP_Bank_Shop");
        let doc = Document {
            listing_number: Some("JP_Bank_Shop/1207".into()),
            ..Document::default()
        };
        assert_eq!(message_number(&doc), Some(1207));
        assert_eq!(split_post("x/y"), None);
    }
}
