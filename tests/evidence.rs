//! End-to-end tests of the evidence archive, through the real binary and a
//! Shift_JIS market served on 127.0.0.1: a crawl that alerts keeps the page
//! as the server sent it (bytes before decoding), `leakwatch evidence ID`
//! writes a bundle that `sha256sum -c` verifies after Python's zipfile
//! unpacks it; a recrawl with a changed price keeps version 2 with the
//! change; `evidence gc` removes an old page of no alert and keeps the
//! alert's; a crawl killed with SIGKILL leaves every recorded alert with a
//! stored page whose SHA-256 matches, before and after the crawl resumes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

mod common;
use common::{repo, Killed, BIN};

/// The market: `index.cgi` links every item; `item.cgi?id=N` is a listing.
/// Item 1..=`alerting` offer MUFG accounts (a watched bank, in a sale);
/// the rest sell something nobody watches. Pages are Shift_JIS, as 5ch-style
/// Japanese boards serve them.
struct Market {
    items: usize,
    alerting: usize,
    /// Item 1's price, changed by a test between crawls.
    price: Mutex<String>,
    /// A pause before each answer (the kill test's crawl must take a while).
    delay: Duration,
}

impl Market {
    fn page(&self, path: &str) -> Option<Vec<u8>> {
        let html = if path == "/index.cgi" {
            let items: String = (1..=self.items)
                .map(|i| format!("<li><a href=\"item.cgi?id={i}\">出品 {i}</a></li>"))
                .collect();
            format!("<html><head><meta charset=\"Shift_JIS\"><title>市場</title></head><body><ul class=\"items\">{items}</ul></body></html>")
        } else {
            let id: usize = path.strip_prefix("/item.cgi?id=")?.parse().ok()?;
            if id == 0 || id > self.items {
                return None;
            }
            let price = if id == 1 {
                self.price.lock().expect("lock").clone()
            } else {
                format!("{id}000円")
            };
            let (title, body) = if id <= self.alerting {
                (
                    format!("三菱UFJ銀行 口座 売ります #{id}"),
                    "三菱ＵＦＪ銀行のネットバンキング口座、ログイン情報付き。即納。",
                )
            } else {
                (format!("中古の自転車 #{id}"), "よく走ります。")
            };
            format!(
                "<html><head><meta charset=\"Shift_JIS\"><title>{title}</title></head><body>\
                 <div class=\"item\" data-id=\"{id}\"><h1 class=\"title\">{title}</h1>\
                 <span class=\"seller\">売り手{id}</span><span class=\"price\">{price}</span>\
                 <div class=\"body\">{body}</div></div></body></html>"
            )
        };
        Some(encoding_rs::SHIFT_JIS.encode(&html).0.into_owned())
    }
}

/// Serves `market` on a loopback port until the process ends; its root URL.
fn serve(market: Arc<Market>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let root = format!("http://{}/", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let market = market.clone();
            std::thread::spawn(move || answer(stream, &market));
        }
    });
    root
}

fn answer(mut stream: TcpStream, market: &Market) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => {}
        }
    }
    std::thread::sleep(market.delay);
    let path = request_line.split(' ').nth(1).unwrap_or("/").to_owned();
    let response = match market.page(&path) {
        Some(body) => {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=Shift_JIS\r\nContent-Length: {}\r\nETag: \"{}\"\r\nConnection: close\r\n\r\n",
                body.len(),
                hex::encode(&Sha256::digest(&body)[..8])
            )
            .into_bytes();
            r.extend_from_slice(&body);
            r
        }
        None => {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
    };
    let _ = stream.write_all(&response);
}

/// The market's bytes for `path`, fetched as any HTTP client would.
fn fetch_raw(root: &str, path: &str) -> Vec<u8> {
    let addr = root.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut all = Vec::new();
    stream.read_to_end(&mut all).expect("read");
    let at = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end")
        + 4;
    all[at..].to_vec()
}

