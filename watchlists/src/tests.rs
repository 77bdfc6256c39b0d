//! Matching behaviour, table-driven in the style of aho-corasick's `src/tests.rs`: each
//! `MatchTest` names a rule, a document and the assets that must (and only those) alert.

use crate::{Alert, MatchDocument, Matcher, Severity, WatchlistSet};
use std::sync::LazyLock;

/// Watchlists used by every table below (shapes from ../shared/eval/watchlists).
const WATCHLISTS: &str = r#"
customer = "acme"

[[assets]]
id = "mufg"
name = "三菱UFJ銀行"
kind = "bank"
terms = ["三菱UFJ銀行", "三菱UFJ", "三菱東京UFJ", "MUFG", "Mitsubishi UFJ", "三菱日联银行", "三菱日联"]
domains = ["mufg.jp"]
exclude = ["三菱UFJ銀行からのお知らせ"]

[[assets]]
id = "yucho"
name = "ゆうちょ銀行"
kind = "bank"
terms = ["ゆうちょ銀行", "ゆうちょ", "Japan Post Bank", "日本邮政银行"]

[[assets]]
id = "mizuho"
name = "みずほ銀行"
kind = "bank"
terms = ["みずほ", "Mizuho"]

[[assets]]
id = "soumu"
name = "総務省"
kind = "ministry"
terms = ["総務省", "Ministry of Internal Affairs and Communications"]
domains = ["soumu.go.jp"]

[[assets]]
id = "meti"
name = "経済産業省"
kind = "ministry"
terms = ["経済産業省", "METI"]

[[assets]]
id = "nec"
name = "NEC"
kind = "company"
terms = ["NEC"]

[[assets]]
id = "jr"
name = "12306"
kind = "account"
terms = ["12306"]

[[assets]]
id = "jaxa"
name = "JAXA"
kind = "government"
domains = ["jaxa.jp"]

[[assets]]
id = "yahoo"
name = "Yahoo! JAPAN ID"
kind = "account"
terms = ["Yahoo! JAPAN", "ヤフー", "日本雅虎"]
domains = ["yahoo.co.jp"]

[[assets]]
id = "post"
name = "郵便局"
kind = "brand"
terms = ["郵便局"]
require_sale_context = false
"#;

/// A second customer whose term lies inside the first customer's term (三菱 ⊂ 三菱UFJ銀行).
const OTHER: &str = r#"
customer = "mitsubishi-corp"
[[assets]]
id = "mc"
kind = "company"
terms = ["三菱"]
"#;

static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.toml"), WATCHLISTS).expect("write");
    std::fs::write(dir.path().join("b.toml"), OTHER).expect("write");
    let set = WatchlistSet::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    Matcher::new(&set)
});

struct MatchTest {
    name: &'static str,
    title: &'static str,
    body: &'static str,
    /// `"customer/asset"` of every alert expected, in any order.
    alerts: &'static [&'static str],
}

macro_rules! t {
    ($name:ident, $title:expr, $body:expr, $alerts:expr) => {
        MatchTest {
            name: stringify!($name),
            title: $title,
            body: $body,
            alerts: &$alerts,
        }
    };
}

fn run(doc: MatchDocument<'_>) -> Vec<Alert> {
    let alerts = MATCHER.match_document(&doc);
    assert_eq!(
        alerts,
        MATCHER.match_full(&doc),
        "the term gate changed the result for {doc:?}"
    );
    alerts
}

