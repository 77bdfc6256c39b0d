//! The templates render crawled text as text: pages built from a hostile
//! listing (script, event handlers, `javascript:` links, CSS, htmx
//! attributes) carry none of it as markup, crawled URLs are text to copy,
//! and only our own paths become links.

use std::collections::BTreeMap;

use askama::Template;

use super::alerts::{AlertView, QueuePage};
use super::lists::SearchView;
use super::{Frame, MessagePage, Viewer};
use crate::access::{Principal, Role, Scope};
use crate::alert_store::Sighting;
use crate::console::i18n::Lang;
use crate::console::marks::find_marks;
use crate::console::scoped::{
    AlertDetail, AlertPage, AlertQuery, AlertSummary, DocumentView, Facets, SearchItem, SearchPage,
    SearchQuery,
};
use crate::triage::HistoryEntry;

/// Every kind of injection the demo's hostile listing carries, and two
/// aimed at htmx (an attribute and a quoted-attribute break-out).
const HOSTILE: &str = r#"<script>window.__lw_pwned=1</script><img src=x onerror="alert(1)"><a href='javascript:alert(1)'>x</a><style>body{display:none}</style><div hx-get="/logout" hx-trigger="load">" hx-post="/logout" `"#;

fn viewer() -> Viewer {
    Viewer {
        principal: Principal {
            token_id: 1,
            name: "yamada".into(),
            scope: Scope::Customer("mufg-group".into()),
            role: Role::Analyst,
        },
        csrf: "csrf-token-value".into(),
        lang: Lang::En,
        here: "/alerts/7".into(),
        htmx: false,
    }
}

fn hostile_alert() -> AlertSummary {
    AlertSummary {
        id: 7,
        status: "new".into(),
        first_seen: "2026-11-01T00:00:00Z".into(),
        last_seen: HOSTILE.into(),
        alert: watchlists::Alert {
            doc_id: "doc-7".into(),
            customer: "mufg-group".into(),
            asset: "mufg".into(),
            asset_name: format!("三菱ＵＦＪ {HOSTILE}"),
            severity: watchlists::Severity::High,
            terms: vec!["三菱ＵＦＪ".into()],
            context: vec!["出售".into()],
            snippet: HOSTILE.into(),
            url: Some("http://abc.onion/<b>?x=\"onmouseover=alert(1)".into()),
            site: Some(HOSTILE.into()),
            entities: Vec::new(),
        },
    }
}

fn hostile_detail() -> AlertDetail {
    let title = format!("出售 三菱ＵＦＪ {HOSTILE}");
    let body = format!("{HOSTILE}\n三菱ＵＦＪ 网银 出售\n{HOSTILE}");
    let marks = find_marks(
        Some(&title),
        Some(&body),
        &["三菱ＵＦＪ".to_owned()],
        &["出售".to_owned()],
    );
    AlertDetail {
        summary: hostile_alert(),
        document: Some(DocumentView {
            id: "doc-7".into(),
            site: HOSTILE.into(),
            url: "http://abc.onion/listing".into(),
            kind: "listing".into(),
            lang: Some("zh".into()),
            title: Some(title),
            body: Some(body),
            price: Some(HOSTILE.into()),
            seller: Some(HOSTILE.into()),
            category: None,
            posted_at: None,
            fetched_at: None,
            encoding: None,
            customers: vec!["mufg-group".into()],
            alerts: Vec::new(),
        }),
        marks,
        also_seen_at: vec![Sighting {
            doc_id: "doc-8".into(),
            url: Some("javascript:alert(1)//x.onion".into()),
            site: Some(HOSTILE.into()),
            seen_at: "2026-11-02T00:00:00Z".into(),
        }],
        deliveries: Vec::new(),
        history: vec![HistoryEntry {
            at: "2026-11-03T00:00:00Z".into(),
            actor: HOSTILE.into(),
            from: "new".into(),
            to: "acknowledged".into(),
            note: HOSTILE.into(),
        }],
    }
}

