//! Every engine preset on pages written in that engine's markup
//! (`tests/fixtures/<engine>/`, each with a comment on where its shape comes
//! from): all fields exactly, the same with `engine = "auto"`, and list rows
//! left to their topic pages in a crawl.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use extract::{
    extract_page, extract_page_explained, Document, EngineChoice, ExtractOptions, SiteRules,
};
use serde_json::{json, Value};
use url::Url;

/// 2023-06-28 06:00 UTC: 14:00 in Beijing, 15:00 in Tokyo.
fn fetched_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 6, 28, 6, 0, 0)
        .single()
        .expect("valid time")
}

fn fixture(path: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn profile(choice: EngineChoice, url: &Url) -> SiteRules {
    let root = url.join("/").expect("a root");
    SiteRules::for_engine("site", &root, choice).expect("an engine-only profile loads")
}

/// Documents of a page with the named preset (every list row shown), after
/// checking that `auto` recognises the engine and yields the same.
fn extract(engine: &str, path: &str, url: &str) -> Value {
    let url = Url::parse(url).expect("valid URL");
    let html = fixture(path);
    let options = ExtractOptions {
        all_rows: true,
        ..ExtractOptions::default()
    };
    let fixed = EngineChoice::parse(engine).expect("a known engine");
    let (out, explain) = extract_page_explained(
        &profile(fixed, &url),
        &url,
        &html,
        fetched_at(),
        None,
        &options,
    );
    assert_eq!(explain.rules, format!("preset {engine}"));
    let (auto, explain) = extract_page_explained(
        &profile(EngineChoice::Auto, &url),
        &url,
        &html,
        fetched_at(),
        None,
        &options,
    );
    assert!(
        explain
            .rules
            .starts_with(&format!("preset {engine} (detected: ")),
        "{}",
        explain.rules
    );
    assert_eq!(
        auto.documents, out.documents,
        "auto differs from the {engine} preset"
    );
    let docs: Vec<Value> = out.documents.iter().map(without_fetch).collect();
    Value::Array(docs)
}

fn without_fetch(d: &Document) -> Value {
    let mut v = serde_json::to_value(d).expect("serialisable");
    let fetched = v.as_object_mut().and_then(|o| o.remove("fetched_at"));
    assert_eq!(fetched, Some(json!("2023-06-28T06:00:00Z")));
    v
}

#[test]
fn phpbb_topic() {
    assert_eq!(
        extract(
            "phpbb",
            "phpbb/viewtopic.html",
            "http://forum.example/board/viewtopic.php?f=7&t=4821"
        ),
        json!([{
            "id": "site:4821", "site": "site", "url": "http://forum.example/board/viewtopic.php?f=7&t=4821",
            "kind": "post",
            "title": "[WTS] Corporate VPN access - Japanese manufacturer",
            // The attachment and the signature are left out; the quote stays.
            "body": "Selling GlobalProtect VPN access to a Japanese electronics manufacturer.\nDomain admin, 4,000 hosts, revenue $2B.\nPrice: 0.35 BTC, escrow accepted. PM me.\nkuro_broker wrote:proof on request",
            "seller": "kuro_broker", "category": "Access & Logs", "listing_number": "4821",
            "posted_at": "2023-06-27T07:51:00Z"
        }])
    );
}

#[test]
fn phpbb_forum_rows() {
    assert_eq!(
        extract(
            "phpbb",
            "phpbb/viewforum.html",
            "http://forum.example/board/viewforum.php?f=7"
        ),
        json!([
            {"id": "site:board/viewtopic.php?f=7&t=4821", "site": "site", "url": "http://forum.example/board/viewtopic.php?f=7&t=4821",
             "kind": "thread", "title": "[WTS] Corporate VPN access - Japanese manufacturer", "seller": "kuro_broker",
             "category": "Access & Logs", "posted_at": "2023-06-27T07:51:00Z", "extra": {"replies": "2"}},
            {"id": "site:board/viewtopic.php?f=7&t=4790", "site": "site", "url": "http://forum.example/board/viewtopic.php?f=7&t=4790",
             "kind": "thread", "title": "[WTB] Webmail logins, .go.jp only", "seller": "n0body",
             "category": "Access & Logs", "posted_at": "2023-06-20T12:00:00Z", "extra": {"replies": "0"}}
        ])
    );
}

#[test]
fn a_crawl_leaves_rows_to_their_topic_pages() {
    let url = Url::parse("http://forum.example/board/viewforum.php?f=7").expect("valid URL");
    let p = profile(EngineChoice::parse("phpbb").expect("known"), &url);
    let out = extract_page(
        &p,
        &url,
        &fixture("phpbb/viewforum.html"),
        fetched_at(),
        None,
    );
    assert!(out.documents.is_empty(), "{:?}", out.documents);
    let links: Vec<&str> = out.links.iter().map(Url::as_str).collect();
    assert!(
        links.contains(&"http://forum.example/board/viewtopic.php?f=7&t=4790"),
        "{links:?}"
    );
    assert!(
        links.contains(&"http://forum.example/board/viewforum.php?f=7&start=25"),
        "{links:?}"
    );
    assert!(
        !links
            .iter()
            .any(|l| l.contains("memberlist") || l.contains("mode=login")),
        "{links:?}"
    );
}

#[test]
fn mybb_thread() {
    assert_eq!(
        extract(
            "mybb",
            "mybb/showthread.html",
            "http://mybb.example/showthread.php?tid=318"
        ),
        json!([{
            "id": "site:318", "site": "site", "url": "http://mybb.example/showthread.php?tid=318", "kind": "post",
            "title": "Selling Rakuten accounts with balance",
            "body": "Rakuten Ichiba accounts, points balance 10,000-50,000.\nPrice: $40 each, bulk discount. Escrow OK.",
            "seller": "tanuki", "category": "Accounts", "listing_number": "318",
            "posted_at": "2023-06-27T16:51:00Z"
        }])
    );
}

#[test]
fn mybb_forum_rows() {
    assert_eq!(
        extract(
            "mybb",
            "mybb/forumdisplay.html",
            "http://mybb.example/forumdisplay.php?fid=9"
        ),
        json!([
            {"id": "site:showthread.php?tid=318", "site": "site", "url": "http://mybb.example/showthread.php?tid=318", "kind": "thread",
             "title": "Selling Rakuten accounts with balance", "seller": "tanuki", "category": "Accounts", "extra": {"replies": "1"}},
            {"id": "site:showthread.php?tid=317", "site": "site", "url": "http://mybb.example/showthread.php?tid=317", "kind": "thread",
             "title": "WTB: Japan Post Bank (ゆうちょ) logins", "seller": "kaitori", "category": "Accounts", "extra": {"replies": "4"}}
        ])
    );
}

#[test]
fn xenforo_thread() {
    assert_eq!(
        extract(
            "xenforo",
            "xenforo/thread.html",
            "https://xf.example/threads/selling-nec-intranet-credentials.5531/"
        ),
        json!([{
            "id": "site:5531", "site": "site", "url": "https://xf.example/threads/selling-nec-intranet-credentials.5531/", "kind": "post",
            "title": "Selling NEC intranet credentials",
            "body": "VPN + intranet SSO credentials, 120 accounts, verified this week.\nPrice 1,500 USDT for the lot. Escrow via forum.\nSample: 3 accounts on request.",
            "seller": "zaibatsu", "category": "Credentials", "listing_number": "5531",
            // 16:51 in Tokyo (the datetime carries its offset).
            "posted_at": "2023-06-27T07:51:00Z"
        }])
    );
}

#[test]
fn xenforo_forum_rows() {
    assert_eq!(
        extract(
            "xenforo",
            "xenforo/forum.html",
            "https://xf.example/forums/credentials.12/"
        ),
        json!([
            {"id": "site:threads/selling-nec-intranet-credentials.5531/", "site": "site",
             "url": "https://xf.example/threads/selling-nec-intranet-credentials.5531/", "kind": "thread",
             "title": "NEC intranet credentials", "seller": "zaibatsu", "category": "Credentials",
             "posted_at": "2023-06-27T07:51:00Z", "extra": {"replies": "1"}},
            {"id": "site:threads/wtb-mufg-business-banking-logins.5529/", "site": "site",
             "url": "https://xf.example/threads/wtb-mufg-business-banking-logins.5529/", "kind": "thread",
             "title": "WTB MUFG business banking logins", "seller": "kumo", "category": "Credentials",
             "posted_at": "2023-06-25T00:00:00Z", "extra": {"replies": "12"}}
        ])
    );
}

#[test]
fn discuz_thread() {
    assert_eq!(
        extract(
            "discuz",
            "discuz/viewthread.html",
            "http://bbs.example/forum.php?mod=viewthread&tid=90211"
        ),
        json!([{
            "id": "site:90211", "site": "site", "url": "http://bbs.example/forum.php?mod=viewthread&tid=90211", "kind": "post",
            "title": "出售 日本邮政银行 网银账户",
            // Without the anti-copy jammer text and the "edited by" status.
            "body": "出售日本邮政银行(ゆうちょ銀行)网银账户，带手机验证，可转账。\n价格：200元/个，量大从优，支持担保。",
            "seller": "雪狐", "category": "账号交易", "listing_number": "90211",
            // The span's title, 2023-6-27 16:51:07 in Beijing time.
            "posted_at": "2023-06-27T08:51:07Z",
            "extra": {"replies": "7"}
        }])
    );
}

#[test]
fn discuz_forum_rows() {
    assert_eq!(
        extract(
            "discuz",
            "discuz/forumdisplay.html",
            "http://bbs.example/forum.php?mod=forumdisplay&fid=36"
        ),
        json!([
            {"id": "site:forum.php?extra=page%3D1&mod=viewthread&tid=90211", "site": "site",
             "url": "http://bbs.example/forum.php?extra=page%3D1&mod=viewthread&tid=90211", "kind": "thread",
             "title": "出售 日本邮政银行 网银账户", "seller": "雪狐", "category": "账号交易",
             // 昨天 16:51, fetched at 14:00 Beijing time on the 28th.
             "posted_at": "2023-06-27T08:51:00Z", "extra": {"replies": "7"}},
            {"id": "site:forum.php?extra=page%3D1&mod=viewthread&tid=90188", "site": "site",
             "url": "http://bbs.example/forum.php?extra=page%3D1&mod=viewthread&tid=90188", "kind": "thread",
             "title": "收 三菱UFJ 法人网银", "seller": "老K", "category": "账号交易",
             "posted_at": "2023-06-19T16:00:00Z", "extra": {"replies": "0"}}
        ])
    );
}

#[test]
fn smf_topic() {
    assert_eq!(
        extract(
            "smf",
            "smf/topic.html",
            "https://smf.example/index.php?topic=2210.0"
        ),
        json!([{
            "id": "site:2210", "site": "site", "url": "https://smf.example/index.php?topic=2210.0", "kind": "post",
            "title": "Продам доступ к почте японского министерства",
            // The quote header and the signature are left out.
            "body": "Продаю доступ к почтовому ящику сотрудника МИД Японии (mofa.go.jp).\nЦена 300$, гарант форума.\nесть пруфы?",
            "seller": "shinobi", "category": "Доступы", "listing_number": "2210",
            "posted_at": "2023-06-27T16:51:22Z"
        }])
    );
}

#[test]
fn smf_board_rows() {
    assert_eq!(
        extract(
            "smf",
            "smf/board.html",
            "https://smf.example/index.php?board=4.0"
        ),
        json!([
            {"id": "site:index.php?topic=2210.0", "site": "site", "url": "https://smf.example/index.php?topic=2210.0", "kind": "thread",
             "title": "Продам доступ к почте японского министерства", "seller": "shinobi", "category": "Доступы", "extra": {"replies": "1"}},
            {"id": "site:index.php?topic=2188.0", "site": "site", "url": "https://smf.example/index.php?topic=2188.0", "kind": "thread",
             "title": "Куплю базу клиентов японского банка", "seller": "kupec", "category": "Доступы", "extra": {"replies": "0"}}
        ])
    );
}

#[test]
fn market_listing() {
    assert_eq!(
        extract(
            "anwang",
            "anwang/viewtopic.html",
            "http://market.example/viewtopic.php?t=12034"
        ),
        json!([{
            "id": "site:12034", "site": "site", "url": "http://market.example/viewtopic.php?t=12034", "kind": "listing",
            "title": "出售 三菱日联银行 网银",
            // Not the "set your fund password" banner nor the header's trade menu.
            "body": "三菱UFJ银行个人网银，带登录ID+密码+手机令牌。\n余额50万日元以上，可转账。",
            "price": "0.0123 BTC", "price_amount": 0.0123, "price_currency": "BTC", "seller": "tokyo_drift", "category": "账号-银行卡类", "listing_number": "12034",
            "posted_at": "2018-11-02T01:29:00Z",
            "extra": {"price_usd": "77.05 美元", "trade_type": "出售"}
        }])
    );
}

#[test]
fn a_profile_overrides_one_preset_field() {
    let text = r#"
name = "bb"
base_url = "http://forum.example/board/"
engine = "phpbb"
time_zone = "+09:00"
[topic]
seller = { css = "dl.postprofile dd.profile-rank" }
"#;
    let p = SiteRules::parse(text, Path::new("bb.toml")).expect("valid profile");
    let url = Url::parse("http://forum.example/board/viewtopic.php?f=7&t=4821").expect("valid URL");
    let (out, explain) = extract_page_explained(
        &p,
        &url,
        &fixture("phpbb/viewtopic.html"),
        fetched_at(),
        None,
        &ExtractOptions::default(),
    );
    let d = &out.documents[0];
    assert_eq!(d.seller.as_deref(), Some("Vendor"));
    assert_eq!(
        d.title.as_deref(),
        Some("[WTS] Corporate VPN access - Japanese manufacturer")
    );
    let origin = |field: &str| {
        explain
            .fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.origin.clone())
    };
    assert_eq!(origin("seller").as_deref(), Some("profile"));
    assert_eq!(origin("title").as_deref(), Some("preset phpbb"));
}

