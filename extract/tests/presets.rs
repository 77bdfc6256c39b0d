//! Every engine preset on pages written in that engine's markup
//! (`tests/fixtures/<engine>/`, each with a comment on where its shape comes
//! from): all fields exactly, the same with `engine = "auto"`, list rows
//! left to their topic pages in a crawl, and the links a crawl follows (list
//! and topic pages, never login, profile or search pages).

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

/// The links a crawl of a page follows with the named preset (`auto` too),
/// after checking it leaves every list row to its topic page.
fn crawl_links(engine: &str, path: &str, url: &str) -> Vec<String> {
    let url = Url::parse(url).expect("valid URL");
    let p = profile(EngineChoice::parse(engine).expect("known"), &url);
    let out = extract_page(&p, &url, &fixture(path), fetched_at(), None);
    assert!(out.documents.is_empty(), "{:?}", out.documents);
    out.links.iter().map(Url::to_string).collect()
}

/// Asserts that `links` hold every one of `wanted` and nothing that
/// contains one of `unwanted`.
fn assert_links(links: &[String], wanted: &[&str], unwanted: &[&str]) {
    for w in wanted {
        assert!(links.iter().any(|l| l == w), "{w} missing from {links:#?}");
    }
    for l in links {
        assert!(
            !unwanted.iter().any(|u| l.contains(u)),
            "{l} should not be followed"
        );
    }
}

/// What a crawl of a vBulletin board never follows: profiles, login,
/// registration, search, single posts, "go to last post", sort orders.
const VB_UNWANTED: &[&str] = &[
    "member",
    "/login",
    "register",
    "search",
    "misc.php",
    "showpost",
    "goto=",
    "?p=",
    "&p=",
    "sort=",
    "do=",
    "newthread",
    "newreply",
    "activity",
];

#[test]
fn vbulletin3_forum_rows() {
    assert_eq!(
        extract(
            "vbulletin",
            "vbulletin/forumdisplay-vb3.html",
            "http://vb3.example/forumdisplay.php?f=12"
        ),
        json!([
            // vB3 lists show the last post's date only: no posted_at (the
            // header row tells the generic reader that column is the last post).
            {"id": "site:showthread.php?t=4417", "site": "site", "url": "http://vb3.example/showthread.php?t=4417",
             "kind": "thread", "title": "[Продам] Сбербанк Бизнес Онлайн — логины ЮЛ", "seller": "Dzhokonda",
             "category": "Банковские аккаунты", "extra": {"replies": "16"}},
            {"id": "site:showthread.php?t=4402", "site": "site", "url": "http://vb3.example/showthread.php?t=4402",
             "kind": "thread", "title": "[Куплю] ВТБ Онлайн физ. лица", "seller": "obnal_77",
             "category": "Банковские аккаунты", "extra": {"replies": "0"}}
        ])
    );
}

#[test]
fn vbulletin3_thread() {
    assert_eq!(
        extract(
            "vbulletin",
            "vbulletin/showthread-vb3.html",
            "http://vb3.example/showthread.php?t=4417"
        ),
        json!([{
            "id": "site:4417", "site": "site", "url": "http://vb3.example/showthread.php?t=4417", "kind": "post",
            "title": "[Продам] Сбербанк Бизнес Онлайн — логины ЮЛ",
            // Without the quoted question and the signature.
            "body": "Продаю доступы к Сбербанк Бизнес Онлайн (юрлица), логин + пароль + SIM.\nОстаток на счетах от 500 000 руб.\nЦена: 0.02 BTC за доступ, работаю через гаранта.\nВалид, проверено 26.06.",
            "seller": "Dzhokonda", "category": "Банковские аккаунты", "listing_number": "4417",
            "posted_at": "2023-06-27T16:51:00Z"
        }])
    );
}