/// Nothing of `HOSTILE` became markup in `page`: the only script is our
/// own htmx, no element or attribute the payload carries exists, and the
/// payload is there as escaped text.
fn assert_inert(page: &str) {
    let scripts: Vec<&str> = page
        .match_indices("<script")
        .map(|(i, _)| &page[i..])
        .collect();
    assert!(scripts.len() <= 1, "{page}");
    for s in scripts {
        assert!(
            s.starts_with("<script src=\"/assets/htmx.") && s.contains("</script>"),
            "only our own htmx: {}",
            &s[..s.len().min(80)]
        );
    }
    for raw in [
        "<img",
        "<svg",
        "<iframe",
        "<style",
        "<div hx-get",
        "onerror=\"",
        "\"onmouseover",
        "href=\"javascript:",
        "href='javascript:",
        "<a href=\"http",
        "hx-post=\"/logout\"",
        "hx-trigger=\"load\"",
    ] {
        assert!(
            !page.contains(raw),
            "{raw} reached the page as markup:\n{page}"
        );
    }
    assert!(
        page.contains("&#60;script&#62;window.__lw_pwned=1&#60;/script&#62;"),
        "the payload shown as text:\n{page}"
    );
}

#[test]
fn the_alert_page_shows_a_hostile_listing_as_text() {
    let detail = hostile_detail();
    let page = AlertView::new(&viewer(), &detail, false)
        .render()
        .expect("renders");
    assert_inert(&page);
    // The matched term and the cue are marked, in the title and the body.
    assert!(
        page.contains("<mark class=\"term\">三菱ＵＦＪ</mark>"),
        "{page}"
    );
    assert!(page.contains("<mark class=\"cue\">出售</mark>"), "{page}");
    // Crawled URLs are text to copy; the listing is closed to htmx.
    assert!(page.contains(
        "<code class=\"url\" title=\"copy, do not open\">http://abc.onion/&#60;b&#62;?x=&#34;onmouseover=alert(1)</code>"
    ));
    assert!(page.contains(
        "<code class=\"url\" title=\"copy, do not open\">javascript:alert(1)//x.onion</code>"
    ));
    assert!(page.contains("<section class=\"listing\" id=\"listing\" hx-disable>"));
    // Our own links are links; the triage form carries the CSRF token and
    // posts with or without htmx.
    assert!(page.contains("<a href=\"/api/v1/alerts/7/evidence\">"));
    assert!(page.contains(
        "action=\"/alerts/7/status\" hx-post=\"/alerts/7/status\" hx-target=\"#history\""
    ));
    assert!(page.contains("name=\"csrf\" value=\"csrf-token-value\""));
    assert!(
        !page.contains("hx-swap-oob"),
        "out-of-band swaps only in the fragment"
    );
}

#[test]
fn the_triage_fragment_is_history_status_and_form_only() {
    let detail = hostile_detail();
    let view = AlertView::new(&viewer(), &detail, true);
    let fragment = [
        view.as_history().render().expect("history"),
        view.as_status_badge().render().expect("badge"),
        view.as_triage_form().render().expect("form"),
    ]
    .concat();
    assert_inert_fragment(&fragment);
    assert!(fragment.starts_with("<ol id=\"history\">"), "{fragment}");
    assert!(fragment.contains(
        "<span class=\"status\" id=\"alert-status\" data-status=\"new\" hx-swap-oob=\"true\">"
    ));
    assert!(fragment.contains("id=\"triage\""));
    assert!(
        !fragment.contains("<html") && !fragment.contains("<nav"),
        "{fragment}"
    );
}

/// As [`assert_inert`] for a fragment (no script at all).
fn assert_inert_fragment(fragment: &str) {
    assert!(!fragment.contains("<script"), "{fragment}");
    assert!(!fragment.contains("<img") && !fragment.contains("onerror=\""));
    assert!(fragment.contains("&#60;script&#62;"), "{fragment}");
}

