//! A hostile site on loopback: a page that never finishes (slowloris), one
//! that never answers, a 2 GB body with and without Content-Length, a gzip
//! bomb, redirect loops and endless chains, an off-site redirect, binaries,
//! invalid UTF-8 in a UTF-8 page and a 100 000-deep DOM. The crawl must
//! finish, record every bad URL with its reason, extract what is good, and
//! keep its memory bounded.

mod support;

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use crawler::{CrawlOptions, Crawler, FetchOptions, Fetcher, Frontier, SiteOutcome, Transport};
use support::{board_profile, collect, Reply, TestServer};
use tokio::sync::mpsc;

const TWO_GB: u64 = 2 * 1024 * 1024 * 1024;

/// 256 MiB of zeros gzipped (about 250 KiB): a 1000:1 bomb.
static GZIP_BOMB: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1024 * 1024];
    for _ in 0..256 {
        gz.write_all(&zeros).expect("in-memory gzip");
    }
    gz.finish().expect("in-memory gzip")
});

fn hostile(req: &support::Request, other_site: &str) -> Reply {
    let html = |s: &str| Reply::html(s.to_owned());
    match req.path.as_str() {
        "/list?p=1" => html(
            r#"<html><body>
            <a class=t href="topic?t=1">fine</a>
            <a class=t href="slow">slowloris</a>
            <a class=t href="hang">never answers</a>
            <a class=t href="huge">2 GB, chunked</a>
            <a class=t href="huge-announced">2 GB, announced</a>
            <a class=t href="bomb">gzip bomb</a>
            <a class=t href="loop-a">loop</a>
            <a class=t href="chain?n=0">endless chain</a>
            <a class=t href="offsite">off-site redirect</a>
            <a class=t href="setup.exe">binary</a>
            <a class=t href="blob">unlabelled binary</a>
            <a class=t href="topic?t=900">bad utf-8</a>
            <a class=t href="topic?t=901">deep DOM</a>
            </body></html>"#,
        ),
        "/topic?t=1" => html("<h1>出售 fine</h1><div class=body>ok</div>"),
        "/slow" => Reply::Trickle {
            headers: vec![("Content-Type".into(), "text/html".into())],
            every: Duration::from_millis(100),
        },
        "/hang" => Reply::Hang,
        "/huge" | "/huge-announced" => Reply::Stream {
            headers: vec![("Content-Type".into(), "text/html".into())],
            chunk: vec![b'a'; 64 * 1024],
            total: TWO_GB,
            content_length: req.path == "/huge-announced",
        },
        "/bomb" => Reply::Page {
            status: 200,
            headers: vec![
                ("Content-Type".into(), "text/html".into()),
                ("Content-Encoding".into(), "gzip".into()),
            ],
            body: GZIP_BOMB.clone(),
            delay: Duration::ZERO,
        },
        "/loop-a" => Reply::redirect("loop-b"),
        "/loop-b" => Reply::redirect("loop-a#again"),
        "/offsite" => Reply::redirect(other_site),
        "/setup.exe" => Reply::with_type(200, "application/octet-stream", vec![0x4D, 0x5A, 0, 0]),
        "/blob" => Reply::Page {
            status: 200,
            headers: Vec::new(),
            body: b"PK\x03\x04\x14\x00\x00\x00zipped".to_vec(),
            delay: Duration::ZERO,
        },
        "/topic?t=900" => {
            let mut body = "<h1>出售 三菱UFJ銀行 口座</h1><div class=body>価格 0.1 BTC "
                .as_bytes()
                .to_vec();
            body.extend_from_slice(b"\xFF\xFE\xC3(");
            body.extend_from_slice("まとめ売り</div>".as_bytes());
            Reply::with_type(200, "text/html; charset=utf-8", body)
        }
        "/topic?t=901" => {
            let depth = 100_000;
            let mut page = String::from("<h1>deep</h1><div class=body>");
            page.push_str(&"<div>".repeat(depth));
            page.push_str("出售 bottom");
            page.push_str(&"</div>".repeat(depth));
            page.push_str("</div>");
            html(&page)
        }
        path if path.starts_with("/chain?n=") => {
            let n: u32 = path["/chain?n=".len()..].parse().unwrap_or(0);
            Reply::redirect(&format!("chain?n={}", n + 1))
        }
        _ => Reply::status(404),
    }
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_site_is_survived_and_every_bad_url_has_its_reason() {
    // Built before serving: the server must answer at once.
    LazyLock::force(&GZIP_BOMB);
    let elsewhere = TestServer::start(|_| Reply::html("<p>elsewhere</p>")).await;
    let other_site = elsewhere.url("/");
    let server = TestServer::start(move |req| hostile(req, &other_site)).await;
    let profile = board_profile(
        "hostile",
        &server.url("/"),
        "concurrency = 6\n[rate_limit]\nrequests_per_minute = 60000\nburst = 50",
    );
    // Short limits so the test is quick; the defaults are minutes.
    let fetch = FetchOptions {
        connect_timeout: Duration::from_secs(1),
        read_timeout: Duration::from_millis(700),
        request_timeout: Duration::from_secs(2),
        ..FetchOptions::default()
    };
    let options = CrawlOptions {
        max_attempts: 1,
        breaker_threshold: 100,
        ..CrawlOptions::default()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let crawler = Crawler::new(
        Arc::new(Fetcher::new(Transport::Direct, fetch).expect("fetcher")),
        Frontier::open(&dir.path().join("state.db")).expect("frontier"),
        options,
    );
    let (tx, rx) = mpsc::channel(16);
    let consumer = tokio::spawn(collect(rx, crawler.clone()));
    let started = Instant::now();
    let reports = tokio::time::timeout(
        Duration::from_secs(20),
        crawler.crawl_once(vec![profile], tx, |_| {}),
    )
    .await
    .expect("the crawl finishes despite the hostile pages")
    .expect("frontier works");
    let elapsed = started.elapsed();
    let docs = consumer.await.expect("consumer");
    assert_eq!(reports[0].outcome, SiteOutcome::Finished);
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");

    let by_id: HashMap<&str, &crawler::Document> =
        docs.iter().map(|d| (d.id.as_str(), d)).collect();
    assert!(
        by_id.contains_key("hostile:topic?t=1"),
        "{:?}",
        by_id.keys()
    );
    let bad_utf8 = by_id
        .get("hostile:topic?t=900")
        .expect("a page with invalid UTF-8 still yields its document");
    let body = bad_utf8.body.as_deref().unwrap_or_default();
    assert!(
        body.contains("価格 0.1 BTC") && body.contains("まとめ売り") && body.contains('\u{FFFD}'),
        "{body}"
    );
    assert_eq!(
        bad_utf8.encoding.as_deref(),
        Some("UTF-8"),
        "stray bytes do not flip the encoding"
    );
    let deep = by_id
        .get("hostile:topic?t=901")
        .expect("a 100 000-deep DOM is extracted");
    assert!(deep
        .body
        .as_deref()
        .unwrap_or_default()
        .contains("出售 bottom"));
    assert_eq!(docs.len(), 3);

    let failures: HashMap<String, String> = crawler
        .with_frontier(|f| f.failures("hostile"))
        .expect("query")
        .into_iter()
        .map(|(url, reason)| (url.trim_start_matches(&server.url("/")).to_owned(), reason))
        .collect();
    let expect = [
        ("slow", "timed out"),
        ("hang", "timed out"),
        ("huge", "larger than the 10485760-byte cap"),
        ("huge-announced", "larger than the 10485760-byte cap"),
        ("bomb", "larger than the 10485760-byte cap"),
        ("loop-a", "redirect loop"),
        ("chain?n=0", "more than 5 redirects"),
        ("offsite", "redirect leaves the site"),
        ("setup.exe", "content type \"application/octet-stream\""),
        ("blob", "the body is binary"),
    ];
    for (url, reason) in expect {
        let got = failures
            .get(url)
            .unwrap_or_else(|| panic!("{url} not recorded as failed: {failures:?}"));
        assert!(got.contains(reason), "{url}: {got}");
    }
    assert_eq!(failures.len(), expect.len(), "{failures:?}");
    assert!(
        elsewhere.hits().is_empty(),
        "an off-site redirect is never followed"
    );
    // The loop and the chain each ended where the rules say.
    assert_eq!(
        server.hits_of("/loop-a").len() + server.hits_of("/loop-b").len(),
        2
    );
    let chain_hits = server
        .hits()
        .iter()
        .filter(|h| h.path.starts_with("/chain"))
        .count();
    assert_eq!(chain_hits, 6, "the first request and 5 redirects");

    // Neither 2 GB body nor the 256 MiB bomb was held in memory: the bodies
    // stop at the 10 MB cap.
    if let Some(hwm) = vm_hwm_kib() {
        // Holding the bomb alone would take 256 MiB.
        assert!(hwm < 128 * 1024, "peak memory {hwm} KiB");
    }
}
