//! The `telegram` engine on pages written in the markup of t.me's channel
//! previews and landing pages (`tests/fixtures/telegram/`, each with a
//! comment on whose markup it copies): every field of every message, the
//! same with `auto`, the one link a crawl follows (older messages), the
//! reason a channel without a public preview gives, and the `channels` key
//! of a profile.

mod engine_pages;

use std::path::Path;

use engine_pages::{engine_rules, fetched_at, links, read_fixed_and_auto, without_fetch};
use extract::{
    extract_page, extract_page_explained, Engine, EngineChoice, Explanation, ExtractOptions,
    Extracted, SiteRules,
};
use serde_json::json;
use url::Url;

fn fixture(name: &str) -> String {
    engine_pages::fixture("telegram", name)
}

fn rules(choice: EngineChoice) -> SiteRules {
    engine_rules("tg", "https://t.me/", choice)
}

/// The page read with `engine = "telegram"`, after checking that `auto`
/// recognises it and reads the same.
fn read(html: &str, url: &str) -> (Extracted, Explanation) {
    read_fixed_and_auto(
        rules,
        Engine::Telegram,
        html,
        url,
        &ExtractOptions::default(),
    )
}

#[test]
fn a_shop_channel_gives_every_message_with_text() {
    let (out, explain) = read(
        &fixture("channel-jp-sijiantao.html"),
        "https://t.me/s/jp_sijiantao",
    );
    let channel = "日本四件套·雅虎号 批发";
    assert_eq!(
        without_fetch(&out),
        json!([
            {"id": "tg:jp_sijiantao/1201", "site": "tg", "url": "https://t.me/jp_sijiantao/1201", "kind": "post",
             "body": "🇯🇵【出售】日本银行四件套 现货\n\n三菱UFJ / 三井住友 / みずほ / ゆうちょ\n含：存折+银行卡+网银U盾+绑定手机号\n价格：USDT 450/套，十套起批 USDT 400\n\n担保交易 私聊 @jp_sijiantao_kefu",
             "seller": "jp_sijiantao", "listing_number": "jp_sijiantao/1201", "posted_at": "2026-07-01T03:15:00Z",
             "extra": {"channel": "jp_sijiantao", "message": "1201", "channel_title": channel, "author": "客服阿强",
                       "views": "3.4K", "links": "https://t.me/jp_sijiantao_kefu"}},
            // 1202 is a photo alone: no text, no document. The album's text
            // (nested in a second text div) comes once.
            {"id": "tg:jp_sijiantao/1203", "site": "tg", "url": "https://t.me/jp_sijiantao/1203", "kind": "post",
             "body": "收日本雅虎账号（Yahoo! JAPAN ID）\n要求：实名老号，带PayPay绑定优先\n日收 200 个，秒结 USDT",
             "seller": "jp_sijiantao", "listing_number": "jp_sijiantao/1203", "posted_at": "2026-07-01T09:40:05Z",
             "extra": {"channel": "jp_sijiantao", "message": "1203", "channel_title": channel, "views": "2.1K",
                       "media": "album of 3", "album": "1203 1204 1205"}},
            // A reply: the quoted message is not this one's text.
            {"id": "tg:jp_sijiantao/1206", "site": "tg", "url": "https://t.me/jp_sijiantao/1206", "kind": "post",
             "body": "Yahoo! JAPAN ID 販売します\n本人確認済み・PayPay連携済み\n1アカウント 3,000円〜 まとめ買い割引あり\n\nお問い合わせはDMまで 📩",
             "seller": "jp_sijiantao", "listing_number": "jp_sijiantao/1206", "posted_at": "2026-07-01T12:02:30Z",
             "extra": {"channel": "jp_sijiantao", "message": "1206", "channel_title": channel, "author": "客服阿强",
                       "views": "1.8K", "reply_to": "https://t.me/jp_sijiantao/1201"}},
            // Forwarded; the link preview repeats the text's link over http.
            {"id": "tg:jp_sijiantao/1207", "site": "tg", "url": "https://t.me/jp_sijiantao/1207", "kind": "post",
             "body": "日本手机号接码 SMS認証コード受信\n支持：LINE / Yahoo! JAPAN / 楽天 / PayPay\n单次 3 USDT，包月另议\n\n官网 https://sms-jp.example/ 注册即用",
             "seller": "jp_sijiantao", "listing_number": "jp_sijiantao/1207", "posted_at": "2026-07-01T15:30:00Z",
             "extra": {"channel": "jp_sijiantao", "message": "1207", "channel_title": channel, "views": "967",
                       "forwarded_from": "日本接码平台", "forwarded_from_url": "https://t.me/jp_sms_code/88",
                       "links": "https://sms-jp.example/"}},
            {"id": "tg:jp_sijiantao/1209", "site": "tg", "url": "https://t.me/jp_sijiantao/1209", "kind": "post",
             "body": "三菱電機 VPN 账号 1200 条 明文 已验证\n样本：pastebin.com/Jp7vPn24\n全部打包 800 USDT",
             "seller": "jp_sijiantao", "listing_number": "jp_sijiantao/1209", "posted_at": "2026-07-02T01:05:00Z",
             "extra": {"channel": "jp_sijiantao", "message": "1209", "channel_title": channel, "author": "客服阿强",
                       "views": "512", "edited": "true", "links": "https://pastebin.com/Jp7vPn24"}}
        ])
    );
    assert_eq!(
        explain.page,
        "Telegram channel preview of @jp_sijiantao: 6 messages (1201–1209), 5 with text; \
         without text: 1202 (photo); older messages: before=1201"
    );
    assert_eq!(explain.unavailable, None);
    // Only the page of older messages: not the shop's contact, the message
    // permalinks, the paste or the channel's own links.
    assert_eq!(links(&out), ["https://t.me/s/jp_sijiantao?before=1201"]);
    let numbers: Vec<u64> = out
        .documents
        .iter()
        .filter_map(extract::telegram_message_number)
        .collect();
    assert_eq!(numbers, [1201, 1203, 1206, 1207, 1209]);
}