#[test]
fn the_queue_and_its_fragment_escape_crawled_snippets() {
    let query = AlertQuery {
        text: Some(HOSTILE.into()),
        ..AlertQuery::default()
    };
    let page_data = AlertPage {
        items: vec![hostile_alert()],
        next_cursor: Some("c1".into()),
        counts: BTreeMap::from([("new".to_owned(), 1)]),
    };
    let v = viewer();
    let page = QueuePage::new(
        Frame::new(Some(&v), Lang::Ja, "アラート"),
        &query,
        &page_data,
    );
    let whole = page.render().expect("renders");
    assert_inert(&whole);
    assert!(whole.contains("<html lang=\"ja\">"));
    assert!(
        whole.contains("<tbody hx-disable>"),
        "snippets closed to htmx"
    );
    assert!(whole.contains("<a href=\"/alerts/7\">#7</a>"), "{whole}");
    let fragment = page.as_results().render().expect("renders");
    assert_inert_fragment(&fragment);
    assert!(
        fragment.starts_with("<div id=\"queue-results\">"),
        "{fragment}"
    );
    assert!(!fragment.contains("<html"));
    // The next page keeps the filter, percent-encoded, and htmx follows it.
    assert!(
        fragment.contains("hx-get=\"/alerts?text=%3Cscript%3E"),
        "{fragment}"
    );
    assert!(fragment.contains("cursor=c1"));
    assert!(!fragment.contains("lang-switch"), "{fragment}");
    // Answering a pushed URL, the language switch follows it (out of band).
    let mut pushed = QueuePage::new(Frame::new(Some(&v), Lang::En, "Alerts"), &query, &page_data);
    pushed.pushed = true;
    let fragment = pushed.as_results().render().expect("renders");
    assert!(
        fragment.contains(
            "<a id=\"lang-switch\" href=\"/lang?to=ja&#38;back=%2Falerts%2F7\" hx-swap-oob=\"true\">"
        ),
        "{fragment}"
    );
}

#[test]
fn search_hits_mark_the_matched_words_as_text() {
    let snippet = format!("{HOSTILE} 三菱日联 {HOSTILE}");
    let at = snippet.find("三菱日联").expect("in the snippet");
    let results = SearchPage {
        total: 1,
        items: vec![SearchItem {
            score: 1.0,
            document: hostile_detail().document.expect("document"),
            snippet: snippet.clone(),
            // A range that splits a character is left out, not a panic.
            highlights: vec![[at, at + "三菱日联".len()], [at + 1, at + 2]],
        }],
        next_cursor: None,
        facets: Facets {
            site: vec![(HOSTILE.to_owned(), 1)],
            lang: vec![("zh".to_owned(), 1)],
            kind: Vec::new(),
            month: vec![("2026-11".to_owned(), 1)],
        },
    };
    let query = SearchQuery {
        q: "三菱日聯".into(),
        ..SearchQuery::default()
    };
    let v = viewer();
    let page = SearchView::new(
        Frame::new(Some(&v), Lang::En, "Search"),
        &query,
        Some(&results),
    )
    .render()
    .expect("renders");
    assert_inert(&page);
    assert!(page.contains("<mark>三菱日联</mark>"), "{page}");
    assert!(page.contains("<ol class=\"hits\" hx-disable>"));
    assert!(
        page.contains(
            "<a href=\"/search?q=%E4%B8%89%E8%8F%B1%E6%97%A5%E8%81%AF+lang%3Azh\">zh</a>"
        ),
        "{page}"
    );
}

/// A template that uses the `link` macro, as the pages do.
#[derive(Template)]
#[template(
    source = r#"{% import "console/macros.html" as m %}{{ m::link(href, label) }}"#,
    ext = "html"
)]
struct LinkProbe<'a> {
    href: &'a str,
    label: &'a str,
}

#[test]
fn only_our_own_paths_become_links() {
    let link = |href| {
        LinkProbe {
            href,
            label: "<b>go</b>",
        }
        .render()
        .expect("renders")
    };
    assert_eq!(
        link("/alerts?status=new&x=1"),
        "<a href=\"/alerts?status=new&#38;x=1\">&#60;b&#62;go&#60;/b&#62;</a>"
    );
    for foreign in [
        "javascript:alert(1)",
        "//evil.example/",
        "/\\evil.example",
        "http://abc.onion/",
    ] {
        assert_eq!(link(foreign), "&#60;b&#62;go&#60;/b&#62;", "{foreign}");
    }
}

#[test]
fn a_refusal_message_is_text() {
    let v = viewer();
    let page = MessagePage {
        f: Frame::new(Some(&v), Lang::En, HOSTILE),
        message: HOSTILE.into(),
    };
    assert_inert(&page.render().expect("renders"));
    let fragment = page.as_message().render().expect("renders");
    assert!(
        fragment.starts_with("<p class=\"error\">&#60;script&#62;"),
        "{fragment}"
    );
}
