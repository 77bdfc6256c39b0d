//! Paste sites in pastebin's markup: a paste page is one document (title,
//! author, date, the text line by line, syntax, the raw link), the archive
//! of recent pastes one document per row. Reads pages, never fetches.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, Utc};
use regex::Regex;
use scraper::{ElementRef, Selector};
use url::Url;

use crate::canonical::{encoding_for_label, resolve_href, CanonicalUrl};
use crate::dates::{parse_date, DateContext, SiteZone};
use crate::document::{Document, DocumentKind};
use crate::page::{document_id, rfc3339, Context, FieldTrace, Reading};
use crate::scope::admit;
use crate::text::element_text;

fn css(selector: &str) -> Selector {
    Selector::parse(selector).expect("the paste reader's selectors are valid")
}

static PASTE_VIEW: LazyLock<Selector> =
    LazyLock::new(|| css(".post-view, .highlighted-code, textarea#paste_code"));
static TITLE: LazyLock<Selector> =
    LazyLock::new(|| css(".post-view .info-top h1, .paste_box_line1 h1"));
static OG_TITLE: LazyLock<Selector> = LazyLock::new(|| css("meta[property='og:title'][content]"));
static PAGE_TITLE: LazyLock<Selector> = LazyLock::new(|| css("title"));
static AUTHOR_LINK: LazyLock<Selector> =
    LazyLock::new(|| css(".post-view .info-bottom .username a, .paste_box_line2 a[href^='/u/']"));
static AUTHOR: LazyLock<Selector> = LazyLock::new(|| css(".post-view .info-bottom .username"));
static DATE_TITLE: LazyLock<Selector> =
    LazyLock::new(|| css(".post-view .info-bottom .date span[title]"));
static DATE: LazyLock<Selector> = LazyLock::new(|| css(".post-view .info-bottom .date"));
static VISITS: LazyLock<Selector> = LazyLock::new(|| css(".post-view .info-bottom .visits"));
static EXPIRE: LazyLock<Selector> = LazyLock::new(|| css(".post-view .info-bottom .expire"));
static KEY: LazyLock<Selector> = LazyLock::new(|| css(".post-view [data-key]"));
static SYNTAX: LazyLock<Selector> =
    LazyLock::new(|| css(".highlighted-code .top-buttons .left a[href*='/archive/']"));
static TOP_LEFT: LazyLock<Selector> = LazyLock::new(|| css(".highlighted-code .top-buttons .left"));
static CATEGORY: LazyLock<Selector> =
    LazyLock::new(|| css(".highlighted-code .top-buttons span[title=Category]"));
static RAW: LazyLock<Selector> = LazyLock::new(|| {
    css(".highlighted-code a[href*='/raw/'], a[href^='/raw/'], a[href*='/raw.php?i=']")
});
static CODE_LINES: LazyLock<Selector> =
    LazyLock::new(|| css(".highlighted-code .source ol > li, .source ol > li"));
static CODE_BLOCK: LazyLock<Selector> =
    LazyLock::new(|| css("textarea#paste_code, .highlighted-code pre, .source pre"));
static ARCHIVE_TABLE: LazyLock<Selector> = LazyLock::new(|| css("table.maintable"));
static ROWS: LazyLock<Selector> = LazyLock::new(|| css("tr"));
static HEADER_CELLS: LazyLock<Selector> = LazyLock::new(|| css("th"));
static CELLS: LazyLock<Selector> = LazyLock::new(|| css("td"));
static CELL_LINK: LazyLock<Selector> = LazyLock::new(|| css("a[href]"));

/// A size as shown beside the syntax: `1.36 KB`.
static SIZE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d[\d.,]*\s*[KMG]?B)\b").expect("a valid pattern"));
/// A trailing time-zone abbreviation (`… 06:33:19 AM CDT`).
static ZONE_ABBREVIATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s+([A-Z]{3,4})\s*$").expect("a valid pattern"));
/// Names pastebin shows for pastes without an account.
const GUESTS: &[&str] = &["a guest", "guest", "anonymous"];