#[test]
fn vbulletin4_forum_rows() {
    assert_eq!(
        extract(
            "vbulletin",
            "vbulletin/forumdisplay-vb4.html",
            "http://vb4.example/forums/14-Bank-Logs"
        ),
        json!([
            // The sticky first, as the page shows it.
            {"id": "site:threads/9021-Escrow-rules-for-the-Bank-Logs-section", "site": "site",
             "url": "http://vb4.example/threads/9021-Escrow-rules-for-the-Bank-Logs-section", "kind": "thread",
             "title": "Escrow rules for the Bank Logs section", "seller": "admin", "category": "Bank Logs",
             "posted_at": "2023-01-05T10:00:00Z", "extra": {"replies": "0"}},
            {"id": "site:threads/9188-WTS-US-bank-logs-Chase-BoA-Wells-(balance-10k-)", "site": "site",
             "url": "http://vb4.example/threads/9188-WTS-US-bank-logs-Chase-BoA-Wells-(balance-10k-)", "kind": "thread",
             "title": "[WTS] US bank logs - Chase/BoA/Wells (balance 10k+)", "seller": "dumpsking", "category": "Bank Logs",
             "posted_at": "2023-06-27T16:51:00Z", "extra": {"replies": "23"}},
            // "Yesterday 11:20 PM", fetched on the 28th.
            {"id": "site:threads/9180-WTB-UK-business-banking-logins", "site": "site",
             "url": "http://vb4.example/threads/9180-WTB-UK-business-banking-logins", "kind": "thread",
             "title": "[WTB] UK business banking logins", "seller": "cashout_uk", "category": "Bank Logs",
             "posted_at": "2023-06-27T23:20:00Z", "extra": {"replies": "2"}}
        ])
    );
}

#[test]
fn vbulletin4_thread() {
    assert_eq!(
        extract(
            "vbulletin",
            "vbulletin/showthread-vb4.html",
            "http://vb4.example/threads/9188-WTS-US-bank-logs-Chase-BoA-Wells-(balance-10k-)"
        ),
        json!([{
            "id": "site:9188", "site": "site",
            "url": "http://vb4.example/threads/9188-WTS-US-bank-logs-Chase-BoA-Wells-(balance-10k-)", "kind": "post",
            "title": "[WTS] US bank logs - Chase/BoA/Wells (balance 10k+)",
            // Without the quote, the "Last edited" note and the signature.
            "body": "Fresh US bank logs, checked 24h ago:\n- Chase business, balance 10k-40k: $350\n- BoA personal with email access: $180\nEscrow accepted. Contact on Jabber only.\nYes, SIM swap included for Chase.",
            "seller": "dumpsking", "category": "Bank Logs", "listing_number": "9188",
            "posted_at": "2023-06-27T16:51:00Z"
        }])
    );
}

#[test]
fn vbulletin5_channel_rows() {
    assert_eq!(
        extract(
            "vbulletin",
            "vbulletin/channel-vb5.html",
            "https://vb5.example/forum/market/corporate-accounts"
        ),
        json!([
            {"id": "site:forum/market/corporate-accounts/6120-toyota-group-vpn-domain-admin", "site": "site",
             "url": "https://vb5.example/forum/market/corporate-accounts/6120-toyota-group-vpn-domain-admin", "kind": "thread",
             "title": "【販売】トヨタ系列会社 VPN + ドメイン管理者", "seller": "kurobako", "category": "法人アカウント",
             "posted_at": "2023-06-27T16:51:00Z", "extra": {"replies": "4"}},
            {"id": "site:forum/market/corporate-accounts/6098-mufg-bizstation-logins", "site": "site",
             "url": "https://vb5.example/forum/market/corporate-accounts/6098-mufg-bizstation-logins", "kind": "thread",
             "title": "【買取】三菱UFJ BizSTATION ログイン", "seller": "kaitori", "category": "法人アカウント",
             "posted_at": "2023-06-20T09:03:00Z", "extra": {"replies": "0"}}
        ])
    );
}

#[test]
fn vbulletin5_topic() {
    assert_eq!(
        extract(
            "vbulletin",
            "vbulletin/topic-vb5.html",
            "https://vb5.example/forum/market/corporate-accounts/6120-toyota-group-vpn-domain-admin"
        ),
        json!([{
            "id": "site:6120", "site": "site",
            "url": "https://vb5.example/forum/market/corporate-accounts/6120-toyota-group-vpn-domain-admin", "kind": "post",
            "title": "【販売】トヨタ系列会社 VPN + ドメイン管理者",
            // Without the quoted question and the signature.
            "body": "トヨタ系列の部品メーカー（従業員3,000名）の社内ネットワークへのアクセスを販売します。\nFortiGate SSL-VPN + ドメイン管理者権限、ホスト約1,200台。\n価格：2.5 BTC、エスクロー可。サンプルはDMで。\nCrowdStrike導入済み、回避方法も付けます。",
            "seller": "kurobako", "category": "法人アカウント", "listing_number": "6120",
            // The datetime has no offset: the site's clock (UTC here).
            "posted_at": "2023-06-27T16:51:00Z"
        }])
    );
}