/// A data folder, config, profile and the MUFG watchlist.
fn setup(dir: &Path, root: &str, evidence: &str) -> std::path::PathBuf {
    let sites = dir.join("sites");
    let watch = dir.join("watchlists");
    std::fs::create_dir_all(&sites).expect("mkdir");
    std::fs::create_dir_all(&watch).expect("mkdir");
    std::fs::copy(
        repo().join("examples/watchlists/mufg-group.toml"),
        watch.join("mufg-group.toml"),
    )
    .expect("watchlist");
    std::fs::write(
        sites.join("sjis-market.toml"),
        format!(
            r#"name = "sjis-market"
base_url = "{root}"
seeds = ["index.cgi"]
lang = "ja"
max_pages = 1000

[rate_limit]
requests_per_minute = 6000
burst = 20

[recrawl]
list_interval = "1s"
topic_interval = "1s"

[links]
follow = ["ul.items a"]
allow = ['/item\.cgi\?id=\d+$', '/index\.cgi$']

[topic]
url = 'item\.cgi\?id=\d+'
kind = "listing"
title = "h1.title"
body = "div.body"
seller = "span.seller"
price = "span.price"
listing_number = {{ css = "div.item", attr = "data-id" }}
"#
        ),
    )
    .expect("profile");
    let config = dir.join("leakwatch.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\ntor = \"off\"\nsites = \"sites\"\nwatchlists = \"watchlists\"\n{evidence}\n"
        ),
    )
    .expect("config");
    config
}

fn leakwatch(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .env("LEAKWATCH_DATA_DIR", dir.join("data"))
        .args(args)
        .output()
        .expect("leakwatch runs")
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn crawl(dir: &Path) {
    ok(
        leakwatch(dir, &["crawl", "--config", "leakwatch.toml", "--once"]),
        "crawl",
    );
}

/// `(alert id, doc id)` of every alert, by `leakwatch alerts --json`.
fn alerts(dir: &Path) -> Vec<(i64, String)> {
    ok(leakwatch(dir, &["alerts", "--json"]), "alerts")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("alert JSON");
            (
                v["id"].as_i64().expect("id"),
                v["doc_id"].as_str().expect("doc_id").to_owned(),
            )
        })
        .collect()
}

/// Unzips `zip` into `into` with Python's zipfile (no leakwatch code).
fn unzip(zip: &Path, into: &Path) {
    let status = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; z.extractall(sys.argv[2])",
        ])
        .arg(zip)
        .arg(into)
        .status()
        .expect("python3 runs (needed by this test)");
    assert!(
        status.success(),
        "python3 zipfile could not read {}",
        zip.display()
    );
}

