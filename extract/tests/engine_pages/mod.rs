//! What the tests of the engines with a reader of their own (`paste.rs`,
//! `telegram.rs`) share: their fixtures, an engine-only profile, reading a
//! page with the engine fixed and with `auto`, and documents without their
//! fetch time.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use extract::{
    extract_page_explained, Engine, EngineChoice, Explanation, ExtractOptions, Extracted, SiteRules,
};
use serde_json::{json, Value};
use url::Url;

/// 2026-07-02 03:00 UTC: 12:00 in Tokyo.
pub(crate) fn fetched_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 2, 3, 0, 0)
        .single()
        .expect("valid time")
}

/// The text of `tests/fixtures/{folder}/{name}`.
pub(crate) fn fixture(folder: &str, name: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder)
        .join(name);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// An engine-only profile of the site `name` at `root`.
pub(crate) fn engine_rules(name: &str, root: &str, choice: EngineChoice) -> SiteRules {
    let root = Url::parse(root).expect("valid");
    SiteRules::for_engine(name, &root, choice).expect("an engine-only profile")
}

/// The page read with `engine` fixed, after checking that `auto` recognises
/// it and reads the same (documents, links, why it is unavailable).
pub(crate) fn read_fixed_and_auto(
    rules: impl Fn(EngineChoice) -> SiteRules,
    engine: Engine,
    html: &str,
    url: &str,
    options: &ExtractOptions,
) -> (Extracted, Explanation) {
    let url = Url::parse(url).expect("valid URL");
    let run =
        |choice| extract_page_explained(&rules(choice), &url, html, fetched_at(), None, options);
    let (fixed, explain) = run(EngineChoice::Fixed(engine));
    assert_eq!(explain.rules, format!("preset {}", engine.name()));
    let (auto, auto_explain) = run(EngineChoice::Auto);
    assert!(
        auto_explain
            .rules
            .starts_with(&format!("preset {} (detected: ", engine.name())),
        "{}",
        auto_explain.rules
    );
    assert_eq!(auto.documents, fixed.documents);
    assert_eq!(auto.links, fixed.links);
    assert_eq!(auto_explain.unavailable, explain.unavailable);
    (fixed, explain)
}

/// The documents as JSON, each without its `fetched_at` (checked to be
/// [`fetched_at`]).
pub(crate) fn without_fetch(out: &Extracted) -> Value {
    Value::Array(
        out.documents
            .iter()
            .map(|d| {
                let mut v = serde_json::to_value(d).expect("serialisable");
                let fetched = v.as_object_mut().and_then(|o| o.remove("fetched_at"));
                assert_eq!(fetched, Some(json!("2026-07-02T03:00:00Z")));
                v
            })
            .collect(),
    )
}

/// The links a crawl follows, as text.
pub(crate) fn links(out: &Extracted) -> Vec<&str> {
    out.links.iter().map(Url::as_str).collect()
}
