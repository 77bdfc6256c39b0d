//! Content a reader never sees: elements hidden by an inline style or the
//! `hidden` attribute, and elements of a class that the page's own
//! stylesheet hides. Boards plant decoys this way (fake posts whose author,
//! subject and body are a random number, in rows of a class the page's
//! `<style>` sets to `display:none`), so a field read from a hidden element
//! is a decoy's, not the page's.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html, Selector};

static STYLE: LazyLock<Selector> = LazyLock::new(|| Selector::parse("style").expect("valid"));
static COMMENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?s)/\*.*?\*/").expect("valid"));
/// `.name` or `tag.name` alone: a rule that hides every element of a class.
static CLASS_SELECTOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z]*\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)$").expect("valid"));

/// Most rules a page's stylesheet is read for, and most bytes of it: a
/// bound on the work a hostile page can ask for.
const MAX_RULES: usize = 5_000;
const MAX_STYLE_BYTES: usize = 512 * 1024;

/// What a page hides from its readers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hidden {
    classes: HashSet<String>,
}

impl Hidden {
    /// The classes the page's `<style>` elements hide unconditionally
    /// (`display:none` or `visibility:hidden` in a rule outside `@media`
    /// and other at-rules).
    pub(crate) fn of(page: &Html) -> Hidden {
        let mut classes = HashSet::new();
        let mut budget = MAX_STYLE_BYTES;
        for style in page.select(&STYLE) {
            let css: String = style.text().collect();
            let css = &css[..floor_char_boundary(&css, budget.min(css.len()))];
            budget = budget.saturating_sub(css.len());
            hidden_classes(&COMMENT.replace_all(css, ""), &mut classes);
            if budget == 0 {
                break;
            }
        }
        Hidden { classes }
    }

    /// Whether `element` itself is hidden.
    pub(crate) fn is_hidden(&self, element: ElementRef<'_>) -> bool {
        let v = element.value();
        if v.attr("hidden").is_some() || v.attr("style").is_some_and(hides) {
            return true;
        }
        !self.classes.is_empty() && v.classes().any(|c| self.classes.contains(c))
    }

    /// Whether `element` or one of its ancestors is of a class the page's
    /// stylesheet hides: a decoy, not content a script or a reader's
    /// choice (a collapsed category) keeps out of view for now.
    pub(crate) fn is_decoy(&self, element: ElementRef<'_>) -> bool {
        !self.classes.is_empty()
            && std::iter::once(element)
                .chain(element.ancestors().filter_map(ElementRef::wrap))
                .any(|e| e.value().classes().any(|c| self.classes.contains(c)))
    }

    /// Whether `element` or one of its ancestors below `<body>` is hidden.
    /// `<html>` and `<body>` are not asked: pages hide the whole body until
    /// a script has run.
    pub(crate) fn is_within_hidden(&self, element: ElementRef<'_>) -> bool {
        std::iter::once(element)
            .chain(element.ancestors().filter_map(ElementRef::wrap))
            .take_while(|e| !matches!(e.value().name(), "body" | "html"))
            .any(|e| self.is_hidden(e))
    }
}

/// Whether an inline style hides its element.
fn hides(style: &str) -> bool {
    let s: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    s.split(';')
        .any(|d| d.starts_with("display:none") || d.starts_with("visibility:hidden"))
}

/// Adds the classes that top-level rules of `css` hide.
fn hidden_classes(css: &str, out: &mut HashSet<String>) {
    let mut depth = 0usize;
    let mut at_rule_depth: Option<usize> = None;
    let mut start = 0usize;
    let mut rules = 0usize;
    let mut selectors = "";
    for (i, ch) in css.char_indices() {
        match ch {
            '{' => {
                let prelude = css[start..i].trim();
                if at_rule_depth.is_none() && prelude.starts_with('@') {
                    at_rule_depth = Some(depth);
                }
                selectors = prelude;
                depth += 1;
                start = i + 1;
            }
            '}' => {
                depth = depth.saturating_sub(1);
                if at_rule_depth.is_none() {
                    let body = &css[start..i];
                    if hides(body) {
                        for s in selectors.split(',') {
                            if let Some(c) = CLASS_SELECTOR.captures(s.trim()) {
                                out.insert(c[1].to_owned());
                            }
                        }
                    }
                    rules += 1;
                    if rules >= MAX_RULES {
                        return;
                    }
                }
                if at_rule_depth == Some(depth) {
                    at_rule_depth = None;
                }
                selectors = "";
                start = i + 1;
            }
            ';' if depth == 0 => start = i + 1,
            _ => {}
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(style: &str, body: &str) -> Html {
        Html::parse_document(&format!(
            "<html><head><style>{style}</style></head><body>{body}</body></html>"
        ))
    }

    #[test]
    fn top_level_class_rules_hide_media_rules_do_not() {
        let p = page(
            ".a > td {color:red} .kX {display:none} tr.qQ, .vis {display : none !important}\
             @media (max-width: 800px) { .m {display:none} } .after {visibility: hidden}",
            "<p class='kX'>1</p><p class='m'>2</p><p class='vis other'>3</p><p class='after'>4</p><p class='a'>5</p>",
        );
        let h = Hidden::of(&p);
        let sel = Selector::parse("p").expect("valid");
        let hidden: Vec<bool> = p.select(&sel).map(|e| h.is_hidden(e)).collect();
        assert_eq!(hidden, [true, false, true, true, false]);
        let decoys: Vec<bool> = p.select(&sel).map(|e| h.is_decoy(e)).collect();
        assert_eq!(decoys, [true, false, true, true, false]);
    }

    #[test]
    fn inline_styles_and_the_hidden_attribute_hide_and_body_does_not_count() {
        let p = Html::parse_document(
            "<html><body style='display:none'><div style='DISPLAY: None'><b>x</b></div>\
             <div hidden><i>y</i></div><u>z</u></body></html>",
        );
        let h = Hidden::of(&p);
        let one = |css: &str| {
            let s = Selector::parse(css).expect("valid");
            p.select(&s).next().expect("present")
        };
        assert!(h.is_within_hidden(one("b")));
        assert!(h.is_within_hidden(one("i")));
        assert!(!h.is_within_hidden(one("u")));
        // An inline style is a collapsed block or a menu, not a decoy.
        assert!(!h.is_decoy(one("b")));
    }

    #[test]
    fn comments_and_unclosed_rules_are_harmless() {
        let p = page(
            "/* .c {display:none} */ .d {display:none",
            "<p class='c'>1</p>",
        );
        let h = Hidden::of(&p);
        let sel = Selector::parse("p").expect("valid");
        assert!(!p.select(&sel).any(|e| h.is_hidden(e)));
    }
}
