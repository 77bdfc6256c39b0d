//! End-to-end test of `leakwatch run`: the service crawls the demo market
//! over loopback and delivers alerts to a JSON-lines file, a webhook that
//! fails at first and then is down for a while (HMAC-signed, each alert
//! once) and a real SMTP dialogue; a watchlist dropped in while it runs is
//! retro-hunted; kill -9 mid-crawl and later restarts neither lose nor
//! duplicate (a delivery repeated by a crash carries the same delivery id or
//! Message-ID, which the receivers here, like real ones, keep once); a bad
//! watchlist is reported and the good ones kept; SIGHUP reloads; SIGTERM
//! exits 0 within the deadline with a searchable index.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

mod common;
use common::{
    demo_server, free_port, leakwatch_in as leakwatch, repo, wait_for, write_demo_profiles, Killed,
    BIN,
};

const SECRET: &str = "test-secret";

#[derive(Default)]
struct Webhook {
    /// Requests to refuse with 500 before accepting.
    fail_first: usize,
    seen: usize,
    /// alert_id → times accepted (each delivery id counts once, as an
    /// idempotent receiver does with `X-Leakwatch-Delivery`).
    accepted: BTreeMap<i64, usize>,
    delivery_ids: BTreeSet<String>,
    bad_signatures: usize,
}

async fn hook(
    State(state): State<Arc<Mutex<Webhook>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut s = state.lock().expect("lock");
    s.seen += 1;
    if s.seen <= s.fail_first {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(&body);
    let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    if headers
        .get("x-leakwatch-signature")
        .and_then(|v| v.to_str().ok())
        != Some(want.as_str())
    {
        s.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let Some(delivery) = headers
        .get("x-leakwatch-delivery")
        .and_then(|v| v.to_str().ok())
    else {
        return StatusCode::BAD_REQUEST;
    };
    if !s.delivery_ids.insert(delivery.to_owned()) {
        // Sent again after a crash: already processed.
        return StatusCode::OK;
    }
    let v: serde_json::Value = serde_json::from_slice(&body).expect("JSON body");
    *s.accepted
        .entry(v["alert_id"].as_i64().expect("alert_id"))
        .or_default() += 1;
    StatusCode::OK
}

/// The webhook receiver: a real HTTP server that can be taken down (its
/// port closed, so connections are refused) and brought back on the same
/// port.
struct Receiver {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    async fn start(state: Arc<Mutex<Webhook>>, addr: &str) -> Receiver {
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    stopped.await.ok();
                })
                .await
                .ok();
        });
        Receiver {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Closes the port and waits until the server is gone.
    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("the webhook receiver did not stop")
                .expect("receiver task");
        }
    }
}

/// A minimal SMTP server speaking the real dialogue; collects message bodies.
async fn smtp_server(messages: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let messages = messages.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = tokio::io::BufReader::new(read).lines();
                write.write_all(b"220 sink.test ESMTP\r\n").await.ok();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-sink.test\r\n250 8BITMIME\r\n",
                        "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                        "DATA" => {
                            write.write_all(b"354 go ahead\r\n").await.ok();
                            let mut body = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                body.push_str(&l);
                                body.push('\n');
                            }
                            // A mailbox keeps one copy per Message-ID: a
                            // message sent again after a crash is the same one.
                            let id = message_id(&body);
                            let mut messages = messages.lock().expect("lock");
                            assert!(id.is_some(), "a message without Message-ID");
                            if !messages.iter().any(|m| message_id(m) == id) {
                                messages.push(body);
                            }
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.ok();
                            break;
                        }
                        _ => b"502 unknown\r\n",
                    };
                    write.write_all(reply).await.ok();
                }
            });
        }
    });
    addr
}

/// The Message-ID header of a raw message.
fn message_id(message: &str) -> Option<String> {
    message
        .lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
        .map(|l| l[11..].trim().to_owned())
}

