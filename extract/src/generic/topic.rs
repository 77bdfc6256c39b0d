//! The title and first-post author of a topic page whose engine preset does
//! not know the theme: the page's own heading (or its `<title>` without the
//! site's name), and the first profile link (or author element) of the
//! first post-like block.

use std::sync::LazyLock;

use ego_tree::iter::Edge;
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};

use super::fields::{clean_name, PROFILE_LINK, SELLERISH_CLASS};
use crate::hidden::Hidden;
use crate::text::{element_text, is_invisible, tidy};

/// What a topic page shows of itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicMeta {
    /// The page's own title (a heading, or `<title>` without the site name).
    pub title: Option<String>,
    /// The first post's author.
    pub author: Option<String>,
}

static TITLE: LazyLock<Selector> = LazyLock::new(|| Selector::parse("title").expect("valid"));
static OG_TITLE: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse(r#"meta[property="og:title"]"#).expect("valid"));
static HEADINGS: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse(
        "h1, h2, h3, [class*=title i], [class*=subject i], [class*=name i], [id*=title i], [id*=subject i], [class*=breadcrumb] li:last-child",
    )
    .expect("valid")
});
/// Separators between a page's title and the site's name.
static SEPARATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s+[|\-–—·:»]{1,2}\s+").expect("valid"));
/// Ids and classes of one post.
static POST_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(post|pid|p|msg|message|postmessage|entry|comment|reply)[-_]?\d+$")
        .expect("valid")
});
static POST_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(^|\s)(post|postbit|postbitlegacy|message|cpost|b-post|postcontainer|post-wrapper|post_wrapper|topic-post|forumpost)(\s|$)")
        .expect("valid")
});

/// The title and the first post's author of a topic page.
pub fn topic_meta(page: &Html) -> TopicMeta {
    let hidden = Hidden::of(page);
    TopicMeta {
        title: topic_title(page),
        author: first_post_author(page, &hidden)
            .or_else(|| declared_author(page, &hidden))
            .or_else(|| labelled_seller(page)),
    }
}

/// The first author the page declares in schema.org microdata
/// (`itemprop="author"`, NodeBB's and Discourse's posts): the name inside
/// it (`itemprop="name"`, a `<meta content>` or text), else its own text.
fn declared_author(page: &Html, hidden: &Hidden) -> Option<String> {
    static AUTHOR: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("body [itemprop~=author]").expect("valid"));
    static NAME: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("[itemprop~=name]").expect("valid"));
    let said = |e: ElementRef<'_>| match e.value().name() {
        "meta" => e.value().attr("content").map(str::to_owned),
        _ => Some(e.text().collect::<String>()),
    };
    page.select(&AUTHOR)
        .filter(|a| a.value().name() == "meta" || !hidden.is_hidden(*a))
        .take(20)
        .find_map(|author| {
            let name = author.select(&NAME).next().map_or_else(
                || (author.value().name() != "meta").then(|| author.text().collect()),
                said,
            )?;
            clean_name(&tidy(&name))
        })
}

/// Labels of a listing's seller on market pages.
static SELLER_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(vendor|seller|sold by|posted by|author|卖家|賣家|商家|发布人|發佈人|发布者|作者|楼主|出品者|販売者|投稿者|продавец|автор)\s*[:：]?\s*(.*)$")
        .expect("valid")
});

/// A market listing's seller: the value after a `Vendor:`/`卖家：` label
/// (a link after it, or the rest of the label's text).
fn labelled_seller(page: &Html) -> Option<String> {
    static A: LazyLock<Selector> = LazyLock::new(|| Selector::parse("a[href]").expect("valid"));
    let mut skipping = None;
    for edge in page.root_element().traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(el) if is_invisible(el.name()) => skipping = Some(node.id()),
                    Node::Text(t) => {
                        let Some(c) = SELLER_LABEL.captures(t) else {
                            continue;
                        };
                        if let Some(rest) = c.get(2).and_then(|m| clean_name(m.as_str())) {
                            return Some(rest);
                        }
                        // The value is the next link: in the label's own
                        // element, or the element after it (`<span>Vendor:</span>
                        // <a>kuro</a>`).
                        let Some(parent) = node.parent().and_then(ElementRef::wrap) else {
                            continue;
                        };
                        let link_text = |e: ElementRef<'_>| {
                            if e.value().name() == "a" {
                                return clean_name(&tidy(&e.text().collect::<String>()));
                            }
                            e.select(&A)
                                .find_map(|a| clean_name(&tidy(&a.text().collect::<String>())))
                        };
                        let found = link_text(parent).or_else(|| {
                            parent
                                .next_siblings()
                                .filter_map(ElementRef::wrap)
                                .take(2)
                                .find_map(link_text)
                        });
                        if found.is_some() {
                            return found;
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                }
            }
        }
    }
    None
}

/// The `<title>` (or `og:title`) without the site's name after it, or the
/// page heading that holds it (with a prefix such as `SELLING` the heading
/// shows).
fn topic_title(page: &Html) -> Option<String> {
    let full = page
        .select(&OG_TITLE)
        .next()
        .and_then(|m| m.value().attr("content"))
        .map(tidy)
        .filter(|t| !t.is_empty())
        .or_else(|| {
            page.select(&TITLE)
                .map(|t| tidy(&t.text().collect::<String>()))
                .find(|t| !t.is_empty())
        });
    let core = full.as_deref().map(|f| title_core(f, page));
    if let Some(core) = core.as_deref().filter(|c| c.chars().count() >= 2) {
        let limit = core.chars().count() + 32;
        let heading = page
            .select(&HEADINGS)
            .map(|h| element_text(h, None).replace('\n', " "))
            .filter(|t| t.contains(core) && t.chars().count() <= limit)
            .min_by_key(|t| t.chars().count());
        return Some(heading.unwrap_or_else(|| core.to_owned()));
    }
    page.select(&HEADINGS)
        .filter(|h| h.value().name() == "h1")
        .map(|h| element_text(h, None).replace('\n', " "))
        .find(|t| !t.is_empty())
}

