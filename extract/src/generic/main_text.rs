//! Main text of a content page: the block whose paragraphs hold the most
//! non-link text, read without menus, headers, footers and scripts (as in
//! Readability). Bounded work on any input (no recursion).

use std::collections::HashMap;
use std::sync::LazyLock;

use ego_tree::iter::Edge;
use ego_tree::NodeId;
use scraper::{ElementRef, Html, Node, Selector};

use super::{describe, is_boilerplate, BOILERPLATE_SELECTOR};
use crate::text::{element_text, element_text_without, is_block, is_invisible, tidy};

/// A content page's main text and where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct MainText {
    /// `og:title`, else the first `h1`, else `<title>`.
    pub title: Option<String>,
    /// The main text, menus and scripts left out.
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
    fn menus_are_not_lists_and_content_pages_have_main_text() {
        let html = r#"<html><head><title>Post - Board</title><style>.x{}</style></head><body>
<nav><ul><li><a href="/a">Section one</a></li><li><a href="/b">Section two</a></li><li><a href="/c">Section three</a></li></ul></nav>
<div id="main"><h1>Selling access</h1><div class="post"><p>Selling corporate mail access, fresh, with admin rights, contact by PM, escrow accepted.</p><p>Second paragraph, with details, more details.</p></div></div>
<div class="footer">Copyright 2024, all rights reserved, powered by nothing at all.</div>
<script>var tracking = 1;</script></body></html>"#;
        let page = Html::parse_document(html);
        assert_eq!(super::super::find_rows(&page), None);
        let main = main_text(&page).expect("main text");
        assert_eq!(main.title.as_deref(), Some("Selling access"));
        assert_eq!(
            main.body,
            "Selling corporate mail access, fresh, with admin rights, contact by PM, escrow accepted.\nSecond paragraph, with details, more details."
        );
    }
}