/// The alert header lines (`[severity] customer/asset …`) of a mail as the
/// SMTP sink received it (quoted-printable or base64 body decoded).
fn alert_lines(message: &str) -> Vec<String> {
    let (head, body) = message.split_once("\n\n").unwrap_or(("", message));
    let bytes = if head.contains("Content-Transfer-Encoding: base64") {
        base64_decode(body)
    } else {
        quoted_printable_decode(body)
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| l.starts_with('[') && l.contains("] "))
        .map(str::to_owned)
        .collect()
}

fn quoted_printable_decode(body: &str) -> Vec<u8> {
    let joined = body.replace("=\r\n", "").replace("=\n", "");
    let raw = joined.as_bytes();
    let mut bytes = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'=' && i + 2 < raw.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                bytes.push(b);
                i += 3;
                continue;
            }
        }
        bytes.push(raw[i]);
        i += 1;
    }
    bytes
}

fn base64_decode(body: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in body.bytes() {
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else {
            continue;
        };
        buffer = buffer << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

fn jsonl_alert_ids(path: &Path) -> Vec<i64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["alert_id"].as_i64())
        .collect()
}

fn start_service(config: &Path, log: &Path) -> Killed {
    common::start_run(config, std::fs::File::create(log).expect("log file"), &[])
}

