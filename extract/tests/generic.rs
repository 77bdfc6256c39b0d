//! Generic extraction on pages of no known engine (`tests/fixtures/generic/`,
//! each with a comment on the shape it copies): every row of a custom
//! market's list with all its fields, a card-layout shop without a header,
//! and walls (CAPTCHA, anti-bot queue, script-only shell) that yield nothing.

use std::path::Path;

use chrono::{TimeZone, Utc};
use extract::{extract_page_explained, EngineChoice, ExtractOptions, SiteRules};
use url::Url;

fn fixture(name: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/generic")
        .join(name);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// (title, url, seller, posted_at, price, replies) of every document.
type Row = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn rows(name: &str, url: &str) -> (Vec<Row>, String) {
    let url = Url::parse(url).expect("valid URL");
    let root = url.join("/").expect("a root");
    let rules = SiteRules::for_engine("shop", &root, EngineChoice::Auto).expect("rules");
    let fetched = Utc
        .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
        .single()
        .expect("valid time");
    let options = ExtractOptions {
        all_rows: true,
        ..ExtractOptions::default()
    };
    let (out, explain) =
        extract_page_explained(&rules, &url, &fixture(name), fetched, None, &options);
    let rows = out
        .documents
        .iter()
        .map(|d| {
            (
                d.title.clone().unwrap_or_default(),
                d.url.clone(),
                d.seller.clone(),
                d.posted_at.clone(),
                d.price.clone(),
                d.extra.get("replies").cloned(),
            )
        })
        .collect();
    (rows, explain.page)
}

fn row(
    title: &str,
    url: &str,
    seller: &str,
    posted: &str,
    price: &str,
    replies: Option<&str>,
) -> Row {
    (
        title.into(),
        url.into(),
        Some(seller.into()),
        Some(posted.into()),
        Some(price.into()),
        replies.map(str::to_owned),
    )
}

#[test]
fn a_custom_market_table_with_header_spacers_and_pagination() {
    let (got, page) = rows("market-ru.html", "http://market.example/cat.php?c=7");
    assert!(
        page.starts_with("list page (generic: 4 records at "),
        "{page}"
    );
    let u = |id: u32| format!("http://market.example/item.php?id={id}");
    assert_eq!(
        got,
        [
            row(
                "База клиентов MUFG 2026, 120к строк",
                &u(5001),
                "dumpking",
                "2026-11-05T14:20:00Z",
                "$450",
                None
            ),
            row(
                "Аккаунты Yahoo! JAPAN с почтой, 500 шт",
                &u(4998),
                "jpseller",
                "2026-11-04T09:05:00Z",
                "0.004 BTC",
                None
            ),
            row(
                "Фуллы Япония (паспорт + карта + SIM)",
                &u(4990),
                "fullz_jp",
                "2026-11-03T22:47:00Z",
                "12 000 руб.",
                None
            ),
            row(
                "Доступ к почте министерства, админ",
                &u(4975),
                "jpseller",
                "2026-11-01T18:00:00Z",
                "$1200",
                None
            ),
        ]
    );
}

#[test]
fn a_card_layout_shop_without_header_by_cell_content() {
    let (got, page) = rows("shop-ja.html", "http://shop.example/new");
    assert!(
        page.starts_with("list page (generic: 3 records at "),
        "{page}"
    );
    let u = |id: u32| format!("http://shop.example/l/{id}");
    assert_eq!(
        got,
        [
            row(
                "【出品】みずほ銀行 口座 4点セット（通帳・カード・印鑑・SIM）",
                &u(3301),
                "tanaka99",
                "2026-11-30T03:00:00Z",
                "¥150,000",
                Some("3")
            ),
            row(
                "Yahoo! JAPAN ID 100個 まとめ売り",
                &u(3298),
                "idshop",
                "2026-11-28T23:30:00Z",
                "¥30,000",
                Some("0")
            ),
            row(
                "三井住友銀行 法人口座 譲ります",
                &u(3290),
                "houjin",
                "2026-11-27T12:15:00Z",
                "¥480,000",
                Some("12")
            ),
        ]
    );
}

#[test]
fn walls_yield_no_documents_and_say_why() {
    for (name, why) in [
        ("captcha.html", "a CAPTCHA page"),
        ("ddos-guard.html", "an anti-bot or DDoS-guard page"),
        (
            "js-shell.html",
            "a page whose content is rendered by JavaScript",
        ),
    ] {
        let (got, page) = rows(name, "http://market.example/");
        assert!(got.is_empty(), "{name}: {got:?}");
        assert_eq!(page, format!("{why}: no documents"), "{name}");
    }
}

/// The page of one listing (by URL, not a topic pattern of any engine): one
/// document with the page's title and seller, not the related-items box.
#[test]
fn a_listing_page_with_a_related_box_is_one_document() {
    let (got, page) = rows("item-page.html", "http://shop.example/item?id=8812");
    assert!(page.starts_with("topic page (generic: "), "{page}");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "三菱UFJ銀行 ネットバンキング口座 販売");
    assert_eq!(got[0].2.as_deref(), Some("mufg_seller"));
}

