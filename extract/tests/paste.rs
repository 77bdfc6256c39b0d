//! The `paste` engine on pages written in pastebin's markup
//! (`tests/fixtures/paste/`, each with a comment on whose markup it copies):
//! a paste page's every field, the archive's every row, the same with
//! `auto`, what a crawl follows and leaves to the paste pages, and pastes in
//! other markup.

mod engine_pages;

use engine_pages::{engine_rules, fetched_at, links, read_fixed_and_auto, without_fetch};
use extract::{
    extract_page, extract_page_explained, Engine, EngineChoice, Explanation, ExtractOptions,
    Extracted, SiteRules,
};
use serde_json::json;
use url::Url;

fn fixture(name: &str) -> String {
    engine_pages::fixture("paste", name)
}

fn rules(choice: EngineChoice) -> SiteRules {
    engine_rules("pastebin", "https://pastebin.com/", choice)
}

/// Every row shown, with `engine = "paste"`, after checking that `auto`
/// recognises the page and reads the same.
fn read(html: &str, url: &str) -> (Extracted, Explanation) {
    let options = ExtractOptions {
        all_rows: true,
        ..ExtractOptions::default()
    };
    read_fixed_and_auto(rules, Engine::Paste, html, url, &options)
}

#[test]
fn a_credential_paste_is_one_document_with_its_lines() {
    let (out, explain) = read(
        &fixture("paste-melco-combo.html"),
        "https://pastebin.com/Jp7vPn24",
    );
    assert_eq!(
        without_fetch(&out),
        json!([{
            "id": "pastebin:Jp7vPn24", "site": "pastebin", "url": "https://pastebin.com/Jp7vPn24", "kind": "post",
            "title": "三菱電機 VPN combo 2026-07 (明文)",
            // Line by line; &nbsp; indentation and the blank lines kept.
            "body": "# 三菱電機 (mitsubishielectric.co.jp) VPN / OWA 账号 — 已验证 2026-07\n\
                     # 格式 email:password  全部 1200 条，样本如下\n\
                     t.yamada@mitsubishielectric.co.jp:Haru2026!\n\
                     k.suzuki@mitsubishielectric.co.jp:Suzuki#0415\n\
                     m.tanaka@mitsubishielectric.co.jp:Melco_2026\n\
                     \n\
                     ログイン先：\n    vpn.mitsubishielectric.co.jp  (GlobalProtect)\n    owa.mitsubishielectric.co.jp\n\
                     \n\
                     全量出售 800 USDT，担保可走 <TG> @jp_sijiantao_kefu",
            "seller": "tokyo_leaks", "listing_number": "Jp7vPn24",
            // 09:12:45 PM CDT (UTC-5).
            "posted_at": "2026-07-02T02:12:45Z",
            "extra": {"raw": "https://pastebin.com/raw/Jp7vPn24", "syntax": "text", "size": "0.62 KB",
                      "category": "Cybersecurity", "views": "87", "expires": "Never"}
        }])
    );
    assert_eq!(explain.page, "paste page (key Jp7vPn24)");
    // The sidebar's pastes are the archive's business.
    assert!(out.links.is_empty(), "{:?}", out.links);
}

#[test]
fn the_archive_gives_a_document_and_a_link_per_row() {
    let (out, explain) = read(&fixture("archive-jp.html"), "https://pastebin.com/archive");
    let row = |key: &str, title: &str, posted: &str, syntax: &str| {
        json!({"id": format!("pastebin:{key}"), "site": "pastebin", "url": format!("https://pastebin.com/{key}"),
               "kind": "post", "title": title, "listing_number": key, "posted_at": posted,
               "extra": {"syntax": syntax}})
    };
    assert_eq!(
        without_fetch(&out),
        json!([
            row(
                "Jp7vPn24",
                "三菱電機 VPN combo 2026-07 (明文)",
                "2026-07-02T02:57:00Z",
                "text"
            ),
            row(
                "Yh2kIdsA",
                "日本雅虎 ID 2000条 明文 2026",
                "2026-07-02T02:46:00Z",
                "None"
            ),
            row(
                "Yc9Kz0Qa",
                "ゆうちょ銀行 口座リスト（四件套）売ります",
                "2026-07-02T02:00:00Z",
                "text"
            ),
            row("aB3dE5gH", "Untitled", "2026-07-02T01:00:00Z", "Python")
        ])
    );
    assert_eq!(explain.page, "paste archive (4 rows of table.maintable)");
    assert_eq!(
        links(&out),
        [
            "https://pastebin.com/Jp7vPn24",
            "https://pastebin.com/Yh2kIdsA",
            "https://pastebin.com/Yc9Kz0Qa",
            "https://pastebin.com/aB3dE5gH"
        ]
    );
    // A row and its paste page are one document: the page's, once read,
    // replaces the row's.
    let (page, _) = read(
        &fixture("paste-melco-combo.html"),
        "https://pastebin.com/Jp7vPn24",
    );
    assert_eq!(page.documents[0].id, out.documents[0].id);
}

