//! Property test: a watched term written into random text with random evasions —
//! separators between its characters, full width, katakana/hiragana/half-width kana,
//! shinjitai/traditional/simplified kanji, case, zero-width characters — is still found.

use proptest::prelude::*;
use watchlists::{MatchDocument, Matcher, WatchlistSet};

const WATCHLIST: &str = r#"
customer = "c"
[[assets]]
id = "mufg"
terms = ["三菱UFJ銀行", "MUFG", "Mitsubishi UFJ"]
[[assets]]
id = "soumu"
terms = ["総務省", "経済産業省"]
[[assets]]
id = "yucho"
terms = ["ゆうちょ銀行", "ドコモ口座"]
"#;

/// Terms to insert, each with its asset.
const TERMS: &[(&str, &str)] = &[
    ("三菱UFJ銀行", "mufg"),
    ("MUFG", "mufg"),
    ("MitsubishiUFJ", "mufg"),
    ("総務省", "soumu"),
    ("経済産業省", "soumu"),
    ("ゆうちょ銀行", "yucho"),
    ("ドコモ口座", "yucho"),
];

/// Variant spellings of single characters (kanji forms, kana forms, width, case).
fn variants(c: char) -> Vec<String> {
    let table: &[(char, &[&str])] = &[
        ('総', &["總", "总"]),
        ('務', &["务"]),
        ('経', &["經", "经"]),
        ('済', &["濟", "济"]),
        ('産', &["產", "产"]),
        ('業', &["业"]),
        ('銀', &["银"]),
        ('ゆ', &["ユ", "ﾕ"]),
        ('う', &["ウ", "ｳ"]),
        ('ち', &["チ", "ﾁ"]),
        ('ょ', &["ョ", "ｮ"]),
        ('ド', &["ど", "ﾄﾞ"]),
        ('コ', &["こ", "ｺ"]),
        ('モ', &["も", "ﾓ"]),
        ('M', &["m", "Ｍ", "М", "Μ"]),
        ('U', &["u", "Ｕ"]),
        ('F', &["f", "Ｆ"]),
        ('G', &["g", "Ｇ"]),
        ('J', &["j", "Ｊ"]),
        ('i', &["I", "ｉ", "і"]),
        ('s', &["S", "ｓ"]),
    ];
    let mut v = vec![c.to_string()];
    if let Some((_, alts)) = table.iter().find(|(k, _)| *k == c) {
        v.extend(alts.iter().map(|s| s.to_string()));
    }
    v
}

fn filler() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "今天",
            "天气",
            "很好",
            "logs",
            "fresh",
            "の",
            "口座",
            "账号",
            "带密码",
            "ok",
            "123",
            "、",
            "。",
            "\n",
            "価格",
        ]),
        0..12,
    )
    .prop_map(|v| v.join(" "))
}

/// A term spelled with random variants and one separator style.
fn spelled() -> impl Strategy<Value = (String, &'static str)> {
    (prop::sample::select(TERMS.to_vec()), any::<u64>(), 0u8..4).prop_map(
        |((term, asset), seed, style)| {
            let mut rng = seed;
            let mut next = |n: usize| {
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((rng >> 33) as usize) % n.max(1)
            };
            let chars: Vec<char> = term.chars().collect();
            let mut out = String::new();
            for (i, &c) in chars.iter().enumerate() {
                let v = variants(c);
                out.push_str(&v[next(v.len())]);
                if i + 1 < chars.len() {
                    match style {
                        0 => {}
                        // Letter-spacing with one separator everywhere (三 菱 U F J).
                        1 => out.push_str([" ", "  ", "\u{3000}"][next(3)]),
                        // Punctuation or invisible characters anywhere (M.U.F.G, み-ず-ほ).
                        2 => out.push_str(
                            [".", "-", "_", "・", "*", "\u{200B}", "\u{00AD}", ""][next(8)],
                        ),
                        _ => out.push_str(["", "\u{200B}", "\u{FEFF}"][next(3)]),
                    }
                }
            }
            (out, asset)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn evaded_term_is_found((term, asset) in spelled(), before in filler(), after in filler()) {
        let set = WatchlistSet::from_toml_str(std::path::Path::new("c.toml"), WATCHLIST).expect("valid");
        let matcher = Matcher::new(&set);
        let body = format!("{before} {term} {after}");
        let doc = MatchDocument { id: "p", title: Some("出售"), body: Some(&body), ..Default::default() };
        let alerts = matcher.match_document(&doc);
        prop_assert!(alerts.iter().any(|a| a.asset == asset), "{:?} not found in {:?}: {:?}", term, body, alerts);
        for a in &alerts {
            for t in &a.terms {
                prop_assert!(body.contains(t.as_str()), "reported term {:?} is original text", t);
            }
        }
    }
}
