//! Pages whose content sits in `<noscript>`: a script app's shell (Flarum's
//! `<noscript id="flarum-content">`, other single-page forums) that serves
//! its server-rendered lists and posts only to clients without JavaScript.
//! A crawler is such a client, and a browser with script off shows that
//! content; but the HTML parser, like a browser with script on, keeps a
//! `<noscript>` in the body as raw text, so the page would read as an empty
//! shell. When the body shows next to nothing outside its `<noscript>`
//! blocks and they hold links, the page is read again as a script-less
//! browser lays it out: the body's `<noscript>` elements become plain
//! blocks.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{Html, Selector};

use crate::text::element_text;

static BODY: LazyLock<Selector> = LazyLock::new(|| Selector::parse("body").expect("valid"));
static NOSCRIPT: LazyLock<Selector> = LazyLock::new(|| Selector::parse("noscript").expect("valid"));
/// A link in a `<noscript>`'s raw markup.
static LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)<a\s[^>]*\bhref\s*="#).expect("valid"));
/// Where the body starts in the page's HTML.
static BODY_TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)<body[\s>/]").expect("valid"));
/// An opening or closing `<noscript>` tag.
static NOSCRIPT_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)<(/?)noscript\b").expect("valid"));

/// A body with less visible text than this (script on) is a shell: the
/// same bound as the script-only wall's.
const SHELL_TEXT: usize = 200;

/// The page as a browser without JavaScript shows it, when it differs in
/// what matters: `None` unless the body is a shell (under [`SHELL_TEXT`]
/// characters outside `<noscript>`) whose `<noscript>` blocks hold links.
pub(crate) fn without_script(page: &Html, html: &str) -> Option<Html> {
    let body = page.select(&BODY).next()?;
    let mut blocks = body.select(&NOSCRIPT).peekable();
    blocks.peek()?;
    if !blocks.any(|n| LINK.is_match(&n.text().collect::<String>())) {
        return None;
    }
    if element_text(body, None).chars().count() >= SHELL_TEXT {
        return None;
    }
    // Only the body's: a `<noscript>` in the head holds styles and pixels,
    // and a block there would end the head early.
    let start = BODY_TAG.find(html).map_or(0, |m| m.start());
    let (head, rest) = html.split_at(start);
    let rest = NOSCRIPT_TAG.replace_all(rest, "<${1}div");
    Some(Html::parse_document(&format!("{head}{rest}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(html: &str) -> Option<String> {
        let page = Html::parse_document(html);
        let again = without_script(&page, html)?;
        let body = again.select(&BODY).next()?;
        Some(element_text(body, None))
    }

    #[test]
    fn a_shell_shows_its_noscript_content() {
        let text = shown(
            "<html><head><noscript><link rel=stylesheet href=/a.css></noscript></head>\
             <body><div id=app></div><noscript><ul><li><a href=/d/1-vpn>VPN 販売</a></li>\
             </ul></noscript><script src=/app.js></script></body></html>",
        );
        assert_eq!(text.as_deref(), Some("VPN 販売"));
    }

    #[test]
    fn pages_with_content_or_without_noscript_links_stay_as_they_are() {
        // Content outside: a tracking pixel's noscript changes nothing.
        let long = "口座を販売します。".repeat(40);
        assert!(shown(&format!(
            "<body><p>{long}</p><noscript><a href=/x><img src=/px.gif></a></noscript></body>"
        ))
        .is_none());
        // A shell asking for script, no links: still a shell (a wall).
        assert!(shown(
            "<body><noscript>You need to enable JavaScript to run this app.</noscript>\
             <div id=root></div><script src=/main.js></script></body>"
        )
        .is_none());
        assert!(shown("<body><div id=root></div><script src=/main.js></script></body>").is_none());
    }
}
