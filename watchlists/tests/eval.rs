//! The public labelled corpus (`../shared/eval`: docs.jsonl, expected.jsonl, watchlists/)
//! run through the library directly: prints every miss and false alarm, and requires
//! precision and recall ≥ 0.95. The tests on `../shared` fail saying so when it is
//! absent, unless `LEAKWATCH_SKIP_SHARED=1` asks to skip them.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Deserialize;

#[path = "../../extract/tests/shared/mod.rs"]
mod shared;
use watchlists::{MatchDocument, Matcher, WatchlistSet};

#[derive(Deserialize)]
struct Doc {
    id: String,
    site: Option<String>,
    url: Option<String>,
    kind: Option<String>,
    title: Option<String>,
    body: Option<String>,
    price: Option<String>,
}

#[derive(Deserialize)]
struct Expected {
    id: String,
    alerts: Vec<String>,
}

/// Scores a corpus folder: (precision, recall, every miss and false alarm).
fn score(corpus: PathBuf) -> (f64, f64, Vec<String>) {
    let set = WatchlistSet::load(&corpus.join("watchlists")).unwrap_or_else(|e| panic!("{e}"));
    let matcher = Matcher::new(&set);
    let read = |name: &str| {
        std::fs::read_to_string(corpus.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let mut got = BTreeSet::new();
    for (n, line) in read("docs.jsonl")
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let d: Doc =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("docs.jsonl:{}: {e}", n + 1));
        let doc = MatchDocument {
            id: &d.id,
            site: d.site.as_deref(),
            url: d.url.as_deref(),
            kind: d.kind.as_deref(),
            title: d.title.as_deref(),
            body: d.body.as_deref(),
            price: d.price.as_deref(),
        };
        for a in matcher.match_document(&doc) {
            got.insert((a.doc_id, format!("{}/{}", a.customer, a.asset)));
        }
    }
    let mut want = BTreeSet::new();
    for line in read("expected.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let e: Expected =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("expected.jsonl: {e}"));
        want.extend(e.alerts.into_iter().map(|a| (e.id.clone(), a)));
    }
    let mut report = Vec::new();
    for (d, x) in want.difference(&got) {
        report.push(format!("MISS        {d}: {x}"));
    }
    for (d, x) in got.difference(&want) {
        report.push(format!("FALSE ALARM {d}: {x}"));
    }
    let tp = got.intersection(&want).count() as f64;
    let precision = if got.is_empty() {
        1.0
    } else {
        tp / got.len() as f64
    };
    let recall = if want.is_empty() {
        1.0
    } else {
        tp / want.len() as f64
    };
    (precision, recall, report)
}

fn assert_bar(corpus: PathBuf, bar: f64) {
    let name = corpus.display().to_string();
    let (p, r, report) = score(corpus);
    for line in &report {
        println!("{line}");
    }
    println!("{name}: precision {p:.3} recall {r:.3}");
    assert!(
        p >= bar && r >= bar,
        "{name}: precision {p:.3} recall {r:.3} below {bar}\n{}",
        report.join("\n")
    );
}

#[test]
fn public_eval_corpus() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/eval");
    if shared::present(&corpus.join("docs.jsonl")) {
        assert_bar(corpus, 1.0);
    }
}

#[test]
fn own_corpus() {
    assert_bar(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus"),
        0.95,
    );
}

/// Text of an HTML page: scripts and styles dropped, tags replaced by line breaks.
/// Crude, but enough to feed a real page's words to the matcher.
fn page_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let tag = &rest[lt..];
        let lower = tag.get(..7).unwrap_or("").to_ascii_lowercase();
        let close = if lower.starts_with("<script") {
            tag.find("</script>").map(|i| i + 9)
        } else if lower.starts_with("<style") {
            tag.find("</style>").map(|i| i + 8)
        } else {
            tag.find('>').map(|i| i + 1)
        };
        out.push('\n');
        rest = &tag[close.unwrap_or(tag.len())..];
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ").replace("&amp;", "&")
}

#[test]
fn real_yahoo_japan_home_page_is_quiet() {
    // ../shared/fixtures/real/yahoo-jp: the 2019 home page names Yahoo! JAPAN everywhere
    // and sells nothing (see that folder's README).
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    let page = root.join("fixtures/real/yahoo-jp/yahoo-jp.html");
    if !shared::present(&page) {
        return;
    }
    let html = std::fs::read_to_string(&page).expect("the Yahoo! JAPAN page is readable UTF-8");
    let set = WatchlistSet::load(&root.join("eval/watchlists")).unwrap_or_else(|e| panic!("{e}"));
    let text = page_text(&html);
    let title = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let doc = MatchDocument {
        id: "yahoo-jp",
        title: Some(title),
        body: Some(&text),
        kind: Some("post"),
        ..Default::default()
    };
    let alerts = Matcher::new(&set).match_document(&doc);
    assert!(text.contains("Yahoo! JAPAN"), "the page names the brand");
    assert!(
        alerts.is_empty(),
        "a home page is not an offer: {alerts:#?}"
    );
}
