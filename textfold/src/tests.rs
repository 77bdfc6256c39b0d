//! Folding behaviour, table-driven by rule, plus property tests of the offset map.

use super::*;
use proptest::prelude::*;

/// (input, folded) pairs, grouped by the rule they exercise.
const FOLDS: &[(&str, &str)] = &[
    // NFKC: full-width, half-width kana as whole segments, circled / mathematical letters.
    ("ＭＵＦＧ", "mufg"),
    ("ｽﾞ", "ず"),
    ("ﾄﾞｺﾓ", "どこも"),
    ("ｶﾞﾊﾟ", "がぱ"),
    ("Ⓜⓤⓕⓖ", "mufg"),
    ("𝐌𝐔𝐅𝐆", "mufg"),
    ("㈱", "(株)"),
    ("e\u{301}", "é"),
    // Case folding.
    ("MUFG", "mufg"),
    ("Straße", "strasse"),
    // Σ lower-cases to σ, which imitates o: folding goes on to a fixed point.
    ("ΣΟΦΟΣ", "ooφoo"),
    // Kana.
    ("ミズホ", "みずほ"),
    ("ドコモ口座", "どこも口座"),
    ("ヤフー", "やふー"),
    // Kanji variants (shinjitai, traditional, simplified → simplified).
    ("総務省", "总务省"),
    ("總務省", "总务省"),
    ("总务省", "总务省"),
    ("銀行", "银行"),
    ("经济产业省", "经济产业省"),
    ("経済産業省", "经济产业省"),
    ("郵便", "邮便"),
    ("三菱日聯銀行", "三菱日联银行"),
    ("SBI証券", "sbi证券"),
    // Zero-width characters and soft hyphens vanish.
    ("三菱\u{200B}UFJ", "三菱ufj"),
    ("MU\u{00AD}FG", "mufg"),
    ("み\u{200D}ず\u{FEFF}ほ", "みずほ"),
    ("ｽ\u{200B}ﾞ", "ず"),
    // Confusables → Latin, before case folding.
    ("МUFG", "mufg"),     // Cyrillic М
    ("ΜUFG", "mufg"),     // Greek Μ
    ("ΝΕC", "nec"),       // Greek Ν, Ε
    ("ν", "v"),           // lower-case nu looks like v
    ("раураl", "paypal"), // Cyrillic р а у а
    ("Місrosoft", "microsoft"),
    // Untouched: separators and punctuation stay (the matcher decides about them).
    ("M.U.F.G", "m.u.f.g"),
    ("三 菱", "三 菱"),
    ("み-ず-ほ", "み-ず-ほ"),
    ("продам", "пpoдam"),
    // Case pairs fold together even when only the capital imitates Latin (К → K).
    ("Куплю", "kyплю"),
    ("КУПЛЮ", "kyплю"),
    ("куплю", "kyплю"),
];

#[test]
fn folds_by_rule() {
    for &(input, want) in FOLDS {
        assert_eq!(fold(input).as_str(), want, "fold({input:?})");
        assert_eq!(fold_str(input), want, "fold_str({input:?})");
    }
}

#[test]
fn folding_is_idempotent_on_the_table() {
    for &(input, _) in FOLDS {
        let once = fold_str(input);
        assert_eq!(fold_str(&once), once, "fold∘fold({input:?})");
    }
}

/// (original, folded substring, original substring it maps back to)
const RANGES: &[(&str, &str, &str)] = &[
    ("出售ＭＵＦＧ网银", "mufg", "ＭＵＦＧ"),
    ("出售ＭＵＦＧ网银", "网银", "网银"),
    ("x ﾄﾞｺﾓ口座 y", "どこも", "ﾄﾞｺﾓ"),
    ("三菱\u{200B}UFJ銀行", "三菱ufj银行", "三菱\u{200B}UFJ銀行"),
    ("三菱\u{200B}UFJ銀行", "ufj", "UFJ"),
    ("WTS МUFG logs", "mufg", "МUFG"),
    ("總務省の", "总务省", "總務省"),
    ("Straße 1", "strasse", "Straße"),
    ("cafe\u{301} ok", "café", "cafe\u{301}"),
    ("cafe\u{301} ok", "ok", "ok"),
];