#[test]
fn a_crawl_reads_every_message_too() {
    let url = Url::parse("https://t.me/s/jp_sijiantao?before=1210").expect("valid");
    let out = extract_page(
        &rules(EngineChoice::Fixed(extract::Engine::Telegram)),
        &url,
        &fixture("channel-jp-sijiantao.html"),
        fetched_at(),
        None,
    );
    // Ids come from data-post, not from the page they were read on.
    let ids: Vec<&str> = out.documents.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "tg:jp_sijiantao/1201",
            "tg:jp_sijiantao/1203",
            "tg:jp_sijiantao/1206",
            "tg:jp_sijiantao/1207",
            "tg:jp_sijiantao/1209"
        ]
    );
}

#[test]
fn a_landing_page_is_a_reason_not_a_document() {
    let html = fixture("landing-no-preview.html");
    let reason =
        "@jp_yucho_shop has no public preview: t.me shows its landing page (4 512 subscribers)";
    // Where t.me/s/<channel> redirects, and the preview URL itself.
    for url in ["https://t.me/jp_yucho_shop", "https://t.me/s/jp_yucho_shop"] {
        let (out, explain) = read(&html, url);
        assert!(out.documents.is_empty(), "{url}: {:?}", out.documents);
        assert!(out.links.is_empty(), "{url}: {:?}", out.links);
        assert_eq!(explain.unavailable.as_deref(), Some(reason), "{url}");
        assert_eq!(explain.page, format!("{reason}: no documents"), "{url}");
    }
}

#[test]
fn an_unknown_channel_is_a_reason() {
    let (out, explain) = read(
        &fixture("unknown-channel.html"),
        "https://t.me/jp_bank_shop_old",
    );
    assert!(out.documents.is_empty());
    assert_eq!(
        explain.unavailable.as_deref(),
        Some(
            "@jp_bank_shop_old is no public channel: t.me offers to contact it \
             (no such channel, or a person's account)"
        )
    );
}

