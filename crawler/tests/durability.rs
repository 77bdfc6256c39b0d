//! kill -9 safety of the durable frontier, with a real child process: the
//! test binary runs itself as the crawler (the ignored `child_crawl`), is
//! SIGKILLed mid-crawl, restarted, and must end with exactly the documents
//! of an uninterrupted run, having fetched nothing twice except the pages in
//! flight at the moment of the kill.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crawler::{CrawlOptions, Crawler, FetchOptions, Fetcher, Frontier, Transport};
use support::{board_page, board_profile, Reply, TestServer};
use tokio::sync::mpsc;

const LIST_PAGES: u32 = 4;
const PER_PAGE: u32 = 15;
const CONCURRENCY: usize = 2;
const BASE_ENV: &str = "LEAKWATCH_TEST_CHILD_BASE";
const DIR_ENV: &str = "LEAKWATCH_TEST_CHILD_DIR";

/// One crawl pass with the frontier in `dir`; every document is appended
/// to `dir/docs.jsonl` and synced before its receipt is acknowledged.
async fn crawl_into(dir: &Path, base: &str) {
    let profile = board_profile(
        "board",
        base,
        &format!(
            "concurrency = {CONCURRENCY}\n[rate_limit]\nrequests_per_minute = 60000\nburst = 10"
        ),
    );
    let fetcher = Fetcher::new(Transport::Direct, FetchOptions::default()).expect("fetcher");
    let frontier = Frontier::open(&dir.join("state.db")).expect("frontier");
    let crawler = Crawler::new(Arc::new(fetcher), frontier, CrawlOptions::default());
    let (tx, mut rx) = mpsc::channel::<crawler::Delivery>(8);
    let consumer = {
        let crawler = crawler.clone();
        let path = dir.join("docs.jsonl");
        tokio::spawn(async move {
            let mut out = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("docs file");
            while let Some(d) = rx.recv().await {
                let line = serde_json::to_string(&d.document).expect("document serialises") + "\n";
                // One write call: a kill cannot split a line.
                out.write_all(line.as_bytes()).expect("write");
                out.sync_data().expect("sync");
                crawler.acknowledge(&[d.receipt]).expect("acknowledge");
            }
        })
    };
    crawler
        .crawl_once(vec![profile], tx, |_| {})
        .await
        .expect("frontier works");
    consumer.await.expect("consumer");
}

/// The crawler half, run only as a child process of the test below (which
/// runs in CI and SIGKILLs it); ignored so that `cargo test` does not also
/// run it on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of kill_9_mid_crawl_loses_nothing_and_repeats_nothing"]
async fn child_crawl() {
    let base = std::env::var(BASE_ENV)
        .expect("child_crawl is run by kill_9_mid_crawl_loses_nothing_and_repeats_nothing");
    let dir = std::env::var(DIR_ENV).expect("the parent sets the data folder");
    crawl_into(Path::new(&dir), &base).await;
}

fn spawn_child(base: &str, dir: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().expect("test binary path"))
        .args([
            "child_crawl",
            "--exact",
            "--ignored",
            "--test-threads=1",
            "--quiet",
        ])
        .env(BASE_ENV, base)
        .env(DIR_ENV, dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the child crawler")
}

/// Document id → (title, body), deduplicated (a redelivered document after
/// a kill may be written twice; it is the same document).
fn documents(dir: &Path) -> BTreeMap<String, (Option<String>, Option<String>)> {
    let text = std::fs::read_to_string(dir.join("docs.jsonl")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let d: crawler::Document =
                serde_json::from_str(l).expect("a whole line: written before the kill");
            (d.id, (d.title, d.body))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_crawl_loses_nothing_and_repeats_nothing() {
    let server = TestServer::start(|req| match board_page(&req.path, LIST_PAGES, PER_PAGE) {
        Some(html) => Reply::html(html).delayed(Duration::from_millis(15)),
        None => Reply::status(404),
    })
    .await;
    let base = server.url("/");
    let dir = tempfile::tempdir().expect("tempdir");

    // Kill the child once it is well into the crawl.
    let mut child = spawn_child(&base, dir.path());
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.hits().len() < 25 {
        assert!(
            Instant::now() < deadline,
            "the child crawler made no progress"
        );
        assert!(
            child.try_wait().expect("child status").is_none(),
            "the child ended before the kill"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().expect("SIGKILL the child");
    let status = child.wait().expect("reap the child");
    assert!(!status.success(), "the child was killed mid-crawl");
    let before_restart = documents(dir.path()).len();
    assert!(
        before_restart < (LIST_PAGES * PER_PAGE) as usize,
        "killed before the end"
    );

    // Restart: it finishes the crawl.
    let mut child = spawn_child(&base, dir.path());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("child status") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted crawler did not finish"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(status.success(), "the restarted crawl succeeds");
    let resumed = documents(dir.path());

    // Nothing fetched twice, except what was in flight when killed.
    let mut per_path: HashMap<String, usize> = HashMap::new();
    for hit in server.hits() {
        *per_path.entry(hit.path).or_default() += 1;
    }
    let twice: Vec<_> = per_path.iter().filter(|(_, n)| **n > 1).collect();
    assert!(per_path.values().all(|n| *n <= 2), "{twice:?}");
    assert!(
        twice.len() <= CONCURRENCY,
        "only the pages in flight at the kill are fetched again: {twice:?}"
    );
    assert_eq!(
        per_path.len(),
        (LIST_PAGES + LIST_PAGES * PER_PAGE) as usize
    );

    // The same documents as a run that was never interrupted.
    let clean = tempfile::tempdir().expect("tempdir");
    crawl_into(clean.path(), &base).await;
    let uninterrupted = documents(clean.path());
    assert_eq!(uninterrupted.len(), (LIST_PAGES * PER_PAGE) as usize);
    assert_eq!(resumed, uninterrupted);
}
