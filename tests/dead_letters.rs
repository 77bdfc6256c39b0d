//! `leakwatch run` with one document that keeps failing (a failure injected
//! for that document id, as debug builds allow): the document is tried three
//! times, set aside as a dead letter (in `leakwatch sites`, the log and the
//! metrics), the rest of the demo market is indexed, the service keeps
//! running, and after a restart the document is not delivered again.
//! `crawl --once` goes through the same consume loop and sets it aside too.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{demo_server, free_port, repo, write_demo_profiles, Killed, BIN};

/// A listing of the demo market that raises a mufg-group alert.
const BAD_DOC: &str = "demo-market:10001";

fn wait_for(what: &str, timeout: Duration, log: &Path, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < timeout,
            "timed out waiting for {what}\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn metrics(port: u16) -> String {
    let mut out = String::new();
    if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
        let _ = s.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
        let _ = s.read_to_string(&mut out);
    }
    out
}

fn start_service(config: &Path, log: &Path) -> Killed {
    let log = std::fs::File::create(log).expect("log file");
    common::start_run(config, log, &[("LEAKWATCH_TEST_FAIL_DOCUMENT", BAD_DOC)])
}

/// `leakwatch sites --json` on the data dir: one JSON object a site.
fn sites(data: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(["sites", "--json"])
        .output()
        .expect("leakwatch sites");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn dead_letters(data: &Path) -> Vec<serde_json::Value> {
    sites(data)
        .iter()
        .flat_map(|s| s["dead_letters"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// The demo market's profiles (served at `root`) in `sites/` and the
/// mufg-group watchlist in `watchlists/` of a new temporary folder.
fn demo_folders(root: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let lists = dir.path().join("watchlists");
    std::fs::create_dir_all(&lists).expect("mkdir");
    write_demo_profiles(&dir.path().join("sites"), root, |text| text);
    std::fs::copy(
        repo().join("examples/watchlists/mufg-group.toml"),
        lists.join("mufg-group.toml"),
    )
    .expect("copy watchlist");
    dir
}

#[test]
fn a_document_that_keeps_failing_is_set_aside_and_the_service_goes_on() {
    let (_market, root) = demo_server();
    let dir = demo_folders(&root);
    let port = free_port();
    let config = dir.path().join("leakwatch.toml");
    std::fs::write(
        &config,
        format!(
            r#"tor = "off"
sites = "sites"
watchlists = "watchlists"
data_dir = "data"
metrics_addr = "127.0.0.1:{port}"
[schedule]
recrawl_minutes = 600
reload_poll_secs = 600
commit_every_secs = 1
[[sinks]]
kind = "jsonl"
name = "file"
path = "alerts.jsonl"
"#
        ),
    )
    .expect("write config");
    let data = dir.path().join("data");
    let log = dir.path().join("run.log");
    let mut service = start_service(&config, &log);

    // Every document of the demo's sites goes through, the bad one included.
    wait_for(
        "the 112 demo documents",
        Duration::from_secs(120),
        &log,
        || metrics(port).contains("leakwatch_documents_processed_total 112"),
    );
    wait_for("the index commit", Duration::from_secs(30), &log, || {
        metrics(port).contains("leakwatch_index_docs 111")
    });
    let text = metrics(port);
    assert!(
        text.contains("leakwatch_documents_dead_lettered_total 1\n"),
        "{text}"
    );
    assert!(
        service.0.try_wait().expect("wait").is_none(),
        "the service stopped\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let letters = dead_letters(&data);
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = &letters[0];
    assert_eq!(letter["doc_id"], BAD_DOC);
    assert_eq!(letter["site"], "demo-market");
    assert_eq!(letter["attempts"], 3);
    assert_eq!(letter["times"], 1);
    assert!(
        letter["error"]
            .as_str()
            .is_some_and(|e| e.contains("LEAKWATCH_TEST_FAIL_DOCUMENT")),
        "{letter}"
    );
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        logged.matches("document failed; trying again").count(),
        2,
        "{logged}"
    );
    assert!(logged.contains("set aside as a dead letter"), "{logged}");
    assert!(logged.contains(BAD_DOC), "{logged}");
    // Its alert was never raised; the other documents' were.
    let alerts = std::fs::read_to_string(dir.path().join("alerts.jsonl")).unwrap_or_default();
    assert!(!alerts.contains(BAD_DOC), "{alerts}");
    assert!(alerts.lines().count() >= 5, "{alerts}");

    // The plain listing shows it under its site.
    let plain = Command::new(BIN)
        .arg("--data-dir")
        .arg(&data)
        .arg("sites")
        .output()
        .expect("leakwatch sites");
    let plain = String::from_utf8_lossy(&plain.stdout);
    assert!(
        plain.contains("demo-market: ") && plain.contains("1 dead letters"),
        "{plain}"
    );
    assert!(
        plain.contains(&format!("  dead letter {BAD_DOC} (")),
        "{plain}"
    );

    // A restart does not bring it back: it was acknowledged, not left to be
    // redelivered first (a crash loop under a restart policy).
    drop(service);
    service = start_service(&config, &log);
    wait_for("the restarted pass", Duration::from_secs(60), &log, || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("pass finished")
            .count()
            >= 3
    });
    let text = metrics(port);
    assert!(
        text.contains("leakwatch_documents_dead_lettered_total 0\n"),
        "{text}"
    );
    assert_eq!(dead_letters(&data)[0]["times"], 1);
    assert!(service.0.try_wait().expect("wait").is_none());
}

#[test]
fn crawl_once_sets_a_failing_document_aside_and_indexes_the_rest() {
    // The same consume loop as the service's: before it, one bad document
    // failed the whole pass and left every document unacknowledged.
    let (_market, root) = demo_server();
    let dir = demo_folders(&root);
    let config = dir.path().join("leakwatch.toml");
    std::fs::write(
        &config,
        "tor = \"off\"\nsites = \"sites\"\nwatchlists = \"watchlists\"\ndata_dir = \"data\"\n",
    )
    .expect("write config");
    let data = dir.path().join("data");
    let out = Command::new(BIN)
        .args([
            "crawl",
            "--once",
            "--config",
            config.to_str().expect("path"),
        ])
        .env("LEAKWATCH_TEST_FAIL_DOCUMENT", BAD_DOC)
        .env_remove("RUST_LOG")
        .output()
        .expect("leakwatch crawl --once");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("111 documents indexed"), "{stdout}");
    assert!(
        stdout.contains("1 documents set aside as dead letters"),
        "{stdout}"
    );
    assert!(!stdout.contains(BAD_DOC), "its alert was raised: {stdout}");
    assert!(stderr.contains("set aside as a dead letter"), "{stderr}");
    let letters = dead_letters(&data);
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["doc_id"], BAD_DOC);
    assert_eq!(letters[0]["attempts"], 3);
}
