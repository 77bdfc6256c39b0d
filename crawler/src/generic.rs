//! Generic extraction for pages of no known engine: find the repeated record
//! structure of a list page (table rows, repeated `div`/`li` blocks with a
//! link and text) and read each row; or find a content page's main text
//! without menus, headers, footers and scripts. Heuristics only; bounded
//! work on any input (no recursion, a cap on the text read per row).

use std::collections::HashMap;
use std::sync::LazyLock;

use ego_tree::iter::Edge;
use ego_tree::NodeId;
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};

use crate::text::{element_text, element_text_without, is_block, is_invisible, tidy};

/// Class or id words of boilerplate containers.
static BOILERPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(^|[-_\s])(nav|navbar|navigation|menu|menubar|footer|header|masthead|sidebar|side|breadcrumbs?|banner|share|social|cookie|ads?|advert|sponsor|login|signin|search|pagination|pager|dropdown|popup|modal|skip|toolbar|copyright|related|widget)([-_\s]|$)")
        .expect("valid")
});
/// Elements that are boilerplate by tag.
fn boilerplate_tag(name: &str) -> bool {
    matches!(
        name,
        "nav" | "header" | "footer" | "aside" | "form" | "button" | "menu" | "dialog"
    )
}
static BOILERPLATE_SELECTOR: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse("nav, header, footer, aside, form, button, menu, dialog, [role=navigation], [role=banner], [role=contentinfo]")
        .expect("valid")
});
static ANCHORS: LazyLock<Selector> = LazyLock::new(|| Selector::parse("a[href]").expect("valid"));
static TIME: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("time[datetime]").expect("valid"));
static PROFILE_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(memberlist\.php\?mode=viewprofile|member\.php\?action=profile|/members?/|space-uid-|[?&]uid=\d|[?&]u=\d|action=profile|/users?/|/profile|/vendor/|/seller/)")
        .expect("valid")
});
static SELLERISH_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(author|seller|vendor|username|poster|user-?name|by)").expect("valid")
});
/// A price as list rows show it: a currency sign or code next to a number.
static PRICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:(?:[$€£¥￥₽]|usd|usdt|btc|xmr)\s*\d[\d,]*(?:\.\d+)?\s*[kw万]?|\d[\d,]*(?:\.\d+)?\s*[kw万]?\s*(?:\[\s*)?(?:btc|xmr|eth|ltc|usdt|usd|eur|rmb|cny|jpy|rub|美元|美金|元|円|руб\.?|[$€£₽])(?:\s*\])?)")
        .expect("valid")
});

/// How many nodes of one row are read to describe it.
const ROW_NODE_BUDGET: usize = 400;

/// One row of a detected list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenericRow {
    pub title: String,
    pub href: String,
    pub price: Option<String>,
    pub seller: Option<String>,
    pub posted_at: Option<String>,
}

/// The rows of a list page and where they were found.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSet {
    /// A CSS-like path of the rows (`table#list > tbody > tr`), for `--explain`.
    pub path: String,
    pub rows: Vec<GenericRow>,
}

/// Finds the page's most substantial repeated structure of rows that each
/// hold a link with text. `None` when there is none of at least 3 rows.
pub fn find_rows(page: &Html) -> Option<RecordSet> {
    let mut best: Option<(f64, NodeId, String)> = None;
    for parent in candidate_parents(page) {
        // Group the children by signature.
        let mut groups: HashMap<String, Vec<ElementRef<'_>>> = HashMap::new();
        for child in parent.children().filter_map(ElementRef::wrap) {
            groups.entry(signature(child)).or_default().push(child);
        }
        for (sig, members) in groups {
            if members.len() < 3 {
                continue;
            }
            let mut valid = 0usize;
            let mut text_total = 0usize;
            let mut shapes: HashMap<String, usize> = HashMap::new();
            for row in &members {
                let (link_chars, text_chars) = measure_row(*row);
                if link_chars >= 3 {
                    valid += 1;
                    text_total += text_chars.min(300);
                    *shapes.entry(shape(*row)).or_default() += 1;
                }
            }
            if valid < 3 || valid * 10 < members.len() * 6 {
                continue;
            }
            // Records share a layout; boxes of a portal page do not.
            let common = shapes.values().copied().max().unwrap_or(0);
            if common * 2 < valid {
                continue;
            }
            let score = text_total as f64 * (1.0 + (valid as f64).ln());
            if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                best = Some((score, parent.id(), sig));
            }
        }
    }
    let (_, parent_id, sig) = best?;
    let parent = page.tree.get(parent_id).and_then(ElementRef::wrap)?;
    let rows = parent
        .children()
        .filter_map(ElementRef::wrap)
        .filter(|c| signature(*c) == sig)
        .filter_map(read_row)
        .collect::<Vec<_>>();
    (rows.len() >= 3).then(|| RecordSet {
        path: format!("{} > {}", describe(parent), sig),
        rows,
    })
}

