//! Whole site profiles (extraction rules and crawl settings in one file):
//! every example loads, and the demo market's hand-written profile agrees
//! with `engine = "auto"` on its pages.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use crawler::SiteProfile;
use extract::{extract_page, EngineChoice};
use url::Url;

/// 2023-06-28 06:00 UTC.
fn fetched_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 6, 28, 6, 0, 0)
        .single()
        .expect("valid time")
}

#[test]
fn every_example_profile_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sites");
    let mut loaded = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/sites") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|x| x == "toml") {
            SiteProfile::load(&path).unwrap_or_else(|e| panic!("{e}"));
            loaded += 1;
        }
    }
    assert!(loaded >= 4, "{loaded} profiles");
}

/// The demo market is written in the 暗网中文网 shape: with nothing but
/// `auto`, every topic page gives the fields its hand-written profile gives.
#[test]
fn auto_matches_the_demo_market_profile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut demo = SiteProfile::load(&root.join("sites/demo-market.toml")).expect("demo profile");
    let base = Url::parse("http://demo.example/market/").expect("valid URL");
    demo.rebase(&base);
    let auto =
        SiteProfile::for_engine("demo-market", &base, EngineChoice::Auto).expect("auto profile");
    let mut compared = 0;
    for entry in std::fs::read_dir(root.join("demo-market/site/market")).expect("demo pages") {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let Some(t) = name
            .strip_prefix("viewtopic-")
            .and_then(|n| n.strip_suffix(".html"))
        else {
            continue;
        };
        let url = base
            .join(&format!("viewtopic.php?t={t}"))
            .expect("valid URL");
        let html = std::fs::read_to_string(&path).expect("UTF-8 page");
        let want = extract_page(demo.rules(), &url, &html, fetched_at(), None).documents;
        let got = extract_page(auto.rules(), &url, &html, fetched_at(), None).documents;
        assert_eq!(want.len(), 1, "{name}");
        assert_eq!(got.len(), 1, "{name}");
        let (w, g) = (&want[0], &got[0]);
        assert_eq!(
            (&g.title, &g.body, &g.price, &g.category, &g.posted_at),
            (&w.title, &w.body, &w.price, &w.category, &w.posted_at),
            "{name}"
        );
        // Announcements have no seller block; the preset falls back to the author.
        if w.seller.is_some() {
            assert_eq!(g.seller, w.seller, "{name}");
        }
        compared += 1;
    }
    assert!(compared >= 30, "{compared} topic pages");
}