fn sha256sum_check(dir: &Path, manifest: &str) {
    let out = Command::new("sha256sum")
        .args(["-c", "--strict", manifest])
        .current_dir(dir)
        .stderr(Stdio::piped())
        .output()
        .expect("sha256sum runs");
    assert!(
        out.status.success(),
        "sha256sum -c {manifest}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bundle_verifies_versions_record_changes_and_gc_keeps_alert_evidence() {
    let market = Arc::new(Market {
        items: 3,
        alerting: 1,
        price: Mutex::new("5000円".into()),
        delay: Duration::ZERO,
    });
    let root = serve(market.clone());
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    setup(dir, &root, "evidence = \"all\"\nevidence_days = 7");
    crawl(dir);

    let alerts = alerts(dir);
    assert_eq!(
        alerts.len(),
        1,
        "one listing offers MUFG accounts: {alerts:?}"
    );
    let (alert_id, doc_id) = alerts[0].clone();

    // The bundle of the alert, checked with tools that are not leakwatch.
    let out = ok(
        leakwatch(
            dir,
            &["evidence", &alert_id.to_string(), "--out", "alert.zip"],
        ),
        "evidence",
    );
    assert!(out.contains("alert.zip"), "says where: {out}");
    let unpacked = dir.join("unpacked");
    unzip(&dir.join("alert.zip"), &unpacked);
    sha256sum_check(&unpacked, "SHA256SUMS");
    sha256sum_check(&unpacked, "SHA256SUMS.sha256");
    let sums = std::fs::read_to_string(unpacked.join("SHA256SUMS")).expect("manifest");
    for file in ["page.raw", "page.txt", "metadata.json"] {
        assert!(sums.contains(&format!("  {file}\n")), "{file} in {sums}");
    }
    // The page as the server sent it: Shift_JIS bytes, not decoded text.
    let raw = std::fs::read(unpacked.join("page.raw")).expect("page.raw");
    assert_eq!(raw, fetch_raw(&root, "item.cgi?id=1"));
    assert!(std::str::from_utf8(&raw).is_err(), "Shift_JIS is not UTF-8");
    let text = std::fs::read_to_string(unpacked.join("page.txt")).expect("page.txt");
    assert!(text.contains("三菱UFJ銀行 口座 売ります"), "{text}");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(unpacked.join("metadata.json")).expect("metadata"))
            .expect("JSON");
    let page = &meta["page"];
    assert_eq!(page["status"], 200);
    assert_eq!(page["encoding"], "Shift_JIS");
    assert_eq!(page["transport"], "direct");
    assert_eq!(page["final_url"], format!("{root}item.cgi?id=1"));
    assert_eq!(page["sha256"], hex::encode(Sha256::digest(&raw)));
    assert!(
        page["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .any(|h| h[0] == "content-type" && h[1] == "text/html; charset=Shift_JIS"),
        "{page}"
    );
    assert_eq!(meta["alert"]["id"], alert_id);
    assert_eq!(meta["doc_id"], doc_id);

    // Without --out: evidence-ID.zip in the current folder.
    ok(
        leakwatch(dir, &["evidence", &alert_id.to_string()]),
        "evidence",
    );
    assert!(dir.join(format!("evidence-{alert_id}.zip")).exists());

    // The seller lowers the price: the recrawl keeps version 2.
    *market.price.lock().expect("lock") = "3000円".into();
    std::thread::sleep(Duration::from_millis(1100)); // the topic interval
    crawl(dir);
    let out = ok(
        leakwatch(dir, &["evidence", &doc_id, "--out", "doc.zip", "--json"]),
        "evidence doc",
    );
    let meta: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    let versions = meta["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 2, "{meta}");
    assert_eq!(meta["version"], 2);
    let change = &versions[1]["changes"][0];
    assert_eq!(change["field"], "price", "{}", versions[1]);
    assert_eq!(change["from"], "5000円");
    assert_eq!(change["to"], "3000円");
    assert_ne!(versions[0]["sha256"], versions[1]["sha256"]);
    // The alert's own bundle still shows the page as it was when it was raised.
    let again = dir.join("again");
    ok(
        leakwatch(
            dir,
            &["evidence", &alert_id.to_string(), "--out", "again.zip"],
        ),
        "evidence",
    );
    unzip(&dir.join("again.zip"), &again);
    assert_eq!(std::fs::read(again.join("page.raw")).expect("raw"), raw);

    // gc: pages of no alert older than evidence_days go, the alert's stay.
    let db = rusqlite::Connection::open(dir.join("data/state.db")).expect("db");
    let forty_days_ago = chrono::Utc::now().timestamp() - 40 * 86_400;
    db.execute(
        "UPDATE evidence_captures SET fetched_at_unix = ?1",
        [forty_days_ago],
    )
    .expect("age every page");
    let other_doc: String = db
        .query_row(
            "SELECT doc_id FROM evidence_versions WHERE doc_id != ?1 AND title LIKE '中古%' LIMIT 1",
            [&doc_id],
            |r| r.get(0),
        )
        .expect("a page of no alert was kept (evidence = \"all\")");
    let before: i64 = db
        .query_row("SELECT count(*) FROM evidence_captures", [], |r| r.get(0))
        .expect("count");
    let out = ok(
        leakwatch(
            dir,
            &["evidence", "gc", "--config", "leakwatch.toml", "--json"],
        ),
        "gc",
    );
    let report: serde_json::Value = serde_json::from_str(out.trim()).expect("gc JSON");
    let after: i64 = db
        .query_row("SELECT count(*) FROM evidence_captures", [], |r| r.get(0))
        .expect("count");
    assert_eq!(report["expired"].as_i64(), Some(before - after), "{report}");
    assert_eq!(
        after, 2,
        "the alerting listing's two versions stay: {report}"
    );
    let gone = leakwatch(dir, &["evidence", &other_doc]);
    assert_eq!(gone.status.code(), Some(1), "{other_doc}'s page is gone");
    let kept = dir.join("kept");
    ok(
        leakwatch(
            dir,
            &["evidence", &alert_id.to_string(), "--out", "kept.zip"],
        ),
        "evidence after gc",
    );
    unzip(&dir.join("kept.zip"), &kept);
    sha256sum_check(&kept, "SHA256SUMS");
    // Every row left names a file that is there.
    assert_every_capture_matches(dir);
}

/// Every capture row names a stored page that decompresses to bytes whose
/// SHA-256 is the row's; every alert has one.
fn assert_every_capture_matches(dir: &Path) {
    let db = rusqlite::Connection::open(dir.join("data/state.db")).expect("db");
    let shas: Vec<String> = db
        .prepare("SELECT sha256 FROM evidence_captures")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows");
    for sha in &shas {
        let path = dir
            .join("data/evidence")
            .join(&sha[..2])
            .join(format!("{}.zst", &sha[2..]));
        let stored = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let raw = zstd::stream::decode_all(&stored[..]).expect("a whole zstd frame");
        assert_eq!(
            &hex::encode(Sha256::digest(&raw)),
            sha,
            "{}",
            path.display()
        );
    }
    let missing: Vec<(i64, String)> = db
        .prepare(
            "SELECT a.id, a.doc_id FROM alerts a WHERE NOT EXISTS (
                SELECT 1 FROM evidence_versions v JOIN evidence_captures c ON c.sha256 = v.sha256
                WHERE v.doc_id = a.doc_id)",
        )
        .expect("query")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert!(missing.is_empty(), "alerts without evidence: {missing:?}");
}

#[test]
fn kill_9_mid_crawl_leaves_every_alert_with_matching_evidence() {
    let market = Arc::new(Market {
        items: 120,
        alerting: 120,
        price: Mutex::new("5000円".into()),
        delay: Duration::from_millis(15),
    });
    let root = serve(market);
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    setup(dir, &root, "");
    let child = Command::new(BIN)
        .current_dir(dir)
        .env("LEAKWATCH_DATA_DIR", dir.join("data"))
        .args(["crawl", "--config", "leakwatch.toml", "--once"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("crawl starts");
    let mut child = Killed(child);
    // Kill as soon as a few alerts are recorded, mid-crawl.
    let deadline = Instant::now() + Duration::from_secs(120);
    let db_path = dir.join("data/state.db");
    loop {
        assert!(Instant::now() < deadline, "no alert within 2 minutes");
        assert!(
            child.0.try_wait().expect("wait").is_none(),
            "the crawl ended before the kill"
        );
        let n: i64 = rusqlite::Connection::open(&db_path)
            .and_then(|db| db.query_row("SELECT count(*) FROM alerts", [], |r| r.get(0)))
            .unwrap_or(0);
        if n >= 5 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-9", &pid])
        .status()
        .expect("kill")
        .success());
    let _ = child.0.wait();
    let killed_with = alerts(dir).len();
    assert!(
        (5..120).contains(&killed_with),
        "killed mid-crawl: {killed_with} alerts"
    );
    assert_every_capture_matches(dir);

    // The crawl resumes: documents fetched before the kill come back from
    // the outbox with their pages, and every alert has its evidence.
    crawl(dir);
    let all = alerts(dir);
    assert_eq!(all.len(), 120, "every listing alerts once");
    assert_every_capture_matches(dir);
    for (id, _) in all.iter().step_by(40) {
        let zip = format!("a{id}.zip");
        ok(
            leakwatch(dir, &["evidence", &id.to_string(), "--out", &zip]),
            "evidence",
        );
        let into = dir.join(format!("a{id}"));
        unzip(&dir.join(&zip), &into);
        sha256sum_check(&into, "SHA256SUMS");
    }
}