#[test]
fn vbulletin_crawls_follow_lists_and_topics_not_profiles() {
    for engine in ["vbulletin", "auto"] {
        let links = crawl_links(
            engine,
            "vbulletin/forumdisplay-vb3.html",
            "http://vb3.example/forumdisplay.php?f=12",
        );
        assert_links(
            &links,
            &[
                "http://vb3.example/showthread.php?t=4417",
                "http://vb3.example/showthread.php?t=4402",
                "http://vb3.example/forumdisplay.php?f=12&page=2",
                "http://vb3.example/forumdisplay.php?f=3",
            ],
            VB_UNWANTED,
        );
        let links = crawl_links(
            engine,
            "vbulletin/forumdisplay-vb4.html",
            "http://vb4.example/forums/14-Bank-Logs",
        );
        assert_links(
            &links,
            &[
                "http://vb4.example/threads/9188-WTS-US-bank-logs-Chase-BoA-Wells-(balance-10k-)",
                "http://vb4.example/threads/9188-WTS-US-bank-logs-Chase-BoA-Wells-(balance-10k-)/page2",
                "http://vb4.example/forums/14-Bank-Logs/page2",
                "http://vb4.example/forums/3-Marketplace",
            ],
            VB_UNWANTED,
        );
        let links = crawl_links(
            engine,
            "vbulletin/channel-vb5.html",
            "https://vb5.example/forum/market/corporate-accounts",
        );
        assert_links(
            &links,
            &[
                "https://vb5.example/forum/market/corporate-accounts/6120-toyota-group-vpn-domain-admin",
                "https://vb5.example/forum/market/corporate-accounts/page2",
                "https://vb5.example/forum/market",
            ],
            VB_UNWANTED,
        );
    }
}

#[test]
fn vbulletin_topic_urls_of_each_version() {
    let url = Url::parse("http://vb.example/").expect("valid URL");
    let p = profile(EngineChoice::parse("vbulletin").expect("known"), &url);
    for topic in [
        "http://vb.example/showthread.php?t=4417",
        "http://vb.example/showthread.php?s=&t=4417&page=2",
        "http://vb.example/showthread.php?4417-Sberbank-logins",
        "http://vb.example/showthread.php/4417-Sberbank-logins/page2",
        "http://vb.example/threads/9188-WTS-US-bank-logs",
        "http://vb.example/threads/9188-WTS-US-bank-logs/page2",
        "http://vb.example/forum/market/corporate-accounts/6120-toyota-vpn",
        "http://vb.example/forum/market/corporate-accounts/6120-toyota-vpn/page2",
    ] {
        assert!(p.topic.url.is_match(topic), "{topic}");
    }
    for list in [
        "http://vb.example/forumdisplay.php?f=12",
        "http://vb.example/forums/14-Bank-Logs/page2",
        "http://vb.example/forum/market/corporate-accounts",
        "http://vb.example/forum/market/corporate-accounts/page2",
    ] {
        assert!(!p.topic.url.is_match(list), "{list}");
    }
}

#[test]
fn invision_forum_rows() {
    assert_eq!(
        extract(
            "invision",
            "invision/forum.html",
            "https://ipb.example/forum/12-databases/"
        ),
        json!([
            {"id": "site:topic/2231-selling-us-insurer-customer-db-4m-rows/", "site": "site",
             "url": "https://ipb.example/topic/2231-selling-us-insurer-customer-db-4m-rows/", "kind": "thread",
             "title": "US insurer customer DB - 4M rows", "seller": "breachbroker", "category": "Databases",
             "posted_at": "2023-06-27T07:51:00Z", "extra": {"replies": "37"}},
            {"id": "site:topic/2219-wtb-japanese-telecom-customer-records/", "site": "site",
             "url": "https://ipb.example/topic/2219-wtb-japanese-telecom-customer-records/", "kind": "thread",
             "title": "[WTB] Japanese telecom customer records", "seller": "nihon_data", "category": "Databases",
             "posted_at": "2023-06-21T13:02:00Z", "extra": {"replies": "1"}}
        ])
    );
}

