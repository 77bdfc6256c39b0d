//! Table tests of extraction on real formats (valid addresses and their
//! checksum-broken variants, full-width forms, handles inside Chinese
//! text), PGP fingerprints against GnuPG's, the rate at which random
//! strings are taken, and the cost of hostile input.

use super::*;

/// The (kind, value) pairs found in `text`.
fn found(text: &str) -> Vec<(EntityKind, String)> {
    extract_entities(text)
        .into_iter()
        .map(|e| (e.kind, e.value))
        .collect()
}

/// One change to a character in the middle of `s` (to break a checksum).
fn broken(s: &str) -> String {
    let mid = s.len() / 2;
    let c = s.as_bytes()[mid];
    let replacement = match c {
        b'2' => '3',
        b'a' => 'b',
        b'A' => 'B',
        b'z' => 'y',
        _ if c.is_ascii_digit() => '2',
        _ if c.is_ascii_lowercase() => 'a',
        _ => 'A',
    };
    format!("{}{}{}", &s[..mid], replacement, &s[mid + 1..])
}

/// Valid addresses of real formats: (kind, as written, canonical value).
const VALID: &[(EntityKind, &str, &str)] = &[
    // Bitcoin: the genesis P2PKH address, a BIP-13 P2SH address, BIP-173
    // P2WPKH (upper case) and P2WSH, a BIP-350 taproot (bech32m) address.
    (EntityKind::Btc, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
    (EntityKind::Btc, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
    (EntityKind::Btc, "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
    (EntityKind::Btc, "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"),
    (EntityKind::Btc, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"),
    // Ethereum: EIP-55's own examples, and one in lower case.
    (EntityKind::Eth, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
    (EntityKind::Eth, "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"),
    // TRON: the USDT-TRC20 contract address.
    (EntityKind::Tron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
    // Monero: the project's general fund, standard and subaddress.
    (EntityKind::Xmr, "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A", "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"),
    (EntityKind::Xmr, "888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H", "888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H"),
    // Onions: the Tor Project's and DuckDuckGo's.
    (EntityKind::Onion, "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion", "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"),
    (EntityKind::Onion, "DUCKDUCKGOGG42XJOC72X3SJASOWOARFBGCMVFIMAFTT6TWAGSWZCZAD.onion", "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion"),
    // A Tox id as qTox shows it (checksum checked by a separate script).
    (EntityKind::Tox, "56A1ADE4B65B86BCD51CC73E2CD4E542179F47959FE3E0E21B4B0ACDADE51855D34D34D37CB5", "56A1ADE4B65B86BCD51CC73E2CD4E542179F47959FE3E0E21B4B0ACDADE51855D34D34D37CB5"),
];

#[test]
fn valid_addresses_are_found_with_offsets() {
    for &(kind, written, value) in VALID {
        let text = format!("付款地址：{written}，谢谢");
        let all = extract_entities(&text);
        assert_eq!(
            all.iter()
                .map(|e| (e.kind, e.value.as_str()))
                .collect::<Vec<_>>(),
            [(kind, value)],
            "{written}"
        );
        assert_eq!(&text[all[0].start..all[0].end], written);
    }
}

#[test]
fn checksum_broken_addresses_are_not() {
    for &(kind, written, _) in VALID {
        // An Ethereum address in one case carries no checksum to break.
        if kind == EntityKind::Eth && written[2..].bytes().all(|b| !b.is_ascii_uppercase()) {
            continue;
        }
        let bad = broken(written);
        assert_ne!(bad, written);
        assert_eq!(found(&format!("pay to {bad} now")), [], "{bad}");
    }
    // EIP-55 with one letter's case flipped; a testnet address; a v2 onion.
    assert_eq!(found("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"), []);
    assert_eq!(found("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"), []);
    assert_eq!(found("expyuzz4wqqyqhjn.onion"), []);
    // A TRON-shaped string that is a valid base58check of another version:
    // the genesis address's payload is version 0, not 0x41.
    assert_eq!(found("T1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf"), []);
}

#[test]
fn contacts() {
    let cases: &[(&str, &[(EntityKind, &str)])] = &[
        (
            "mail Seller.Shop@ProtonMail.com now",
            &[(EntityKind::Email, "seller.shop@protonmail.com")],
        ),
        (
            "ｍａｉｌ：ｓｅｌｌｅｒ＠ｅｘａｍｐｌｅ．ｃｏｍ",
            &[(EntityKind::Email, "seller@example.com")],
        ),
        (
            "jabber: dumpking@xmpp.example.org",
            &[(EntityKind::Xmpp, "dumpking@xmpp.example.org")],
        ),
        (
            "contact dumpking@exploit.im",
            &[(EntityKind::Xmpp, "dumpking@exploit.im")],
        ),
        (
            "联系TG@abc_shop，价格私聊",
            &[(EntityKind::Telegram, "@abc_shop")],
        ),
        (
            "联系@Abc_Shop价格私聊",
            &[(EntityKind::Telegram, "@abc_shop")],
        ),
        (
            "电报：dump_king 出售",
            &[(EntityKind::Telegram, "@dump_king")],
        ),
        (
            "频道 https://t.me/s/DumpKing 和 t.me/+AbCdEf123456",
            &[
                (EntityKind::Telegram, "@dumpking"),
                (EntityKind::Telegram, "t.me/+AbCdEf123456"),
            ],
        ),
        ("tg: @abc_shop", &[(EntityKind::Telegram, "@abc_shop")]),
        ("QQ：１２３４５６７８", &[(EntityKind::Qq, "12345678")]),
        (
            "扣扣 87654321 微信号：Shop_2024",
            &[
                (EntityKind::Qq, "87654321"),
                (EntityKind::Wechat, "shop_2024"),
            ],
        ),
        (
            "加VX：dumpking88 或 wx:13800138000",
            &[
                (EntityKind::Wechat, "dumpking88"),
                (EntityKind::Wechat, "13800138000"),
            ],
        ),
        (
            "客服 +86 138-0013-8000 全天",
            &[(EntityKind::Phone, "+8613800138000")],
        ),
        (
            "call +1 (415) 555-0100.",
            &[(EntityKind::Phone, "+14155550100")],
        ),
        (
            "Session: 057aeb66e45660c3bdfb7c62706f6440226af43ec13f3b6f899c1dd4db1b8fce5b",
            &[(
                EntityKind::Session,
                "057aeb66e45660c3bdfb7c62706f6440226af43ec13f3b6f899c1dd4db1b8fce5b",
            )],
        ),
    ];
    for (text, expected) in cases {
        let got = found(text);
        let expected: Vec<(EntityKind, String)> = expected
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect();
        assert_eq!(got, expected, "{text}");
    }
}

#[test]
fn unlabelled_or_ambiguous_values_are_not_taken() {
    for text in [
        // A number without a QQ or WeChat label; a label inside a word.
        "订单号 12345678 共 3000 条",
        "DQQ:12345678 wxyz:abcdefg",
        // A label followed by a word with no separator.
        "wxabcdef123 vxlan qqwerty",
        // A handle too short, an @ inside a word, a domain.
        "@abc user@localhost mail@mufg.jp.",
        "see @example.com and foo@bar_baz",
        // Prices, dates and short numbers after a plus.
        "+100 USD, +12 345, 2026-11-01 +0800",
        // Random hex of a hash's length.
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ] {
        let got: Vec<_> = found(text)
            .into_iter()
            .filter(|(k, _)| *k != EntityKind::Email)
            .collect();
        assert_eq!(got, [], "{text}");
    }
    assert_eq!(
        found("mail@mufg.jp."),
        [(EntityKind::Email, "mail@mufg.jp".to_owned())]
    );
}

#[test]
fn full_width_offsets_point_into_the_original() {
    let text = "联系ＱＱ：１２３４５６７８，ＴＧ＠ａｂｃ＿ｓｈｏｐ";
    let all = extract_entities(text);
    let spans: Vec<(&str, &str)> = all
        .iter()
        .map(|e| (e.value.as_str(), &text[e.start..e.end]))
        .collect();
    assert_eq!(
        spans,
        [
            ("12345678", "１２３４５６７８"),
            ("@abc_shop", "＠ａｂｃ＿ｓｈｏｐ")
        ]
    );
}

#[test]
fn pgp_fingerprints_match_gnupg() {
    // Exported with `gpg --armor --export`; fingerprints as gpg prints them.
    let ed25519 = include_str!("../tests/fixtures/ed25519-key.asc");
    let rsa = include_str!("../tests/fixtures/rsa2048-key.asc");
    let text = format!("我的公钥:\n{ed25519}\n备用:\n{rsa}");
    let got: Vec<_> = extract_entities(&text)
        .into_iter()
        .filter(|e| e.kind == EntityKind::Pgp)
        .map(|e| e.value)
        .collect();
    assert_eq!(
        got,
        [
            "C3C2E1EF7351FB8D40A7A90171BEB140B796FE72",
            "867A7C2D1690CB13258595E3A2A5E7275F5D118A"
        ]
    );
    // One base64 character changed: the CRC-24 no longer matches.
    let tampered = ed25519.replacen("mDMEaxXK", "mDMEaxXL", 1);
    assert_eq!(found(&tampered), []);
    // A BEGIN without an END, and a truncated block before a whole one.
    assert_eq!(found("-----BEGIN PGP PUBLIC KEY BLOCK-----\nmDMEaxXK"), []);
    let cut = format!("-----BEGIN PGP PUBLIC KEY BLOCK-----\nmDMEaxXK\n{ed25519}");
    assert_eq!(found(&cut).len(), 1);
}

#[test]
fn canonical_values_of_typed_input() {
    assert_eq!(canonical_value(" @Abc_Shop "), "@abc_shop");
    assert_eq!(canonical_value("QQ：１２３４５６７８"), "12345678");
    assert_eq!(canonical_value("12345678"), "12345678");
    assert_eq!(
        canonical_value("0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359"),
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
    );
}

/// Deterministic xorshift, so the rate test is the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char)
            .collect()
    }
}

const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const HEX: &[u8] = b"0123456789abcdefABCDEF";
const BECH32: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

#[test]
fn random_strings_are_almost_never_taken() {
    // Strings shaped like addresses (prefix and length right), so only the
    // checksum can reject them.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let shapes: &[(&str, &[u8], usize)] = &[
        ("1", BASE58, 33),
        ("3", BASE58, 33),
        ("T", BASE58, 33),
        ("4", BASE58, 94),
        ("8", BASE58, 94),
        ("bc1q", BECH32, 38),
        ("bc1p", BECH32, 58),
        ("0x", HEX, 40),
        ("", HEX, 76),
    ];
    let per_shape = 20_000;
    for &(prefix, alphabet, len) in shapes {
        let taken = (0..per_shape)
            .filter(|_| {
                let s = format!("{prefix}{}", rng.string(alphabet, len));
                !extract_entities(&s).is_empty()
            })
            .count();
        // Checksums of 30 bits or more: none expected. EIP-55 over 40 hex
        // digits in random case: about 2^-15. Tox: 2^-16.
        assert!(
            taken <= 2,
            "{prefix}… ({len}): {taken} of {per_shape} taken"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        cases: 2000,
        rng_seed: proptest::test_runner::RngSeed::Fixed(18),
        ..Default::default()
    })]

    #[test]
    fn random_base58_is_never_an_address(s in "[1-9A-HJ-NP-Za-km-z]{20,120}") {
        proptest::prop_assert_eq!(found(&s), []);
    }

    #[test]
    fn random_bech32_alphabet_is_never_an_address(s in "(bc1|BC1)?[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{6,87}") {
        proptest::prop_assert_eq!(found(&s), []);
    }

    #[test]
    fn random_mixed_case_hex_is_never_an_eip55_address(s in "0x[0-9a-f]{8}[A-F]{4}[a-f]{4}[0-9a-fA-F]{24}") {
        proptest::prop_assert_eq!(found(&s), []);
    }

    #[test]
    fn random_hex_is_no_tox_id(s in "[0-9A-F]{76}") {
        proptest::prop_assert_eq!(found(&s), []);
    }

    #[test]
    fn any_text_gives_offsets_on_character_boundaries(s in "\\PC{0,200}") {
        for e in extract_entities(&s) {
            proptest::prop_assert!(s.is_char_boundary(e.start) && s.is_char_boundary(e.end) && e.start < e.end);
        }
    }
}

#[test]
fn hostile_input_costs_linear_time() {
    // Each shape at 1 MB and 4 MB: the larger may cost at most ~4x (8x
    // with noise), never the 16x a quadratic scan would.
    let shapes: &[&str] = &[
        "a@",
        "@abcde_",
        "1",
        "+1 ",
        "qq:",
        "t.me/",
        "-----BEGIN PGP PUBLIC KEY BLOCK-----",
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n-----END PGP PUBLIC KEY BLOCK-----\n",
        "ａ＠",
    ];
    for shape in shapes {
        let small = shape.repeat(1_000_000 / shape.len());
        let large = shape.repeat(4_000_000 / shape.len());
        let time = |text: &str| {
            let start = std::time::Instant::now();
            std::hint::black_box(extract_entities(text));
            start.elapsed()
        };
        time(&small);
        let small_t = (0..3).map(|_| time(&small)).min().unwrap_or_default();
        let large_t = (0..3).map(|_| time(&large)).min().unwrap_or_default();
        let ratio = large_t.as_secs_f64() / small_t.as_secs_f64().max(1e-6);
        assert!(
            ratio < 8.0,
            "{shape:?}: 4 MB took {ratio:.1}x the time of 1 MB ({small_t:?} → {large_t:?})"
        );
    }
}