/// Pieces random documents are made of: watch terms in their disguises, near misses,
/// domains, cues, separators and filler (including characters the gate hands back).
const PIECES: &[&str] = &[
    "三 菱 Ｕ Ｆ Ｊ",
    "三菱UFJ銀行",
    "三菱",
    "三菱日联",
    "ＭＵＦＧ",
    "M.U.F.G",
    "mufg",
    "MUFGX",
    "mufg.jp",
    "mufg[.]jp",
    "login.bk.mufg.jp",
    "x@mufg.jp",
    "notmufg.jp",
    "ヤフー",
    "やふー",
    "ﾔﾌｰ",
    "ゆうちょ",
    "ゆうちょう",
    "NEC",
    "CONNECTION",
    "12306",
    "123065",
    "總務省",
    "総務省",
    "总务省",
    "jaxa(dot)jp",
    "ajaxa.jp",
    "yahoo japan",
    "Yahoo! JAPAN",
    "Mizuho",
    "みずほ",
    "METI",
    "郵便局",
    "出售",
    "販売",
    "WTS",
    "selling",
    "売ります",
    "求购",
    "收",
    "出",
    "昨日",
    "買いました",
    "注意",
    "warning",
    " ",
    "\n",
    "・",
    "-",
    ".",
    "　",
    "【",
    "】",
    "今天",
    "の",
    "です",
    "hello",
    "a",
    "x",
    "1",
    "é",
    "e\u{301}",
    "\u{200B}",
    "ﾞ",
    "ﬁ",
    "①",
    "\u{1F600}",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
    /// The term gate only ever skips documents that would raise nothing.
    #[test]
    fn gate_never_changes_the_result(
        title in proptest::collection::vec(0..PIECES.len(), 0..6),
        body in proptest::collection::vec(0..PIECES.len(), 0..24),
    ) {
        let title: String = title.iter().map(|&i| PIECES[i]).collect();
        let body: String = body.iter().map(|&i| PIECES[i]).collect();
        let doc = MatchDocument {
            id: "p",
            title: Some(title.as_str()).filter(|s| !s.is_empty()),
            body: Some(body.as_str()).filter(|s| !s.is_empty()),
            ..Default::default()
        };
        proptest::prop_assert_eq!(MATCHER.match_document(&doc), MATCHER.match_full(&doc));
    }
}

