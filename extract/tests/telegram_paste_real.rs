//! The real Telegram channel previews and pastebin pages in
//! `../shared/fixtures/real/{telegram,paste}` (beside the checkout, never
//! copied here): every field of every message and row against
//! `tests/real_expected/{telegram,paste}-*.json`, a second reading of the
//! same HTML by `real_expected/make_telegram_paste_expected.py` that never
//! looks at leakwatch's output; `auto` recognising each page; the links a
//! crawl follows; and a few messages checked by hand-written expectations.

mod shared;

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use extract::{extract_page_explained, EngineChoice, Explanation, ExtractOptions, SiteRules};
use extract::{Document, Extracted};
use serde_json::Value;
use url::Url;

fn real(path: &str) -> Option<String> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/real")
        .join(path);
    if !shared::present(&file) {
        return None;
    }
    Some(std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())))
}

/// Read with the engine fixed, and with `auto`: both must give the same.
fn read(
    engine: &str,
    path: &str,
    url: &str,
    fetched_at: DateTime<Utc>,
) -> Option<(Extracted, Explanation)> {
    let html = real(path)?;
    let url = Url::parse(url).expect("a valid URL");
    let root = url.join("/").expect("a root");
    let options = ExtractOptions {
        all_rows: true,
        ..ExtractOptions::default()
    };
    let run = |choice: EngineChoice| {
        let rules = SiteRules::for_engine("site", &root, choice).expect("an engine-only profile");
        extract_page_explained(&rules, &url, &html, fetched_at, None, &options)
    };
    let fixed = run(EngineChoice::parse(engine).expect("a known engine"));
    let (auto, explain) = run(EngineChoice::Auto);
    assert!(
        explain
            .rules
            .starts_with(&format!("preset {engine} (detected: ")),
        "{path}: {}",
        explain.rules
    );
    assert_eq!(
        auto.documents, fixed.0.documents,
        "{path}: auto differs from {engine}"
    );
    assert_eq!(
        auto.links, fixed.0.links,
        "{path}: auto follows other links"
    );
    Some(fixed)
}

/// The documents as JSON without `fetched_at` (checked to be the fetch time).
fn as_json(docs: &[Document], fetched_at: DateTime<Utc>) -> Vec<Value> {
    docs.iter()
        .map(|d| {
            assert_eq!(
                d.fetched_at.as_deref(),
                Some(
                    fetched_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                        .as_str()
                )
            );
            let mut v = serde_json::to_value(d).expect("serialisable");
            v.as_object_mut().map(|o| o.remove("fetched_at"));
            v
        })
        .collect()
}

fn expected(name: &str) -> Vec<Value> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/real_expected")
        .join(name);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

/// Every document equal to the expected one, all mismatches listed at once.
fn assert_documents(page: &str, got: &[Value], want: &[Value]) {
    let mut problems = Vec::new();
    if got.len() != want.len() {
        problems.push(format!("{} documents, expected {}", got.len(), want.len()));
    }
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if g != w {
            problems.push(format!("document {i}:\n  got      {g}\n  expected {w}"));
        }
    }
    assert!(problems.is_empty(), "{page}:\n{}", problems.join("\n"));
}

fn links(out: &Extracted) -> Vec<&str> {
    out.links.iter().map(Url::as_str).collect()
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a valid time")
        .with_timezone(&Utc)
}