#[test]
fn original_ranges() {
    for &(original, needle, want) in RANGES {
        let f = fold(original);
        let at = f
            .as_str()
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} in fold({original:?}) = {:?}", f.as_str()));
        let r = f.original_range(at..at + needle.len());
        assert_eq!(
            &original[r.clone()],
            want,
            "{needle:?} in {original:?} → {r:?}"
        );
    }
}

#[test]
fn original_range_edges() {
    let f = fold("ａｂ");
    assert_eq!(f.original_range(0..0), 0..0);
    assert_eq!(f.original_range(2..2), 6..6);
    assert_eq!(f.original_range(0..99), 0..6);
    let e = fold("");
    assert_eq!(e.as_str(), "");
    assert_eq!(e.original_range(0..3), 0..0);
    let z = fold("\u{200B}");
    assert_eq!(z.as_str(), "");
    assert_eq!(z.original_range(0..0), 0..0);
    // Mid-character bounds widen to whole characters.
    let k = fold("三菱");
    assert_eq!(k.original_range(1..4), 0..6);
}

#[test]
fn cjk_classes() {
    assert!(is_cjk('総') && is_cjk('ズ') && is_cjk('한') && !is_cjk('M') && !is_cjk('。'));
}

#[test]
fn warm_up_is_fast_enough() {
    let took = warm_up();
    println!("fold table built in {took:?}");
    // Generous bound for an unoptimised test build on a busy 2-core machine; the release
    // figure is printed by the benchmark.
    assert!(took.as_secs() < 10, "table build took {took:?}");
}

/// Alphabet for property tests: the characters that interact in folding.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .\\-\n]{1,4}",
        prop::sample::select(vec![
            "三",
            "菱",
            "総",
            "總",
            "务",
            "銀",
            "银",
            "ミ",
            "ズ",
            "ホ",
            "み",
            "ず",
            "ほ",
            "ｽ",
            "ﾞ",
            "ﾟ",
            "ﾄ",
            "ｺ",
            "ﾓ",
            "Ｍ",
            "ｕ",
            "１",
            "Ⓜ",
            "𝐔",
            "М",
            "Ν",
            "ν",
            "ß",
            "Σ",
            "ς",
            "\u{200B}",
            "\u{00AD}",
            "\u{FEFF}",
            "\u{301}",
            "\u{3099}",
            "é",
            "ㇰ",
            "ー",
            "、",
            "。",
            "・",
            "　",
            "İ",
            "ǰ",
            "한",
            "ᄀ",
            "ᅡ",
            "ﾡ",
            "㈱",
            "ﬁ",
            "\u{E0041}",
            "𠀋",
            "\u{30000}",
        ])
        .prop_map(str::to_string),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..24).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn prop_fold_is_idempotent(s in text()) {
        let once = fold_str(&s);
        prop_assert_eq!(fold_str(&once), once.clone());
        let full = fold(&s);
        prop_assert_eq!(full.as_str(), once.as_str());
    }

    #[test]
    fn prop_original_range_on_char_boundaries(s in text(), a in 0usize..200, b in 0usize..200) {
        let f = fold(&s);
        let (a, b) = (a.min(b), a.max(b));
        let r = f.original_range(a..b);
        prop_assert!(r.start <= r.end && r.end <= s.len(), "{:?} for {} bytes", r, s.len());
        prop_assert!(s.is_char_boundary(r.start) && s.is_char_boundary(r.end));
    }

    #[test]
    fn prop_each_folded_char_maps_to_text_that_folds_to_contain_it(s in text()) {
        let f = fold(&s);
        for (at, c) in f.as_str().char_indices() {
            let r = f.original_range(at..at + c.len_utf8());
            let back = fold_str(&s[r.clone()]);
            prop_assert!(back.contains(c), "{:?} at {} maps to {:?} folding to {:?}", c, at, &s[r], back);
        }
    }
}
