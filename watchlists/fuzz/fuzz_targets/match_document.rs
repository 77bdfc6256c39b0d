//! Fuzz target: any text as a document's title and body matches without panicking, every
//! reported term is text of the document, and the term gate never changes the result (the
//! same document matched without it raises the same alerts).
#![no_main]
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use watchlists::{MatchDocument, Matcher, WatchlistSet};

static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
    let src = "customer = \"c\"\n[[assets]]\nid = \"a\"\nterms = [\"三菱UFJ銀行\", \"MUFG\", \"ゆうちょ\", \"楽天\", \"NEC\", \"みずほ\"]\ndomains = [\"mufg.jp\"]\nexclude = [\"MUFG news\"]\n";
    Matcher::new(
        &WatchlistSet::from_toml_str(std::path::Path::new("c.toml"), src).expect("valid watchlist"),
    )
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (title, body) = text.split_once('\u{0}').unwrap_or(("", &text));
    let doc = MatchDocument {
        id: "fuzz",
        title: Some(title),
        body: Some(body),
        ..Default::default()
    };
    let joined = format!("{title}\n{body}");
    let alerts = MATCHER.match_document(&doc);
    for alert in &alerts {
        for term in &alert.terms {
            assert!(joined.contains(term.as_str()));
        }
    }
    assert_eq!(alerts, MATCHER.match_document_ungated(&doc), "the gate changed the result");
});
