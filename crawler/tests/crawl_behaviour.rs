//! What a crawl does across passes, against loopback servers: one fetch per
//! canonical URL, the depth limit, recrawl with conditional GET, topics
//! refetched only when their list row changes, unchanged content producing
//! no document, login-gated sites (cookies sent, a logged-out page
//! stopping the site without ever looping on the login page), and sites
//! behind a CAPTCHA (stopped after one such page, resumed by an imported
//! session).

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crawler::{
    crawl_site, CrawlEvent, CrawlOptions, Crawler, FetchOptions, Fetcher, Frontier, SiteEvent,
    SiteOutcome, SiteProfile, SiteReport, Transport,
};
use support::{board_page, board_profile, collect, Reply, TestServer};
use tokio::sync::mpsc;

const FAST: &str = "[rate_limit]\nrequests_per_minute = 60000\nburst = 50";

fn crawler_in(dir: &Path) -> Crawler {
    let fetcher = Fetcher::new(Transport::Direct, FetchOptions::default()).expect("fetcher");
    let frontier = Frontier::open(&dir.join("state.db")).expect("frontier");
    Crawler::new(Arc::new(fetcher), frontier, CrawlOptions::default())
}

/// One pass; returns the reports, the documents and the events' kinds.
async fn pass(
    crawler: &Crawler,
    sites: Vec<SiteProfile>,
) -> (Vec<SiteReport>, Vec<crawler::Document>, Vec<String>) {
    let (tx, rx) = mpsc::channel(64);
    let consumer = tokio::spawn(collect(rx, crawler.clone()));
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let reports = tokio::time::timeout(
        Duration::from_secs(20),
        crawler.crawl_once(sites, tx, move |e| {
            let kind = match e {
                SiteEvent::Fetched { .. } => "fetched",
                SiteEvent::NotModified { .. } => "not-modified",
                SiteEvent::Failed { .. } => "failed",
                SiteEvent::Paused { .. } => "paused",
                SiteEvent::LoggedOut { .. } => "logged-out",
                SiteEvent::NeedsHuman { .. } => "needs-human",
            };
            sink.lock().expect("events").push(kind.to_owned());
        }),
    )
    .await
    .expect("the pass finishes")
    .expect("frontier works");
    let docs = consumer.await.expect("consumer");
    let events = events.lock().expect("events").clone();
    (reports, docs, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_canonical_url_is_fetched_once_and_depth_is_limited() {
    let server = TestServer::start(|req| match req.path.as_str() {
        // phpBB-style links to one topic: session ids, fragments, order.
        "/list?p=1" => Reply::html(
            r#"<a class=t href="topic?t=1&amp;sid=0123456789abcdef">a</a>
               <a class=t href="./topic?sid=fedcba9876543210&amp;t=1#p5">b</a>
               <a class=t href="/topic?t=1">c</a>
               <a class=next href="list?p=2&amp;sid=1">next</a>"#,
        ),
        "/list?p=2" => Reply::html(
            r#"<a class=t href="topic?t=2">d</a><a class=next href="list?p=3">next</a>"#,
        ),
        "/list?p=3" => Reply::html(r#"<a class=t href="topic?t=3">e</a>"#),
        path => match board_page(path, 3, 1) {
            Some(html) => Reply::html(html),
            None => Reply::status(404),
        },
    })
    .await;
    let profile = board_profile("canon", &server.url("/"), &format!("max_depth = 1\n{FAST}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, docs, _) = pass(&crawler_in(dir.path()), vec![profile]).await;
    assert_eq!(
        server.hits_of("/topic?t=1").len(),
        1,
        "three spellings, one fetch"
    );
    assert!(
        server.hits().iter().all(|h| !h.path.contains("sid=")),
        "session ids are never sent"
    );
    assert_eq!(server.hits_of("/list?p=2").len(), 1);
    assert!(
        server.hits_of("/list?p=3").is_empty(),
        "depth 2 is beyond max_depth = 1"
    );
    assert!(
        server.hits_of("/topic?t=2").is_empty(),
        "depth 2 is beyond max_depth = 1"
    );
    let ids: Vec<_> = docs.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["canon:topic?t=1"]);
}

/// A board whose list page and topics answer conditional GETs; the test
/// changes a topic's replies and another topic's view count.
#[derive(Default)]
struct Board {
    replies: u32,
    views: u32,
}

impl Board {
    fn list(&self) -> String {
        format!(
            r#"<ul><li><a class=t href="topic?t=1">t1</a> {} replies</li>
               <li><a class=t href="topic?t=2">t2</a> {} views</li></ul>"#,
            self.replies, self.views
        )
    }

    fn topic(&self, t: &str) -> Option<String> {
        match t {
            "1" => Some(format!(
                "<h1>出售 one</h1><div class=body>post{}</div>",
                " + reply".repeat(self.replies as usize)
            )),
            "2" => Some("<h1>出售 two</h1><div class=body>unchanged</div>".to_owned()),
            _ => None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recrawl_uses_conditional_get_and_reports_only_changes() {
    let board = Arc::new(Mutex::new(Board::default()));
    let server = {
        let board = board.clone();
        TestServer::start(move |req| {
            let board = board.lock().expect("board");
            if req.path == "/list?p=1" {
                let list = board.list();
                let etag = format!("\"{}-{}\"", board.replies, board.views);
                if req.header("if-none-match") == Some(etag.as_str()) {
                    return Reply::Page {
                        status: 304,
                        headers: vec![],
                        body: vec![],
                        delay: Duration::ZERO,
                    };
                }
                return Reply::html(list).header("ETag", &etag);
            }
            // Topics have no validators: a refetch is a full 200.
            match req
                .path
                .strip_prefix("/topic?t=")
                .and_then(|t| board.topic(t))
            {
                Some(html) => Reply::html(html),
                None => Reply::status(404),
            }
        })
        .await
    };
    let extra = format!("[recrawl]\nlist_interval = \"1s\"\ntopic_interval = \"30d\"\n{FAST}");
    let profile = || board_profile("b", &server.url("/"), &extra);
    let dir = tempfile::tempdir().expect("tempdir");
    let crawler = crawler_in(dir.path());

    let (_, docs, _) = pass(&crawler, vec![profile()]).await;
    assert_eq!(docs.len(), 2);
    assert_eq!(server.hits().len(), 3);

    // Straight away nothing is due: no request at all.
    let (reports, docs, _) = pass(&crawler, vec![profile()]).await;
    assert!(docs.is_empty());
    assert_eq!(reports[0].stats, Default::default());
    assert_eq!(server.hits().len(), 3);

    // After the list interval: one conditional GET, answered 304.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (reports, docs, events) = pass(&crawler, vec![profile()]).await;
    assert!(docs.is_empty());
    assert_eq!(reports[0].stats.not_modified, 1);
    assert_eq!(events, ["not-modified"]);
    let last = server.hits().pop().expect("a request");
    assert_eq!(
        last.headers.get("if-none-match").map(String::as_str),
        Some("\"0-0\"")
    );

    // Topic 1 gets a reply, topic 2 only a view: both rows change, both are
    // fetched again, only topic 1 yields a (new) document.
    {
        let mut b = board.lock().expect("board");
        b.replies = 1;
        b.views = 7;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (reports, docs, _) = pass(&crawler, vec![profile()]).await;
    assert_eq!(server.hits_of("/topic?t=1").len(), 2);
    assert_eq!(server.hits_of("/topic?t=2").len(), 2);
    let ids: Vec<_> = docs.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["b:topic?t=1"]);
    assert_eq!(docs[0].body.as_deref(), Some("post + reply"));
    assert_eq!(
        reports[0].stats.unchanged, 1,
        "topic 2: same content, no document"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_replies_column_only_new_replies_refetch_a_topic() {
    let board = Arc::new(Mutex::new(Board::default()));
    let server = {
        let board = board.clone();
        TestServer::start(move |req| {
            let b = board.lock().expect("board");
            if req.path == "/list?p=1" {
                // Both rows show replies, views and a relative time.
                return Reply::html(format!(
                    r#"<ul><li class=row><a class=t href="topic?t=1">t1</a> <span class=r>{r}</span> replies, {v} views, {v} minutes ago</li>
                       <li class=row><a class=t href="topic?t=2">t2</a> <span class=r>0</span> replies, {v} views, {v} minutes ago</li></ul>"#,
                    r = b.replies,
                    v = b.views
                ));
            }
            match req.path.strip_prefix("/topic?t=").and_then(|t| b.topic(t)) {
                Some(html) => Reply::html(html),
                None => Reply::status(404),
            }
        })
        .await
    };
    let extra = format!(
        "[recrawl]\nlist_interval = \"1s\"\ntopic_interval = \"30d\"\n{FAST}\n\
         [list]\nrow = \"li.row\"\ntitle = \"a.t\"\nlink = {{ css = \"a.t\", attr = \"href\" }}\nreplies = \"span.r\""
    );
    let profile = || board_profile("r", &server.url("/"), &extra);
    let dir = tempfile::tempdir().expect("tempdir");
    let crawler = crawler_in(dir.path());
    pass(&crawler, vec![profile()]).await;
    assert_eq!(server.hits_of("/topic?t=1").len(), 1);
    assert_eq!(server.hits_of("/topic?t=2").len(), 1);

    // Views and times move on: no topic is fetched again.
    board.lock().expect("board").views = 9;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    pass(&crawler, vec![profile()]).await;
    assert_eq!(server.hits_of("/list?p=1").len(), 2);
    assert_eq!(server.hits_of("/topic?t=1").len(), 1);
    assert_eq!(server.hits_of("/topic?t=2").len(), 1);

    // A reply to topic 1: it alone is fetched again.
    board.lock().expect("board").replies = 1;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    pass(&crawler, vec![profile()]).await;
    assert_eq!(server.hits_of("/topic?t=1").len(), 2);
    assert_eq!(server.hits_of("/topic?t=2").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_address_fails_over_to_a_mirror_and_pages_keep_their_urls() {
    let primary = TestServer::start(|_| Reply::status(503)).await;
    let mirror = TestServer::start(|req| {
        let path = req.path.strip_prefix("/mirror").unwrap_or("");
        match board_page(path, 1, 2) {
            Some(html) => Reply::html(html),
            None => Reply::status(404),
        }
    })
    .await;
    let profile = board_profile(
        "m",
        &primary.url("/"),
        &format!("mirrors = [{:?}]\n{FAST}", mirror.url("/mirror/")),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let crawler = Crawler::new(
        Arc::new(Fetcher::new(Transport::Direct, FetchOptions::default()).expect("fetcher")),
        Frontier::open(&dir.path().join("state.db")).expect("frontier"),
        support::quick_breaker(),
    );
    let (reports, docs, _) = pass(&crawler, vec![profile.clone()]).await;
    assert!(matches!(reports[0].outcome, SiteOutcome::Paused { .. }));
    assert!(docs.is_empty());
    assert!(mirror.hits().is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (reports, docs, _) = pass(&crawler, vec![profile]).await;
    assert_eq!(reports[0].outcome, SiteOutcome::Finished);
    assert_eq!(docs.len(), 2);
    assert!(
        docs.iter()
            .all(|d| d.url.starts_with(&primary.url("/topic"))),
        "{:?}",
        docs.iter().map(|d| &d.url).collect::<Vec<_>>()
    );
    assert!(!mirror.hits_of("/mirror/topic?t=1").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_gated_site_stops_when_logged_out_and_resumes_with_new_cookies() {
    let server = TestServer::start(|req| {
        let cookie = req.header("cookie").unwrap_or_default();
        if req.path == "/login.php" {
            return Reply::html("<form id=login action=login.php></form>");
        }
        if req.path == "/gone" {
            return Reply::redirect("login.php?redirect=gone");
        }
        if !cookie.split(';').any(|c| c.trim() == "sess=good") {
            return Reply::html(
                "<html><body>Please log in<form id=login action=login.php></form></body></html>",
            );
        }
        match board_page(&req.path, 1, 3) {
            Some(html) => Reply::html(html),
            None => Reply::status(404),
        }
    })
    .await;
    let session = |cookie: &str| {
        format!("[session]\ncookies = [\"{cookie}\"]\nlogged_out = \"form#login\"\nlogin_url = 'login\\.php'\n{FAST}")
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let crawler = crawler_in(dir.path());

    // A stale cookie: the first page is the login form; the site stops.
    let (reports, docs, events) = pass(
        &crawler,
        vec![board_profile(
            "gated",
            &server.url("/"),
            &session("sess=stale"),
        )],
    )
    .await;
    assert_eq!(reports[0].outcome, SiteOutcome::LoggedOut);
    assert!(docs.is_empty());
    assert_eq!(events, ["logged-out"]);
    assert_eq!(server.hits().len(), 1);

    // Run again with the same cookie: not one request, still stopped.
    let (reports, _, _) = pass(
        &crawler,
        vec![board_profile(
            "gated",
            &server.url("/"),
            &session("sess=stale"),
        )],
    )
    .await;
    assert_eq!(reports[0].outcome, SiteOutcome::LoggedOut);
    assert_eq!(server.hits().len(), 1);

    // The operator renews the cookie: the site is crawled, cookie sent.
    let (reports, docs, _) = pass(
        &crawler,
        vec![board_profile(
            "gated",
            &server.url("/"),
            &session("sess=good"),
        )],
    )
    .await;
    assert_eq!(reports[0].outcome, SiteOutcome::Finished);
    assert_eq!(docs.len(), 3);
    assert!(server.hits().iter().skip(1).all(|h| h
        .headers
        .get("cookie")
        .is_some_and(|c| c.contains("sess=good"))));
    assert!(
        server.hits_of("/login.php").is_empty(),
        "the login page is never crawled"
    );

    // A redirect to the login page is noticed without following it.
    let dir = tempfile::tempdir().expect("tempdir");
    let crawler = crawler_in(dir.path());
    let profile = board_profile("gated2", &server.url("/"), &session("sess=good"))
        .with_seeds(vec![url::Url::parse(&server.url("/gone")).expect("url")]);
    let (reports, _, _) = pass(&crawler, vec![profile]).await;
    assert_eq!(reports[0].outcome, SiteOutcome::LoggedOut);
    assert!(server
        .hits()
        .iter()
        .all(|h| !h.path.starts_with("/login.php")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_behind_a_captcha_stops_for_a_person_and_resumes_with_an_imported_session() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Two pages come; then, without the clearance cookie a person gets by
    // solving it in a browser, every page is a CAPTCHA.
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let server = TestServer::start(move |req| {
        let cleared = req
            .header("cookie")
            .is_some_and(|c| c.split(';').any(|c| c.trim() == "clearance=person-was-here"));
        if count.fetch_add(1, Ordering::SeqCst) >= 2 && !cleared {
            return Reply::html(
                "<html><body><h2>请输入验证码 / Enter the code</h2><form method=post>\
                 <img src='/captcha.php?r=7'><input name=captcha_code><button>进入</button></form></body></html>",
            );
        }
        match board_page(&req.path, 1, 4) {
            Some(html) => Reply::html(html),
            None => Reply::status(404),
        }
    })
    .await;
    let profile = || {
        board_profile(
            "walled",
            &server.url("/"),
            &format!("concurrency = 1\n{FAST}"),
        )
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let crawler = crawler_in(dir.path());

    // The third page is the CAPTCHA: the site stops there, and says so once.
    let (reports, docs, events) = pass(&crawler, vec![profile()]).await;
    let SiteOutcome::NeedsHuman { reason } = &reports[0].outcome else {
        panic!("{:?}", reports[0].outcome);
    };
    assert!(reason.contains("a CAPTCHA page"), "{reason}");
    assert_eq!(docs.len(), 1, "one topic came before the wall");
    assert_eq!(
        events.iter().filter(|e| *e == "needs-human").count(),
        1,
        "{events:?}"
    );
    assert_eq!(server.hits().len(), 3, "not one request after the wall");
    let state = crawler
        .with_frontier(|f| f.site_state("walled"))
        .expect("state");
    assert!(
        state
            .needs_human()
            .is_some_and(|r| r.ends_with("/topic?t=2")),
        "{state:?}"
    );

    // The next pass does not knock again, nor tell the operator again.
    let (reports, _, events) = pass(&crawler, vec![profile()]).await;
    assert!(matches!(reports[0].outcome, SiteOutcome::NeedsHuman { .. }));
    assert!(!events.iter().any(|e| e == "needs-human"), "{events:?}");
    assert_eq!(server.hits().len(), 3);

    // A person solves it and the operator imports the session: the site
    // resumes, every request carrying the cookie, and finishes the board.
    let before = chrono::Utc::now().timestamp_millis() - 1;
    let cookies = crawler::parse_cookie_header("clearance=person-was-here").expect("cookie");
    crawler
        .with_frontier(|f| f.import_session("walled", &cookies, before + 1))
        .expect("import");
    assert_eq!(
        crawler.sessions_imported_since(before).expect("query"),
        ["walled"]
    );
    let (reports, docs, _) = pass(&crawler, vec![profile()]).await;
    assert_eq!(reports[0].outcome, SiteOutcome::Finished);
    assert_eq!(docs.len(), 3, "the three topics left");
    assert!(server.hits().iter().skip(3).all(|h| h
        .headers
        .get("cookie")
        .is_some_and(|c| c.contains("clearance=person-was-here"))));
    let state = crawler
        .with_frontier(|f| f.site_state("walled"))
        .expect("state");
    assert_eq!(state.needs_human(), None);
    let health = crawler
        .with_frontier(|f| f.site_health("walled", chrono::Utc::now().timestamp_millis()))
        .expect("health");
    assert_eq!(
        health.pages_24h,
        2 + 3,
        "two pages before the wall, three after"
    );
    assert!(health.last_success.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_one_off_crawl_site_still_crawls_a_whole_board() {
    let server = TestServer::start(|req| match board_page(&req.path, 2, 4) {
        Some(html) => Reply::html(html),
        None => Reply::status(404),
    })
    .await;
    let profile = board_profile("once", &server.url("/"), FAST);
    let fetcher = Fetcher::new(Transport::Direct, FetchOptions::default()).expect("fetcher");
    let (tx, mut rx) = mpsc::channel(64);
    let mut fetched = 0;
    let stats = crawl_site(&fetcher, &profile, tx, |e| {
        if let CrawlEvent::Fetched { .. } = e {
            fetched += 1;
        }
    })
    .await;
    let mut docs = Vec::new();
    while let Some(d) = rx.recv().await {
        docs.push(d);
    }
    assert_eq!(docs.len(), 8);
    assert_eq!((stats.pages, stats.documents, fetched), (10, 8, 10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_a_site_sets_survive_a_restart() {
    // The board rotates the session on the first visit: the profile's
    // cookie is good once, then only the one it set is.
    let server = TestServer::start(|req| {
        let cookie = req.header("cookie").unwrap_or_default();
        let has = |v: &str| cookie.split(';').any(|c| c.trim() == v);
        if has("sess=rotated") {
            Reply::html("<p>welcome back</p>")
        } else if has("sess=from-profile") && req.path == "/" {
            Reply::html("<p>welcome</p>").header("set-cookie", "sess=rotated; Path=/; HttpOnly")
        } else {
            Reply::html("<form id=login></form>")
        }
    })
    .await;
    let profile = board_profile(
        "rotating",
        &server.url("/"),
        &format!("[session]\ncookies = [\"sess=from-profile\"]\n{FAST}"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.db");
    let fetcher = || {
        Fetcher::new(Transport::Direct, FetchOptions::default())
            .expect("fetcher")
            .with_cookie_vault(crawler::CookieVault::open(&state).expect("vault"))
    };
    let page = |path: &str| url::Url::parse(&server.url(path)).expect("url");
    fetcher()
        .fetch(&profile, &page("/"))
        .await
        .expect("first visit");
    // A new process: the rotated cookie is sent, not the profile's.
    let restarted = fetcher();
    restarted
        .fetch(&profile, &page("/topic"))
        .await
        .expect("after restart");
    let sent = server.hits_of("/topic")[0]
        .headers
        .get("cookie")
        .cloned()
        .unwrap_or_default();
    assert_eq!(sent, "sess=rotated");
    // Without the vault the rotated cookie is lost.
    Fetcher::new(Transport::Direct, FetchOptions::default())
        .expect("fetcher")
        .fetch(&profile, &page("/topic"))
        .await
        .expect("fetch");
    let sent = server.hits_of("/topic")[1]
        .headers
        .get("cookie")
        .cloned()
        .unwrap_or_default();
    assert_eq!(sent, "sess=from-profile");
}