/// A topic of an unknown engine: its long posts are not list rows.
#[test]
fn long_posts_are_a_topic_not_a_list() {
    let (got, page) = rows("unknown-topic.html", "http://forum.example/t?id=55");
    assert!(
        page.contains("posts, not list rows") || page.starts_with("content page"),
        "{page}"
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "[WTS] Japanese ministry mail access");
    assert_eq!(got[0].2.as_deref(), Some("vendor_x"));
}

#[test]
fn a_title_that_puts_the_site_first_gives_the_topic() {
    let url = Url::parse("http://board.example/viewtopic.php?f=2&t=77").expect("valid URL");
    let root = url.join("/").expect("a root");
    let rules = SiteRules::for_engine("board", &root, EngineChoice::Auto).expect("rules");
    let fetched = Utc
        .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
        .single()
        .expect("valid time");
    let html = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/phpbb/viewtopic-site-first-title.html"),
    )
    .expect("fixture");
    let (out, _) = extract_page_explained(
        &rules,
        &url,
        &html,
        fetched,
        None,
        &ExtractOptions::default(),
    );
    let titles: Vec<(Option<&str>, Option<&str>)> = out
        .documents
        .iter()
        .map(|d| (d.title.as_deref(), d.seller.as_deref()))
        .collect();
    assert_eq!(
        titles,
        [(
            Some("Comptes bancaires japonais à vendre"),
            Some("kuro_broker")
        )]
    );
}

#[test]
fn decoy_rows_the_page_hides_are_no_listings() {
    let (rows, _) = rows("market-decoy-rows.html", "http://market.example/listings");
    let titles: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Mizuho account with online banking",
            "Rakuten Bank account, card included",
            "Yahoo! JAPAN ID with PayPay wallet",
            "SMBC corporate account, Osaka"
        ]
    );
}

/// A script app's shell (Flarum's) whose discussion list is served only in
/// `<noscript>`: the crawler, a client without script, is shown that list.
#[test]
fn a_script_shell_lists_what_its_noscript_shows() {
    let (got, page) = rows("noscript-app-list.html", "https://forum.example.test/");
    let titles: Vec<(&str, &str)> = got.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
    assert_eq!(
        titles,
        [
            (
                "Yahoo! JAPAN ID 30件まとめ売り（メール認証済み）",
                "https://forum.example.test/d/41-yahoo-japan-id"
            ),
            (
                "【法人】地銀口座 ネットバンキング付き 即日発送",
                "https://forum.example.test/d/40-bank"
            ),
            (
                "社内VPN アクセス権 製造業 従業員300名",
                "https://forum.example.test/d/39-vpn"
            ),
            (
                "楽天アカウント ポイント残高あり 10件",
                "https://forum.example.test/d/38-rakuten"
            ),
            (
                "ドコモ回線 SMS認証用 レンタル",
                "https://forum.example.test/d/37-docomo"
            ),
        ],
        "{page}"
    );
}

/// A topic that declares itself a schema.org forum posting, beside a
/// "related topics" box of rows with excerpts (NodeBB's shape): one
/// document, the topic, by the author its first post declares in
/// microdata; the box's rows are no listings.
#[test]
fn a_declared_posting_beside_related_topics_is_the_topic() {
    let (got, page) = rows(
        "nodebb-topic-related.html",
        "https://qa.example.test/topic/812/houjin-kouza",
    );
    assert!(page.starts_with("topic page (generic: "), "{page}");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "法人口座（ネットバンキング付き）まとめて譲渡");
    assert_eq!(got[0].2.as_deref(), Some("kurobune"));
}