#[test]
fn durov_2026_every_message() {
    let fetched = at("2026-08-09T00:00:00Z");
    let Some((out, explain)) = read(
        "telegram",
        "telegram/durov-2026.html",
        "https://t.me/s/durov",
        fetched,
    ) else {
        return;
    };
    assert_documents(
        "durov-2026",
        &as_json(&out.documents, fetched),
        &expected("telegram-durov-2026.json"),
    );
    // By hand: 20 messages, 519 to 539 (530 deleted); 522 is a photo alone.
    assert_eq!(out.documents.len(), 19);
    assert_eq!(
        explain.page,
        "Telegram channel preview of @durov: 20 messages (519–539), 19 with text; \
         without text: 522 (photo); older messages: before=519"
    );
    assert_eq!(explain.unavailable, None);
    let first = &out.documents[0];
    assert_eq!(first.id, "site:durov/519");
    assert_eq!(first.url, "https://t.me/durov/519");
    assert_eq!(
        first.body.as_deref(),
        Some(
            "🤖 Your Telegram inbox can now run itself.\n\nAssign a bot to read and reply for you \
             — with granular control over its rights and chat access. 🧠\n\n⚙️ Start building!"
        )
    );
    assert_eq!(first.posted_at.as_deref(), Some("2026-05-20T15:38:10Z"));
    assert_eq!(first.seller.as_deref(), Some("durov"));
    assert_eq!(first.extra["author"], "Pavel Durov");
    assert_eq!(first.extra["views"], "8.67M");
    assert_eq!(
        first.extra["links"],
        "https://core.telegram.org/bots/features#secretary-bots"
    );
    assert_eq!(extract::telegram_message_number(first), Some(519));
    let last = out.documents.last().expect("documents");
    assert_eq!(last.listing_number.as_deref(), Some("durov/539"));
    assert_eq!(last.extra["views"], "826K");
    let edited: Vec<&str> = out
        .documents
        .iter()
        .filter(|d| d.extra.contains_key("edited"))
        .filter_map(|d| d.listing_number.as_deref())
        .collect();
    assert_eq!(edited, ["durov/521", "durov/527", "durov/535", "durov/538"]);
    // The page of older messages, and nothing else.
    assert_eq!(links(&out), ["https://t.me/s/durov?before=519"]);
}

#[test]
fn topwar_2023_albums_once_and_forwards() {
    let fetched = at("2023-02-28T14:00:00Z");
    let Some((out, explain)) = read(
        "telegram",
        "telegram/topwar-2023-reindented.html",
        "https://t.me/s/topwar_official",
        fetched,
    ) else {
        return;
    };
    assert_documents(
        "topwar-2023",
        &as_json(&out.documents, fetched),
        &expected("telegram-topwar-2023.json"),
    );
    // By hand: the album 70992–70994 is one message whose text (nested in a
    // second text div) comes once; re-indented source lines are spaces.
    let album = out
        .documents
        .iter()
        .find(|d| d.id == "site:topwar_official/70992")
        .expect("the album");
    assert_eq!(
        album.body.as_deref(),
        Some(
            "Сегодня ночью в Республике Адыгея упал неизвестный летательный аппарат, обломки \
             реактивного двигателя от которого опубликовал глава региона. Предположительно, \
             обломки принадлежат украинскому БПЛА Ту-141 или Ту-143."
        )
    );
    assert_eq!(album.extra["album"], "70992 70993 70994");
    let forwarded: Vec<(&str, &str)> = out
        .documents
        .iter()
        .filter_map(|d| {
            Some((
                d.extra.get("message")?.as_str(),
                d.extra.get("forwarded_from")?.as_str(),
            ))
        })
        .collect();
    assert_eq!(
        forwarded,
        [
            ("70996", "Военкор Ярем"),
            ("70998", "БелВПО"),
            ("71006", "Старше Эдды"),
            ("71007", "Пул N3"),
            ("71008", "ImpNavigator")
        ]
    );
    assert!(
        explain
            .page
            .contains("12 messages (70989–71008), 12 with text"),
        "{}",
        explain.page
    );
    assert_eq!(links(&out), ["https://t.me/s/topwar_official?before=70989"]);
}

#[test]
fn forwarded_fragment_saved_from_a_browser() {
    let fetched = at("2023-02-27T12:00:00Z");
    let Some((out, _)) = read(
        "telegram",
        "telegram/forwarded-message-fragment.html",
        "https://t.me/s/oper_goblin",
        fetched,
    ) else {
        return;
    };
    assert_documents(
        "forwarded-message-fragment",
        &as_json(&out.documents, fetched),
        &expected("telegram-forwarded-fragment.json"),
    );
    assert_eq!(
        out.documents[0].extra["forwarded_from_url"],
        "https://t.me/dimsmirnov175/44604"
    );
    assert!(out.links.is_empty(), "{:?}", out.links);
}