#[test]
fn private_groups_blocked_channels_and_empty_previews() {
    let landing = |extra: &str, description: &str| {
        format!(
            r#"<html><body><div class="tgme_page_wrap"><div class="tgme_body_wrap"><div class="tgme_page">
<div class="tgme_page_photo"><a href="tg://resolve?domain=jp_kouza_group"><img class="tgme_page_photo_image" src="x.jpg"></a></div>
<div class="tgme_page_title"><span dir="auto">口座売買 交流群</span></div>
<div class="tgme_page_extra">{extra}</div>
<div class="tgme_page_description" dir="auto">{description}</div>
<div class="tgme_page_action"><a class="tgme_action_button_new shine" href="tg://join?invite=AbCdEf">Join Group</a></div>
</div></div></div></body></html>"#
        )
    };
    let (out, explain) = read(
        &landing("1 204 members", "日本口座の売買"),
        "https://t.me/+AbCdEf0123456789",
    );
    assert!(out.documents.is_empty());
    assert_eq!(
        explain.unavailable.as_deref(),
        Some(
            "an invite link to a private channel or group (口座売買 交流群): private chats have no public preview"
        )
    );
    let (_, explain) = read(
        &landing("1 204 members", "日本口座の売買"),
        "https://t.me/jp_kouza_group",
    );
    assert_eq!(
        explain.unavailable.as_deref(),
        Some("@jp_kouza_group is a group (1 204 members), not a channel: groups have no public preview")
    );
    let (_, explain) = read(
        &landing(
            "9 876 subscribers",
            "This channel can’t be displayed because it violated Telegram's Terms of Service.",
        ),
        "https://t.me/jp_kouza_group",
    );
    assert_eq!(
        explain.unavailable.as_deref(),
        Some(
            "@jp_kouza_group is blocked: This channel can’t be displayed because it violated \
             Telegram's Terms of Service."
        )
    );
    // A landing page that links the preview: the channel has one.
    let html = landing("9 876 subscribers", "日本口座の売買").replace(
        "</div></div></div></body>",
        r#"<div class="tgme_page_context_link_wrap"><a href="/s/jp_kouza_group" class="tgme_page_context_link">Preview channel</a></div></div></div></div></body>"#,
    );
    let (out, explain) = read(&html, "https://t.me/jp_kouza_group");
    assert!(out.documents.is_empty() && out.links.is_empty());
    assert_eq!(explain.unavailable, None);
    assert_eq!(
        explain.page,
        "@jp_kouza_group: the channel's landing page (9 876 subscribers), not its preview, \
         which is at /s/jp_kouza_group: no documents"
    );
    // A preview with no messages (before the first one) is no failure.
    let empty = r#"<html><body class="tme_mode"><header class="tgme_header"><div class="tgme_channel_info">
<div class="tgme_channel_info_header_title"><span dir="auto">日本四件套·雅虎号 批发</span></div></div></header>
<main class="tgme_main" data-url="/jp_sijiantao"><div class="tgme_container">
<section class="tgme_channel_history js-message_history"></section></div></main></body></html>"#;
    let (out, explain) = read(empty, "https://t.me/s/jp_sijiantao?before=1");
    assert!(out.documents.is_empty());
    assert_eq!(explain.unavailable, None);
    assert_eq!(
        explain.page,
        "Telegram channel preview of @jp_sijiantao: no messages"
    );
}

#[test]
fn other_pages_read_as_telegram_say_so() {
    let url = Url::parse("https://t.me/s/jp_sijiantao").expect("valid");
    let telegram = rules(EngineChoice::Fixed(extract::Engine::Telegram));
    let (out, explain) = extract_page_explained(
        &telegram,
        &url,
        "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>",
        fetched_at(),
        None,
        &ExtractOptions::default(),
    );
    assert!(out.documents.is_empty());
    assert_eq!(
        explain.page,
        "neither a channel preview nor a t.me page of a channel: no documents"
    );
    let captcha = r#"<html><body><form id="challenge-form"><div class="g-recaptcha" data-sitekey="x"></div></form></body></html>"#;
    let (_, explain) = extract_page_explained(
        &telegram,
        &url,
        captcha,
        fetched_at(),
        None,
        &ExtractOptions::default(),
    );
    assert_eq!(explain.page, "a CAPTCHA page: no documents");
}