#[test]
fn invision_topic() {
    assert_eq!(
        extract(
            "invision",
            "invision/topic.html",
            "https://ipb.example/topic/2231-selling-us-insurer-customer-db-4m-rows/"
        ),
        json!([{
            "id": "site:2231", "site": "site",
            "url": "https://ipb.example/topic/2231-selling-us-insurer-customer-db-4m-rows/", "kind": "post",
            // The tag prefix, then the title (as XenForo's prefix label).
            "title": "Selling US insurer customer DB - 4M rows",
            // Without the quote, the "Edited" note and the signature.
            "body": "Customer database of a mid-size US health insurer, dumped May 2023.\n4.1M rows: full name, DOB, SSN, member ID, address, phone, plan.\nSample of 1,000 rows for verified members. Price: 3 BTC for the full set, escrow accepted.",
            "seller": "breachbroker", "category": "Databases", "listing_number": "2231",
            "posted_at": "2023-06-27T07:51:00Z"
        }])
    );
}

/// The same topic page under IPS's other URL forms: rewriting off
/// (`index.php?/topic/…`) and IPB 3's `?showtopic=`.
#[test]
fn invision_topic_url_forms() {
    for url in [
        "https://ipb.example/index.php?/topic/2231-selling-us-insurer-customer-db-4m-rows/",
        "https://ipb.example/index.php?showtopic=2231",
        "https://ipb.example/topic/2231-selling-us-insurer-customer-db-4m-rows/page/2/",
    ] {
        let url = Url::parse(url).expect("valid URL");
        let p = profile(EngineChoice::parse("invision").expect("known"), &url);
        let out = extract_page(
            &p,
            &url,
            &fixture("invision/topic.html"),
            fetched_at(),
            None,
        );
        assert_eq!(out.documents.len(), 1, "{url}");
        assert_eq!(out.documents[0].listing_number.as_deref(), Some("2231"));
        assert_eq!(out.documents[0].id, "site:2231");
    }
    let url = Url::parse("https://ipb.example/").expect("valid URL");
    let p = profile(EngineChoice::parse("invision").expect("known"), &url);
    for list in [
        "https://ipb.example/forum/12-databases/",
        "https://ipb.example/forum/12-databases/page/2/",
        "https://ipb.example/index.php?/forum/12-databases/",
        "https://ipb.example/index.php?showforum=12",
    ] {
        assert!(!p.topic.url.is_match(list), "{list}");
    }
}

#[test]
fn invision_crawl_follows_lists_and_topics_not_profiles() {
    for engine in ["invision", "auto"] {
        let links = crawl_links(
            engine,
            "invision/forum.html",
            "https://ipb.example/forum/12-databases/",
        );
        assert_links(
            &links,
            &[
                "https://ipb.example/topic/2231-selling-us-insurer-customer-db-4m-rows/",
                "https://ipb.example/topic/2219-wtb-japanese-telecom-customer-records/",
                "https://ipb.example/forum/12-databases/page/2/",
                "https://ipb.example/forum/3-marketplace/",
            ],
            &[
                "/profile/",
                "/login",
                "/register",
                "/search",
                "/discover",
                "/leaderboard",
                "do=",
                "sortby=",
                "/tags/",
                "/contact",
            ],
        );
    }
}

