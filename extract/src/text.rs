//! Visible text of an element, as a reader sees it: block elements and `<br>`
//! break lines, scripts, styles and chosen elements are left out, blank runs
//! collapse. Iterative, so a 10,000-deep page cannot overflow the stack.

use ego_tree::iter::Edge;
use scraper::{ElementRef, Node, Selector};

/// Elements whose content is never visible text.
pub(crate) fn is_invisible(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "head"
            | "title"
            | "select"
            | "option"
            | "textarea"
            | "svg"
            | "iframe"
            | "object"
    )
}

/// Elements that start a new line.
pub(crate) fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "li"
            | "tr"
            | "dd"
            | "dt"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "pre"
            | "table"
            | "tbody"
            | "thead"
            | "ul"
            | "ol"
            | "dl"
            | "article"
            | "section"
            | "main"
            | "header"
            | "footer"
            | "aside"
            | "nav"
            | "form"
            | "fieldset"
            | "hr"
            | "center"
            | "address"
            | "figure"
            | "figcaption"
            | "caption"
            | "legend"
            | "details"
            | "summary"
    )
}

/// Text of `element` without the subtrees matching `drop`; lines trimmed,
/// inner blank runs collapsed to one space, empty lines removed.
pub(crate) fn element_text(element: ElementRef<'_>, drop: Option<&Selector>) -> String {
    element_text_without(element, &|e: ElementRef<'_>| {
        drop.is_some_and(|d| d.matches(&e))
    })
}

/// [`element_text`] leaving out the elements for which `drop` is true.
pub(crate) fn element_text_without(
    element: ElementRef<'_>,
    drop: &dyn Fn(ElementRef<'_>) -> bool,
) -> String {
    tidy(&visible_text(element, drop, Breaks::Every))
}

/// Text of `element` as a chat or paste shows it: `<br>` breaks a line and
/// blank lines between paragraphs stay (one at most in a row), block
/// elements start a line without adding a blank one, source line breaks are
/// spaces; elements for which `drop` is true are left out. Lines are trimmed
/// and their blank runs collapsed.
pub(crate) fn text_with_breaks(
    element: ElementRef<'_>,
    drop: &dyn Fn(ElementRef<'_>) -> bool,
) -> String {
    let text = visible_text(element, drop, Breaks::Paragraphs);
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() && lines.last().is_none_or(String::is_empty) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines.join("\n")
}

/// How block elements break lines in [`visible_text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breaks {
    /// A line break at every block boundary (empty lines are tidied away).
    Every,
    /// A block starts a line unless one was just started, so only `<br>`s
    /// make blank lines.
    Paragraphs,
}

/// The visible text of `element`, lines not yet tidied: text nodes with
/// their source line breaks as spaces (kept inside `pre`), `<br>` and block
/// boundaries as line breaks, table cells apart by a space.
fn visible_text(
    element: ElementRef<'_>,
    drop: &dyn Fn(ElementRef<'_>) -> bool,
    breaks: Breaks,
) -> String {
    let mut out = String::new();
    let block_break = |out: &mut String| {
        if breaks == Breaks::Every || !(out.is_empty() || out.ends_with('\n')) {
            out.push('\n');
        }
    };
    // The element being skipped (its id), and the depth of `pre` we are in.
    let mut skipping: Option<ego_tree::NodeId> = None;
    let mut pre_depth = 0usize;
    for edge in element.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(text) => {
                        if pre_depth > 0 {
                            out.push_str(text);
                        } else {
                            push_collapsed(&mut out, text);
                        }
                    }
                    Node::Element(el) => {
                        let name = el.name();
                        let skip = node.id() != element.id()
                            && (is_invisible(name) || ElementRef::wrap(node).is_some_and(drop));
                        if skip {
                            skipping = Some(node.id());
                            if is_block(name) {
                                block_break(&mut out);
                            }
                            continue;
                        }
                        if name == "br" {
                            out.push('\n');
                        } else if is_block(name) {
                            block_break(&mut out);
                        } else if matches!(name, "td" | "th") {
                            out.push(' ');
                        }
                        if name == "pre" {
                            pre_depth += 1;
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
                if let Node::Element(el) = node.value() {
                    let name = el.name();
                    if is_block(name) {
                        block_break(&mut out);
                    } else if matches!(name, "td" | "th") {
                        out.push(' ');
                    }
                    if name == "pre" {
                        pre_depth = pre_depth.saturating_sub(1);
                    }
                }
            }
        }
    }
    out
}

/// Appends text with its line breaks turned into spaces (HTML whitespace).
fn push_collapsed(out: &mut String, text: &str) {
    for c in text.chars() {
        out.push(if c == '\n' || c == '\r' { ' ' } else { c });
    }
}

/// Trims lines, collapses blank runs, drops empty lines.
pub(crate) fn tidy(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let collapsed = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if !collapsed.is_empty() {
            lines.push(collapsed);
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    fn text_of(html: &str, css: &str, drop: Option<&str>) -> String {
        let page = Html::parse_document(html);
        let sel = Selector::parse(css).expect("valid");
        let drop = drop.map(|d| Selector::parse(d).expect("valid"));
        page.select(&sel)
            .next()
            .map(|e| element_text(e, drop.as_ref()))
            .unwrap_or_default()
    }

    #[test]
    fn lines_follow_blocks_not_source_newlines() {
        let html = "<div id=c>带登录密码\n+密保<br>可转账<script>x()</script><p>  a   b </p><pre>x\n  y</pre></div>";
        assert_eq!(
            text_of(html, "#c", None),
            "带登录密码 +密保\n可转账\na b\nx\ny"
        );
    }

    #[test]
    fn dropped_subtrees_are_left_out() {
        let html = "<div id=c>keep<div class=att><dl><dd>file.png</dd></dl></div>tail</div>";
        assert_eq!(text_of(html, "#c", Some("div.att")), "keep\ntail");
    }

    #[test]
    fn breaks_keep_paragraphs_but_blocks_add_no_blank_lines() {
        let page = Html::parse_document(
            "<div id=c>\n  <div>First line,\n  still first.<br/><br/><b>Bold<br/><br/></b>tail \
             <br/><br/><br/>after three</div><div class=q>quoted</div><p>last</p>\n</div>",
        );
        let sel = Selector::parse("#c").expect("valid");
        let q = Selector::parse(".q").expect("valid");
        let el = page.select(&sel).next().expect("the div");
        assert_eq!(
            text_with_breaks(el, &|e| q.matches(&e)),
            "First line, still first.\n\nBold\n\ntail\n\nafter three\nlast"
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = format!(
            "<div id=c>{}deep{}</div>",
            "<span>".repeat(20_000),
            "</span>".repeat(20_000)
        );
        assert_eq!(text_of(&html, "#c", None), "deep");
    }
}
