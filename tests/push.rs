//! The push sinks against real receivers on loopback: `leakwatch run` on the
//! demo market adds its alerts' STIX objects to a collection of OASIS's
//! TAXII 2.1 server (`medallion`, memory back end) and its MISP events to a
//! PyMISP-backed stand-in for MISP's REST API
//! (`tests/validators/misp_receiver.py`; no MISP server can run here). Both
//! runs are killed with SIGKILL while they push and restarted: every object
//! and every event arrives once. A sink whose credentials are missing from
//! the environment stops the service at start, naming the sink and the
//! variable.
//!
//! The receivers come from PyPI (`.ci/run` installs them). Without them the
//! tests fail naming what is missing, unless `LEAKWATCH_SKIP_VALIDATORS=1`
//! asks to skip them (never under CI, where `CI` is set).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{demo_server, free_port, repo, write_demo_profiles, Killed, BIN};

/// The collection the TAXII tests push to.
const COLLECTION: &str = "365fed99-08fa-fdcd-a1b3-fb247eb41d01";

/// Whether the Python packages `modules` (with their PyPI names) can be
/// imported. Missing: panics naming them, or with
/// `LEAKWATCH_SKIP_VALIDATORS=1` (not under CI) says SKIPPED and gives false.
fn python_present(packages: &[(&str, &str)]) -> bool {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(_, module)| {
            !Command::new("python3")
                .args(["-c", &format!("import {module}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "the Python package(s) {} are missing: the push tests run the real receivers; install \
         them with `python3 -m pip install {}` (.ci/run does), or set LEAKWATCH_SKIP_VALIDATORS=1 \
         to skip these tests",
        missing.join(", "),
        missing.join(" ")
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "{message} (CI never skips)"
    );
    assert!(
        std::env::var_os("LEAKWATCH_SKIP_VALIDATORS").is_some_and(|v| v == "1"),
        "{message}"
    );
    eprintln!("SKIPPED (LEAKWATCH_SKIP_VALIDATORS=1): {message}");
    false
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One HTTP/1.0 request to 127.0.0.1:`port`; the status and the body.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    s.write_all(request.as_bytes()).expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}

/// Whether the service's outbox is empty (its metrics say so).
fn outbox_empty(metrics_port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", metrics_port)).is_ok()
        && http(metrics_port, "GET", "/metrics", &[])
            .1
            .contains("leakwatch_pending_deliveries 0\n")
}

/// Whether the service is done: the crawl over (`documents` indexed),
/// every alert delivered to each of `sinks`, and the outbox empty
/// (sightings included) twice in a row, a delivery round apart.
fn settled(metrics_port: u16, documents: usize, data: &Path, sinks: &[&str]) -> bool {
    if !crawled(metrics_port, documents) {
        return false;
    }
    let alerts = stored_alerts(data);
    let delivered = !alerts.is_empty()
        && alerts.iter().all(|a| {
            sinks.iter().all(|sink| {
                a["delivered_to"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|s| s == sink))
            })
        });
    if !delivered || !outbox_empty(metrics_port) {
        return false;
    }
    std::thread::sleep(Duration::from_millis(1500));
    outbox_empty(metrics_port)
}

/// Whether the index holds `documents` (the crawl is over).
fn crawled(metrics_port: u16, documents: usize) -> bool {
    TcpStream::connect(("127.0.0.1", metrics_port)).is_ok()
        && http(metrics_port, "GET", "/metrics", &[])
            .1
            .contains(&format!("leakwatch_index_docs {documents}\n"))
}

fn start_service(config: &Path, log: &Path, env: &[(&str, &str)]) -> Killed {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    common::start_run(config, log, env)
}

/// The demo's documents: 34 on the market, 19 on the board, 29 on the
/// forum, 28 Telegram messages and 2 pastes.
const DEMO_DOCUMENTS: usize = 112;
/// With a mirror of the market.
const MIRRORED_DOCUMENTS: usize = 112 + 34;

/// A data folder with the demo's sites (10 requests a second, so a kill
/// lands mid-run) and watchlists, and a config with `sinks` and metrics.
/// With `mirror`, a fourth site serves the market's listings again (the
/// same pages under another site name): each is a repost of the other.
fn setup(
    dir: &Path,
    root: &str,
    metrics_port: u16,
    sinks: &str,
    mirror: bool,
) -> std::path::PathBuf {
    let lists = dir.join("watchlists");
    std::fs::create_dir_all(&lists).expect("mkdir");
    let pace = |text: String| {
        text.replace("requests_per_minute = 6000", "requests_per_minute = 600")
            .replace("burst = 20", "burst = 1")
    };
    write_demo_profiles(&dir.join("sites"), root, pace);
    if mirror {
        let market = std::fs::read_to_string(dir.join("sites/demo-market.toml")).expect("profile");
        std::fs::write(
            dir.join("sites/market-mirror.toml"),
            market.replace("name = \"demo-market\"", "name = \"market-mirror\""),
        )
        .expect("write");
    }
    for name in [
        "mufg-group",
        "japan-post",
        "yahoo-japan",
        "jp-government",
        "melco",
        "nec",
    ] {
        std::fs::copy(
            repo().join(format!("examples/watchlists/{name}.toml")),
            lists.join(format!("{name}.toml")),
        )
        .expect("copy watchlist");
    }
    let config = dir.join("leakwatch.toml");
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
{sinks}"#
        ),
    )
    .expect("write config");
    config
}