#[test]
fn xenforo1_forum_rows() {
    assert_eq!(
        extract(
            "xenforo",
            "xenforo/forum-xf1.html",
            "https://xf1.example/forums/dostupy.12/"
        ),
        json!([
            // An older thread: a span whose title has the time, in the site's clock.
            {"id": "site:threads/rdp-domain-admin-v-japonskom-logisticheskom-holdinge.7710/", "site": "site",
             "url": "https://xf1.example/threads/rdp-domain-admin-v-japonskom-logisticheskom-holdinge.7710/", "kind": "thread",
             "title": "RDP + Domain Admin в японском логистическом холдинге", "seller": "infra_seller", "category": "Доступы",
             "posted_at": "2023-06-27T16:51:00Z", "extra": {"replies": "14"}},
            // A recent one: an abbr with the unix time.
            {"id": "site:threads/kuplju-vpn-dostup-k-japonskomu-banku.7702/", "site": "site",
             "url": "https://xf1.example/threads/kuplju-vpn-dostup-k-japonskomu-banku.7702/", "kind": "thread",
             "title": "Куплю VPN-доступ к японскому банку", "seller": "bankir", "category": "Доступы",
             "posted_at": "2023-06-27T14:00:00Z", "extra": {"replies": "0"}}
        ])
    );
}

#[test]
fn xenforo1_thread() {
    assert_eq!(
        extract(
            "xenforo",
            "xenforo/thread-xf1.html",
            "https://xf1.example/threads/rdp-domain-admin-v-japonskom-logisticheskom-holdinge.7710/"
        ),
        json!([{
            "id": "site:7710", "site": "site",
            "url": "https://xf1.example/threads/rdp-domain-admin-v-japonskom-logisticheskom-holdinge.7710/", "kind": "post",
            "title": "Продам RDP + Domain Admin в японском логистическом холдинге",
            // The quote's text stays (as on XenForo 2); its attribution, its
            // "click to expand" and the signature do not.
            "body": "Продаю доступ к сети японского логистического холдинга (выручка ~$900M).\nRDP + Domain Admin, 2 домена, ~4 000 хостов, EDR нет.\nЦена: 1.8 BTC, гарант форума.\nбэкапы есть?\nБэкапы на Veeam, доступ к консоли тоже есть.",
            "seller": "infra_seller", "category": "Доступы", "listing_number": "7710",
            // The first post's date, not the reply's more recent data-time.
            "posted_at": "2023-06-27T16:51:00Z"
        }])
    );
}

#[test]
fn xenforo_crawls_follow_lists_and_topics_not_profiles() {
    let unwanted = [
        "/members/",
        "/login",
        "/search",
        "/latest",
        "/unread",
        "/posts/",
        "/goto/",
        "order=",
        "prefix_id=",
        "/misc/",
    ];
    for engine in ["xenforo", "auto"] {
        // XF1's relative links under its <base href>.
        let links = crawl_links(
            engine,
            "xenforo/forum-xf1.html",
            "https://xf1.example/forums/dostupy.12/",
        );
        assert_links(
            &links,
            &[
                "https://xf1.example/threads/rdp-domain-admin-v-japonskom-logisticheskom-holdinge.7710/",
                "https://xf1.example/threads/kuplju-vpn-dostup-k-japonskomu-banku.7702/",
                "https://xf1.example/forums/dostupy.12/page-2",
            ],
            &unwanted,
        );
        let links = crawl_links(
            engine,
            "xenforo/forum.html",
            "https://xf.example/forums/credentials.12/",
        );
        assert_links(
            &links,
            &[
                "https://xf.example/threads/selling-nec-intranet-credentials.5531/",
                "https://xf.example/threads/wtb-mufg-business-banking-logins.5529/",
            ],
            &unwanted,
        );
    }
}

#[test]
fn phpbb_seo_table_theme_rows() {
    assert_eq!(
        extract(
            "phpbb",
            "phpbb/viewforum-seo-subsilver2.html",
            "http://seo.example/yinhang-zhanghu-f12/"
        ),
        json!([
            // Rows of a table theme, inside a layout table; the seller and
            // replies come from the columns under 作者 and 回复.
            {"id": "site:yinhang-zhanghu-f12/jiaoyi-guize-t3001.html", "site": "site",
             "url": "http://seo.example/yinhang-zhanghu-f12/jiaoyi-guize-t3001.html", "kind": "thread",
             "title": "交易规则（必读）", "seller": "admin", "extra": {"replies": "0"}},
            {"id": "site:yinhang-zhanghu-f12/chushou-gongshang-yinhang-qiye-wangyin-t4821.html", "site": "site",
             "url": "http://seo.example/yinhang-zhanghu-f12/chushou-gongshang-yinhang-qiye-wangyin-t4821.html", "kind": "thread",
             "title": "出售 工商银行 企业网银 U盾+密码", "seller": "金库", "extra": {"replies": "16"}},
            {"id": "site:yinhang-zhanghu-f12/shou-zhaoshang-yinhang-yikatong-t4790.html", "site": "site",
             "url": "http://seo.example/yinhang-zhanghu-f12/shou-zhaoshang-yinhang-yikatong-t4790.html", "kind": "thread",
             "title": "收 招商银行 一卡通 实名", "seller": "老王", "extra": {"replies": "0"}}
        ])
    );
}

