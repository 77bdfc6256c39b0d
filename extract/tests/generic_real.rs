//! Generic extraction on the real Yahoo! JAPAN home page (2019) in
//! `../shared/fixtures/real/yahoo-jp/` (beside the checkout, never copied
//! into the repository): its main text, without script, style or menu noise.

mod shared;

use std::path::PathBuf;

use scraper::Html;

fn yahoo_page() -> Option<String> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/real/yahoo-jp/yahoo-jp.html");
    if !shared::present(&file) {
        return None;
    }
    Some(std::fs::read_to_string(&file).expect("the Yahoo! JAPAN page is readable"))
}

#[test]
fn yahoo_main_text_has_no_script_style_or_menus() {
    let Some(html) = yahoo_page() else {
        return;
    };
    let page = Html::parse_document(&html);
    let main = extract::main_text(&page).expect("the page has main text");
    assert_eq!(main.title.as_deref(), Some("Yahoo! JAPAN"));
    let body = &main.body;
    // The page's own content: headlines, features, notices.
    for kept in [
        "日航株ストップ安 売買不成立",
        "職場で「英語を使うな」と言われました。",
        "Yahoo! JAPANからのお知らせ",
    ] {
        assert!(body.contains(kept), "{kept:?} missing from\n{body}");
    }
    // No service menus, colour switcher or header links.
    for menu in [
        "オークション",
        "ツールバー",
        "カテゴリ一覧",
        "ピンク",
        "[ホームページ設定]",
    ] {
        assert!(!body.contains(menu), "menu text {menu:?} in\n{body}");
    }
    // No script or style text.
    for code in ["function", "var ", "document.", "{", "}", "px;"] {
        assert!(!body.contains(code), "code {code:?} in\n{body}");
    }
}

#[test]
fn yahoo_is_a_list_of_headlines_to_generic_extraction() {
    let Some(html) = yahoo_page() else {
        return;
    };
    let set = extract::find_rows(&Html::parse_document(&html)).expect("repeated rows");
    assert_eq!(set.path, "div.topicsindex > ul.emphasis > li");
    assert_eq!(set.rows.len(), 8);
    assert_eq!(set.rows[0].title, "日航株ストップ安 売買不成立");
}