/// The alerts the store holds, as `leakwatch alerts --json` lists them.
fn stored_alerts(data: &Path) -> Vec<Value> {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(["alerts", "--json"])
        .output()
        .expect("leakwatch alerts");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("JSON alert"))
        .collect()
}

/// A TAXII server: medallion with its memory back end, one API root, one
/// writable collection and one user.
struct Medallion {
    port: u16,
    _process: Killed,
}

impl Medallion {
    fn start(dir: &Path, user: &str, password: &str) -> Medallion {
        let port = free_port();
        let data = dir.join("taxii-data.json");
        // The shape of medallion's example_configs/data_for_memory_config.json,
        // with TAXII 2.1 media types.
        let content = serde_json::json!({
            "/discovery": {
                "title": "leakwatch test TAXII server",
                "default": format!("http://127.0.0.1:{port}/api1/"),
                "api_roots": [format!("http://127.0.0.1:{port}/api1/")],
            },
            "api1": {
                "information": {
                    "title": "leakwatch alerts",
                    "versions": ["application/taxii+json;version=2.1"],
                    "max_content_length": 10_485_760,
                },
                "status": [],
                "collections": [{
                    "id": COLLECTION,
                    "title": "dark-web offers",
                    "can_read": true,
                    "can_write": true,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }],
            },
        });
        std::fs::write(&data, content.to_string()).expect("write");
        let config = dir.join("medallion.json");
        std::fs::write(
            &config,
            serde_json::json!({
                "backend": {
                    "module": "medallion.backends.memory_backend",
                    "module_class": "MemoryBackend",
                    "filename": data,
                },
                "users": { user: password },
                "taxii": { "max_page_size": 100 },
            })
            .to_string(),
        )
        .expect("write");
        let log = std::fs::File::create(dir.join("medallion.log")).expect("log");
        let process = Killed(
            Command::new("python3")
                .args(["-m", "medallion.scripts.run", "--host", "127.0.0.1"])
                .args(["--port", &port.to_string()])
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("medallion starts"),
        );
        let server = Medallion {
            port,
            _process: process,
        };
        wait_for("medallion to listen", Duration::from_secs(30), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        server
    }

    /// Every entry of `resource` (`objects` or `manifest`) of the
    /// collection, all versions, over every page, with `query` added.
    fn list(&self, auth: &str, resource: &str, query: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut path = format!(
                "/api1/collections/{COLLECTION}/{resource}/?match%5Bversion%5D=all&limit=100{query}"
            );
            if let Some(n) = &next {
                path.push_str(&format!("&next={n}"));
            }
            let (status, body) = http(
                self.port,
                "GET",
                &path,
                &[
                    ("Accept", "application/taxii+json;version=2.1"),
                    ("Authorization", auth),
                ],
            );
            assert_eq!(status, 200, "{path}: {body}");
            let page: Value = serde_json::from_str(&body).expect("a TAXII envelope");
            all.extend(page["objects"].as_array().cloned().unwrap_or_default());
            match (page["more"].as_bool(), page["next"].as_str()) {
                (Some(true), Some(n)) => next = Some(n.to_owned()),
                _ => return all,
            }
        }
    }
}