const PROFILE: &str = r#"
name = "jp-shops"
engine = "telegram"
lang = "zh"
channels = [
    "jp_sijiantao",
    " https://t.me/s/jp_yucho_shop ",
    "@JP_SMS_code",
    "telegram.me/jp_kouza_shop",
]
"#;

#[test]
fn a_profile_lists_channels_and_gives_their_previews() {
    let r = SiteRules::parse(PROFILE, Path::new("jp-shops.toml")).expect("valid profile");
    assert_eq!(r.engine, EngineChoice::Fixed(extract::Engine::Telegram));
    assert_eq!(r.base_url.as_str(), "https://t.me/");
    let starts: Vec<String> = r.channel_start_urls().iter().map(Url::to_string).collect();
    assert_eq!(
        starts,
        [
            "https://t.me/s/jp_sijiantao",
            "https://t.me/s/jp_yucho_shop",
            "https://t.me/s/JP_SMS_code",
            "https://t.me/s/jp_kouza_shop"
        ]
    );
    // Another preview host; `engine` may be left out.
    let text = PROFILE
        .replace(
            "engine = \"telegram\"\n",
            "base_url = \"https://telegram.me/\"\n",
        )
        .replace(
            "telegram.me/jp_kouza_shop",
            "https://telegram.me/jp_kouza_shop",
        );
    let r = SiteRules::parse(&text, Path::new("jp-shops.toml")).expect("valid profile");
    assert_eq!(r.engine, EngineChoice::Fixed(extract::Engine::Telegram));
    assert_eq!(
        r.channel_start_urls()[0].as_str(),
        "https://telegram.me/s/jp_sijiantao"
    );
    // The profile reads its channels' pages, documents in its language.
    let url = Url::parse("https://telegram.me/s/jp_sijiantao").expect("valid");
    let out = extract_page(
        &r,
        &url,
        &fixture("channel-jp-sijiantao.html"),
        fetched_at(),
        None,
    );
    assert_eq!(out.documents.len(), 5);
    assert_eq!(out.documents[0].id, "jp-shops:jp_sijiantao/1201");
    assert_eq!(out.documents[0].lang.as_deref(), Some("zh"));
    assert_eq!(
        links(&out),
        ["https://telegram.me/s/jp_sijiantao?before=1201"]
    );
}

#[test]
fn bad_channels_are_named_at_load() {
    let err = |text: &str| {
        SiteRules::parse(text, Path::new("jp-shops.toml"))
            .expect_err("an invalid profile")
            .to_string()
    };
    let e = err(&PROFILE.replace("\"@JP_SMS_code\"", "\"https://t.me/+AbCdEf0123\""));
    assert!(
        e.starts_with(
            "jp-shops.toml: channels: entry 3 (\"https://t.me/+AbCdEf0123\"): an invite link"
        ),
        "{e}"
    );
    assert!(e.contains("write a channel name such as"), "{e}");
    let e = err(&PROFILE.replace("\"@JP_SMS_code\"", "\"jp-sms\""));
    assert!(
        e.contains("entry 3 (\"jp-sms\")") && e.contains("'-'"),
        "{e}"
    );
    let e = err(&PROFILE.replace("\"@JP_SMS_code\"", "\"JP_SIJIANTAO\""));
    assert!(e.contains("listed twice"), "{e}");
    let e = err(&PROFILE.replace("engine = \"telegram\"", "engine = \"phpbb\""));
    assert_eq!(
        e,
        "jp-shops.toml: channels: lists Telegram channels, which engine = \"phpbb\" does not \
         read; set engine = \"telegram\" (or leave engine out)"
    );
    let e = err(&format!("base_url = \"https://t.me/s/\"\n{PROFILE}"));
    assert!(
        e.contains("base_url:") && e.contains("preview host's root"),
        "{e}"
    );
    let e = err("name = \"x\"\nchannels = []\n");
    assert!(e.contains("channels: is empty"), "{e}");
    // Without channels, base_url is still required.
    let e = err("name = \"x\"\nengine = \"phpbb\"\n");
    assert!(e.contains("base_url: missing"), "{e}");
}
