//! The public labelled corpus (`../shared/eval`: docs.jsonl, expected.jsonl, watchlists/)
//! run through the library directly: prints every miss and false alarm, and requires
//! precision and recall ≥ 0.95. Skipped, with a message, when ../shared is absent.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Deserialize;
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

/// Scores a corpus folder; `None` when it is absent.
fn score(corpus: PathBuf) -> Option<(f64, f64, Vec<String>)> {
    if !corpus.join("docs.jsonl").is_file() {
        println!("SKIPPED: no labelled corpus at {} (../shared is absent)", corpus.display());
        return None;
    }
    let set = WatchlistSet::load(&corpus.join("watchlists")).unwrap_or_else(|e| panic!("{e}"));
    let matcher = Matcher::new(&set);
    let read = |name: &str| std::fs::read_to_string(corpus.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut got = BTreeSet::new();
    for (n, line) in read("docs.jsonl").lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let d: Doc = serde_json::from_str(line).unwrap_or_else(|e| panic!("docs.jsonl:{}: {e}", n + 1));
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
    for line in read("expected.jsonl").lines().filter(|l| !l.trim().is_empty()) {
        let e: Expected = serde_json::from_str(line).unwrap_or_else(|e| panic!("expected.jsonl: {e}"));
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
    let precision = if got.is_empty() { 1.0 } else { tp / got.len() as f64 };
    let recall = if want.is_empty() { 1.0 } else { tp / want.len() as f64 };
    Some((precision, recall, report))
}

fn assert_bar(corpus: PathBuf, bar: f64) {
    let name = corpus.display().to_string();
    let Some((p, r, report)) = score(corpus) else { return };
    for line in &report {
        println!("{line}");
    }
    println!("{name}: precision {p:.3} recall {r:.3}");
    assert!(p >= bar && r >= bar, "{name}: precision {p:.3} recall {r:.3} below {bar}\n{}", report.join("\n"));
}

#[test]
fn public_eval_corpus() {
    assert_bar(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/eval"), 0.95);
}

#[test]
fn own_corpus() {
    assert_bar(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus"), 0.95);
}
