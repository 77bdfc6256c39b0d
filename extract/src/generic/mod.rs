//! Generic extraction for pages of no known engine, or whose engine preset
//! finds nothing: the main listing of a list page ([`find_rows`]), the
//! fields of each row by column header or by what the cells hold, the main
//! text of a content page ([`main_text`]), and pages that are walls
//! ([`wall`]: CAPTCHAs, anti-bot and login pages, script-only shells).
//! Heuristics only; bounded work on any input.

mod fields;
mod main_text;
mod rows;
mod topic;
mod walls;

use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Selector};

pub(crate) use fields::without_label;
pub use fields::{ColumnField, Field};
pub use main_text::{main_text, MainText};
pub use rows::{find_rows, find_rows_at, read_each, read_rows, GenericRow, RecordSet};
pub use topic::{topic_meta, TopicMeta};
pub use walls::{wall, Wall};

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
pub(crate) static BOILERPLATE_SELECTOR: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse("nav, header, footer, aside, form, button, menu, dialog, [role=navigation], [role=banner], [role=contentinfo]")
        .expect("valid")
});

pub(crate) fn is_boilerplate(e: ElementRef<'_>) -> bool {
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
pub(crate) fn describe(e: ElementRef<'_>) -> String {
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