/// Hostile pages: broken markup, a 50,000-row table, 10,000-deep nesting of
/// the very classes the presets select. No panic, and bounded time.
#[test]
fn malformed_huge_and_deep_pages_are_survived() {
    let url = Url::parse("http://forum.example/board/viewtopic.php?t=1").expect("valid URL");
    let mut rows = String::from("<body id=\"phpbb\"><table>");
    for i in 0..50_000 {
        rows.push_str(&format!(
            "<tr><td><a class=\"topictitle\" href=\"viewtopic.php?t={i}\">topic {i}</a><td>{i} BTC"
        ));
    }
    let pages = [
        "<html><body><div class=\"post\"><div class=\"content\">unclosed <b><i>text</b></i><table><td>cell<p>para</div>"
            .to_owned(),
        "\u{0}\u{feff}<<<>>><a href='::::'>x</a><time datetime='9999-99-99'>".to_owned(),
        rows,
        format!(
            "<body id=\"phpbb\"><h2 class=\"topic-title\">t</h2>{}deep{}",
            "<div class=\"post\"><div class=\"content\">".repeat(5_000),
            "</div></div>".repeat(5_000)
        ),
    ];
    for html in &pages {
        for choice in [
            EngineChoice::Auto,
            EngineChoice::Generic,
            EngineChoice::parse("phpbb").expect("known"),
        ] {
            let started = std::time::Instant::now();
            let out = extract_page(&profile(choice, &url), &url, html, fetched_at(), None);
            assert!(out.documents.len() <= 50_000);
            assert!(
                started.elapsed().as_secs() < 60,
                "{choice}: {:?} on a {}-byte page",
                started.elapsed(),
                html.len()
            );
        }
    }
}