/// The tag names of an element's children, repeats collapsed
/// (`td,td,td` → `td`): rows of one list share it.
fn shape(element: ElementRef<'_>) -> String {
    let mut out = String::new();
    let mut last = "";
    for child in element.children().filter_map(ElementRef::wrap).take(40) {
        let name = child.value().name();
        if name != last {
            out.push_str(name);
            out.push(',');
            last = name;
        }
    }
    out
}

/// Tag name and the classes that do not alternate between rows (`bg1`/`bg2`,
/// `odd`/`even`, `sticky`, `unread`).
fn signature(element: ElementRef<'_>) -> String {
    let mut classes: Vec<&str> = element
        .value()
        .classes()
        .filter(|c| !c.chars().any(|ch| ch.is_ascii_digit()))
        .filter(|c| {
            !matches!(
                c.to_ascii_lowercase().as_str(),
                "odd"
                    | "even"
                    | "alt"
                    | "first"
                    | "last"
                    | "active"
                    | "selected"
                    | "sticky"
                    | "new"
                    | "read"
                    | "unread"
                    | "hot"
                    | "locked"
                    | "highlight"
            )
        })
        .collect();
    classes.sort_unstable();
    let mut sig = element.value().name().to_owned();
    for c in classes {
        sig.push('.');
        sig.push_str(c);
    }
    sig
}

/// Characters of the longest link text and of all text in a row, reading at
/// most [`ROW_NODE_BUDGET`] nodes. A block of many links (a portal's news
/// box, a menu) is not a record: it measures as having no link.
fn measure_row(row: ElementRef<'_>) -> (usize, usize) {
    let mut anchors = 0usize;
    let mut longest_link = 0usize;
    let mut text = 0usize;
    let mut link_open: Option<(NodeId, usize)> = None;
    for (i, edge) in row.traverse().enumerate() {
        if i > ROW_NODE_BUDGET * 2 {
            break;
        }
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Text(t) => {
                    let n = t.trim().chars().count();
                    text += n;
                    if let Some((_, chars)) = link_open.as_mut() {
                        *chars += n;
                    }
                }
                Node::Element(el)
                    if el.name() == "a" && el.attr("href").is_some() && link_open.is_none() =>
                {
                    link_open = Some((node.id(), 0));
                    anchors += 1;
                }
                _ => {}
            },
            Edge::Close(node) => {
                if let Some((id, chars)) = link_open {
                    if id == node.id() {
                        longest_link = longest_link.max(chars);
                        link_open = None;
                    }
                }
            }
        }
    }
    if anchors > MAX_ROW_LINKS {
        return (0, text);
    }
    (longest_link, text)
}

/// More links than this in one block and it is a box of links, not a row.
const MAX_ROW_LINKS: usize = 8;

fn read_row(row: ElementRef<'_>) -> Option<GenericRow> {
    // Title: the longest link that is not a profile link.
    let mut title: Option<(usize, String, String)> = None;
    let mut seller: Option<String> = None;
    for a in row.select(&ANCHORS).take(50) {
        let href = a.value().attr("href").unwrap_or_default();
        let text = tidy(&a.text().collect::<String>());
        if text.is_empty() {
            continue;
        }
        if PROFILE_LINK.is_match(href) {
            if seller.is_none() {
                seller = Some(text);
            }
            continue;
        }
        let n = text.chars().count();
        if title.as_ref().is_none_or(|(best, _, _)| n > *best) {
            title = Some((n, text, href.to_owned()));
        }
    }
    let (_, title, href) = title?;
    // Cells (or text runs) for the other fields.
    let mut price = None;
    let mut posted_at = row
        .select(&TIME)
        .next()
        .and_then(|t| t.value().attr("datetime"))
        .map(str::to_owned);
    let mut texts = Vec::new();
    for (i, node) in row.descendants().enumerate() {
        if i > ROW_NODE_BUDGET {
            break;
        }
        if let Some(el) = ElementRef::wrap(node) {
            if seller.is_none()
                && el
                    .value()
                    .attr("class")
                    .is_some_and(|c| SELLERISH_CLASS.is_match(c))
                && el.value().name() != "a"
            {
                let t = tidy(&el.text().collect::<String>());
                let t = t.trim_start_matches("by ").trim();
                if !t.is_empty() && t.chars().count() <= 40 && t != title {
                    seller = Some(t.to_owned());
                }
            }
            continue;
        }
        if let Some(t) = node.value().as_text() {
            let t = t.trim();
            if !t.is_empty() {
                texts.push(t);
            }
        }
    }
    for t in &texts {
        if price.is_none() && *t != title {
            if let Some(m) = PRICE.find(t) {
                price = Some(tidy(m.as_str()));
            }
        }
        if posted_at.is_none() && *t != title && looks_like_date(t) {
            posted_at = Some((*t).to_owned());
        }
    }
    Some(GenericRow {
        title,
        href,
        price,
        seller,
        posted_at,
    })
}

