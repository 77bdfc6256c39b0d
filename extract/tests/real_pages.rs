//! Every row of every real list page in `../shared/fixtures/real/` (beside the
//! checkout, never copied here), field by field, against
//! `tests/real_expected/<dir>.json`: a second reading of the same HTML by
//! `real_expected/make_expected.py`, which never looks at leakwatch's output.
//! Also the real topic pages and the BreachForums index, as labels.jsonl
//! describes them. A page's test lists all its mismatches at once.

mod shared;

use std::fmt::Debug;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use extract::{decode_html, extract_page_explained, EngineChoice, ExtractOptions, SiteRules};
use extract::{Document, DocumentKind, Extracted};
use serde::Deserialize;
use url::Url;

/// One listing row as a person reads it (see make_expected.py).
#[derive(Debug, Deserialize)]
struct ExpectedRow {
    title: String,
    url: String,
    seller: Option<String>,
    /// The row's own start date as shown; kept for the failure message.
    posted_at_shown: Option<String>,
    /// The zone the expectation assumed (`+08:00` or `UTC`).
    posted_at_zone: String,
    /// RFC 3339 UTC, from the local time in the site's zone.
    posted_at: Option<String>,
    replies: Option<String>,
    /// Only on pages with a price column (anwang-2020's 标价).
    #[serde(default)]
    price: Option<String>,
}

/// A saved list page, the URL it came from and when it was saved.
struct ListPage {
    file: &'static str,
    url: &'static str,
    fetched_at: &'static str,
    expected: &'static str,
    /// Whether the page shows a price column.
    priced: bool,
}

fn real_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/real");
    shared::present(&dir).then_some(dir)
}

/// What `leakwatch extract --engine auto PAGE --url URL --fetched-at TIME`
/// prints: the bytes decoded as the command does, a profile named after the
/// host's first label on the URL's root (a placeholder root when that is not
/// a site root the rules accept), every list row.
fn extract_as_the_command_does(file: &str, url: &str, fetched_at: &str) -> Option<Extracted> {
    let dir = real_dir()?;
    let path = dir.join(file);
    if !shared::present(&path) {
        return None;
    }
    let bytes = std::fs::read(&path).expect("the saved page is readable");
    let decoded = decode_html(&bytes, None, None);
    let url = Url::parse(url).expect("a valid page URL");
    let name = url
        .host_str()
        .map_or("page", |h| h.split('.').next().unwrap_or(h))
        .to_owned();
    let root = url.join("/").expect("a root URL");
    let profile = SiteRules::for_engine(&name, &root, EngineChoice::Auto).unwrap_or_else(|_| {
        let placeholder = Url::parse("http://saved-page.invalid/").expect("a valid URL");
        SiteRules::for_engine(&name, &placeholder, EngineChoice::Auto)
            .expect("an engine-only profile loads")
    });
    let fetched_at = DateTime::parse_from_rfc3339(fetched_at)
        .expect("an RFC 3339 time")
        .with_timezone(&Utc);
    let options = ExtractOptions {
        all_rows: true,
        ..ExtractOptions::default()
    };
    let (out, _) = extract_page_explained(
        &profile,
        &url,
        &decoded.text,
        fetched_at,
        Some(decoded.encoding.name()),
        &options,
    );
    Some(out)
}

/// Mismatches of one page, reported together.
#[derive(Default)]
struct Mismatches(Vec<String>);

impl Mismatches {
    fn check<T: PartialEq + Debug>(&mut self, row: usize, field: &str, expected: T, got: T) {
        if expected != got {
            self.0.push(format!(
                "row {row} {field}: expected {expected:?}, got {got:?}"
            ));
        }
    }

    fn note(&mut self, line: String) {
        self.0.push(line);
    }

    fn assert_none(self, page: &str) {
        assert!(
            self.0.is_empty(),
            "{page}: {} mismatches\n  {}",
            self.0.len(),
            self.0.join("\n  ")
        );
    }
}

