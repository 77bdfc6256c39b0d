//! A site with one page that trickles (headers, then a byte a second, for
//! ever: the read timeout never fires) among 60 normal topics, crawled at
//! 2 requests a second over a real loopback server: the transfer-rate floor
//! stops the trickle, the URL is tried once more in the pass and then
//! reported, and the pass ends with every normal topic delivered. The floor's
//! window is 3 s here (30 s by default) so the test takes about half a minute,
//! nearly all of it the rate limit.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crawler::{
    CrawlOptions, Crawler, FetchOptions, Fetcher, Frontier, RateFloor, SiteEvent, SiteOutcome,
    Transport,
};
use support::{board_page, board_profile, collect, Reply, TestServer};
use tokio::sync::mpsc;

const SLOW: &str = "/topic?t=999";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_page_is_cut_off_and_the_pass_goes_on() {
    let server = TestServer::start(|req| match req.path.as_str() {
        SLOW => Reply::Trickle {
            headers: vec![("Content-Type".into(), "text/html".into())],
            every: Duration::from_secs(1),
        },
        path => match board_page(path, 3, 20) {
            // The first list page also links the trickling topic.
            Some(html) if path == "/list?p=1" => Reply::html(html.replace(
                "</ul>",
                "<li><a class=t href=\"topic?t=999\">slow topic</a></li></ul>",
            )),
            Some(html) => Reply::html(html),
            None => Reply::status(404),
        },
    })
    .await;
    let profile = board_profile(
        "trickle",
        &server.url("/"),
        "concurrency = 2\n[rate_limit]\nrequests_per_minute = 120\nburst = 1",
    );
    let fetch = FetchOptions {
        // Without the floor the trickle would hold each attempt this long.
        request_timeout: Duration::from_secs(40),
        min_transfer_rate: Some(RateFloor {
            bytes_per_sec: 1024,
            window: Duration::from_secs(3),
        }),
        ..FetchOptions::default()
    };
    let options = CrawlOptions {
        retry_base: Duration::from_secs(1),
        ..CrawlOptions::default()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let crawler = Crawler::new(
        Arc::new(Fetcher::new(Transport::Direct, fetch).expect("fetcher")),
        Frontier::open(&dir.path().join("state.db")).expect("frontier"),
        options,
    );
    let (tx, rx) = mpsc::channel(64);
    let consumer = tokio::spawn(collect(rx, crawler.clone()));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let seen = failures.clone();
    let started = Instant::now();
    let reports = tokio::time::timeout(
        Duration::from_secs(110),
        crawler.crawl_once(vec![profile], tx, move |e| {
            if let SiteEvent::Failed { url, error, .. } = e {
                seen.lock()
                    .expect("events")
                    .push((url.to_string(), error.to_string()));
            }
        }),
    )
    .await
    .expect("the pass ends well under 2 minutes")
    .expect("frontier works");
    let elapsed = started.elapsed();
    let docs = consumer.await.expect("consumer");

    assert_eq!(reports[0].outcome, SiteOutcome::Finished);
    // 63 normal requests at 2 a second take 31 s; the slow page costs two
    // 3-second windows beside them, not two 40-second timeouts.
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
    let mut topics: Vec<u32> = docs
        .iter()
        .filter_map(|d| d.id.strip_prefix("trickle:topic?t="))
        .filter_map(|t| t.parse().ok())
        .collect();
    topics.sort_unstable();
    assert_eq!(topics, (1..=60).collect::<Vec<u32>>());
    assert_eq!(docs.len(), 60);

    // Tried twice (once more within the pass), then reported.
    assert_eq!(server.hits_of(SLOW).len(), 2);
    let failures = failures.lock().expect("events").clone();
    assert_eq!(failures.len(), 2, "{failures:?}");
    for (url, error) in &failures {
        assert_eq!(url, &server.url(SLOW));
        assert!(
            error.contains("transfer too slow") && error.contains("last 3 s"),
            "{error}"
        );
    }
    let recorded = crawler
        .with_frontier(|f| f.failures("trickle"))
        .expect("query");
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert!(recorded[0].1.contains("under the floor of 1024 bytes/s"));
}