static DATEISH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(\d{4}\s*[-/.年]\s*\d{1,2}|\d{1,2}[-/]\d{1,2}[-/,\s]+\d{1,4}|\d{1,2}:\d{2}|\bago\b|前$|昨天|今天|昨日|today|yesterday|назад|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d)")
        .expect("valid")
});

fn looks_like_date(text: &str) -> bool {
    text.chars().count() <= 40 && DATEISH.is_match(text)
}

/// Elements with at least 3 element children, outside menus, headers,
/// footers and the like; one pass over the page.
fn candidate_parents(page: &Html) -> Vec<ElementRef<'_>> {
    let mut out = Vec::new();
    let mut skipping: Option<NodeId> = None;
    for edge in page.root_element().traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                let Some(element) = ElementRef::wrap(node) else {
                    continue;
                };
                if is_invisible(element.value().name()) || is_boilerplate(element) {
                    skipping = Some(node.id());
                    continue;
                }
                if node
                    .children()
                    .filter(|c| c.value().is_element())
                    .nth(2)
                    .is_some()
                {
                    out.push(element);
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                }
            }
        }
    }
    out
}

fn is_boilerplate(e: ElementRef<'_>) -> bool {
    let v = e.value();
    boilerplate_tag(v.name())
        || matches!(
            v.attr("role"),
            Some("navigation" | "banner" | "contentinfo")
        )
        || v.attr("class").is_some_and(|c| BOILERPLATE.is_match(c))
        || v.attr("id").is_some_and(|c| BOILERPLATE.is_match(c))
}

/// `tag#id.class` of an element and its parent, for `--explain`.
fn describe(e: ElementRef<'_>) -> String {
    let one = |e: ElementRef<'_>| {
        let mut s = e.value().name().to_owned();
        if let Some(id) = e.value().id() {
            s.push('#');
            s.push_str(id);
        }
        for c in e.value().classes().take(2) {
            s.push('.');
            s.push_str(c);
        }
        s
    };
    match e.parent().and_then(ElementRef::wrap) {
        Some(p) if p.value().name() != "html" => format!("{} > {}", one(p), one(e)),
        _ => one(e),
    }
}

/// A content page's main text and where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct MainText {
    pub title: Option<String>,
    pub body: String,
    /// `tag#id.class` of the container, for `--explain`.
    pub container: String,
}

struct Frame {
    id: NodeId,
    block: bool,
    /// A paragraph-like block: its text scores its containers, not itself.
    paragraph: bool,
    text: usize,
    link_text: usize,
    /// Text directly in this block (not in a nested block).
    direct: usize,
    punctuation: usize,
    anchors: usize,
}