fn check_list_page(page: ListPage) {
    let Some(out) = extract_as_the_command_does(page.file, page.url, page.fetched_at) else {
        return;
    };
    let expected: Vec<ExpectedRow> =
        serde_json::from_str(page.expected).expect("the expected rows are valid JSON");
    let docs = &out.documents;
    let mut found = Mismatches::default();
    if docs.len() != expected.len() {
        found.note(format!(
            "document count: expected {}, got {}",
            expected.len(),
            docs.len()
        ));
        for row in expected
            .iter()
            .filter(|r| docs.iter().all(|d| d.url != r.url))
        {
            found.note(format!("  no document for {} ({:?})", row.url, row.title));
        }
        for doc in docs
            .iter()
            .filter(|d| expected.iter().all(|r| r.url != d.url))
        {
            found.note(format!(
                "  unexpected document {} ({:?})",
                doc.url, doc.title
            ));
        }
    }
    for (i, (row, doc)) in expected.iter().zip(docs).enumerate() {
        check_row(&mut found, i, row, doc, page.priced);
    }
    found.assert_none(page.file);
}

fn check_row(found: &mut Mismatches, i: usize, row: &ExpectedRow, doc: &Document, priced: bool) {
    found.check(i, "title", Some(row.title.as_str()), doc.title.as_deref());
    found.check(i, "url", row.url.as_str(), doc.url.as_str());
    found.check(i, "seller", row.seller.as_deref(), doc.seller.as_deref());
    found.check(
        i,
        "replies",
        row.replies.as_deref(),
        doc.extra.get("replies").map(String::as_str),
    );
    if priced {
        found.check(i, "price", row.price.as_deref(), doc.price.as_deref());
    }
    if row.posted_at.as_deref() != doc.posted_at.as_deref() {
        found.note(format!(
            "row {i} posted_at: expected {:?} (shown {:?}, {}), got {:?}",
            row.posted_at, row.posted_at_shown, row.posted_at_zone, doc.posted_at
        ));
    }
}

#[test]
fn anwang_2020_trade_list() {
    check_list_page(ListPage {
        file: "anwang-2020/ea-10001-list.html",
        url:
            "http://xxxxxxxx3a3kuuhhw5w7stk25fzhttrlpiomij5bogkg7yyqsng5tqyd.onion/ea.php?ea=10001",
        // Saved in September 2020, the newest row dated 2020-09-08 (Beijing).
        fetched_at: "2020-09-09T00:00:00Z",
        expected: include_str!("real_expected/anwang-2020.json"),
        priced: true,
    });
}

#[test]
fn raidforums_leaks_market() {
    check_list_page(ListPage {
        file: "raidforums/Forum-Leaks-Market.html",
        url: "https://raidforums.com/Forum-Leaks-Market",
        // Captured 2021-04-08 ("17 minutes ago" for a post of 08:18).
        fetched_at: "2021-04-08T08:35:00Z",
        expected: include_str!("real_expected/raidforums.json"),
        priced: false,
    });
}

#[test]
fn discuz_7_board_in_gbk() {
    check_list_page(ListPage {
        file: "discuz-1984bbs/forumdisplay-fid2.html",
        url: "https://1984bbs.com/forumdisplay.php?fid=2&filter=0&orderby=replies&ascdesc=DESC&page=1",
        // No clock on the page; after its newest post (2010-10-12 04:44 Beijing).
        fetched_at: "2010-10-12T00:00:00Z",
        expected: include_str!("real_expected/discuz-1984bbs.json"),
        priced: false,
    });
}

#[test]
fn discuz_x3_board() {
    check_list_page(ListPage {
        file: "discuz-x3/forum-2-1.html",
        url: "https://kbinance.com/forum-2-1.html",
        // The page's `lasttime = 1648127741`.
        fetched_at: "2022-03-24T13:15:41Z",
        expected: include_str!("real_expected/discuz-x3.json"),
        priced: false,
    });
}