/// `Basic base64(user:password)`.
fn basic(user: &str, password: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{user}:{password}").into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

#[test]
fn taxii_sink_adds_every_object_once_across_a_kill() {
    if !python_present(&[
        ("medallion", "medallion"),
        ("stix2-validator", "stix2validator"),
    ]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (user, password) = ("leakwatch", "taxii-pa55");
    let taxii = Medallion::start(dir.path(), user, password);
    let auth = basic(user, password);
    let (_market, root) = demo_server();
    let metrics_port = free_port();
    let config = setup(
        dir.path(),
        &root,
        metrics_port,
        &format!(
            r#"[[sinks]]
kind = "taxii"
name = "cti"
api_root = "http://127.0.0.1:{}/api1/"
collection = "{COLLECTION}"
user_env = "LW_TEST_TAXII_USER"
password_env = "LW_TEST_TAXII_PASSWORD"
timeout_secs = 20
"#,
            taxii.port
        ),
        false,
    );
    let env = [
        ("LW_TEST_TAXII_USER", user),
        ("LW_TEST_TAXII_PASSWORD", password),
    ];
    let log = dir.path().join("run.log");
    let show_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let service = start_service(&config, &log, &env);

    // SIGKILL as soon as the first alert's objects are in the collection:
    // the crawl and the pushes are under way.
    wait_for("the first objects", Duration::from_secs(90), || {
        !taxii.list(&auth, "manifest", "").is_empty()
    });
    drop(service);
    let pushed_before = taxii.list(&auth, "manifest", "").len();
    let service = start_service(&config, &log, &env);
    wait_for(
        "the crawl's end and every delivery",
        Duration::from_secs(180),
        || {
            settled(
                metrics_port,
                DEMO_DOCUMENTS,
                &dir.path().join("data"),
                &["cti"],
            )
        },
    );
    drop(service);
    let log_text = show_log();
    assert!(!log_text.contains(password), "the password reached the log");

    // Each object once: by id and by id + version, in the manifest.
    let manifest = taxii.list(&auth, "manifest", "");
    assert!(
        manifest.len() > pushed_before,
        "{pushed_before} then {}",
        manifest.len()
    );
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_version: BTreeMap<(String, String), usize> = BTreeMap::new();
    for entry in &manifest {
        let id = entry["id"].as_str().expect("id").to_owned();
        *by_id.entry(id.clone()).or_default() += 1;
        let version = entry["version"].as_str().expect("version").to_owned();
        *by_version.entry((id, version)).or_default() += 1;
    }
    let twice: Vec<_> = by_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "objects more than once: {twice:?}");
    assert!(by_version.values().all(|n| *n == 1));

    // The objects themselves. medallion 3.0.0 cannot list an
    // extension-definition (it reads the object's own `version` property,
    // "1.0.0", as a manifest version and answers 500), so every other type
    // is listed, and the definition is checked in the manifest and taken
    // from `leakwatch export`, which makes the same object.
    let alerts = stored_alerts(&dir.path().join("data"));
    let mut objects = taxii.list(
        &auth,
        "objects",
        "&match%5Btype%5D=identity,marking-definition,observed-data,relationship,indicator,\
         note,url,user-account,domain-name,email-addr",
    );
    let exported = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["export", "--format", "stix", "--watchlists"])
        .arg(dir.path().join("watchlists"))
        .output()
        .expect("leakwatch export");
    let exported: Value = serde_json::from_slice(&exported.stdout).expect("a STIX bundle");
    let definition = exported["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .find(|o| o["type"] == "extension-definition")
        .expect("the extension definition")
        .clone();
    assert!(
        manifest
            .iter()
            .any(|e| e["id"] == definition["id"] && e["version"] == definition["modified"]),
        "the extension definition is in the collection"
    );
    assert_eq!(objects.len() + 1, manifest.len(), "every object listed");
    objects.push(definition);
    // Every alert's offer is there: an observed-data (or, without a URL, a
    // note) carrying its alert id.
    let offered: BTreeSet<i64> = objects
        .iter()
        .filter(|o| o["type"] == "observed-data" || o["type"] == "note")
        .filter_map(|o| {
            o["extensions"]
                .as_object()
                .and_then(|e| e.values().next())
                .and_then(|e| e["alert_id"].as_i64())
        })
        .collect();
    let ids: BTreeSet<i64> = alerts.iter().filter_map(|a| a["id"].as_i64()).collect();
    assert_eq!(offered, ids, "every alert's offer, once");
    assert!(
        alerts.iter().all(|a| a["delivered_to"]
            .as_array()
            .is_some_and(|d| d.iter().any(|s| s == "cti"))),
        "every alert delivered to the TAXII sink"
    );

    // What the collection holds is a valid STIX 2.1 bundle (OASIS validator,
    // strict, references resolved within it).
    let bundle = dir.path().join("collection.json");
    std::fs::write(
        &bundle,
        serde_json::json!({
            "type": "bundle",
            "id": "bundle--6f4a0d64-0a53-4d8f-9d54-6e3b3d5f0a11",
            "objects": objects,
        })
        .to_string(),
    )
    .expect("write");
    let out = Command::new("python3")
        .args([
            "-m",
            "stix2validator.scripts.stix2_validator",
            "--version",
            "2.1",
            "--strict",
            "--enforce-refs",
            "--disable",
            "uuid-check",
        ])
        .arg(&bundle)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success() && text(&out).contains("STIX JSON: Valid"),
        "the collection's objects fail stix2-validator:\n{}",
        text(&out)
    );
}