/// The longest paste text kept, in characters; the rest is cut at a line
/// end and the document says so (`extra.truncated`). A crawl caps the page
/// too; this keeps one huge paste from becoming a huge document.
pub(crate) const MAX_PASTE_CHARS: usize = 1 << 20;

/// Reads a paste page or a paste archive. `None` when the page is neither
/// (the caller then reads it generically).
pub(crate) fn read(ctx: &Context<'_>, all_rows: bool) -> Option<Reading> {
    if ctx.page.select(&PASTE_VIEW).next().is_some() {
        return Some(paste_page(ctx));
    }
    let table = ctx.page.select(&ARCHIVE_TABLE).next()?;
    archive(ctx, table, all_rows)
}

fn paste_page(ctx: &Context<'_>) -> Reading {
    let root = ctx.page.root_element();
    let first_text = |s: &Selector| root.select(s).next().map(|e| element_text(e, None));
    let mut traces = Vec::new();
    let mut trace = |field: &str, rule: &str, raw: &str, value: &str| {
        traces.push(FieldTrace {
            document: 0,
            field: field.to_owned(),
            origin: "preset paste".to_owned(),
            rule: rule.to_owned(),
            raw: raw.to_owned(),
            value: value.to_owned(),
        })
    };
    let title = first_text(&TITLE)
        .filter(|t| !t.is_empty())
        .map(|t| ("div.info-top h1", t))
        .or_else(|| {
            let og = root.select(&OG_TITLE).next()?.value().attr("content")?;
            Some(("og:title without the site name", without_site_name(og)))
        })
        .or_else(|| {
            let t = first_text(&PAGE_TITLE)?;
            Some(("<title> without the site name", without_site_name(&t)))
        })
        .filter(|(_, t)| !t.is_empty());
    if let Some((rule, t)) = &title {
        trace("title", rule, t, t);
    }
    let title = title.map(|(_, t)| t);
    let seller = first_text(&AUTHOR_LINK)
        .or_else(|| first_text(&AUTHOR))
        .filter(|a| !a.is_empty());
    if let Some(a) = &seller {
        let kept = !GUESTS.contains(&a.to_lowercase().as_str());
        trace(
            "seller",
            "div.info-bottom div.username (a guest is no author)",
            a,
            if kept { a } else { "" },
        );
    }
    let seller = seller.filter(|a| !GUESTS.contains(&a.to_lowercase().as_str()));
    let raw_date = root
        .select(&DATE_TITLE)
        .next()
        .and_then(|s| s.value().attr("title"))
        .map(str::to_owned)
        .or_else(|| first_text(&DATE))
        .filter(|d| !d.is_empty());
    let posted_at = raw_date.as_deref().and_then(|raw| {
        let value = parse_with_zone(raw, &ctx.dates).map(rfc3339);
        trace(
            "posted_at",
            "div.info-bottom div.date span @title (its zone abbreviation read)",
            raw,
            value.as_deref().unwrap_or("(no date form recognised)"),
        );
        value
    });
    let (body, truncated) = match paste_text(root) {
        Some((rule, text)) => {
            let (text, cut) = capped(text);
            trace("body", rule, "", &text.chars().take(80).collect::<String>());
            (Some(text), cut)
        }
        None => (None, false),
    };
    let raw_link = root
        .select(&RAW)
        .next()
        .and_then(|a| a.value().attr("href"))
        .and_then(|h| resolve_href(ctx.url, h, encoding_for_label(ctx.encoding)));
    let key = root
        .select(&KEY)
        .find_map(|e| e.value().attr("data-key"))
        .map(str::to_owned)
        .or_else(|| raw_link.as_ref().and_then(last_segment))
        .or_else(|| last_segment(ctx.url));
    let mut extra = BTreeMap::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            extra.insert(key.to_owned(), v);
        }
    };
    put("raw", raw_link.map(|u| u.to_string()));
    put("syntax", first_text(&SYNTAX));
    put(
        "size",
        first_text(&TOP_LEFT).and_then(|t| Some(SIZE.captures(&t)?[1].to_owned())),
    );
    put(
        "category",
        first_text(&CATEGORY)
            .map(|c| c.trim_start_matches('|').trim().to_owned())
            .filter(|c| c != "None"),
    );
    put("views", first_text(&VISITS));
    put("expires", first_text(&EXPIRE));
    if truncated {
        put(
            "truncated",
            Some(format!("{MAX_PASTE_CHARS} characters kept")),
        );
    }
    let page = format!(
        "paste page ({}{})",
        key.as_deref()
            .map_or("no key".to_owned(), |k| format!("key {k}")),
        if body.is_none() {
            ", no text shown"
        } else {
            ""
        }
    );
    if title.is_none() && body.is_none() {
        return Reading {
            page: format!("{page}: neither a title nor text"),
            traces: Vec::new(),
            ..Reading::default()
        };
    }
    let document = Document {
        id: document_id(ctx.profile, ctx.url, key.as_deref()),
        site: ctx.profile.name.clone(),
        url: ctx.url.to_string(),
        kind: DocumentKind::Post,
        lang: ctx.profile.lang.clone(),
        title,
        body,
        seller,
        listing_number: key,
        posted_at,
        fetched_at: Some(rfc3339(ctx.fetched_at)),
        encoding: ctx.encoding.map(str::to_owned),
        extra,
        ..Document::default()
    };
    Reading {
        documents: vec![document],
        traces,
        page,
        unavailable: None,
    }
}