/// Most headings compared with the parts of a `<title>`.
const MAX_HEADINGS: usize = 400;

/// The topic's part of a `<title>`: the part before the first separator
/// (`Topic - Board - Site`), unless no heading of the page shows it and a
/// heading shows a later part, as when the site's name comes first
/// (`Site - Consulter le sujet : Topic`): then the later part a heading
/// shows by itself, or else the first later part a heading holds.
fn title_core(full: &str, page: &Html) -> String {
    let first = without_site_name(full);
    let parts: Vec<&str> = SEPARATOR
        .split(full)
        .map(str::trim)
        .filter(|p| p.chars().count() >= 2)
        .collect();
    if parts.len() < 2 {
        return first;
    }
    let headings: Vec<String> = page
        .select(&HEADINGS)
        .take(MAX_HEADINGS)
        .map(|h| tidy(&element_text(h, None).replace('\n', " ")))
        .filter(|t| !t.is_empty())
        .collect();
    if headings.iter().any(|h| h.contains(first.as_str())) {
        return first;
    }
    let later = &parts[1..];
    later
        .iter()
        .find(|p| headings.iter().any(|h| h == *p))
        .or_else(|| {
            later
                .iter()
                .find(|p| headings.iter().any(|h| h.contains(**p)))
        })
        .map_or(first, |p| (*p).to_owned())
}

/// `Topic - Board - Site - Powered by X` → `Topic`: the part before the
/// first separator, unless that leaves too little.
fn without_site_name(title: &str) -> String {
    match SEPARATOR.find(title) {
        Some(m) if title[..m.start()].chars().count() >= 2 => title[..m.start()].trim().to_owned(),
        _ => title.trim().to_owned(),
    }
}

/// The author of the first post-like block that names one.
fn first_post_author(page: &Html, hidden: &Hidden) -> Option<String> {
    let mut skipping = None;
    for edge in page.root_element().traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                let Node::Element(el) = node.value() else {
                    continue;
                };
                if is_invisible(el.name())
                    || ElementRef::wrap(node).is_some_and(|e| {
                        !matches!(el.name(), "html" | "body") && hidden.is_hidden(e)
                    })
                {
                    skipping = Some(node.id());
                    continue;
                }
                let post = el.id().is_some_and(|id| POST_ID.is_match(id))
                    || el.attr("class").is_some_and(|c| POST_CLASS.is_match(c));
                if !post {
                    continue;
                }
                let Some(block) = ElementRef::wrap(node) else {
                    continue;
                };
                if let Some(name) = author_in(block) {
                    return Some(name);
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                }
            }
        }
    }
    None
}

fn author_in(block: ElementRef<'_>) -> Option<String> {
    static A: LazyLock<Selector> = LazyLock::new(|| Selector::parse("a[href]").expect("valid"));
    static AUTHORISH: LazyLock<Selector> = LazyLock::new(|| {
        Selector::parse("[class*=author i], [class*=username i], [class*=poster i], cite")
            .expect("valid")
    });
    let by_link = block
        .select(&A)
        .take(200)
        .filter(|a| {
            a.value()
                .attr("href")
                .is_some_and(|h| PROFILE_LINK.is_match(h))
        })
        .find_map(|a| clean_name(&tidy(&a.text().collect::<String>())));
    by_link.or_else(|| {
        block
            .select(&AUTHORISH)
            .take(50)
            .filter(|e| {
                e.value().name() == "cite"
                    || e.value()
                        .attr("class")
                        .is_some_and(|c| SELLERISH_CLASS.is_match(c))
            })
            .find_map(|e| clean_name(&tidy(&e.text().collect::<String>())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_themed_topic_page() {
        let html = r#"<html><head><title>LinkedIn 1Billion Record | RaidForums</title></head><body>
<div class="header"><a href="User-me">me</a></div>
<span class="thread-info__name"><span class="prefix">SELLING</span>&nbsp;LinkedIn 1Billion Record</span>
<div class="post" id="post_1"><div class="post__user-profile"><a href="https://raidforums.com/User-TomLiner">TomLiner</a></div><div class="post_body">text</div></div>
<div class="post" id="post_2"><a href="User-Other">Other</a></div></body></html>"#;
        let meta = topic_meta(&Html::parse_document(html));
        assert_eq!(
            meta.title.as_deref(),
            Some("SELLING LinkedIn 1Billion Record")
        );
        assert_eq!(meta.author.as_deref(), Some("TomLiner"));
    }

    #[test]
    fn a_market_page_names_its_seller_with_a_label() {
        let html = r#"<html><head><title>Fullz JP | Market</title></head><body>
<h1>Fullz JP</h1><div class="info"><span>Vendor:</span> <a href="/v/kuro">kuro</a><br>Price: $90</div>
<p>Long description.</p></body></html>"#;
        let meta = topic_meta(&Html::parse_document(html));
        assert_eq!(meta.author.as_deref(), Some("kuro"));
        let html = "<div>卖家：东京小王</div>";
        assert_eq!(
            topic_meta(&Html::parse_document(html)).author.as_deref(),
            Some("东京小王")
        );
    }

    #[test]
    fn site_names_are_cut() {
        assert_eq!(
            without_site_name("含泪相劝三博士 - 雅典学院 - 1984 BBS - Powered by Discuz!"),
            "含泪相劝三博士"
        );
        assert_eq!(without_site_name("Plain title"), "Plain title");
    }
}
