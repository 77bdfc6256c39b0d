//! Through a SOCKS5 proxy (Tor's SocksPort) every site sends its own
//! username, so Tor keeps the sites' circuits apart; a site whose circuit
//! breaker trips comes back under a new username, so on new circuits. The
//! proxy here is a real SOCKS5 server on loopback that records the
//! usernames and refuses every connection (a dead onion).

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crawler::{Crawler, FetchOptions, Fetcher, Frontier, SiteOutcome, Transport};
use support::{board_profile, collect};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Speaks SOCKS5 with username/password authentication (RFC 1928/1929) up
/// to the CONNECT request, which it refuses.
async fn refusing_socks(usernames: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let usernames = usernames.clone();
            tokio::spawn(async move {
                let _ = handshake(stream, usernames).await;
            });
        }
    });
    addr
}

async fn handshake(mut s: TcpStream, usernames: Arc<Mutex<Vec<String>>>) -> std::io::Result<()> {
    let mut head = [0u8; 2];
    s.read_exact(&mut head).await?;
    let mut methods = vec![0u8; head[1] as usize];
    s.read_exact(&mut methods).await?;
    assert!(methods.contains(&2), "the client offers username/password");
    s.write_all(&[5, 2]).await?;
    let mut ver_len = [0u8; 2];
    s.read_exact(&mut ver_len).await?;
    let mut name = vec![0u8; ver_len[1] as usize];
    s.read_exact(&mut name).await?;
    let mut plen = [0u8; 1];
    s.read_exact(&mut plen).await?;
    let mut password = vec![0u8; plen[0] as usize];
    s.read_exact(&mut password).await?;
    usernames
        .lock()
        .expect("lock")
        .push(String::from_utf8_lossy(&name).into_owned());
    s.write_all(&[1, 0]).await?;
    let mut request = [0u8; 4];
    s.read_exact(&mut request).await?;
    let skip = match request[3] {
        1 => 4,
        4 => 16,
        _ => {
            let mut len = [0u8; 1];
            s.read_exact(&mut len).await?;
            len[0] as usize
        }
    };
    let mut rest = vec![0u8; skip + 2];
    s.read_exact(&mut rest).await?;
    // 0x05: connection refused.
    s.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_site_has_its_own_socks_identity_and_a_new_one_after_renewal() {
    let usernames = Arc::new(Mutex::new(Vec::new()));
    let proxy = refusing_socks(usernames.clone()).await;
    let fetcher = Fetcher::new(Transport::Socks(proxy), FetchOptions::default()).expect("fetcher");
    let fast = "[rate_limit]\nrequests_per_minute = 60000\nburst = 50";
    let a = board_profile("market-a", "http://a.example/", fast);
    let b = board_profile("forum-b", "http://b.example/", fast);
    let url = |p: &crawler::SiteProfile| p.rules.base_url.clone();
    assert!(fetcher.fetch(&a, &url(&a)).await.is_err());
    assert!(fetcher.fetch(&b, &url(&b)).await.is_err());
    assert_eq!(fetcher.renew_identity("market-a"), 1);
    assert!(fetcher.fetch(&a, &url(&a)).await.is_err());
    assert!(fetcher.fetch(&b, &url(&b)).await.is_err());
    assert_eq!(
        *usernames.lock().expect("lock"),
        ["market-a", "forum-b", "market-a~1", "forum-b"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_whose_breaker_trips_returns_on_new_circuits() {
    let usernames = Arc::new(Mutex::new(Vec::new()));
    let proxy = refusing_socks(usernames.clone()).await;
    let fetcher = Fetcher::new(Transport::Socks(proxy), FetchOptions::default()).expect("fetcher");
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
    assert!(usernames
        .lock()
        .expect("lock")
        .iter()
        .all(|u| u == "dead-onion"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    pass(crawler, profile).await;
    let seen = usernames.lock().expect("lock").clone();
    assert!(
        seen.iter().any(|u| u == "dead-onion~1"),
        "after the pause the site uses a new identity: {seen:?}"
    );
}