/// The paste's text: its code lines (GeSHi's `ol > li`, one a line, blanks
/// of indentation kept), else a text area or `pre` as it is.
fn paste_text(root: ElementRef<'_>) -> Option<(&'static str, String)> {
    let lines: Vec<String> = root
        .select(&CODE_LINES)
        .map(|li| {
            li.text()
                .collect::<String>()
                .replace(['\u{a0}', '\r', '\n'], " ")
                .trim_end()
                .to_owned()
        })
        .collect();
    let text = trim_blank_lines(lines.join("\n"));
    if !text.is_empty() {
        return Some(("div.source ol > li (one a line)", text));
    }
    let block = root.select(&CODE_BLOCK).next()?;
    let text = block
        .text()
        .collect::<String>()
        .replace('\u{a0}', " ")
        .replace("\r\n", "\n");
    let text = trim_blank_lines(
        text.lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    (!text.is_empty()).then_some(("textarea#paste_code or pre", text))
}

/// Without blank lines at the start and the end.
fn trim_blank_lines(text: String) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    match (start, end) {
        (Some(s), Some(e)) => lines[s..=e].join("\n"),
        _ => String::new(),
    }
}

/// The text cut to [`MAX_PASTE_CHARS`] at a line end, and whether it was.
fn capped(text: String) -> (String, bool) {
    let Some((cut, _)) = text.char_indices().nth(MAX_PASTE_CHARS) else {
        return (text, false);
    };
    let end = text[..cut].rfind('\n').unwrap_or(cut);
    (text[..end].to_owned(), true)
}

/// `Pushing new git submodule to Heroku - Pastebin.com` → the paste's title.
fn without_site_name(title: &str) -> String {
    let title = title.trim();
    match title.rsplit_once(" - ") {
        Some((head, site)) if site.to_ascii_lowercase().contains("paste") => head.trim().to_owned(),
        _ => title.to_owned(),
    }
}

