//! The analyst console inside `leakwatch run` (`[api] listen`): while the
//! service crawls the loopback demo market slowly, a customer token made
//! with `leakwatch token create` sees its alerts arrive through the API,
//! triages one, and the CLI (`leakwatch alerts --status …`) agrees; the
//! crawl goes on meanwhile (the console reads and writes the state store
//! beside the pipeline, on its own connections).

use std::path::Path;
use std::time::Duration;

use reqwest::header::AUTHORIZATION;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

mod common;
use common::{demo_server, free_port, leakwatch_in, repo, wait_for, write_demo_profiles};

/// HTTP on loopback from a test thread.
struct Http {
    base: String,
    client: Client,
    runtime: tokio::runtime::Runtime,
}

impl Http {
    fn new(base: String) -> Http {
        Http {
            base,
            client: Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
        }
    }

    /// Status and body; `None` when nothing answers yet.
    fn get(&self, path: &str, token: Option<&str>) -> Option<(StatusCode, String)> {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {t}"));
        }
        self.runtime.block_on(async {
            let response = request.send().await.ok()?;
            let status = response.status();
            Some((status, response.text().await.ok()?))
        })
    }

    fn json(&self, path: &str, token: &str) -> Value {
        let (status, body) = self
            .get(path, Some(token))
            .unwrap_or_else(|| panic!("GET {path}: no answer"));
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }

    fn post(&self, path: &str, token: &str, body: &Value) -> (StatusCode, String) {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).expect("JSON"));
        self.runtime.block_on(async {
            let response = request.send().await.expect("request");
            let status = response.status();
            (status, response.text().await.expect("body"))
        })
    }
}

fn token(data: &Path, args: &[&str]) -> String {
    let mut argv = vec!["token", "create"];
    argv.extend_from_slice(args);
    let out = leakwatch_in(data, &argv);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(token.starts_with("lw_"), "{token}");
    token
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["id"].as_i64().expect("id"))
        .collect()
}

/// Pages fetched in the last 24 hours, over every site (the operator's
/// sites API).
fn pages_fetched(http: &Http, operator: &str) -> u64 {
    http.json("/api/v1/sites", operator)
        .as_array()
        .expect("sites")
        .iter()
        .map(|s| s["pages_24h"].as_u64().expect("pages_24h"))
        .sum()
}

#[test]
fn console_in_run_triages_while_the_crawl_runs() {
    let (_market, root) = demo_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let lists = dir.path().join("watchlists");
    std::fs::create_dir_all(&lists).expect("mkdir");
    // Two requests a second on each site: the crawl takes a minute or
    // more, so the console works while it runs.
    write_demo_profiles(&dir.path().join("sites"), &root, |text| {
        text.replace("requests_per_minute = 6000", "requests_per_minute = 120")
            .replace("burst = 20", "burst = 1")
    });
    for name in ["mufg-group", "nec"] {
        std::fs::copy(
            repo().join(format!("examples/watchlists/{name}.toml")),
            lists.join(format!("{name}.toml")),
        )
        .expect("copy watchlist");
    }
    let port = free_port();
    let config = dir.path().join("leakwatch.toml");
    std::fs::write(
        &config,
        format!(
            r#"tor = "off"
sites = "sites"
watchlists = "watchlists"
data_dir = "data"
[schedule]
recrawl_minutes = 600
reload_poll_secs = 600
commit_every_secs = 1
shutdown_deadline_secs = 10
[api]
listen = "127.0.0.1:{port}"
[[sinks]]
kind = "jsonl"
name = "file"
path = "alerts.jsonl"
"#
        ),
    )
    .expect("write config");
    let log = dir.path().join("run.log");
    let _service = common::start_run(&config, std::fs::File::create(&log).expect("log"), &[]);
    let show_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let http = Http::new(format!("http://127.0.0.1:{port}"));
    let data = dir.path().join("data");

    // The console answers (401 without a token) once the service is up.
    wait_for("the console in `run`", Duration::from_secs(60), || {
        http.get("/api/v1/me", None)
            .is_some_and(|(s, _)| s == StatusCode::UNAUTHORIZED)
    });

    // Tokens made while the service runs, on its data folder.
    let bank = token(
        &data,
        &[
            "--name",
            "bank-analyst",
            "--customer",
            "mufg-group",
            "--role",
            "analyst",
        ],
    );
    let operator = token(&data, &["--name", "soc", "--operator"]);

    // The customer's alerts arrive through the API as the crawl finds them.
    wait_for(
        "a mufg-group alert in the API",
        Duration::from_secs(90),
        || !ids(&http.json("/api/v1/alerts", &bank)).is_empty(),
    );
    let page = http.json("/api/v1/alerts", &bank);
    assert!(
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|a| a["customer"] == "mufg-group"),
        "another customer's alert: {page}"
    );
    let pages_before = pages_fetched(&http, &operator);

    // Triage one through the API, as the customer's analyst.
    let id = ids(&page)[0];
    let (status, body) = http.post(
        &format!("/api/v1/alerts/{id}/status"),
        &bank,
        &json!({"status": "investigating", "note": "asked the bank"}),
    );
    assert_eq!(status, StatusCode::OK, "{body}\n{}", show_log());
    let moved: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(moved["status"], "investigating");
    assert_eq!(moved["history"][0]["actor"], "bank-analyst");

    // The CLI, on the same data while the service runs, agrees.
    let out = leakwatch_in(&data, &["alerts", "--status", "investigating", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["history"][0]["actor"], "bank-analyst");
    assert_eq!(listed[0]["history"][0]["note"], "asked the bank");
    // And the API's own filter and counts.
    let investigating = http.json("/api/v1/alerts?status=investigating", &bank);
    assert_eq!(ids(&investigating), [id]);
    assert_eq!(investigating["counts"]["investigating"], 1);
    // The operator's search runs beside the crawl too.
    let found = http.json("/api/v1/search?q=%E4%B8%89%E8%8F%B1UFJ", &operator);
    assert!(found["total"].as_u64().is_some(), "{found}");

    // The crawl went on through all of this, and still does.
    wait_for("more pages crawled", Duration::from_secs(60), || {
        pages_fetched(&http, &operator) > pages_before
    });
    let log_text = show_log();
    assert!(!log_text.contains("database is locked"), "{log_text}");
}