#[test]
fn phpbb_table_style_board() {
    check_list_page(ListPage {
        file: "phpbb-eaglecraft/viewforum-f2.html",
        url: "https://eaglecraft.fr/viewforum.php?f=2",
        // No clock on the page; after its newest post (2022-07-26).
        fetched_at: "2022-07-27T00:00:00Z",
        expected: include_str!("real_expected/phpbb-eaglecraft.json"),
        priced: false,
    });
}

#[test]
fn smf_board_in_latin1() {
    check_list_page(ListPage {
        file: "smf-bitcointalk/board-52.html",
        url: "https://bitcointalk.org/index.php?board=52.0",
        // The page's own clock: September 29, 2022, 07:18:03 AM.
        fetched_at: "2022-09-29T07:18:03Z",
        expected: include_str!("real_expected/smf-bitcointalk.json"),
        priced: false,
    });
}

/// A topic page as labels.jsonl describes it: its first document's title
/// holds the thread title and its seller is the first post's author (in any
/// case).
struct TopicPage {
    file: &'static str,
    url: &'static str,
    fetched_at: &'static str,
    title: &'static str,
    first_post_author: &'static str,
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The topic's document; its mismatches go to `found`.
fn check_topic_page(page: &TopicPage, found: &mut Mismatches) -> Option<Document> {
    let out = extract_as_the_command_does(page.file, page.url, page.fetched_at)?;
    let Some(doc) = out.documents.first() else {
        found.note("no document".to_owned());
        return None;
    };
    let title = doc.title.as_deref().map(collapse).unwrap_or_default();
    if !title.contains(page.title) {
        found.note(format!(
            "title: expected one holding {:?}, got {:?}",
            page.title, doc.title
        ));
    }
    let seller = doc.seller.as_deref().map(str::to_lowercase);
    found.check(
        0,
        "seller (any case)",
        Some(page.first_post_author.to_lowercase()),
        seller,
    );
    Some(doc.clone())
}

#[test]
fn raidforums_selling_thread() {
    let mut found = Mismatches::default();
    check_topic_page(
        &TopicPage {
            file: "raidforums/Thread-SELLING-LinkedIn-1Billion-1000Million-Record.html",
            url: "https://raidforums.com/Thread-SELLING-LinkedIn-1Billion-1000Million-Record",
            fetched_at: "2021-04-08T08:35:00Z",
            title: "LinkedIn 1Billion(1000Million) Record",
            first_post_author: "TomLiner",
        },
        &mut found,
    );
    found.assert_none("raidforums thread");
}

#[test]
fn discuz_7_thread_in_gbk() {
    let page = TopicPage {
        file: "discuz-1984bbs/viewthread-53609.html",
        url: "https://1984bbs.com/viewthread.php?tid=53609",
        fetched_at: "2010-10-12T00:00:00Z",
        title: "含泪相劝三博士",
        first_post_author: "billshen",
    };
    let mut found = Mismatches::default();
    if let Some(doc) = check_topic_page(&page, &mut found) {
        // The <h1>'s trailing tabs are not part of the title.
        found.check(0, "title", Some(page.title), doc.title.as_deref());
    }
    found.assert_none("1984bbs thread");
}

/// The 2018 market's topic pages: what the label states of their trade-info
/// block (交易编号, 商品单价, 账户名称) besides title and author.
fn check_anwang_2018(page: TopicPage, listing_number: &str, price: &str) {
    let mut found = Mismatches::default();
    if let Some(doc) = check_topic_page(&page, &mut found) {
        found.check(
            0,
            "listing_number",
            Some(listing_number),
            doc.listing_number.as_deref(),
        );
        found.check(0, "price", Some(price), doc.price.as_deref());
    }
    found.assert_none(page.file);
}

#[test]
fn anwang_2018_sms_interception_topic() {
    check_anwang_2018(
        TopicPage {
            file: "anwang-2018/ff82692643cec7d227215259446b4838.html",
            url: "http://bmp3qqimv55xdznb.onion/viewtopic.php?t=11568",
            fetched_at: "2018-10-31T02:47:00Z",
            title: "出售短信拦截设备",
            first_post_author: "aboys11",
        },
        "11568",
        "0.05 BTC",
    );
}

#[test]
fn anwang_2018_payment_system_topic() {
    // The trade-info block names the seller 'pojoanlin', the post
    // 'PojoAnLin': the same account.
    check_anwang_2018(
        TopicPage {
            file: "anwang-2018/ffecd13ca9772ceb8c33255e41dd4285.html",
            url: "http://bmp3qqimv55xdznb.onion/viewtopic.php?t=9714",
            fetched_at: "2018-10-31T02:47:00Z",
            title: "租售 三方 四方支付系统 Java源码",
            first_post_author: "PojoAnLin",
        },
        "9714",
        "1 BTC",
    );
}

#[derive(Debug, Deserialize)]
struct IndexLinks {
    forums: Vec<String>,
    threads: Vec<IndexThread>,
}

#[derive(Debug, Deserialize)]
struct IndexThread {
    title: String,
    url: String,
}

/// The BreachForums index: "A crawl must follow the Forum- links and the
/// Thread- links" (labels.jsonl). Every forum and sub-forum link, and every
/// forum row's newest thread (with or without its `?action=lastpost`), is
/// among the links extraction gives the crawler.
#[test]
fn breachforums_index_links() {
    let Some(out) = extract_as_the_command_does(
        "breachforums/index.html",
        "https://breachforums.vc/",
        // The newest "Less than 1 minute ago" post is of 06-29-2023, 07:10 AM.
        "2023-06-29T07:11:00Z",
    ) else {
        return;
    };
    let expected: IndexLinks =
        serde_json::from_str(include_str!("real_expected/breachforums-index.json"))
            .expect("the expected links are valid JSON");
    let links: Vec<&str> = out.links.iter().map(Url::as_str).collect();
    let mut found = Mismatches::default();
    for forum in &expected.forums {
        if !links.contains(&forum.as_str()) {
            found.note(format!("forum link not followed: {forum}"));
        }
    }
    for thread in &expected.threads {
        let lastpost = format!("{}?action=lastpost", thread.url);
        if !links.contains(&thread.url.as_str()) && !links.contains(&lastpost.as_str()) {
            found.note(format!(
                "thread link not followed: {} ({:?})",
                thread.url, thread.title
            ));
        }
    }
    found.assert_none("breachforums/index.html");
}

/// The BreachForums index, as labels.jsonl states it: each forum row shows
/// its newest thread, "worth a document each (kind thread: title, link
/// without ?action=lastpost, time)". Title, link and kind are asserted; the
/// time is that of the newest post, not the thread's start, so it is not
/// held against `posted_at`.
#[test]
fn breachforums_index_newest_threads() {
    let Some(out) = extract_as_the_command_does(
        "breachforums/index.html",
        "https://breachforums.vc/",
        "2023-06-29T07:11:00Z",
    ) else {
        return;
    };
    let expected: IndexLinks =
        serde_json::from_str(include_str!("real_expected/breachforums-index.json"))
            .expect("the expected links are valid JSON");
    let mut found = Mismatches::default();
    for thread in &expected.threads {
        match out.documents.iter().find(|d| d.url == thread.url) {
            None => found.note(format!(
                "no document for {} ({:?})",
                thread.url, thread.title
            )),
            Some(doc) => {
                if doc.title.as_deref() != Some(thread.title.as_str()) {
                    found.note(format!(
                        "{} title: expected {:?}, got {:?}",
                        thread.url, thread.title, doc.title
                    ));
                }
                if doc.kind != DocumentKind::Thread {
                    found.note(format!(
                        "{} kind: expected thread, got {:?}",
                        thread.url, doc.kind
                    ));
                }
            }
        }
    }
    for doc in out
        .documents
        .iter()
        .filter(|d| expected.threads.iter().all(|t| t.url != d.url))
    {
        found.note(format!("unexpected document {} ({:?})", doc.url, doc.title));
    }
    found.assert_none("breachforums/index.html documents");
}