#[test]
fn service_delivers_every_alert_exactly_once_and_survives_kill() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let webhook = Arc::new(Mutex::new(Webhook {
        fail_first: 3,
        ..Default::default()
    }));
    let mails = Arc::new(Mutex::new(Vec::new()));
    let digests = Arc::new(Mutex::new(Vec::new()));
    let (mut hook, smtp_addr, digest_addr) = runtime.block_on(async {
        (
            Receiver::start(webhook.clone(), "127.0.0.1:0").await,
            smtp_server(mails.clone()).await,
            smtp_server(digests.clone()).await,
        )
    });
    let hook_addr = hook.addr;

    let (_market, root) = demo_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let sites = dir.path().join("sites");
    let lists = dir.path().join("watchlists");
    std::fs::create_dir_all(&lists).expect("mkdir");
    // 10 requests a second: the crawl takes seconds, so the kill below
    // lands in the middle of it.
    write_demo_profiles(&sites, &root, |text| {
        text.replace("requests_per_minute = 6000", "requests_per_minute = 600")
            .replace("burst = 20", "burst = 1")
    });
    for name in [
        "mufg-group",
        "japan-post",
        "yahoo-japan",
        "jp-government",
        "melco",
    ] {
        std::fs::copy(
            repo().join(format!("examples/watchlists/{name}.toml")),
            lists.join(format!("{name}.toml")),
        )
        .expect("copy watchlist");
    }
    let metrics_port = free_port();
    let config = dir.path().join("leakwatch.toml");
    std::fs::write(
        &config,
        format!(
            r#"tor = "off"
sites = "sites"
watchlists = "watchlists"
data_dir = "data"
metrics_addr = "127.0.0.1:{metrics_port}"
[schedule]
recrawl_minutes = 600
reload_poll_secs = 600
commit_every_secs = 1
shutdown_deadline_secs = 10
[[sinks]]
kind = "jsonl"
name = "file"
path = "alerts.jsonl"
[[sinks]]
kind = "webhook"
name = "soc"
url = "http://{hook_addr}/hook"
secret = "{SECRET}"
timeout_secs = 5
[[sinks]]
kind = "email"
name = "mail"
customers = ["mufg-group"]
smtp = "{smtp_addr}"
security = "none"
from = "leakwatch@example.org"
to = ["soc@example.org"]
digest = "immediate"
[[sinks]]
kind = "email"
name = "digest"
customers = ["jp-government", "yahoo-japan"]
smtp = "{digest_addr}"
security = "none"
from = "leakwatch@example.org"
to = ["cti@example.org"]
digest = "2s"
"#
        ),
    )
    .expect("write config");
    let jsonl = dir.path().join("alerts.jsonl");
    let log = dir.path().join("run.log");
    let service = start_service(&config, &log);
    let show_log = || std::fs::read_to_string(&log).unwrap_or_default();

    // kill -9 mid-run, as soon as the first alert is out: the crawl, the
    // index and the deliveries are all under way.
    wait_for("a first alert", Duration::from_secs(90), || {
        !jsonl_alert_ids(&jsonl).is_empty()
    });
    drop(service);
    let service = start_service(&config, &log);

    // 50 designed alerts less the 3 of the NEC watchlist held back.
    wait_for(
        "47 alerts in the JSONL sink",
        Duration::from_secs(90),
        || jsonl_alert_ids(&jsonl).len() >= 47,
    );
    wait_for("webhook deliveries", Duration::from_secs(60), || {
        webhook.lock().expect("lock").accepted.len() >= 47
    });

    // A second service on the same data dir is refused, naming the fix.
    let second = Command::new(BIN)
        .args(["run", "--config"])
        .arg(&config)
        .current_dir(dir.path())
        .output()
        .expect("second service");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "{stderr}");
    assert!(
        stderr.contains("another leakwatch process") && stderr.contains("--data-dir"),
        "{stderr}"
    );

    // The receiver goes down (connections refused) for a while: the alerts
    // raised meanwhile wait in the durable outbox, across a kill -9 too.
    runtime.block_on(hook.stop());
    assert!(
        std::net::TcpStream::connect(hook_addr).is_err(),
        "receiver still up"
    );

    // A new watchlist dropped in: retro-hunted without a restart. The poll
    // is 10 minutes away, so this is the folder watch at work.
    std::fs::copy(
        repo().join("examples/watchlists/nec.toml"),
        lists.join("nec.toml"),
    )
    .expect("copy");
    wait_for(
        "NEC alerts from the retro-hunt",
        Duration::from_secs(60),
        || jsonl_alert_ids(&jsonl).len() >= 50,
    );
    wait_for(
        "failed webhook deliveries while the receiver is down",
        Duration::from_secs(30),
        || show_log().matches("delivery failed").count() >= 3,
    );

    // A broken watchlist dropped in is reported; the good ones stay.
    std::fs::write(
        lists.join("broken.toml"),
        "customer = \"x\"\n[[assets]]\nid = \"a\"\nterms = [\"\"]\n",
    )
    .expect("write");
    wait_for(
        "the broken watchlist reported",
        Duration::from_secs(30),
        || show_log().contains("watchlists not reloaded; keeping the previous version"),
    );
    std::fs::remove_file(lists.join("broken.toml")).expect("remove");
    // SIGHUP reloads site profiles and watchlists.
    let pid = service.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("kill")
        .success());
    wait_for("a SIGHUP reload", Duration::from_secs(30), || {
        show_log().contains("site profiles reloaded")
    });

    // The last documents reach the index at the pipeline's next commit (by
    // its time rule): read the metrics until the index holds all 112.
    let metrics = runtime.block_on(async {
        let get = |path: &'static str| async move {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", metrics_port))
                .await
                .expect("connect");
            s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .expect("write");
            let mut out = String::new();
            tokio::io::AsyncReadExt::read_to_string(&mut s, &mut out)
                .await
                .expect("read");
            out
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let metrics = get("/metrics").await;
            if metrics.contains("leakwatch_index_docs 112")
                || tokio::time::Instant::now() >= deadline
            {
                break (metrics, get("/healthz").await);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    // Counters are this process's (it started after the kill); the index
    // holds all 112 documents of the demo's sites.
    for series in [
        "leakwatch_pages_fetched_total{site=\"demo-market\"}",
        "leakwatch_documents_processed_total",
        "leakwatch_alerts_raised_total",
        "leakwatch_index_docs 112",
    ] {
        assert!(metrics.0.contains(series), "{series}\n{}", metrics.0);
    }
    assert!(metrics.1.ends_with("ok\n"), "{}", metrics.1);

    wait_for("20 alerts in digest mails", Duration::from_secs(30), || {
        digests
            .lock()
            .expect("lock")
            .iter()
            .map(|m| alert_lines(m).len())
            .sum::<usize>()
            >= 20
    });
    assert_eq!(webhook.lock().expect("lock").accepted.len(), 47);

    // kill -9 while the receiver is down, restart: nothing lost, nothing twice.
    drop(service);
    let ids_before: BTreeSet<i64> = jsonl_alert_ids(&jsonl).into_iter().collect();
    let service = start_service(&config, &log);
    std::thread::sleep(Duration::from_secs(3));
    let ids = jsonl_alert_ids(&jsonl);
    let unique: BTreeSet<i64> = ids.iter().copied().collect();
    assert_eq!(
        ids.len(),
        unique.len(),
        "an alert reached the JSONL sink twice"
    );
    assert_eq!(unique.len(), 50);
    assert!(ids_before.is_subset(&unique));

    // The receiver comes back on the same port: the three held-back alerts
    // arrive from the outbox's retries, and none of the 47 again.
    hook = runtime.block_on(Receiver::start(webhook.clone(), &hook_addr.to_string()));
    wait_for("50 webhook deliveries", Duration::from_secs(90), || {
        webhook.lock().expect("lock").accepted.len() >= 50
    });
    std::thread::sleep(Duration::from_secs(2));

    {
        let w = webhook.lock().expect("lock");
        assert_eq!(w.bad_signatures, 0);
        assert_eq!(w.accepted.len(), 50, "webhook alerts");
        assert!(
            w.accepted.values().all(|n| *n == 1),
            "an alert reached the webhook twice: {:?}",
            w.accepted
        );
    }
    let mails = mails.lock().expect("lock").clone();
    assert_eq!(mails.len(), 17, "one immediate mail per mufg-group alert");
    // The digest sink: every alert of its customers exactly once; critical
    // ones alone in their message, the others grouped.
    let digests: Vec<Vec<String>> = digests
        .lock()
        .expect("lock")
        .iter()
        .map(|m| alert_lines(m))
        .collect();
    let listed: Vec<&String> = digests.iter().flatten().collect();
    assert_eq!(
        listed.len(),
        20,
        "jp-government (11) and yahoo-japan (9) alerts: {digests:#?}"
    );
    assert!(listed
        .iter()
        .all(|l| l.contains("jp-government/") || l.contains("yahoo-japan/")));
    assert!(
        digests.iter().any(|m| m.len() > 1),
        "no digest grouped alerts: {digests:#?}"
    );
    assert!(
        digests
            .iter()
            .filter(|m| m.len() > 1)
            .flatten()
            .all(|l| !l.starts_with("[critical]")),
        "a critical alert waited for a digest: {digests:#?}"
    );
    assert!(digests.len() < 20);
    assert!(
        mails.iter().all(|m| m.contains("mufg-group/mufg")),
        "{mails:?}"
    );

    runtime.block_on(hook.stop());

    // The alert store: every alert once, whatever the kills.
    let data = dir.path().join("data");
    let listed = leakwatch(&data, &["alerts", "--json"]);
    let stored: Vec<serde_json::Value> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("JSON alert"))
        .collect();
    let keys: BTreeSet<String> = stored
        .iter()
        .map(|a| format!("{}/{}/{}", a["customer"], a["asset"], a["doc_id"]))
        .collect();
    assert_eq!(
        stored.len(),
        50,
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert_eq!(keys.len(), 50, "an alert stored twice");

    // SIGTERM: a clean exit within the deadline.
    let mut service = service;
    let pid = service.0.id().to_string();
    let started = Instant::now();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill")
        .success());
    let status = loop {
        if let Some(status) = service.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_millis(10_500),
            "no exit within the deadline\n{}",
            show_log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "exit status {status}\n{}", show_log());
    assert!(show_log().contains("index committed"), "{}", show_log());
    // The index it committed answers a search.
    let found = leakwatch(&data, &["search", "三菱UFJ", "--json"]);
    assert!(found.status.success());
    assert!(
        String::from_utf8_lossy(&found.stdout).lines().count() >= 3,
        "{}",
        String::from_utf8_lossy(&found.stdout)
    );
}