fn check(tests: &[MatchTest]) {
    let mut failures = Vec::new();
    for t in tests {
        let doc = MatchDocument {
            id: t.name,
            title: Some(t.title).filter(|s| !s.is_empty()),
            body: Some(t.body).filter(|s| !s.is_empty()),
            ..Default::default()
        };
        let alerts = run(doc);
        let mut got: Vec<String> = alerts
            .iter()
            .map(|a| format!("{}/{}", a.customer, a.asset))
            .collect();
        got.sort();
        let mut want: Vec<String> = t.alerts.iter().map(|s| s.to_string()).collect();
        want.sort();
        if got != want {
            failures.push(format!(
                "{}: got {got:?}, want {want:?}\n    title {:?} body {:?}",
                t.name, t.title, t.body
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n  {}",
        failures.len(),
        tests.len(),
        failures.join("\n  ")
    );
}

const M: [&str; 1] = ["acme/mufg"];
const NONE: [&str; 0] = [];

/// Normalisation: width, case, kana, kanji variants, look-alikes, zero-width.
const NORMALISATION: &[MatchTest] = &[
    t!(fullwidth, "出售ＭＵＦＧ网银", "", M),
    t!(case_folded, "WTS mufg logs", "", M),
    t!(halfwidth_kana, "ﾐｽﾞﾎ 口座 売ります", "", ["acme/mizuho"]),
    t!(
        katakana_term_as_hiragana,
        "ミズホ口座 販売",
        "",
        ["acme/mizuho"]
    ),
    t!(
        hiragana_term_as_katakana,
        "ユウチョ 口座 売ります",
        "",
        ["acme/yucho"]
    ),
    t!(
        traditional_for_simplified,
        "出售 日本三菱日聯銀行 帳戶",
        "",
        ["acme/mufg", "mitsubishi-corp/mc"]
    ),
    t!(
        simplified_for_shinjitai,
        "日本总务省 RCE漏洞出售",
        "",
        ["acme/soumu"]
    ),
    t!(
        traditional_for_shinjitai,
        "出售 總務省 內網",
        "",
        ["acme/soumu"]
    ),
    t!(simplified_meti, "经济产业省 数据 出售", "", ["acme/meti"]),
    t!(cyrillic_lookalike, "WTS МUFG logs", "", M),
    t!(greek_lookalike, "WTS ΜUFG logs", "", M),
    t!(circled_letters, "selling Ⓜⓤⓕⓖ logs", "", M),
    t!(math_letters, "selling 𝐌𝐔𝐅𝐆 logs", "", M),
    t!(
        zero_width,
        "三菱\u{200B}UFJ銀行 口座 販売",
        "",
        ["acme/mufg", "mitsubishi-corp/mc"]
    ),
    t!(soft_hyphen, "selling MU\u{00AD}FG logs", "", M),
];

/// Evasion: separators inside a term.
const SEPARATORS: &[MatchTest] = &[
    t!(
        spaced_cjk_latin,
        "出售 三 菱 U F J 网银账号",
        "",
        ["acme/mufg", "mitsubishi-corp/mc"]
    ),
    t!(dashed_kana, "み-ず-ほ 口座 売ります", "", ["acme/mizuho"]),
    t!(dotted_latin, "WTS M.U.F.G logs", "", M),
    t!(spaced_latin, "WTS M U F G logs", "", M),
    t!(middle_dot, "ゆ・う・ち・ょ 口座 販売", "", ["acme/yucho"]),
    t!(multiword_term_joined, "selling MitsubishiUFJ logs", "", M),
    t!(
        multiword_term_spaced,
        "selling Mitsubishi   UFJ logs",
        "",
        M
    ),
    t!(words_are_not_a_term, "selling mu fgh and me", "", NONE),
    t!(
        real_words_not_glued,
        "WTS: ne cables, no NEC here? yes NEC",
        "",
        ["acme/nec"]
    ),
    t!(
        spaced_words_do_not_join,
        "selling the kinec tic toys",
        "",
        NONE
    ),
    t!(
        long_gap_breaks_term,
        "出售 三菱 ...... UFJ",
        "",
        ["mitsubishi-corp/mc"]
    ),
    t!(newline_breaks_term, "出售 MU\nFG", "", NONE),
    t!(
        long_term_split_anywhere,
        "selling Mitsu bishi UFJ logs",
        "",
        M
    ),
    t!(short_term_not_split_in_words, "selling muf g", "", NONE),
    t!(
        strikethrough_marks,
        "WTS M\u{336}U\u{336}F\u{336}G\u{336} logs",
        "",
        M
    ),
    t!(
        zalgo_marks,
        "WTS M\u{30D}\u{30E}\u{304}U\u{305}F\u{33F}G logs",
        "",
        M
    ),
];

/// Word boundaries for Latin/digit terms; CJK anywhere.
const BOUNDARIES: &[MatchTest] = &[
    t!(nec_not_in_connection, "WTS CONNECTION logs", "", NONE),
    t!(nec_as_word, "WTS NEC VPN access", "", ["acme/nec"]),
    t!(nec_next_to_cjk, "出售NEC内网", "", ["acme/nec"]),
    t!(digits_bounded, "出售 123065 账号", "", NONE),
    t!(digits_exact, "出售 12306 账号", "", ["acme/jr"]),
    t!(
        cjk_anywhere,
        "打包出售日本三菱日联银行网银",
        "",
        ["acme/mufg", "mitsubishi-corp/mc"]
    ),
    t!(
        melcombe_is_not_melco_like,
        "Selling MUFGold vouchers",
        "",
        NONE
    ),
    t!(
        kana_word_continues,
        "コラム",
        "いつまでもゆうちょうに構えている場合ではない、売ります",
        NONE
    ),
    t!(
        kana_term_then_particle,
        "ゆうちょの口座 売ります",
        "",
        ["acme/yucho"]
    ),
];

/// Domains: subdomains, e-mails, defanged forms; never a longer label.
const DOMAINS: &[MatchTest] = &[
    t!(
        domain_plain,
        "Selling",
        "access to soumu.go.jp mail",
        ["acme/soumu"]
    ),
    t!(
        domain_subdomain,
        "Admin panel",
        "Selling access: https://login.bk.mufg.jp/",
        M
    ),
    t!(domain_email, "dump for sale", "2,300 emails @mufg.jp", M),
    t!(
        domain_defanged_brackets,
        "WTS: access",
        "Victim: soumu[.]go[.]jp, full AD",
        ["acme/soumu"]
    ),
    t!(
        domain_defanged_dot_word,
        "WTS",
        "hxxps://mufg(dot)jp/login",
        M
    ),
    t!(domain_longer_label, "WTS", "notmufg.jp accounts", NONE),
    t!(domain_jaxa, "WTS", "jaxa.jp VPN", ["acme/jaxa"]),
    t!(domain_ajaxa, "WTS", "ajaxa.jp VPN", NONE),
    t!(
        domain_fullwidth,
        "出售",
        "ｙａｈｏｏ．ｃｏ．ｊｐ 老号",
        ["acme/yahoo"]
    ),
    t!(domain_dot_word, "WTS", "mufg dot jp webmail", M),
    t!(domain_ideographic_dot, "出售", "mufg。jp 邮箱", M),
];

/// Exclude phrases and overlapping customers.
const EXCLUDES_AND_OVERLAPS: &[MatchTest] = &[
    t!(
        exclude_phrase,
        "口座情報 販売",
        "転送: 三菱UFJ銀行からのお知らせ",
        ["mitsubishi-corp/mc"]
    ),
    t!(
        exclude_only_inside,
        "口座 販売",
        "三菱UFJ銀行からのお知らせ。三菱UFJ銀行の口座",
        ["acme/mufg", "mitsubishi-corp/mc"]
    ),
    t!(
        overlap_two_customers,
        "三菱UFJ銀行 口座 販売",
        "",
        ["acme/mufg", "mitsubishi-corp/mc"]
    ),
];

/// Sale context, per language.
const SALE_CONTEXT: &[MatchTest] = &[
    t!(zh_sell, "日本SBI证券账户", "带资金，出售，三菱日联 先到先得", ["acme/mufg", "mitsubishi-corp/mc"]),
    t!(zh_buy_title_char, "收日本雅虎账号", "批量", ["acme/yahoo"]),
    t!(zh_line_start_char_in_body, "账号", "资料如下\n出 三菱日联网银 一套", ["acme/mufg", "mitsubishi-corp/mc"]),
    t!(zh_char_not_at_line_start, "三菱日联银行推出新服务", "三菱日联银行今日宣布推出新的手机银行服务", NONE),
    t!(zh_received_is_not_buying, "收到三菱日联银行的短信", "内容是验证码", NONE),
    t!(zh_escrow, "三菱日联网银", "支持担保交易", ["acme/mufg", "mitsubishi-corp/mc"]),
    t!(ja_sell, "ゆうちょ銀行 口座 売ります", "即日対応", ["acme/yucho"]),
    t!(ja_buy, "ゆうちょ口座 買います", "", ["acme/yucho"]),
    t!(ja_past_tense_shopping, "日記", "昨日ヤフーショッピングで本を買いました", NONE),
    t!(ja_sale_started_news, "三菱UFJ銀行、新商品の販売を開始", "", NONE),
    t!(en_wts, "WTS: Japan MUFG bank logs", "Fresh logs, escrow accepted.", M),
    t!(en_wtb, "WTB MUFG logs", "", M),
    t!(en_not_for_sale, "MUFG logs not for sale", "", NONE),
    t!(en_share_price, "MUFG share price drops", "Analysts expect more.", NONE),
    t!(ru_sell, "Продам базу клиентов", "Продам базу клиентов Mitsubishi UFJ за 2021 год", M),
    t!(ru_buy, "Куплю логи Yahoo! JAPAN", "оплата через гаранта", ["acme/yahoo"]),
    t!(ru_price, "MUFG логи", "цена 100$", M),
    t!(ru_capitalised_cue, "Куплю доступ", "доступ в сеть (soumu.go.jp)", ["acme/soumu"]),
    t!(ru_upper_case_cue, "ДОСТУП", "КУПЛЮ ДОСТУП В СЕТЬ soumu.go.jp", ["acme/soumu"]),
    t!(no_cue_news, "三菱UFJ銀行、新アプリを公開", "三菱UFJ銀行は新しいアプリを公開した。", NONE),
    t!(cue_too_far, "Long thread about Japanese banks", concat!("MUFG reported results today.", "                                                                                                                                                                                                                          ", "x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x", " Unrelated: selling my old bicycle."), NONE),
    t!(cue_in_body_for_title_hit, "三菱UFJ銀行 ネットバンキング", "100件まとめて販売します。", ["acme/mufg", "mitsubishi-corp/mc"]),
    t!(sale_context_not_required, "郵便局の営業時間", "変更のお知らせ", ["acme/post"]),
    t!(zh_bank_kit, "日本邮政银行 四件套", "实名", ["acme/yucho"]),
    t!(ja_buy_bracket_char, "【買】ゆうちょ口座", "", ["acme/yucho"]),
    t!(ja_shopping_is_not_buying, "買い物", "ゆうちょ口座のカードで買い物", NONE),
    t!(en_news_sell_its_stake, "MUFG plans to sell its stake", "", NONE),
    t!(zh_news_plans_to_sell, "新闻", "三菱日联银行拟出售其所持股份", NONE),
    t!(zh_contact_handle, "MUFG logs", "jabber: x@y.z", M),
];

/// Warnings and news about an asset are not offers.
const WARNINGS: &[MatchTest] = &[
    t!(
        official_notice_title,
        "三菱UFJ銀行からのお知らせ",
        "口座情報の販売に関するご注意",
        NONE
    ),
    t!(
        zh_attention_title,
        "注意！三菱日联网银",
        "有人私聊出售",
        NONE
    ),
    t!(
        zh_attention_in_body_is_fine,
        "三菱日联网银",
        "出售。注意：只走担保",
        ["acme/mufg", "mitsubishi-corp/mc"]
    ),
    t!(
        real_disclaimer_with_sale_title,
        "出售三菱日联网银",
        "（警惕:该项目属于黑产，有一定风险）",
        ["acme/mufg", "mitsubishi-corp/mc"]
    ),
    t!(
        zh_scam_warning,
        "警惕！",
        "近期有骗子冒充日本雅虎客服出售账号，请大家注意。",
        NONE
    ),
    t!(
        zh_scam_report_title,
        "曝光骗子",
        "此人声称出售三菱日联网银，收钱后拉黑。",
        NONE
    ),
    t!(
        zh_no_scammers_is_a_sale,
        "出售三菱日联网银",
        "稳定老号，骗子勿扰。",
        ["acme/mufg", "mitsubishi-corp/mc"]
    ),
    t!(
        zh_scammer_curse_is_a_sale,
        "三菱日联网银",
        "出售，骗子死全家",
        ["acme/mufg", "mitsubishi-corp/mc"]
    ),
    t!(
        zh_news_sale_of_shares,
        "财经",
        "据报道，三菱日联银行宣布出售其所持股份。",
        NONE
    ),
    t!(
        ja_fraud_warning,
        "ゆうちょ銀行を装う詐欺に注意",
        "口座を売りますというメールは詐欺です",
        NONE
    ),
    t!(
        en_scam_warning,
        "Beware",
        "Scammer claims to be selling MUFG logs, he is a ripper.",
        NONE
    ),
    t!(
        en_sale_mentions_scams,
        "WTS MUFG logs",
        "Escrow only, no scammers.",
        M
    ),
    t!(
        ru_warning,
        "Осторожно, кидала",
        "Продает логи MUFG, денег не вернул",
        NONE
    ),
];

/// Both alerts of a CJK hit on 三菱日联 / 三菱UFJ銀行 (the other customer watches 三菱).
const MC: [&str; 2] = ["acme/mufg", "mitsubishi-corp/mc"];

/// A warning word that names the goods on offer (phishing kit, 钓鱼页面, フィッシングキット,
/// фишинговые страницы) describes them and does not cancel the sale; the same word used as
/// a warning (its object is a person, an attack, a campaign), or another warning word
/// beside it, still does. Shapes from market posts: "WTS <bank> scampage + phishing kit,
/// panel included", "出售 <bank> 钓鱼页面 源码 带后台".
const GOODS_NAMED_BY_WARNINGS: &[MatchTest] = &[
    t!(
        en_phishing_kit_offer,
        "WTS MUFG scampage + phishing kit",
        "panel included, 150 USD",
        M
    ),
    t!(
        en_phishing_sample_title,
        "Phishing sample",
        "Selling creds: user@mufg.jp",
        M
    ),
    t!(
        en_kit_for_phishing,
        "MUFG kit for phishing",
        "selling, escrow accepted",
        M
    ),
    t!(
        en_phishing_logs,
        "Fresh MUFG phishing logs",
        "price 50$ per line",
        M
    ),
    t!(
        en_hyphenated_scam_page,
        "MUFG scam-page",
        "selling with admin panel",
        M
    ),
    t!(
        zh_phishing_pages_source,
        "出售 三菱日联 钓鱼页面 源码 带后台",
        "",
        MC
    ),
    t!(
        zh_fraud_site_template_linked,
        "三菱日联银行 钓鱼用的网站模板",
        "价格私聊",
        MC
    ),
    t!(
        ja_phishing_kit,
        "三菱UFJ銀行 フィッシングキット販売",
        "管理画面付き",
        MC
    ),
    t!(
        ja_phishing_fraud_site_chain,
        "MUFG フィッシング詐欺サイト 売ります",
        "",
        M
    ),
    t!(
        ja_kit_for_phishing_linked,
        "MUFG フィッシング用キット",
        "即納、価格は連絡ください",
        M
    ),
    t!(
        ru_phishing_pages,
        "Продаю фишинговые страницы MUFG",
        "админка в комплекте, гарант",
        M
    ),
    t!(
        ru_panel_for_phishing,
        "Продам панель для фишинга MUFG",
        "",
        M
    ),
    t!(
        en_scam_alert_title,
        "Scam alert: MUFG phishing kit",
        "The seller took 150 USD escrow and vanished.",
        NONE
    ),
    t!(
        en_phishing_campaign_news,
        "Phishing campaign targets MUFG customers",
        "Attackers are selling stolen logins.",
        NONE
    ),
    t!(
        en_beware_scammer_selling_pages,
        "MUFG",
        "Beware, X is a scammer selling phishing pages.",
        NONE
    ),
    t!(
        en_phishing_is_not_a_kit_across_lines,
        "MUFG phishing\nkit",
        "selling",
        NONE
    ),
    t!(
        zh_impostor_warning,
        "注意：冒充三菱日联的骗子",
        "他在出售钓鱼页面，收钱不发货",
        NONE
    ),
    t!(
        zh_exposed_impostor,
        "三菱日联",
        "曝光：有人冒充三菱日联出售钓鱼网站源码，是骗子",
        NONE
    ),
    t!(
        zh_phishing_sms_report,
        "三菱日联",
        "出售账号的钓鱼短信又来了",
        NONE
    ),
    t!(
        ja_beware_phishing_sites,
        "三菱UFJ銀行のフィッシングサイトに注意",
        "偽サイトを販売する業者がいます",
        NONE
    ),
    t!(
        ja_phishing_damage,
        "MUFG",
        "フィッシング被害が拡大、口座を販売する書き込みも",
        NONE
    ),
    t!(
        ru_beware_phishing_pages,
        "Осторожно: фишинговые страницы MUFG",
        "Продавец кидала, деньги не вернул",
        NONE
    ),
    t!(
        ru_phishing_attack_news,
        "Фишинговая атака на клиентов MUFG",
        "Продажа данных клиентов, по данным банка",
        NONE
    ),
];

#[test]
fn normalisation() {
    check(NORMALISATION);
}
#[test]
fn separators() {
    check(SEPARATORS);
}
#[test]
fn boundaries() {
    check(BOUNDARIES);
}
#[test]
fn domains() {
    check(DOMAINS);
}
#[test]
fn excludes_and_overlaps() {
    check(EXCLUDES_AND_OVERLAPS);
}
#[test]
fn sale_context() {
    check(SALE_CONTEXT);
}
#[test]
fn warnings() {
    check(WARNINGS);
}
#[test]
fn goods_named_by_warnings() {
    check(GOODS_NAMED_BY_WARNINGS);
}

#[test]
fn listing_with_price_is_a_sale() {
    let base = MatchDocument {
        id: "l1",
        title: Some("MUFG netbank"),
        body: Some("fresh"),
        ..Default::default()
    };
    assert!(run(base).is_empty(), "no cue, not a listing");
    let listing = MatchDocument {
        kind: Some("listing"),
        price: Some("1 BTC"),
        ..base
    };
    let a = run(listing);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].context, ["price: 1 BTC"]);
    let no_kind = MatchDocument {
        price: Some("¥3000"),
        ..base
    };
    assert_eq!(
        run(no_kind).len(),
        1,
        "a priced document without a kind is a listing"
    );
    let post = MatchDocument {
        kind: Some("post"),
        price: Some("¥3000"),
        ..base
    };
    assert!(
        run(post).is_empty(),
        "a post quoting a price is not a listing"
    );
    let no_price = MatchDocument {
        kind: Some("listing"),
        price: Some("  "),
        ..base
    };
    assert!(
        run(no_price).is_empty(),
        "a listing without a price needs a cue"
    );
}

#[test]
fn alert_fields() {
    let doc = MatchDocument {
        id: "zh-11",
        site: Some("deepmix"),
        url: Some("http://deepmix.example/t/zh-11"),
        title: Some("出售 三 菱 U F J 网银账号"),
        body: Some("稳定老号，秒发。ＭＵＦＧ也有"),
        ..Default::default()
    };
    let alerts = run(doc);
    let a = alerts
        .iter()
        .find(|a| a.asset == "mufg")
        .expect("mufg alert");
    assert_eq!(a.doc_id, "zh-11");
    assert_eq!(a.customer, "acme");
    assert_eq!(a.asset_name, "三菱UFJ銀行");
    assert_eq!(a.terms, ["三 菱 U F J", "ＭＵＦＧ"]);
    assert_eq!(a.context, ["出售", "秒发"]);
    assert_eq!(a.severity, Severity::High);
    assert!(
        a.snippet.contains("三 菱 U F J 网银账号 稳定老号"),
        "{}",
        a.snippet
    );
    assert_eq!(a.url.as_deref(), Some("http://deepmix.example/t/zh-11"));
    assert_eq!(a.site.as_deref(), Some("deepmix"));
    let json = serde_json::to_string(a).expect("serialises");
    assert!(json.contains("\"severity\":\"high\""), "{json}");
    let back: Alert = serde_json::from_str(&json).expect("round-trips");
    assert_eq!(&back, a);
    assert_eq!(a.key().to_string(), "acme/mufg@zh-11");
    // The same hit written differently (full width, other order) is no new evidence.
    let again = run(MatchDocument {
        id: "zh-11",
        title: Some("出售 ＭＵＦＧ 网银账号"),
        body: Some("秒发。三 菱 U F J"),
        ..Default::default()
    });
    let b = again
        .iter()
        .find(|x| x.asset == "mufg")
        .expect("mufg alert");
    assert_eq!(b.key(), a.key());
    assert_eq!(b.evidence(), a.evidence());
}

#[test]
fn severity_from_kind_override_and_cue() {
    let sev = |title: &str| {
        run(MatchDocument {
            id: "s",
            title: Some(title),
            ..Default::default()
        })
        .into_iter()
        .map(|a| (a.asset, a.severity))
        .collect::<Vec<_>>()
    };
    assert_eq!(
        sev("出售 总务省 内网"),
        [("soumu".to_string(), Severity::Critical)]
    );
    assert_eq!(
        sev("求购 总务省 内网"),
        [("soumu".to_string(), Severity::High)],
        "buying ranks below selling"
    );
    assert_eq!(
        sev("WTS Yahoo! JAPAN"),
        [("yahoo".to_string(), Severity::Medium)]
    );
    assert_eq!(
        sev("WTB Yahoo! JAPAN"),
        [("yahoo".to_string(), Severity::Low)]
    );
    assert_eq!(
        sev("WTS and WTB Yahoo! JAPAN"),
        [("yahoo".to_string(), Severity::Medium)],
        "selling wins"
    );
}

#[test]
fn one_alert_per_customer_asset() {
    let alerts = run(MatchDocument {
        id: "d",
        title: Some("出售 MUFG"),
        body: Some("MUFG, 三菱UFJ銀行, mufg.jp, login.mufg.jp, M.U.F.G"),
        ..Default::default()
    });
    let mufg: Vec<_> = alerts.iter().filter(|a| a.asset == "mufg").collect();
    assert_eq!(mufg.len(), 1);
    assert_eq!(
        mufg[0].terms,
        ["MUFG", "三菱UFJ銀行", "mufg.jp", "login.mufg.jp", "M.U.F.G"]
    );
}

#[test]
fn empty_and_odd_documents_do_not_panic() {
    for (title, body) in [
        (None, None),
        (Some(""), Some("")),
        (Some("\u{200B}"), None),
        (None, Some("ﾞﾞﾞ\u{301}")),
        (Some("出"), Some("收\n出\n")),
    ] {
        let _ = run(MatchDocument {
            id: "x",
            title,
            body,
            ..Default::default()
        });
    }
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + std::panic::UnwindSafe>() {}
    assert_send_sync::<Matcher>();
    assert_send_sync::<WatchlistSet>();
    assert_send_sync::<Alert>();
    assert_send_sync::<crate::LoadErrors>();
    assert_send_sync::<crate::CueLexicon>();
    assert_send_sync::<textfold::FoldedText>();
}

#[test]
fn severity_names_are_the_serialised_ones() {
    // The alert log stores `as_str`, JSON carries serde's name: one name each.
    for severity in Severity::ALL {
        let json = serde_json::to_value(severity).expect("serialises");
        assert_eq!(json.as_str(), Some(severity.as_str()));
        assert_eq!(Severity::parse(severity.as_str()), Some(severity));
    }
}