#[test]
fn a_crawl_leaves_rows_to_their_paste_pages() {
    let url = Url::parse("https://pastebin.com/archive").expect("valid");
    let out = extract_page(
        &rules(EngineChoice::Fixed(Engine::Paste)),
        &url,
        &fixture("archive-jp.html"),
        fetched_at(),
        None,
    );
    assert!(out.documents.is_empty(), "{:?}", out.documents);
    assert_eq!(out.links.len(), 4);
}

#[test]
fn pastes_in_other_markup() {
    let url = "https://paste.example/p/Kx81Qa2Z";
    let options = ExtractOptions::default();
    let read_fixed = |html: &str| {
        extract_page_explained(
            &rules(EngineChoice::Fixed(Engine::Paste)),
            &Url::parse(url).expect("valid"),
            html,
            fetched_at(),
            None,
            &options,
        )
    };
    // pastebin's older page: the text in textarea#paste_code, as it is.
    let old = r#"<html><head><title>ゆうちょ 口座 - Pastebin.com</title></head><body>
<div id="content_left"><div class="paste_box_info"><div class="paste_box_line1" title="ゆうちょ 口座"><h1>ゆうちょ 口座</h1></div>
<div class="paste_box_line2"><a href="/u/kouza_ya">kouza_ya</a> on Jun 30th, 2026</div></div>
<textarea id="paste_code" class="paste_code" name="paste_code">口座番号 12345-6789012  名義 ヤマダ タロウ
  暗証番号付き

価格 2万円</textarea></div></body></html>"#;
    let (out, _) = read_fixed(old);
    assert_eq!(out.documents.len(), 1);
    let d = &out.documents[0];
    assert_eq!(d.title.as_deref(), Some("ゆうちょ 口座"));
    assert_eq!(d.seller.as_deref(), Some("kouza_ya"));
    assert_eq!(
        d.body.as_deref(),
        Some("口座番号 12345-6789012  名義 ヤマダ タロウ\n  暗証番号付き\n\n価格 2万円")
    );
    assert_eq!(d.id, "pastebin:Kx81Qa2Z");
    // Words of anti-bot pages inside a paste do not make it a wall.
    let text = "Just a moment... checking your browser admin@nec.co.jp:hunter2";
    let page = fixture("paste-melco-combo.html")
        .replace("t.yamada@mitsubishielectric.co.jp:Haru2026!", text);
    let (out, _) = read_fixed(&page);
    assert!(
        out.documents[0]
            .body
            .as_deref()
            .is_some_and(|b| b.contains(text)),
        "{:?}",
        out.documents
    );
    // Markup the reader does not know: generic extraction, as for a forum
    // preset that finds nothing.
    let unknown = format!(
        "<html><head><title>Leak - Paste</title></head><body><h1>Leak</h1><pre>{}</pre></body></html>",
        "user@soumu.go.jp:Passw0rd!\n".repeat(40)
    );
    let (out, explain) = read_fixed(&unknown);
    assert_eq!(out.documents.len(), 1, "{}", explain.page);
    assert!(
        explain
            .page
            .ends_with("the preset found nothing, generic main text used"),
        "{}",
        explain.page
    );
    assert_eq!(out.documents[0].title.as_deref(), Some("Leak"));
    assert!(
        out.documents[0]
            .body
            .as_deref()
            .is_some_and(|b| b.starts_with("Leak\nuser@soumu.go.jp:Passw0rd!\n")),
        "{:?}",
        out.documents
    );
}