/// The MISP stand-in.
struct MispReceiver {
    port: u16,
    _process: Killed,
}

impl MispReceiver {
    fn start(key: &str) -> MispReceiver {
        let mut child = Command::new("python3")
            .arg(repo().join("tests/validators/misp_receiver.py"))
            .env("MISP_RECEIVER_KEY", key)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the MISP receiver starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("the receiver prints its URL");
        let port = first
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {first:?}"));
        MispReceiver {
            port,
            _process: Killed(child),
        }
    }

    fn dump(&self) -> Value {
        let (status, body) = http(self.port, "GET", "/dump", &[]);
        assert_eq!(status, 200);
        serde_json::from_str(&body).expect("JSON dump")
    }
}

#[test]
fn misp_sink_adds_one_event_per_alert_or_day_and_sightings_across_a_kill() {
    if !python_present(&[("pymisp", "pymisp"), ("pytaxonomies", "pytaxonomies")]) {
        return;
    }
    let key = "misp-auth-key-0123456789";
    let misp = MispReceiver::start(key);
    let dir = tempfile::tempdir().expect("tempdir");
    let (_market, root) = demo_server();
    let metrics_port = free_port();
    let config = setup(
        dir.path(),
        &root,
        metrics_port,
        &format!(
            r#"[[sinks]]
kind = "misp"
name = "misp"
url = "http://127.0.0.1:{port}"
key_env = "LW_TEST_MISP_KEY"
tlp = "amber"
[[sinks]]
kind = "misp"
name = "misp-day"
url = "http://127.0.0.1:{port}/"
key_env = "LW_TEST_MISP_KEY"
event_per = "customer-day"
distribution = 1
tlp = "green"
"#,
            port = misp.port
        ),
        true,
    );
    let env = [("LW_TEST_MISP_KEY", key)];
    let log = dir.path().join("run.log");
    let service = start_service(&config, &log, &env);
    wait_for("the first events", Duration::from_secs(90), || {
        misp.dump()["events"]
            .as_object()
            .is_some_and(|e| !e.is_empty())
    });
    drop(service);
    let service = start_service(&config, &log, &env);
    let data = dir.path().join("data");
    let start = Instant::now();
    while !settled(
        metrics_port,
        MIRRORED_DOCUMENTS,
        &data,
        &["misp", "misp-day"],
    ) {
        if start.elapsed() > Duration::from_secs(180) {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            let failures: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("failed") || l.contains("ERROR"))
                .collect();
            panic!(
                "timed out waiting for the crawl's end and every delivery; failures in the log:\n{}",
                failures[failures.len().saturating_sub(30)..].join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(service);
    assert!(
        !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(key),
        "the key reached the log"
    );

    let alerts = stored_alerts(&data);
    let dump = misp.dump();
    assert_eq!(
        dump["rejected"],
        serde_json::json!([]),
        "refused by PyMISP or a template"
    );
    assert_eq!(dump["auth_failures"], 0);
    eprintln!(
        "MISP receiver: {} event POSTs, {} refused as existing, {} answers lost to the kill",
        dump["event_posts"], dump["duplicate_events"], dump["answers_lost"]
    );
    let events = dump["events"].as_object().expect("events");
    let (per_alert, per_day): (Vec<&Value>, Vec<&Value>) = events.values().partition(|e| {
        e["Tag"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["name"] == "tlp:amber"))
    });
    assert_eq!(per_alert.len(), alerts.len(), "one event per alert");
    let leaks = |e: &Value| {
        e["Object"]
            .as_array()
            .map_or(0, |o| o.iter().filter(|o| o["name"] == "ail-leak").count())
    };
    assert!(per_alert.iter().all(|e| leaks(e) == 1));
    // One event per customer per day, holding each of its alerts once.
    let days: BTreeSet<(String, String)> = alerts
        .iter()
        .map(|a| {
            (
                a["customer"].as_str().expect("customer").to_owned(),
                a["first_seen"].as_str().expect("first_seen")[..10].to_owned(),
            )
        })
        .collect();
    assert_eq!(per_day.len(), days.len(), "{days:?}");
    assert_eq!(
        per_day.iter().map(|e| leaks(e)).sum::<usize>(),
        alerts.len()
    );
    assert!(per_day.iter().all(|e| e["distribution"] == "1"));
    for e in &per_day {
        let uuids: Vec<&str> = e["Object"]
            .as_array()
            .expect("objects")
            .iter()
            .filter_map(|o| o["uuid"].as_str())
            .collect();
        let unique: BTreeSet<&&str> = uuids.iter().collect();
        assert_eq!(uuids.len(), unique.len(), "an object added twice");
    }
    assert!(
        dump["objects_added"].as_u64().unwrap_or(0) > 0,
        "later alerts of a day were added to its event"
    );

    // Reposts: a sighting on the alert's listing in each event, once.
    let reposts: usize = alerts
        .iter()
        .map(|a| a["also_seen_at"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(reposts > 0, "the demo has reposts");
    let sightings = dump["sightings"].as_object().expect("sightings");
    assert_eq!(sightings.len(), 2 * reposts, "one per repost per sink");
    assert!(sightings.values().all(|s| s["source"]
        .as_str()
        .is_some_and(|s| s.starts_with("leakwatch: reposted"))));
}

#[test]
fn a_push_sink_without_its_credentials_stops_the_service_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_market, root) = demo_server();
    for (sinks, variable) in [
        (
            "[[sinks]]\nkind = \"taxii\"\nname = \"cti\"\napi_root = \"http://127.0.0.1:9/api1/\"\n\
             collection = \"c\"\nuser_env = \"LW_TEST_UNSET_USER\"\npassword_env = \"LW_TEST_UNSET_PASSWORD\"\n",
            "LW_TEST_UNSET_USER",
        ),
        (
            "[[sinks]]\nkind = \"taxii\"\nname = \"cti\"\napi_root = \"http://127.0.0.1:9/api1/\"\n\
             collection = \"c\"\ntoken_env = \"LW_TEST_UNSET_TOKEN\"\n",
            "LW_TEST_UNSET_TOKEN",
        ),
        (
            "[[sinks]]\nkind = \"misp\"\nname = \"misp\"\nurl = \"http://127.0.0.1:9\"\n\
             key_env = \"LW_TEST_UNSET_MISP_KEY\"\n",
            "LW_TEST_UNSET_MISP_KEY",
        ),
    ] {
        let config = setup(dir.path(), &root, free_port(), sinks, false);
        let out = Command::new(BIN)
            .args(["run", "--config"])
            .arg(&config)
            .env_remove(variable)
            .output()
            .expect("leakwatch run");
        assert!(!out.status.success(), "{}", text(&out));
        let said = text(&out);
        let sink = if sinks.contains("taxii") { "\"cti\"" } else { "\"misp\"" };
        assert!(
            said.contains("leakwatch.toml")
                && said.contains(sink)
                && said.contains(variable)
                && said.contains("not set"),
            "{said}"
        );
    }
}