/// The last non-empty path segment of a URL (a paste's key).
fn last_segment(url: &Url) -> Option<String> {
    url.path_segments()?
        .rev()
        .find(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Offsets of the zone abbreviations paste sites print.
const ZONES: &[(&str, i32)] = &[
    ("UTC", 0),
    ("GMT", 0),
    ("CDT", -5),
    ("CST", -6),
    ("EDT", -4),
    ("EST", -5),
    ("MDT", -6),
    ("MST", -7),
    ("PDT", -7),
    ("PST", -8),
    ("BST", 1),
    ("CET", 1),
    ("CEST", 2),
    ("MSK", 3),
    ("JST", 9),
];

/// A date such as `Saturday 8th of October 2022 12:24:35 PM CDT`: read in
/// the zone its abbreviation names, else in the site's.
fn parse_with_zone(text: &str, dates: &DateContext) -> Option<DateTime<Utc>> {
    let text = text.replace(" of ", " ");
    let zone = ZONE_ABBREVIATION.captures(&text).and_then(|c| {
        let m = c.get(1)?;
        let hours = ZONES.iter().find(|(name, _)| *name == m.as_str())?.1;
        let offset = FixedOffset::east_opt(hours * 3600)?;
        Some((m.start(), SiteZone::Fixed(offset)))
    });
    match zone {
        Some((at, zone)) => parse_date(
            &text[..at],
            &DateContext {
                zone,
                fetched_at: dates.fetched_at,
            },
        ),
        None => parse_date(&text, dates),
    }
}

/// Columns of an archive table, by their headers.
#[derive(Debug, Default)]
struct Columns {
    title: usize,
    posted: Option<usize>,
    syntax: Option<usize>,
    author: Option<usize>,
    views: Option<usize>,
    expires: Option<usize>,
}

impl Columns {
    fn of(headers: &[String]) -> Columns {
        let find = |words: &[&str]| {
            headers.iter().position(|h| {
                let h = h.to_lowercase();
                words.iter().any(|w| h.contains(w))
            })
        };
        Columns {
            title: find(&["title", "name"]).unwrap_or(0),
            posted: find(&["posted", "added", "date", "created", "time", "age"]),
            syntax: find(&["syntax", "language", "format"]),
            author: find(&["author", "user", "poster", "by"]),
            views: find(&["hits", "views", "visits"]),
            expires: find(&["expire"]),
        }
    }
}

/// An archive of recent pastes: one document per row.
fn archive(ctx: &Context<'_>, table: ElementRef<'_>, all_rows: bool) -> Option<Reading> {
    let headers: Vec<String> = table
        .select(&HEADER_CELLS)
        .map(|th| element_text(th, None))
        .collect();
    let columns = Columns::of(&headers);
    let mut reading = Reading::default();
    let mut rows = 0;
    let mut left_to_pages = 0;
    for row in table.select(&ROWS) {
        let cells: Vec<ElementRef<'_>> = row.select(&CELLS).collect();
        let Some(title_cell) = cells.get(columns.title) else {
            continue;
        };
        let Some(a) = title_cell.select(&CELL_LINK).next() else {
            continue;
        };
        let title = element_text(a, None);
        let Some(link) = a
            .value()
            .attr("href")
            .and_then(|h| resolve_href(ctx.url, h, encoding_for_label(ctx.encoding)))
        else {
            continue;
        };
        if title.is_empty() {
            continue;
        }
        rows += 1;
        let link = admit(ctx.profile, link.clone())
            .map(CanonicalUrl::into_url)
            .unwrap_or(link);
        if !all_rows && ctx.profile.topic.url.is_match(link.as_str()) {
            left_to_pages += 1;
            continue;
        }
        let index = reading.documents.len();
        let cell = |i: Option<usize>| {
            let text = element_text(*cells.get(i?)?, None);
            (!text.is_empty()).then_some(text)
        };
        let mut trace = |field: &str, column: Option<usize>, raw: &str, value: &str| {
            let header = column
                .and_then(|i| headers.get(i))
                .map_or(String::new(), |h| format!(" ({h:?})"));
            reading.traces.push(FieldTrace {
                document: index,
                field: field.to_owned(),
                origin: "preset paste".to_owned(),
                rule: format!(
                    "table.maintable row, column {}{header}",
                    column.map_or(0, |c| c + 1)
                ),
                raw: raw.to_owned(),
                value: value.to_owned(),
            })
        };
        trace("title", Some(columns.title), &title, &title);
        let posted_at = cell(columns.posted).and_then(|raw| {
            let value = parse_with_zone(&raw, &ctx.dates).map(rfc3339);
            trace(
                "posted_at",
                columns.posted,
                &raw,
                value.as_deref().unwrap_or("(no date form recognised)"),
            );
            value
        });
        let seller = cell(columns.author).filter(|a| !GUESTS.contains(&a.to_lowercase().as_str()));
        let mut extra = BTreeMap::new();
        for (name, column) in [
            ("syntax", columns.syntax),
            ("views", columns.views),
            ("expires", columns.expires),
        ] {
            if let Some(v) = cell(column) {
                trace(name, column, &v, &v);
                extra.insert(name.to_owned(), v);
            }
        }
        let key = last_segment(&link);
        reading.documents.push(Document {
            id: document_id(ctx.profile, &link, key.as_deref()),
            site: ctx.profile.name.clone(),
            url: link.to_string(),
            kind: DocumentKind::Post,
            lang: ctx.profile.lang.clone(),
            title: Some(title),
            seller,
            listing_number: key,
            posted_at,
            fetched_at: Some(rfc3339(ctx.fetched_at)),
            encoding: ctx.encoding.map(str::to_owned),
            extra,
            ..Document::default()
        });
    }
    if rows == 0 {
        return None;
    }
    reading.page = format!(
        "paste archive ({rows} rows of table.maintable{})",
        if left_to_pages > 0 {
            format!(", {left_to_pages} left to their paste pages")
        } else {
            String::new()
        }
    );
    Some(reading)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn dates() -> DateContext {
        DateContext {
            zone: SiteZone::utc(),
            fetched_at: Utc
                .with_ymd_and_hms(2022, 10, 8, 18, 0, 0)
                .single()
                .expect("valid"),
        }
    }

    #[test]
    fn pastebin_dates_are_read_in_their_zone() {
        let read = |t: &str| parse_with_zone(t, &dates()).map(rfc3339);
        assert_eq!(
            read("Saturday 8th of October 2022 12:24:35 PM CDT").as_deref(),
            Some("2022-10-08T17:24:35Z")
        );
        assert_eq!(
            read("Friday 5th of July 2013 01:57:35 AM CDT").as_deref(),
            Some("2013-07-05T06:57:35Z")
        );
        assert_eq!(
            read("Monday 2nd of January 2023 09:00:00 PM JST").as_deref(),
            Some("2023-01-02T12:00:00Z")
        );
        assert_eq!(read("25 min ago").as_deref(), Some("2022-10-08T17:35:00Z"));
        assert_eq!(
            read("Oct 8th, 2022").as_deref(),
            Some("2022-10-08T00:00:00Z")
        );
    }

    #[test]
    fn long_pastes_are_cut_at_a_line_end() {
        let line = "x".repeat(99);
        let text = vec![line.as_str(); MAX_PASTE_CHARS / 100 + 10].join("\n");
        let (kept, cut) = capped(text);
        assert!(cut);
        assert!(kept.chars().count() <= MAX_PASTE_CHARS);
        assert!(kept.ends_with(&line));
        assert_eq!(capped("short".to_owned()), ("short".to_owned(), false));
    }

    #[test]
    fn site_names_leave_titles() {
        assert_eq!(
            without_site_name("Pushing new git submodule to Heroku - Pastebin.com"),
            "Pushing new git submodule to Heroku"
        );
        assert_eq!(without_site_name("A - B"), "A - B");
    }
}
