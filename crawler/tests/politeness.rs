//! Politeness against real loopback servers, proven from the servers' own
//! request timestamps: per-site rate limits, `Retry-After`, backoff on 503
//! bursts, per-site and global concurrency caps, and the circuit breaker
//! that rests a dead site while the others finish.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crawler::{
    CrawlOptions, Crawler, FetchOptions, Fetcher, Frontier, SiteOutcome, SiteProfile, Transport,
};
use support::{board_page, board_profile, collect, rate_violations, Reply, TestServer};
use tokio::sync::mpsc;

fn crawler_in(dir: &Path, options: CrawlOptions) -> Crawler {
    let fetch = FetchOptions {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        ..FetchOptions::default()
    };
    let fetcher = Fetcher::new(Transport::Direct, fetch).expect("fetcher");
    let frontier = Frontier::open(&dir.join("state.db")).expect("frontier");
    Crawler::new(Arc::new(fetcher), frontier, options)
}

fn quick_retries() -> CrawlOptions {
    CrawlOptions {
        retry_base: Duration::from_millis(100),
        retry_cap: Duration::from_secs(2),
        ..CrawlOptions::default()
    }
}

async fn crawl(
    crawler: &Crawler,
    sites: Vec<SiteProfile>,
) -> (Vec<crawler::SiteReport>, Vec<crawler::Document>) {
    let (tx, rx) = mpsc::channel(64);
    let consumer = tokio::spawn(collect(rx, crawler.clone()));
    let reports = tokio::time::timeout(
        Duration::from_secs(30),
        crawler.crawl_once(sites, tx, |_| {}),
    )
    .await
    .expect("the pass finishes in time")
    .expect("frontier works");
    let docs = consumer.await.expect("consumer");
    (reports, docs)
}

