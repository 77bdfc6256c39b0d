//! Through a SOCKS5 proxy (Tor's SocksPort) every site sends its own
//! username, so Tor keeps the sites' circuits apart; a site whose circuit
//! breaker trips comes back under a new username, so on new circuits. The
//! proxy here is a real SOCKS5 server on loopback that records the
//! usernames and refuses every connection (a dead onion).

mod support;

use std::sync::Arc;
use std::time::Duration;

use crawler::{Crawler, FetchOptions, Fetcher, Frontier, SiteOutcome, Transport};
use support::{board_profile, collect, Socks, SocksProxy};
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_site_has_its_own_socks_identity_and_a_new_one_after_renewal() {
    let proxy = SocksProxy::start(Socks::Refuse).await;
    let fetcher =
        Fetcher::new(Transport::Socks(proxy.addr), FetchOptions::default()).expect("fetcher");
    let fast = "[rate_limit]\nrequests_per_minute = 60000\nburst = 50";
    let a = board_profile("market-a", "http://a.example/", fast);
    let b = board_profile("forum-b", "http://b.example/", fast);
    let url = |p: &crawler::SiteProfile| p.rules().base_url.clone();
    assert!(fetcher.fetch(&a, &url(&a)).await.is_err());
    assert!(fetcher.fetch(&b, &url(&b)).await.is_err());
    assert_eq!(fetcher.renew_identity("market-a"), 1);
    assert!(fetcher.fetch(&a, &url(&a)).await.is_err());
    assert!(fetcher.fetch(&b, &url(&b)).await.is_err());
    assert_eq!(
        proxy.usernames(),
        ["market-a", "forum-b", "market-a~1", "forum-b"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_whose_breaker_trips_returns_on_new_circuits() {
    let proxy = SocksProxy::start(Socks::Refuse).await;
    let fetcher =
        Fetcher::new(Transport::Socks(proxy.addr), FetchOptions::default()).expect("fetcher");
    let dir = tempfile::tempdir().expect("tempdir");
    let crawler = Crawler::new(
        Arc::new(fetcher),
        Frontier::open(&dir.path().join("state.db")).expect("frontier"),
        support::quick_breaker(),
    );
    let profile = board_profile(
        "dead-onion",
        "http://dead.example/",
        "[rate_limit]\nrequests_per_minute = 60000\nburst = 50",
    );
    let pass = |crawler: Crawler, profile: crawler::SiteProfile| async move {
        let (tx, rx) = mpsc::channel(16);
        let consumer = tokio::spawn(collect(rx, crawler.clone()));
        let reports = tokio::time::timeout(
            Duration::from_secs(20),
            crawler.crawl_once(vec![profile], tx, |_| {}),
        )
        .await
        .expect("the pass ends")
        .expect("frontier works");
        consumer.await.expect("consumer");
        reports
    };
    let reports = pass(crawler.clone(), profile.clone()).await;
    assert!(
        matches!(reports[0].outcome, SiteOutcome::Paused { .. }),
        "{:?}",
        reports[0].outcome
    );
    assert!(proxy.usernames().iter().all(|u| u == "dead-onion"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    pass(crawler, profile).await;
    let seen = proxy.usernames();
    assert!(
        seen.iter().any(|u| u == "dead-onion~1"),
        "after the pause the site uses a new identity: {seen:?}"
    );
}