#[test]
fn phpbb_seo_topic() {
    assert_eq!(
        extract(
            "phpbb",
            "phpbb/viewtopic-seo.html",
            "http://seo.example/yinhang-zhanghu-f12/chushou-gongshang-yinhang-qiye-wangyin-t4821.html"
        ),
        json!([{
            "id": "site:4821", "site": "site",
            "url": "http://seo.example/yinhang-zhanghu-f12/chushou-gongshang-yinhang-qiye-wangyin-t4821.html", "kind": "post",
            "title": "出售 工商银行 企业网银 U盾+密码",
            "body": "工商银行企业网银，U盾+登录密码+支付密码，可对公转账。\n余额 20万-50万，当面验号。\n价格：0.15 BTC / 套，支持论坛担保。\n小李 写道:有流水吗？",
            "seller": "金库", "category": "银行账户", "listing_number": "4821",
            "posted_at": "2023-06-27T08:51:00Z"
        }])
    );
}

#[test]
fn phpbb_seo_urls() {
    let url = Url::parse("http://seo.example/").expect("valid URL");
    let p = profile(EngineChoice::parse("phpbb").expect("known"), &url);
    for (topic, number) in [
        (
            "http://seo.example/bank-f12/selling-logins-t4821.html",
            "4821",
        ),
        (
            "http://seo.example/bank-f12/selling-logins-t4821-15.html",
            "4821",
        ),
        ("http://seo.example/topic4821.html", "4821"),
        ("http://seo.example/topic4821-30.html", "4821"),
    ] {
        assert!(p.topic.url.is_match(topic), "{topic}");
        let url = Url::parse(topic).expect("valid URL");
        let out = extract_page(
            &p,
            &url,
            &fixture("phpbb/viewtopic-seo.html"),
            fetched_at(),
            None,
        );
        assert_eq!(
            out.documents[0].listing_number.as_deref(),
            Some(number),
            "{topic}"
        );
    }
    for list in [
        "http://seo.example/bank-f12/",
        "http://seo.example/bank-f12/page25.html",
        "http://seo.example/forum12.html",
        "http://seo.example/bank-f12.html",
    ] {
        assert!(!p.topic.url.is_match(list), "{list}");
    }
    let unwanted = [
        "/member/",
        "/post",
        "ucp.php",
        "search.php",
        "posting.php",
        "mark=",
    ];
    for engine in ["phpbb", "auto"] {
        let links = crawl_links(
            engine,
            "phpbb/viewforum-seo-subsilver2.html",
            "http://seo.example/yinhang-zhanghu-f12/",
        );
        assert_links(
            &links,
            &[
                "http://seo.example/yinhang-zhanghu-f12/chushou-gongshang-yinhang-qiye-wangyin-t4821.html",
                "http://seo.example/yinhang-zhanghu-f12/chushou-gongshang-yinhang-qiye-wangyin-t4821-15.html",
                "http://seo.example/yinhang-zhanghu-f12/page25.html",
                "http://seo.example/shichang-f3/",
            ],
            &unwanted,
        );
    }
}

