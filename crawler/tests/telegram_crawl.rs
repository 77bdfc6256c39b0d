//! A crawl of Telegram channels against a loopback server in t.me's
//! preview markup: the first pass backfills a channel through its
//! `?before=N` pages to the profile's depth; a later pass reads the newest
//! page, hands on only the new messages and goes no further back; a
//! channel whose preview redirects to its landing page is reported with
//! the reason while the other channel goes on.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crawler::{
    CrawlOptions, Crawler, FetchOptions, Fetcher, Frontier, SiteOutcome, SiteProfile, Transport,
};
use support::{collect, Reply, TestServer};
use tokio::sync::mpsc;

/// Messages a preview page shows.
const PER_PAGE: u64 = 20;

/// One message in t.me's markup, posted `n` minutes after a fixed time.
fn message(n: u64) -> String {
    let minute = n % 60;
    let hour = n / 60;
    format!(
        r#"<div class="tgme_widget_message_wrap"><div class="tgme_widget_message" data-post="jp_shop/{n}">
<div class="tgme_widget_message_text">出售 日本银行账户 第{n}号 四件套 价格私聊</div>
<div class="tgme_widget_message_footer"><a class="tgme_widget_message_date" href="https://t.me/jp_shop/{n}"><time datetime="2026-11-30T{hour:02}:{minute:02}:00+00:00">{hour:02}:{minute:02}</time></a></div>
</div></div>"#
    )
}

/// The preview of `jp_shop` with messages `1..=newest`: the newest page, or
/// the page before message `before`.
fn preview(newest: u64, before: Option<u64>) -> String {
    let top = before.map_or(newest, |b| b.saturating_sub(1)).min(newest);
    let lowest = top.saturating_sub(PER_PAGE - 1).max(1);
    let mut html = String::from(
        r#"<html><body><main class="tgme_main"><section class="tgme_channel_history js-message_history">"#,
    );
    if lowest > 1 {
        html.push_str(&format!(
            r#"<div class="tme_messages_more js-messages_more" data-before="{lowest}"></div><a class="tme_messages_more" href="/s/jp_shop?before={lowest}" data-before="{lowest}">older</a>"#
        ));
    }
    for n in lowest..=top {
        html.push_str(&message(n));
    }
    html.push_str("</section></main></body></html>");
    html
}

const LANDING: &str = r#"<html><body><div class="tgme_page_wrap"><div class="tgme_page">
<div class="tgme_page_title"><span>Gone Shop</span></div>
<div class="tgme_page_extra">1 234 subscribers</div>
<div class="tgme_page_description">Closed.</div>
</div></div></body></html>"#;

fn crawler_in(dir: &Path) -> Crawler {
    let fetcher = Fetcher::new(Transport::Direct, FetchOptions::default()).expect("fetcher");
    let frontier = Frontier::open(&dir.join("state.db")).expect("frontier");
    Crawler::new(Arc::new(fetcher), frontier, CrawlOptions::default())
}

async fn pass(crawler: &Crawler, site: SiteProfile) -> (SiteOutcome, Vec<crawler::Document>) {
    let (tx, rx) = mpsc::channel(256);
    let consumer = tokio::spawn(collect(rx, crawler.clone()));
    let reports = tokio::time::timeout(
        Duration::from_secs(30),
        crawler.crawl_once(vec![site], tx, |_| {}),
    )
    .await
    .expect("the pass finishes")
    .expect("frontier works");
    (
        reports[0].outcome.clone(),
        consumer.await.expect("consumer"),
    )
}

fn numbers(docs: &[crawler::Document]) -> Vec<u64> {
    let mut n: Vec<u64> = docs
        .iter()
        .filter_map(extract::telegram_message_number)
        .collect();
    n.sort_unstable();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_are_backfilled_then_read_down_to_the_first_known_message() {
    let newest = Arc::new(AtomicU64::new(45));
    let shown = newest.clone();
    let server = TestServer::start(move |req| {
        let newest = shown.load(Ordering::SeqCst);
        match req.path.as_str() {
            "/s/jp_shop" => Reply::html(preview(newest, None)),
            "/s/gone_shop" => Reply::redirect("/gone_shop"),
            "/gone_shop" => Reply::html(LANDING),
            path => match path
                .strip_prefix("/s/jp_shop?before=")
                .and_then(|b| b.parse::<u64>().ok())
            {
                Some(before) => Reply::html(preview(newest, Some(before))),
                None => Reply::status(404),
            },
        }
    })
    .await;
    let profile = SiteProfile::parse(
        &format!(
            r#"name = "tg"
engine = "telegram"
base_url = "{}"
channels = ["jp_shop", "@gone_shop"]
backfill_messages = 40
[rate_limit]
requests_per_minute = 60000
burst = 50
[recrawl]
list_interval = "1s"
"#,
            server.url("/")
        ),
        Path::new("tg.toml"),
    )
    .expect("profile");
    assert_eq!(profile.seeds().len(), 2, "{:?}", profile.seeds());
    let dir = tempfile::tempdir().expect("tempdir");
    let crawler = crawler_in(dir.path());

    // First pass: 26..=45, then 6..=25 (40 messages back), not further.
    let (outcome, docs) = pass(&crawler, profile.clone()).await;
    assert_eq!(outcome, SiteOutcome::Finished);
    assert_eq!(numbers(&docs), (6..=45).collect::<Vec<_>>());
    assert_eq!(server.hits_of("/s/jp_shop?before=26").len(), 1);
    assert!(server.hits_of("/s/jp_shop?before=6").is_empty());
    let doc = docs
        .iter()
        .find(|d| extract::telegram_message_number(d) == Some(45))
        .expect("message 45");
    assert!(doc.body.as_deref().unwrap_or_default().contains("第45号"));
    // The channel without a preview is reported, with why.
    let failures = crawler
        .with_frontier(|f| f.failures("tg"))
        .expect("failures");
    assert!(
        failures
            .iter()
            .any(|(url, why)| url.ends_with("/s/gone_shop") && why.contains("no public preview")),
        "{failures:?}"
    );

    // Three new messages; the next pass reads the newest page only and
    // hands on only them.
    newest.store(48, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = server.hits().len();
    let (outcome, docs) = pass(&crawler, profile.clone()).await;
    assert_eq!(outcome, SiteOutcome::Finished);
    assert_eq!(numbers(&docs), [46, 47, 48]);
    let asked: Vec<String> = server.hits()[before..]
        .iter()
        .map(|h| h.path.clone())
        .collect();
    assert!(asked.contains(&"/s/jp_shop".to_owned()), "{asked:?}");
    assert!(
        !asked.iter().any(|p| p.contains("before=")),
        "older pages are read once: {asked:?}"
    );

    // Thirty new: the newest page is all new, so the page before it is
    // read too, and nothing older.
    newest.store(78, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, docs) = pass(&crawler, profile).await;
    assert_eq!(numbers(&docs), (49..=78).collect::<Vec<_>>());
    assert_eq!(server.hits_of("/s/jp_shop?before=59").len(), 1);
    assert!(server.hits_of("/s/jp_shop?before=39").is_empty());
}