fn board_server(
    pages: u32,
    per_page: u32,
    delay: Duration,
) -> impl Fn(&support::Request) -> Reply + Send + Sync {
    move |req| match board_page(&req.path, pages, per_page) {
        Some(html) => Reply::html(html).delayed(delay),
        None => Reply::status(404),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_site_exceeds_its_rate_limit_by_the_servers_clock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = TestServer::start(board_server(3, 10, Duration::from_millis(15))).await;
    let b = TestServer::start(board_server(2, 10, Duration::from_millis(15))).await;
    let limits = "concurrency = 4\n[rate_limit]\nrequests_per_minute = 1200\nburst = 3";
    let sites = vec![
        board_profile("a", &a.url("/"), limits),
        board_profile("b", &b.url("/"), limits),
    ];
    let crawler = crawler_in(dir.path(), quick_retries());
    let (reports, docs) = crawl(&crawler, sites).await;
    assert_eq!(docs.len(), 30 + 20, "every topic becomes a document");
    assert!(
        reports.iter().all(|r| r.outcome == SiteOutcome::Finished),
        "{reports:?}"
    );
    for server in [&a, &b] {
        let times: Vec<_> = server.hits().iter().map(|h| h.at).collect();
        assert!(times.len() >= 22, "{} requests", times.len());
        assert_eq!(
            rate_violations(&times, 1200, 3, Duration::from_millis(5)),
            0,
            "rate exceeded"
        );
        // The limiter is what paced it: more requests than the burst take time.
        let span = times[times.len() - 1] - times[0];
        assert!(
            span >= Duration::from_millis(50) * (times.len() as u32 - 3)
                - Duration::from_millis(20),
            "{span:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_rests_the_whole_site() {
    let dir = tempfile::tempdir().expect("tempdir");
    let throttled = Arc::new(AtomicUsize::new(0));
    let server = {
        let throttled = throttled.clone();
        TestServer::start(move |req| {
            if req.path == "/topic?t=3" && throttled.fetch_add(1, Ordering::SeqCst) == 0 {
                return Reply::status(429).header("Retry-After", "1");
            }
            match board_page(&req.path, 1, 6) {
                Some(html) => Reply::html(html),
                None => Reply::status(404),
            }
        })
        .await
    };
    let profile = board_profile(
        "r",
        &server.url("/"),
        "concurrency = 1\n[rate_limit]\nrequests_per_minute = 6000\nburst = 5",
    );
    let crawler = crawler_in(dir.path(), quick_retries());
    let (_, docs) = crawl(&crawler, vec![profile]).await;
    assert_eq!(
        docs.len(),
        6,
        "the throttled topic is fetched after the pause"
    );
    let hits = server.hits();
    let at_429 = hits
        .iter()
        .find(|h| h.path == "/topic?t=3")
        .expect("429 served")
        .at;
    let next = hits
        .iter()
        .find(|h| h.at > at_429)
        .expect("crawl went on after the pause")
        .at;
    assert!(
        next - at_429 >= Duration::from_millis(980),
        "site asked for 1 s and got {:?}",
        next - at_429
    );
    assert_eq!(server.hits_of("/topic?t=3").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_burst_is_retried_with_growing_backoff() {
    let dir = tempfile::tempdir().expect("tempdir");
    let failures = Arc::new(AtomicUsize::new(0));
    let server = {
        let failures = failures.clone();
        TestServer::start(move |req| {
            if req.path == "/topic?t=2" && failures.fetch_add(1, Ordering::SeqCst) < 2 {
                return Reply::status(503);
            }
            match board_page(&req.path, 1, 3) {
                Some(html) => Reply::html(html),
                None => Reply::status(404),
            }
        })
        .await
    };
    let profile = board_profile(
        "u",
        &server.url("/"),
        "[rate_limit]\nrequests_per_minute = 6000\nburst = 5",
    );
    let options = CrawlOptions {
        retry_base: Duration::from_millis(200),
        ..quick_retries()
    };
    let crawler = crawler_in(dir.path(), options);
    let (reports, docs) = crawl(&crawler, vec![profile]).await;
    assert_eq!(docs.len(), 3);
    assert_eq!(reports[0].stats.retries, 2);
    let tries: Vec<_> = server.hits_of("/topic?t=2").iter().map(|h| h.at).collect();
    assert_eq!(tries.len(), 3);
    // Jittered exponential backoff: [0.5, 1) × 200 ms, then × 400 ms.
    assert!(
        tries[1] - tries[0] >= Duration::from_millis(95),
        "{:?}",
        tries[1] - tries[0]
    );
    assert!(
        tries[2] - tries[1] >= Duration::from_millis(195),
        "{:?}",
        tries[2] - tries[1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_site_trips_its_breaker_and_does_not_hold_up_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dead = TestServer::start(|_| Reply::status(503)).await;
    let alive = TestServer::start(board_server(2, 5, Duration::ZERO)).await;
    let fast = "[rate_limit]\nrequests_per_minute = 6000\nburst = 5";
    let sites = || {
        vec![
            board_profile("dead", &dead.url("/"), fast),
            board_profile("alive", &alive.url("/"), fast),
        ]
    };
    let options = CrawlOptions {
        breaker_threshold: 3,
        max_attempts: 10,
        retry_base: Duration::from_millis(20),
        breaker_pause: Duration::from_secs(600),
        ..quick_retries()
    };
    let crawler = crawler_in(dir.path(), options.clone());
    let (reports, docs) = crawl(&crawler, sites()).await;
    assert_eq!(docs.len(), 10, "the live site is crawled in full");
    let dead_report = reports.iter().find(|r| r.site == "dead").expect("report");
    assert!(
        matches!(&dead_report.outcome, SiteOutcome::Paused { reason, .. } if reason.contains("503")),
        "{dead_report:?}"
    );
    assert_eq!(dead.hits().len(), 3, "three failures trip the breaker");

    // A new run (a restart) respects the rest: not one request.
    drop(crawler);
    let crawler = crawler_in(dir.path(), options);
    let (reports, _) = crawl(&crawler, sites()).await;
    assert!(matches!(
        reports
            .iter()
            .find(|r| r.site == "dead")
            .map(|r| &r.outcome),
        Some(SiteOutcome::Paused { .. })
    ));
    assert_eq!(dead.hits().len(), 3);
    let failures = crawler
        .with_frontier(|f| f.failures("dead"))
        .expect("query");
    assert_eq!(failures.len(), 1);
    assert!(failures[0].1.contains("HTTP status 503"), "{failures:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_capped_per_site_and_across_sites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let delay = Duration::from_millis(80);
    let one = TestServer::start(board_server(1, 8, delay)).await;
    let fast = "[rate_limit]\nrequests_per_minute = 60000\nburst = 20";
    let crawler = crawler_in(dir.path(), quick_retries());
    let (_, docs) = crawl(
        &crawler,
        vec![board_profile(
            "one",
            &one.url("/"),
            &format!("concurrency = 2\n{fast}"),
        )],
    )
    .await;
    assert_eq!(docs.len(), 8);
    assert_eq!(
        one.max_concurrent(),
        2,
        "per-site cap reached, never passed"
    );

    // Three sites on one server, each allowed 3 at once, 4 in all.
    let shared = TestServer::start(move |req| {
        let path = req.path.get(2..).unwrap_or_default().to_owned();
        match board_page(&path, 1, 6) {
            Some(html) => Reply::html(html).delayed(delay),
            None => Reply::status(404),
        }
    })
    .await;
    let sites = ["a", "b", "c"]
        .iter()
        .map(|s| {
            board_profile(
                s,
                &shared.url(&format!("/{s}/")),
                &format!("concurrency = 3\n{fast}"),
            )
        })
        .collect();
    let options = CrawlOptions {
        max_in_flight: 4,
        ..quick_retries()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let crawler = crawler_in(dir.path(), options);
    let (_, docs) = crawl(&crawler, sites).await;
    assert_eq!(docs.len(), 18);
    assert!(
        shared.max_concurrent() <= 4,
        "global cap passed: {}",
        shared.max_concurrent()
    );
    assert!(
        shared.max_concurrent() >= 3,
        "caps should still allow parallel fetches: {}",
        shared.max_concurrent()
    );
}