/// Main text shorter than this is a teaser, not the page's content.
const MIN_MAIN_TEXT: usize = 200;
static BODY: LazyLock<Selector> = LazyLock::new(|| Selector::parse("body").expect("valid"));
static H1: LazyLock<Selector> = LazyLock::new(|| Selector::parse("h1").expect("valid"));
static OG_TITLE: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse(r#"meta[property="og:title"]"#).expect("valid"));
static TITLE: LazyLock<Selector> = LazyLock::new(|| Selector::parse("title").expect("valid"));

/// The main text of a content page: the block whose paragraphs hold the
/// most non-link text (scores flow to parent and grandparent, as in
/// Readability), read without boilerplate. `None` on an empty page.
pub fn main_text(page: &Html) -> Option<MainText> {
    let root = page.root_element();
    let mut stack: Vec<Frame> = Vec::new();
    // Indexes into `stack` of its block frames, innermost last.
    let mut blocks: Vec<usize> = Vec::new();
    let mut scores: HashMap<NodeId, f64> = HashMap::new();
    let mut link_density: HashMap<NodeId, f64> = HashMap::new();
    let mut link_lists: std::collections::HashSet<NodeId> = std::collections::HashSet::new();
    let mut skipping: Option<NodeId> = None;
    let mut in_link: Option<NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(el) => {
                        let element = ElementRef::wrap(node);
                        if is_invisible(el.name()) || element.is_some_and(is_boilerplate) {
                            skipping = Some(node.id());
                            continue;
                        }
                        if el.name() == "a" && in_link.is_none() {
                            in_link = Some(node.id());
                        }
                        let block =
                            is_block(el.name()) || matches!(el.name(), "td" | "th" | "body");
                        if block {
                            blocks.push(stack.len());
                        }
                        stack.push(Frame {
                            id: node.id(),
                            block,
                            paragraph: matches!(
                                el.name(),
                                "p" | "li"
                                    | "dt"
                                    | "dd"
                                    | "h1"
                                    | "h2"
                                    | "h3"
                                    | "h4"
                                    | "h5"
                                    | "h6"
                                    | "pre"
                                    | "blockquote"
                                    | "figcaption"
                                    | "caption"
                                    | "summary"
                            ),
                            text: 0,
                            link_text: 0,
                            direct: 0,
                            punctuation: 0,
                            anchors: usize::from(el.name() == "a"),
                        });
                    }
                    Node::Text(t) => {
                        let n = t.trim().chars().count();
                        if n == 0 {
                            continue;
                        }
                        let punct = t
                            .chars()
                            .filter(|c| matches!(c, ',' | '，' | '。' | '、' | '.' | '；' | ';'))
                            .count();
                        if let Some(block) = blocks.last().and_then(|&i| stack.get_mut(i)) {
                            if in_link.is_none() {
                                block.direct += n;
                                block.punctuation += punct;
                            }
                        }
                        if let Some(top) = stack.last_mut() {
                            top.text += n;
                            if in_link.is_some() {
                                top.link_text += n;
                            }
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if let Some(id) = skipping {
                    if id == node.id() {
                        skipping = None;
                    }
                    continue;
                }
                if !matches!(node.value(), Node::Element(_)) {
                    continue;
                }
                if in_link == Some(node.id()) {
                    in_link = None;
                }
                let Some(frame) = stack.pop() else {
                    continue;
                };
                if frame.block {
                    blocks.pop();
                }
                if let Some(parent) = stack.last_mut() {
                    parent.text += frame.text;
                    parent.link_text += frame.link_text;
                    parent.anchors += frame.anchors;
                }
                // A block that is mostly links (a menu, a list of headlines).
                if frame.block
                    && frame.anchors >= 3
                    && frame.link_text * 10 >= frame.text * 7
                    && frame.text - frame.link_text < 80
                {
                    link_lists.insert(frame.id);
                }
                if frame.block {
                    link_density.insert(
                        frame.id,
                        frame.link_text as f64 / (frame.text.max(1)) as f64,
                    );
                    if frame.direct >= 20 {
                        let s = frame.direct as f64 + 10.0 * frame.punctuation.min(30) as f64;
                        if !frame.paragraph {
                            *scores.entry(frame.id).or_default() += s;
                        }
                        let mut ancestors = blocks.iter().rev().filter_map(|&i| stack.get(i));
                        if let Some(p) = ancestors.next() {
                            *scores.entry(p.id).or_default() += s / 2.0;
                        }
                        if let Some(g) = ancestors.next() {
                            *scores.entry(g.id).or_default() += s / 4.0;
                        }
                    }
                }
            }
        }
    }
    let best = scores
        .iter()
        .chain(std::iter::once((&root.id(), &0.0)))
        .map(|(id, s)| {
            (
                *id,
                s * (1.0 - link_density.get(id).copied().unwrap_or(0.0)),
            )
        })
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)))?;
    let drop = |e: ElementRef<'_>| {
        link_lists.contains(&e.id()) || BOILERPLATE_SELECTOR.matches(&e) || is_boilerplate(e)
    };
    let mut container = page.tree.get(best.0).and_then(ElementRef::wrap)?;
    let mut body = element_text_without(container, &drop);
    // A short block that is not most of the page is a teaser, not the
    // content (a portal, a page of short items): take the whole page without
    // its menus, headers, footers and link lists.
    let chars = body.chars().count();
    if chars < MIN_MAIN_TEXT {
        if let Some(whole) = page.select(&BODY).next() {
            let whole_text = element_text_without(whole, &drop);
            if chars * 2 < whole_text.chars().count() {
                container = whole;
                body = whole_text;
            }
        }
    }
    if body.is_empty() {
        return None;
    }
    let title = page
        .select(&OG_TITLE)
        .next()
        .and_then(|m| m.value().attr("content"))
        .map(tidy)
        .or_else(|| {
            page.select(&H1)
                .map(|h| element_text(h, None))
                .find(|t| !t.is_empty())
        })
        .or_else(|| {
            page.select(&TITLE)
                .map(|t| tidy(&t.text().collect::<String>()))
                .find(|t| !t.is_empty())
        });
    Some(MainText {
        title,
        body,
        container: describe(container),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_table_rows_with_price_seller_and_date() {
        let html = r#"<html><body>
<ul class="menu"><li><a href="/">Home</a></li><li><a href="/faq">FAQ page</a></li><li><a href="/rules">Rules page</a></li></ul>
<table id="offers"><tbody>
<tr class="r1"><td><a href="/item/1">Fresh EU bank logins</a></td><td><a href="/vendor/alpha">alpha</a></td><td>$150</td><td>2024-03-01 10:00</td></tr>
<tr class="r2"><td><a href="/item/2">Corporate VPN access (JP)</a></td><td><a href="/vendor/beta">beta</a></td><td>0.01 BTC</td><td>2024-03-02 11:00</td></tr>
<tr class="r1"><td><a href="/item/3">Database dump 2M rows</a></td><td><a href="/vendor/gamma">gamma</a></td><td>200元</td><td>3 days ago</td></tr>
</tbody></table></body></html>"#;
        let page = Html::parse_document(html);
        let set = find_rows(&page).expect("rows");
        assert_eq!(set.path, "table#offers > tbody > tr");
        assert_eq!(set.rows.len(), 3);
        assert_eq!(
            set.rows[1],
            GenericRow {
                title: "Corporate VPN access (JP)".into(),
                href: "/item/2".into(),
                price: Some("0.01 BTC".into()),
                seller: Some("beta".into()),
                posted_at: Some("2024-03-02 11:00".into()),
            }
        );
        assert_eq!(set.rows[2].price.as_deref(), Some("200元"));
        assert_eq!(set.rows[2].posted_at.as_deref(), Some("3 days ago"));
    }

    #[test]
    fn menus_are_not_lists_and_content_pages_have_main_text() {
        let html = r#"<html><head><title>Post - Board</title><style>.x{}</style></head><body>
<nav><ul><li><a href="/a">Section one</a></li><li><a href="/b">Section two</a></li><li><a href="/c">Section three</a></li></ul></nav>
<div id="main"><h1>Selling access</h1><div class="post"><p>Selling corporate mail access, fresh, with admin rights, contact by PM, escrow accepted.</p><p>Second paragraph, with details, more details.</p></div></div>
<div class="footer">Copyright 2024, all rights reserved, powered by nothing at all.</div>
<script>var tracking = 1;</script></body></html>"#;
        let page = Html::parse_document(html);
        assert_eq!(find_rows(&page), None);
        let main = main_text(&page).expect("main text");
        assert_eq!(main.title.as_deref(), Some("Selling access"));
        assert_eq!(
            main.body,
            "Selling corporate mail access, fresh, with admin rights, contact by PM, escrow accepted.\nSecond paragraph, with details, more details."
        );
    }

    #[test]
    fn huge_tables_and_deep_nesting_are_bounded() {
        let mut html = String::from("<table>");
        for i in 0..50_000 {
            html.push_str(&format!(
                "<tr><td><a href=\"/t/{i}\">topic number {i}</a></td><td>{i} BTC</td></tr>"
            ));
        }
        html.push_str("</table>");
        let started = std::time::Instant::now();
        let page = Html::parse_document(&html);
        let set = find_rows(&page).expect("rows");
        assert_eq!(set.rows.len(), 50_000);
        assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
        let deep = format!(
            "{}<p>deep text here, long enough to count as a paragraph.</p>{}",
            "<div>".repeat(10_000),
            "</div>".repeat(10_000)
        );
        let page = Html::parse_document(&deep);
        assert_eq!(find_rows(&page), None);
        let _ = main_text(&page);
    }
}