/// A topic under a URL form no preset knows (a rewrite rule of the site's
/// own): the preset's topic markup makes it a topic page all the same.
#[test]
fn a_topic_under_an_unknown_url_form_is_read_by_its_markup() {
    let known = Url::parse("http://forum.example/board/viewtopic.php?f=7&t=4821").expect("URL");
    let rewritten = Url::parse("http://forum.example/board/read/4821/wts-vpn").expect("URL");
    let html = fixture("phpbb/viewtopic.html");
    let read = |url: &Url| {
        let (out, explain) = extract_page_explained(
            &profile(EngineChoice::Auto, url),
            url,
            &html,
            fetched_at(),
            None,
            &ExtractOptions::default(),
        );
        (out.documents, explain.page)
    };
    let (want, _) = read(&known);
    let (got, page) = read(&rewritten);
    assert!(
        page.starts_with(
            "topic page (the URL matches no topic.url, but the page has the preset's topic markup"
        ),
        "{page}"
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(want.len(), 1);
    let (w, g) = (&want[0], &got[0]);
    assert_eq!(
        (&g.title, &g.body, &g.seller, &g.posted_at),
        (&w.title, &w.body, &w.seller, &w.posted_at)
    );
}

/// Under `auto`, the recognised engine's topic pattern decides: an Invision
/// board installed under `/forum/` has list URLs (`/forum/forum/12-x/`) that
/// another engine's topic pattern would match.
#[test]
fn auto_asks_the_recognised_engine_which_urls_are_topics() {
    let url = Url::parse("https://ipb.example/forum/forum/12-databases/").expect("URL");
    let (out, explain) = extract_page_explained(
        &profile(EngineChoice::Auto, &url),
        &url,
        &fixture("invision/forum.html"),
        fetched_at(),
        None,
        &ExtractOptions {
            all_rows: true,
            ..ExtractOptions::default()
        },
    );
    assert!(
        explain.rules.starts_with("preset invision"),
        "{}",
        explain.rules
    );
    assert!(explain.page.starts_with("list page ("), "{}", explain.page);
    assert!(out.documents.len() >= 2, "{:?}", out.documents);
    assert_eq!(
        out.documents[0].title.as_deref(),
        Some("US insurer customer DB - 4M rows")
    );
}

/// (title, seller, posted_at) of each document.
fn who(docs: &Value) -> Vec<(String, String, String)> {
    let field = |d: &Value, k: &str| d[k].as_str().unwrap_or_default().to_owned();
    docs.as_array()
        .expect("documents")
        .iter()
        .map(|d| (field(d, "title"), field(d, "seller"), field(d, "posted_at")))
        .collect()
}

#[test]
fn smf11_topic_skips_decoy_posts_the_page_hides() {
    let docs = extract(
        "smf",
        "smf/topic-11-decoys.html",
        "http://forum.example/index.php?topic=3301.0",
    );
    // The hidden rows' 9182736450 is never the author, subject or body, also
    // when a decoy comes before the first post; the title loses "Topic:" and
    // the read count.
    assert_eq!(
        docs,
        json!([{
            "id": "site:3301", "site": "site", "url": "http://forum.example/index.php?topic=3301.0",
            "kind": "post",
            "title": "WTS Japanese bank accounts with online banking",
            "body": "Mizuho and Rakuten accounts, opened in 2022, with cards and online banking.\n0.02 BTC each, escrow only.",
            "seller": "tokyo_drop", "listing_number": "3301",
            "posted_at": "2023-06-27T16:20:00Z"
        }])
    );
}

#[test]
fn discuz_theme_without_author_column_names_the_author_without_its_label() {
    let docs = extract(
        "discuz",
        "discuz/viewthread-themed.html",
        "http://bbs.example/thread-12-1-1.html",
    );
    assert_eq!(
        who(&docs),
        [(
            "出售日本银行账户 网银全套".to_owned(),
            "东京小王".to_owned(),
            "2023-06-27T07:10:42Z".to_owned()
        )]
    );
}

#[test]
fn phpbb31_rows_skip_hidden_last_poster_copies_and_decoy_rows() {
    let docs = extract(
        "phpbb",
        "phpbb/viewforum-31-responsive.html",
        "http://forum.example/board/viewforum.php?f=7",
    );
    assert_eq!(
        who(&docs),
        [
            (
                "[WTS] Japanese bank accounts, Mizuho and Rakuten".to_owned(),
                "tokyo_drop".to_owned(),
                "2023-06-27T17:51:00Z".to_owned()
            ),
            (
                "[WTB] Yahoo! JAPAN IDs with wallet".to_owned(),
                "kuro_broker".to_owned(),
                "2023-06-20T12:00:00Z".to_owned()
            ),
        ]
    );
}
