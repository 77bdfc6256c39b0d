//! No panic on any input: arbitrary text as a watchlist file and as documents (a proptest
//! stand-in for a cargo-fuzz target, which needs a nightly toolchain), and hostile
//! documents that repeat terms and cues many times stay fast (no quadratic step).

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use watchlists::{MatchDocument, Matcher, WatchlistSet};

const WATCHLIST: &str = r#"
customer = "c"
[[assets]]
id = "mufg"
terms = ["三菱UFJ銀行", "MUFG", "ゆうちょ"]
domains = ["mufg.jp"]
exclude = ["MUFG news"]
"#;

fn matcher() -> Matcher {
    Matcher::new(&WatchlistSet::from_toml_str(Path::new("c.toml"), WATCHLIST).expect("valid"))
}

/// Text biased towards the characters the matcher treats specially.
fn tricky() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            any::<char>().prop_map(String::from),
            prop::sample::select(vec![
                "MUFG",
                "mufg.jp",
                "[.]",
                "(dot)",
                "出",
                "售",
                "收",
                "\n",
                " ",
                "・",
                "ﾞ",
                "\u{301}",
                "\u{200B}",
                "ゆうちょ",
                "う",
                "三菱",
                "ＵＦＪ",
                "銀行",
                "WTS",
                "news",
                "@",
                ".",
                "-",
                "骗子",
                "勿扰",
            ])
            .prop_map(str::to_string),
        ],
        0..40,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn any_watchlist_text_loads_or_reports(src in "\\PC{0,200}", tail in tricky()) {
        let text = format!("{src}{tail}");
        if let Err(e) = WatchlistSet::from_toml_str(Path::new("x.toml"), &text) {
            prop_assert!(!e.errors().is_empty());
            for err in e.errors() {
                prop_assert!(!err.message.is_empty() && !err.fix.is_empty());
            }
        }
    }

    #[test]
    fn any_document_matches_without_panic(title in tricky(), body in tricky(), kind in prop::option::of("listing|post"), price in prop::option::of("\\PC{0,5}")) {
        let m = matcher();
        let doc = MatchDocument { id: "f", title: Some(&title), body: Some(&body), kind: kind.as_deref(), price: price.as_deref(), ..Default::default() };
        let joined = format!("{}\n{}", title, body);
        for a in m.match_document(&doc) {
            for t in &a.terms {
                prop_assert!(joined.contains(t.as_str()), "term {:?} is original text", t);
            }
        }
    }
}

#[test]
fn hostile_repetition_stays_fast() {
    let m = matcher();
    // (repeated text, alerts expected): every hit near a cue; then also near a warning.
    for (unit, want) in [
        ("MUFG 出售 mufg.jp MUFG news a1.mufg.jp ", 1),
        ("MUFG 出售 mufg.jp MUFG news 骗子 ", 0),
    ] {
        let body = unit.repeat(20_000);
        let t = Instant::now();
        let alerts = m.match_document(&MatchDocument {
            id: "h",
            title: Some("x"),
            body: Some(&body),
            ..Default::default()
        });
        let took = t.elapsed();
        println!("{} KB in {took:?}", body.len() / 1000);
        assert_eq!(
            alerts.len(),
            want,
            "one alert per (customer, asset), none when warned"
        );
        assert!(alerts
            .iter()
            .all(|a| a.terms.len() <= 20 && a.context.len() <= 20));
        // Linear work takes well under a second even unoptimised.
        assert!(took < Duration::from_secs(10), "took {took:?}");
    }
}