#[test]
fn pastebin_pages() {
    let fetched = at("2024-06-20T12:00:00Z");
    for (file, url, want) in [
        (
            "paste/pastebin-paste-2024.html",
            "https://pastebin.com/d4biUtRm",
            "paste-2024.json",
        ),
        (
            "paste/pastebin-paste-guest-2022.html",
            "https://pastebin.com/tWGEUZ17",
            "paste-guest-2022.json",
        ),
        (
            "paste/pastebin-paste-2022-fragment.html",
            "https://pastebin.com/PfppVpEm",
            "paste-2022-fragment.json",
        ),
    ] {
        let Some((out, explain)) = read("paste", file, url, fetched) else {
            return;
        };
        assert_documents(file, &as_json(&out.documents, fetched), &expected(want));
        // A paste page's sidebar repeats the archive: not followed.
        assert!(out.links.is_empty(), "{file}: {:?}", out.links);
        assert!(
            explain.page.starts_with("paste page (key "),
            "{}",
            explain.page
        );
    }
    // By hand: the 2024 page's indentation and blank lines survive.
    let Some((out, _)) = read(
        "paste",
        "paste/pastebin-paste-2024.html",
        "https://pastebin.com/d4biUtRm",
        fetched,
    ) else {
        return;
    };
    let d = &out.documents[0];
    assert_eq!(
        d.title.as_deref(),
        Some("Pushing new git submodule to Heroku")
    );
    assert_eq!(d.seller.as_deref(), Some("wecsam"));
    assert_eq!(d.posted_at.as_deref(), Some("2013-07-05T06:57:35Z"));
    assert_eq!(d.extra["raw"], "https://pastebin.com/raw/d4biUtRm");
    let body = d.body.as_deref().expect("the paste's text");
    assert!(body.starts_with("$ git push heroku\nCounting objects: 32, done.\n"));
    assert!(body.contains("reused 0 (delta 0)\n\n-----> Git submodules detected, installing\n       Submodule 'lib/Gettext'"));
    assert!(body.ends_with("\n   e734d16..f3c4a09  master -> master"));
    // One line per GeSHi <li>: 29.
    assert_eq!(body.lines().count(), 29);
}

#[test]
fn pastebin_archive_rows() {
    let fetched = Utc
        .with_ymd_and_hms(2022, 10, 8, 12, 0, 0)
        .single()
        .expect("valid");
    let Some((out, explain)) = read(
        "paste",
        "paste/pastebin-archive-2022-excerpt.html",
        "https://pastebin.com/archive",
        fetched,
    ) else {
        return;
    };
    assert_documents(
        "pastebin-archive-2022-excerpt",
        &as_json(&out.documents, fetched),
        &expected("paste-archive-2022.json"),
    );
    assert_eq!(explain.page, "paste archive (4 rows of table.maintable)");
    // The paste pages, not the per-syntax archives.
    assert_eq!(
        links(&out),
        [
            "https://pastebin.com/6ryvL9V2",
            "https://pastebin.com/jWHZjpCC",
            "https://pastebin.com/Lg2LV0a0",
            "https://pastebin.com/pJEPaduj"
        ]
    );
}

/// Every other page this repository and the shared fixtures hold: `auto`
/// takes none of them for Telegram or a paste site.
#[test]
fn no_other_page_is_taken_for_telegram_or_paste() {
    fn html_files(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                html_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "html" || e == "htm") {
                out.push(path);
            }
        }
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut pages = Vec::new();
    html_files(&manifest.join("tests/fixtures"), &mut pages);
    html_files(&manifest.join("../examples"), &mut pages);
    let real = manifest.join("../../shared/fixtures/real");
    if shared::present(&real) {
        html_files(&real, &mut pages);
    }
    let ours = |p: &PathBuf| {
        p.components()
            .any(|c| c.as_os_str() == "telegram" || c.as_os_str() == "paste")
    };
    let others: Vec<&PathBuf> = pages.iter().filter(|p| !ours(p)).collect();
    assert!(others.len() > 40, "{} pages found", others.len());
    for path in others {
        let bytes = std::fs::read(path).expect("readable");
        let html = extract::decode_html(&bytes, None, None).text;
        let page = scraper::Html::parse_document(&html);
        let engine = extract::detect(&page, &html).map(|d| d.engine);
        assert!(
            !engine.is_some_and(|e| e.has_own_reader()),
            "{}: taken for {engine:?}",
            path.display()
        );
    }
}
