//! The analyst console's API and pages over real HTTP on 127.0.0.1:
//! `leakwatch serve` on the demo's data, tokens made with `leakwatch token`.
//! Every endpoint with both kinds of token, another customer's alert (404,
//! never 403), expired and revoked tokens, viewer tokens, the failed-login
//! limit, sessions and their CSRF token, the hostile demo listing escaped
//! under the Content-Security-Policy, and triage agreeing with the CLI.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use reqwest::header::{
    HeaderMap, AUTHORIZATION, CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE,
};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

mod common;
use common::{repo, Killed, BIN};

fn leakwatch(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("LEAKWATCH_DATA_DIR")
        .env("NO_COLOR", "1")
        .output()
        .expect("leakwatch runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// One demo run; each test serves a copy of it.
fn demo_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = leakwatch(&["demo", "--data-dir", dir.path().to_str().expect("path")]);
        assert!(
            out.status.success(),
            "demo failed: {}\n{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
    .path()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "state.lock" {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// `leakwatch serve` on a copy of the demo's data, with tokens.
struct Console {
    _server: Killed,
    data: tempfile::TempDir,
    base: String,
    http: Client,
    runtime: tokio::runtime::Runtime,
}

impl Console {
    fn start() -> Console {
        let data = tempfile::tempdir().expect("tempdir");
        copy_dir(demo_dir(), data.path());
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("serve prints its address");
        let base = first
            .trim()
            .trim_start_matches("console at ")
            .trim_end_matches('/')
            .to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{first}");
        Console {
            _server: Killed(child),
            data,
            base,
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .expect("client"),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
        }
    }

    fn data(&self) -> &str {
        self.data.path().to_str().expect("path")
    }

    /// A new token (printed once on stdout).
    fn token(&self, args: &[&str]) -> String {
        let mut argv = vec!["--data-dir", self.data(), "token", "create"];
        argv.extend_from_slice(args);
        let out = leakwatch(&argv);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = stdout(&out).trim().to_owned();
        assert!(token.starts_with("lw_") && token.len() >= 3 + 64, "{token}");
        token
    }

    fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, HeaderMap, String) {
        self.send(self.http.get(format!("{}{path}", self.base)), token)
    }

    fn json(&self, path: &str, token: &str) -> Value {
        let (status, _, body) = self.get(path, Some(token));
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }

    fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, String) {
        let (s, _, b) = self.send(
            json_body(self.http.post(format!("{}{path}", self.base)), &body),
            token,
        );
        (s, b)
    }

    fn send(
        &self,
        request: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> (StatusCode, HeaderMap, String) {
        let request = match token {
            Some(t) => request.header(AUTHORIZATION, format!("Bearer {t}")),
            None => request,
        };
        self.runtime.block_on(async {
            let response = request.send().await.expect("request");
            let status = response.status();
            let headers = response.headers().clone();
            (status, headers, response.text().await.expect("body"))
        })
    }
}

/// `request` with `body` as JSON (reqwest's `json` feature is not on).
fn json_body(request: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
    request
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).expect("JSON"))
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["id"].as_i64().expect("id"))
        .collect()
}

/// Every alert the token sees, following the cursor `limit` at a time.
fn all_alerts(c: &Console, token: &str, filter: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = c.json(
            &format!("/api/v1/alerts?limit={limit}&{filter}{cursor}"),
            token,
        );
        out.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return out,
        }
    }
}

fn expected_count(customer: Option<&str>) -> usize {
    let text = std::fs::read_to_string(repo().join("examples/demo-market/expected.json"))
        .expect("expected.json");
    let v: Value = serde_json::from_str(&text).expect("JSON");
    v["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| customer.is_none_or(|c| a["customer"] == c))
        .count()
}

#[test]
fn a_customer_token_sees_its_own_customer_only() {
    let c = Console::start();
    let soc = c.token(&["--name", "soc", "--operator"]);
    let mufg = c.token(&["--name", "mufg-analyst", "--customer", "mufg-group"]);

    let everything = all_alerts(&c, &soc, "", 7);
    assert_eq!(everything.len(), expected_count(None));
    let unique: BTreeSet<i64> = everything
        .iter()
        .map(|a| a["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(unique.len(), everything.len(), "a cursor repeated an alert");

    let own = all_alerts(&c, &mufg, "", 5);
    assert_eq!(own.len(), expected_count(Some("mufg-group")));
    assert!(own.iter().all(|a| a["customer"] == "mufg-group"));
    // Asking for another customer's alerts gives none, not theirs.
    assert!(all_alerts(&c, &mufg, "customer=nec&", 50).is_empty());
    let counts = c.json("/api/v1/alerts", &mufg)["counts"].clone();
    let counted: u64 = counts
        .as_object()
        .expect("counts")
        .values()
        .map(|v| v.as_u64().expect("n"))
        .sum();
    assert_eq!(
        counted as usize,
        own.len(),
        "counts cover the scope only: {counts}"
    );

    // Another customer's alert: 404 exactly like an alert that does not exist.
    let theirs = everything
        .iter()
        .find(|a| a["customer"] != "mufg-group")
        .and_then(|a| a["id"].as_i64())
        .expect("another customer's alert");
    let (status, _, body) = c.get(&format!("/api/v1/alerts/{theirs}"), Some(&mufg));
    let (missing, _, missing_body) = c.get("/api/v1/alerts/999999", Some(&mufg));
    assert_eq!(
        (status, missing),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(body, missing_body, "the two 404s must not differ");
    let (status, _) = c.post(
        &format!("/api/v1/alerts/{theirs}/status"),
        Some(&mufg),
        json!({"status": "false_positive"}),
    );
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        c.json(&format!("/api/v1/alerts/{theirs}"), &soc)["status"],
        "new"
    );

    // One's own alert: its document, marks, deliveries, history.
    let mine = own[0]["id"].as_i64().expect("id");
    let detail = c.json(&format!("/api/v1/alerts/{mine}"), &mufg);
    assert_eq!(detail["customer"], "mufg-group");
    let doc = &detail["document"];
    assert!(
        doc["title"].is_string() || doc["body"].is_string(),
        "{detail}"
    );
    assert!(doc["customers"]
        .as_array()
        .expect("customers")
        .iter()
        .all(|c| c == "mufg-group"));
    let marks = detail["marks"].as_array().expect("marks");
    assert!(marks.iter().any(|m| m["kind"] == "term"), "{detail}");
    for m in marks {
        let field = doc[m["field"].as_str().expect("field")]
            .as_str()
            .expect("text");
        let (s, e) = (
            m["start"].as_u64().expect("start") as usize,
            m["end"].as_u64().expect("end") as usize,
        );
        assert_eq!(&field[s..e], m["text"].as_str().expect("text"));
    }
    assert!(detail["deliveries"].is_array() && detail["history"].is_array());

    // Its evidence bundle: the page as the demo crawl received it, in a ZIP;
    // another customer's answers 404 like the rest.
    let (status, headers, zip) = c.get(&format!("/api/v1/alerts/{mine}/evidence"), Some(&mufg));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/zip")
    );
    assert!(zip.starts_with("PK"), "a ZIP");
    assert!(zip.contains("SHA256SUMS") && zip.contains("page.raw"));
    let (status, _, _) = c.get(&format!("/api/v1/alerts/{theirs}/evidence"), Some(&mufg));
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Search: a customer finds only the listings of its own alerts, and
    // sees no other customer's name on them.
    let (status, _, _) = c.get("/api/v1/search?q=%E9%93%B6%E8%A1%8C", Some(&mufg));
    assert_eq!(status, StatusCode::OK);
    let found = c.json("/api/v1/search?q=&limit=200", &mufg);
    let total = found["total"].as_u64().expect("total");
    assert!(total > 0);
    for hit in found["items"].as_array().expect("items") {
        let d = &hit["document"];
        assert_eq!(d["customers"], json!(["mufg-group"]), "{d}");
        assert!(d["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .all(|a| a.as_str().is_some_and(|a| a.starts_with("mufg-group/"))));
    }
    let all_docs = c.json("/api/v1/search?q=&limit=1", &soc)["total"]
        .as_u64()
        .expect("total");
    assert!(all_docs > total, "the operator searches every listing");
    // A document of someone else's alert is not found.
    let nec_doc = everything
        .iter()
        .find(|a| a["customer"] == "nec")
        .and_then(|a| a["doc_id"].as_str())
        .expect("a nec alert");
    let path = format!("/api/v1/documents/{}", urlencode(nec_doc));
    assert_eq!(c.get(&path, Some(&mufg)).0, StatusCode::NOT_FOUND);
    assert_eq!(c.get(&path, Some(&soc)).0, StatusCode::OK);

    // Sites are the operator's; watchlists are one's own.
    assert_eq!(c.get("/api/v1/sites", Some(&mufg)).0, StatusCode::NOT_FOUND);
    let sites = c.json("/api/v1/sites", &soc);
    let names: BTreeSet<&str> = sites
        .as_array()
        .expect("sites")
        .iter()
        .map(|s| s["site"].as_str().expect("site"))
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "demo-forum",
            "demo-jp",
            "demo-market",
            "demo-paste",
            "demo-telegram"
        ])
    );
    for s in sites.as_array().expect("sites") {
        assert!(
            s["last_success"].is_string() && s["pages_24h"].as_u64() > Some(0),
            "{s}"
        );
        assert_eq!(s["circuit_breaker"], "closed");
        assert_eq!(s["logged_out"], false);
    }
    let lists = c.json("/api/v1/watchlists", &mufg);
    assert_eq!(lists.as_array().map(Vec::len), Some(1), "{lists}");
    assert_eq!(lists[0]["customer"], "mufg-group");
    assert_eq!(lists[0]["valid"], true);
    assert_eq!(
        c.json("/api/v1/watchlists", &soc).as_array().map(Vec::len),
        Some(6)
    );
    let me = c.json("/api/v1/me", &mufg);
    assert_eq!(
        (me["name"].as_str(), me["scope"].as_str()),
        (Some("mufg-analyst"), Some("customer:mufg-group"))
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn an_operator_analyst_imports_a_session_for_a_site_and_nobody_else_can() {
    let c = Console::start();
    let soc = c.token(&["--name", "soc", "--operator"]);
    let watcher = c.token(&["--name", "watcher", "--operator", "--role", "viewer"]);
    let bank = c.token(&["--name", "bank", "--customer", "mufg-group"]);
    let path = "/api/v1/sites/demo-market/session";
    let body = json!({"cookies": "cf_clearance=v4lue-not-echoed; sid=2"});
    let (status, answer) = c.post(path, Some(&soc), body.clone());
    assert_eq!(status, StatusCode::OK, "{answer}");
    let answer: Value = serde_json::from_str(&answer).expect("JSON");
    assert_eq!(answer["imported"], json!(["cf_clearance", "sid"]));
    assert!(!answer.to_string().contains("v4lue-not-echoed"));
    // Kept where the crawler reads it.
    let db = rusqlite::Connection::open(c.data.path().join("state.db")).expect("state");
    let kept: String = db
        .query_row(
            "SELECT cookies FROM crawl_session_imports WHERE site = 'demo-market'",
            [],
            |r| r.get(0),
        )
        .expect("the import is kept");
    assert!(kept.contains("cf_clearance\tv4lue-not-echoed"));
    // A viewer may not; a customer does not see sites at all; an unknown
    // site and a malformed header are refused.
    assert_eq!(
        c.post(path, Some(&watcher), body.clone()).0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.post(path, Some(&bank), body.clone()).0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.post("/api/v1/sites/no-such-site/session", Some(&soc), body)
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.post(path, Some(&soc), json!({"cookies": "not a cookie"}))
            .0,
        StatusCode::BAD_REQUEST
    );
}

#[test]
fn filters_and_search_facets() {
    let c = Console::start();
    let soc = c.token(&["--name", "soc", "--operator", "--role", "viewer"]);
    let forum = all_alerts(&c, &soc, "site=demo-forum&", 50);
    assert!(!forum.is_empty() && forum.iter().all(|a| a["site"] == "demo-forum"));
    let high = all_alerts(&c, &soc, "severity=high&", 50);
    assert!(high.iter().all(|a| a["severity"] == "high"));
    let mofa = all_alerts(&c, &soc, "asset=mofa&", 50);
    assert!(!mofa.is_empty() && mofa.iter().all(|a| a["asset"] == "mofa"));
    assert!(all_alerts(&c, &soc, "since=2099-01-01&", 50).is_empty());
    assert_eq!(
        all_alerts(&c, &soc, "until=2099-01-01&", 50).len(),
        expected_count(None)
    );
    let hostile = all_alerts(&c, &soc, "text=lw_pwned&", 50);
    assert_eq!(hostile.len(), 1, "the hostile demo listing");
    let (status, _, body) = c.get("/api/v1/alerts?status=closed", Some(&soc));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("false_positive"), "{body}");
    assert_eq!(
        c.get("/api/v1/alerts?cursor=abc", Some(&soc)).0,
        StatusCode::BAD_REQUEST
    );

    // Search: `leakwatch search`'s language, highlighted snippets, facets.
    let page = c.json(
        "/api/v1/search?q=%E4%B8%89%E8%8F%B1%E6%97%A5%E8%81%94&limit=2",
        &soc,
    );
    let total = page["total"].as_u64().expect("total");
    assert!(total >= 4, "{page}");
    let hit = &page["items"][0];
    let snippet = hit["snippet"].as_str().expect("snippet");
    let [s, e] = [0, 1].map(|i| hit["highlights"][0][i].as_u64().expect("range") as usize);
    assert!(!snippet[s..e].is_empty());
    let by_site: u64 = page["facets"]["site"]
        .as_array()
        .expect("site facet")
        .iter()
        .map(|p| p[1].as_u64().expect("n"))
        .sum();
    assert_eq!(by_site, total);
    assert!(page["facets"]["lang"]
        .as_array()
        .is_some_and(|l| !l.is_empty()));
    assert!(page["facets"]["month"]
        .as_array()
        .is_some_and(|l| !l.is_empty()));
    let next = page["next_cursor"].as_str().expect("more pages");
    let second = c.json(
        &format!("/api/v1/search?q=%E4%B8%89%E8%8F%B1%E6%97%A5%E8%81%94&limit=2&cursor={next}"),
        &soc,
    );
    assert_ne!(second["items"][0]["document"]["id"], hit["document"]["id"]);
    let narrowed = c.json("/api/v1/search?q=site:demo-jp", &soc);
    assert!(narrowed["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|h| h["document"]["site"] == "demo-jp"));
    let (status, _, body) = c.get("/api/v1/search?q=foo:bar", Some(&soc));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // The OpenAPI document lists every route, and every GET route answers.
    let doc = c.json("/api/v1/openapi.json", &soc);
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/alerts",
        "/api/v1/alerts/{id}",
        "/api/v1/alerts/{id}/status",
        "/api/v1/alerts/status",
        "/api/v1/search",
        "/api/v1/documents/{id}",
        "/api/v1/sites",
        "/api/v1/watchlists",
        "/api/v1/me",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the OpenAPI document"
        );
    }
    let some_alert = forum[0]["id"].as_i64().expect("id").to_string();
    let some_doc = urlencode(forum[0]["doc_id"].as_str().expect("doc"));
    for (path, item) in paths {
        if item.get("get").is_none() {
            continue;
        }
        let path = path.replace(
            "{id}",
            if path.contains("documents") {
                &some_doc
            } else {
                &some_alert
            },
        );
        assert_eq!(c.get(&path, Some(&soc)).0, StatusCode::OK, "GET {path}");
    }
}

#[test]
fn tokens_that_are_missing_wrong_expired_revoked_or_viewers_are_refused() {
    let c = Console::start();
    let soc = c.token(&["--name", "soc", "--operator"]);
    let viewer = c.token(&[
        "--name",
        "ro",
        "--customer",
        "mufg-group",
        "--role",
        "viewer",
    ]);
    let short = c.token(&["--name", "short", "--operator", "--expires", "1s"]);
    let gone = c.token(&["--name", "gone", "--operator"]);
    assert_eq!(c.get("/api/v1/alerts", Some(&gone)).0, StatusCode::OK);
    let revoke = leakwatch(&["--data-dir", c.data(), "token", "revoke", "gone"]);
    assert!(revoke.status.success());
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let (status, headers, _) = c.get("/api/v1/alerts", None);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    assert_eq!(
        c.get("/api/v1/alerts", Some(&short)).0,
        StatusCode::UNAUTHORIZED,
        "expired"
    );
    assert_eq!(
        c.get("/api/v1/alerts", Some(&gone)).0,
        StatusCode::UNAUTHORIZED,
        "revoked"
    );
    let forged = format!("lw_{}", "0".repeat(64));
    assert_eq!(
        c.get("/api/v1/alerts", Some(&forged)).0,
        StatusCode::UNAUTHORIZED
    );

    let mine = c.json("/api/v1/alerts?limit=1", &viewer);
    let id = ids(&mine)[0];
    let (status, body) = c.post(
        &format!("/api/v1/alerts/{id}/status"),
        Some(&viewer),
        json!({"status": "acknowledged"}),
    );
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // The list shows names, never values; last use is recorded.
    let listed = leakwatch(&["--data-dir", c.data(), "token", "list", "--json"]);
    let text = stdout(&listed);
    for value in [&soc, &viewer, &short, &gone] {
        assert!(!text.contains(value.as_str()), "a token value was listed");
    }
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(rows.len(), 4);
    assert!(rows
        .iter()
        .find(|r| r["name"] == "ro")
        .is_some_and(|r| r["last_used"].is_string()));
    assert!(rows
        .iter()
        .find(|r| r["name"] == "gone")
        .is_some_and(|r| r["revoked"].is_string()));

    // Failed attempts are limited per address: three so far (expired,
    // revoked, forged); after the tenth, even a good token waits.
    let answers: Vec<StatusCode> = (0..10)
        .map(|_| c.get("/api/v1/me", Some(&forged)).0)
        .collect();
    assert_eq!(
        answers
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count(),
        7,
        "{answers:?}"
    );
    assert_eq!(answers[7..], [StatusCode::TOO_MANY_REQUESTS; 3]);
    assert_eq!(
        c.get("/api/v1/me", Some(&soc)).0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[test]
fn triage_is_audited_and_agrees_with_the_cli() {
    let c = Console::start();
    let analyst = c.token(&["--name", "tanaka", "--customer", "mufg-group"]);
    let own = ids(&c.json("/api/v1/alerts?limit=3", &analyst));
    let id = own[0];
    let path = format!("/api/v1/alerts/{id}/status");
    let (status, body) = c.post(
        &path,
        Some(&analyst),
        json!({"status": "investigating", "note": "checking with the bank"}),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = c.post(
        &path,
        Some(&analyst),
        json!({"status": "resolved", "note": "confirmed: real logs"}),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = c.post(&path, Some(&analyst), json!({"status": "acknowledged"}));
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = c.post(&path, Some(&analyst), json!({"status": "new"}));
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let detail = c.json(&format!("/api/v1/alerts/{id}"), &analyst);
    assert_eq!(detail["status"], "resolved");
    let history: Vec<(String, String, String, String)> = detail["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| {
            let s = |k: &str| h[k].as_str().expect("field").to_owned();
            (s("actor"), s("from"), s("to"), s("note"))
        })
        .collect();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].0, "tanaka");
    assert_eq!(
        (history[0].2.as_str(), history[0].3.as_str()),
        ("investigating", "checking with the bank")
    );
    assert_eq!(
        (history[1].1.as_str(), history[1].2.as_str()),
        ("investigating", "resolved")
    );

    // The CLI sees the same status and history.
    let out = leakwatch(&[
        "--data-dir",
        c.data(),
        "alerts",
        "--status",
        "resolved",
        "--json",
    ]);
    let listed: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["history"][1]["actor"], "tanaka");

    // Bulk: another customer's alert among them is "not found", not moved.
    let soc = c.token(&["--name", "soc", "--operator"]);
    let theirs = ids(&c.json("/api/v1/alerts?customer=nec&limit=1", &soc))[0];
    let (status, body) = c.post(
        "/api/v1/alerts/status",
        Some(&analyst),
        json!({"ids": [own[1], own[2], theirs], "status": "false_positive", "note": "test data"}),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    let result: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(result["moved"], json!([own[1], own[2]]));
    assert_eq!(
        result["not_moved"],
        json!([{"id": theirs, "reason": "not found"}])
    );
    assert_eq!(
        c.json(&format!("/api/v1/alerts/{theirs}"), &soc)["status"],
        "new"
    );
    let fp = c.json("/api/v1/alerts?status=false_positive", &analyst);
    assert_eq!(ids(&fp).len(), 2);
    assert_eq!(fp["counts"]["false_positive"], 2);
}

/// The `value` of the first `<input … name="NAME" value="…">` in `html`.
fn hidden(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').expect("closing quote")].to_owned()
}

fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

#[test]
fn browser_sessions_need_their_csrf_token_and_crawled_text_stays_text() {
    let c = Console::start();
    let token = c.token(&["--name", "suzuki", "--customer", "mufg-group"]);
    // Log in: the token is exchanged for a session cookie.
    let (status, headers, page) = c.get("/login", None);
    assert_eq!(status, StatusCode::OK);
    let login_cookie = set_cookie(&headers, "lw_login").expect("login CSRF cookie");
    let login_csrf = hidden(&page, "csrf");
    let form = |csrf: &str| format!("token={token}&csrf={csrf}");
    let post_login = |cookie: &str, body: String| {
        c.send(
            c.http
                .post(format!("{}/login", c.base))
                .header(COOKIE, cookie.split(';').next().unwrap_or("").to_owned())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
            None,
        )
    };
    assert_eq!(
        post_login(&login_cookie, form("wrong")).0,
        StatusCode::FORBIDDEN,
        "login CSRF"
    );
    let (status, headers, _) = post_login(&login_cookie, form(&login_csrf));
    assert_eq!(status, StatusCode::SEE_OTHER);
    let session = set_cookie(&headers, "lw_session").expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain HTTP on loopback");
    assert!(!session.contains(&token));
    let cookie = session.split(';').next().expect("pair").to_owned();
    let with_session = |r: reqwest::RequestBuilder| c.send(r.header(COOKIE, cookie.clone()), None);

    let (status, headers, queue) = with_session(c.http.get(format!("{}/alerts", c.base)));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get(CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()),
        Some("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
    );
    assert_eq!(
        headers
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    assert_eq!(
        headers.get("referrer-policy").and_then(|v| v.to_str().ok()),
        Some("no-referrer")
    );
    assert!(
        !queue.contains("data-customer=\"nec\""),
        "another customer's alert in the queue"
    );
    let csrf = hidden(&queue, "csrf");

    // The hostile listing's page: every payload is text.
    let soc = c.token(&["--name", "soc", "--operator"]);
    let hostile = all_alerts(&c, &soc, "text=lw_pwned&", 10);
    let id = hostile[0]["id"].as_i64().expect("id");
    let (status, _, page) = with_session(c.http.get(format!("{}/alerts/{id}", c.base)));
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("&#60;script&#62;window.__lw_pwned=1&#60;/script&#62;"),
        "{page}"
    );
    for raw in [
        "<script>",
        "<img",
        "<svg",
        "<iframe",
        "<style",
        "<meta http-equiv",
        "href=\"javascript:",
        "href=\"http://evilproof",
    ] {
        assert!(!page.contains(raw), "{raw} reached the page as markup");
    }
    // One script, ours: the embedded htmx, from this server.
    let scripts: Vec<&str> = page
        .match_indices("<script")
        .map(|(i, _)| &page[i..])
        .collect();
    assert_eq!(scripts.len(), 1, "{page}");
    assert!(
        scripts[0].starts_with("<script src=\"/assets/htmx."),
        "{}",
        &scripts[0][..60]
    );
    assert!(
        page.contains("<code class=\"url\""),
        "the crawled URL is text to copy"
    );
    assert!(
        !page.contains("<a href=\"http"),
        "no link to a crawled site"
    );

    // API calls with the session cookie need the CSRF header; bearer calls do not.
    let api = format!("{}/api/v1/alerts/{id}/status", c.base);
    let body = json!({"status": "acknowledged"});
    let (status, _, _) = with_session(json_body(c.http.post(&api), &body));
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = with_session(json_body(
        c.http.post(&api).header("x-csrf-token", "nope"),
        &body,
    ));
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, text) = with_session(json_body(
        c.http.post(&api).header("x-csrf-token", csrf.clone()),
        &body,
    ));
    assert_eq!(status, StatusCode::OK, "{text}");

    // The same form sent by htmx: refused without the CSRF field (the
    // message aimed at the page's flash), answered with the history,
    // status and form fragment with it, never with a whole page.
    let htmx_post = |fields: String| {
        with_session(
            c.http
                .post(format!("{}/alerts/{id}/status", c.base))
                .header("hx-request", "true")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(fields),
        )
    };
    let (status, headers, body) = htmx_post("status=investigating&note=x".into());
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        headers.get("hx-retarget").and_then(|v| v.to_str().ok()),
        Some("#flash")
    );
    assert!(
        body.starts_with("<p class=\"error\">") && !body.contains("<html"),
        "{body}"
    );
    assert_eq!(
        c.json(&format!("/api/v1/alerts/{id}"), &soc)["status"],
        "acknowledged",
        "nothing moved without the token"
    );
    let (status, _, fragment) = htmx_post(format!(
        "status=investigating&note=%3Cb%3Echecked%3C%2Fb%3E&csrf={csrf}"
    ));
    assert_eq!(status, StatusCode::OK, "{fragment}");
    assert!(fragment.starts_with("<ol id=\"history\">"), "{fragment}");
    assert!(
        fragment.contains("<q>&#60;b&#62;checked&#60;/b&#62;</q>"),
        "{fragment}"
    );
    assert!(
        fragment.contains("id=\"alert-status\" data-status=\"investigating\" hx-swap-oob=\"true\"")
    );
    assert!(!fragment.contains("<html") && !fragment.contains("<script"));
    // The queue: the results fragment for htmx, the page otherwise.
    let (status, headers, results) = with_session(
        c.http
            .get(format!("{}/alerts?status=investigating", c.base))
            .header("hx-request", "true"),
    );
    assert_eq!(status, StatusCode::OK);
    assert!(
        results.starts_with("<div id=\"queue-results\">"),
        "{results}"
    );
    assert!(results.contains(&format!("data-id=\"{id}\"")));
    assert!(headers.get("vary").is_some_and(|v| v == "HX-Request"));
    let (_, _, restored) = with_session(
        c.http
            .get(format!("{}/alerts?status=investigating", c.base))
            .header("hx-request", "true")
            .header("hx-history-restore-request", "true"),
    );
    assert!(
        restored.starts_with("<!doctype html>"),
        "a history restore gets the page"
    );
    // An htmx request without a session goes to the login page whole.
    let (status, headers, _) = c.send(
        c.http
            .get(format!("{}/alerts", c.base))
            .header("hx-request", "true"),
        None,
    );
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        headers.get("hx-redirect").and_then(|v| v.to_str().ok()),
        Some("/login")
    );
    // htmx itself: from this server, named by its hash, cached for a year.
    let at = queue.find("/assets/htmx.").expect("htmx linked");
    let js_path = &queue[at..at + queue[at..].find('"').expect("end of src")];
    let (status, headers, js) = c.get(js_path, None);
    assert_eq!(status, StatusCode::OK);
    assert!(js.starts_with("var htmx=function(){"));
    assert_eq!(
        headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("public, max-age=31536000, immutable")
    );

    // The triage form: refused without the CSRF field, kept with it.
    let form_post = |fields: String| {
        with_session(
            c.http
                .post(format!("{}/alerts/{id}/status", c.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(fields),
        )
    };
    assert_eq!(
        form_post("status=resolved&note=x".into()).0,
        StatusCode::BAD_REQUEST
    );
    let (status, headers, _) = form_post(format!(
        "status=resolved&note=sold+on+two+markets&csrf={csrf}"
    ));
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers.get(LOCATION).and_then(|v| v.to_str().ok()),
        Some(format!("/alerts/{id}").as_str())
    );
    assert_eq!(
        c.json(&format!("/api/v1/alerts/{id}"), &soc)["status"],
        "resolved"
    );

    // Another customer's alert page: not found.
    let theirs = ids(&c.json("/api/v1/alerts?customer=nec&limit=1", &soc))[0];
    assert_eq!(
        with_session(c.http.get(format!("{}/alerts/{theirs}", c.base))).0,
        StatusCode::NOT_FOUND
    );

    // Log out ends the session on the server.
    let (status, _, _) = with_session(
        c.http
            .post(format!("{}/logout", c.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}")),
    );
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, headers, _) = with_session(c.http.get(format!("{}/alerts", c.base)));
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers.get(LOCATION).and_then(|v| v.to_str().ok()),
        Some("/login")
    );
}

/// Checks a response `value` against the top level of its documented
/// `schema` (and the first item of an array): every field written is
/// documented, every required field is written, and types agree.
fn check_top_level(what: &str, schema: &Value, value: &Value) {
    let value = match schema["type"].as_str() {
        Some("array") => {
            assert!(value.is_array(), "{what}: documented as an array: {value}");
            let Some(first) = value.as_array().and_then(|a| a.first()) else {
                return;
            };
            return check_top_level(what, &schema["items"], first);
        }
        _ => value,
    };
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{what}: documented as an object: {value}"));
    let properties = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{what}: the schema names no fields: {schema}"));
    for (name, field) in object {
        let documented = properties
            .get(name)
            .unwrap_or_else(|| panic!("{what}: field {name} is not documented"));
        let types: Vec<&str> = match &documented["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        let actual = match field {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        assert!(
            types.contains(&actual) || (actual == "integer" && types.contains(&"number")),
            "{what}: field {name} is {actual}, documented as {types:?}"
        );
    }
    for required in schema["required"].as_array().into_iter().flatten() {
        let name = required.as_str().expect("name");
        assert!(
            object.contains_key(name),
            "{what}: documented field {name} is missing from {value}"
        );
    }
}

#[test]
fn every_route_answers_as_its_openapi_schema_says() {
    let c = Console::start();
    let soc = c.token(&["--name", "soc", "--operator"]);
    let doc = c.json("/api/v1/openapi.json", &soc);
    let alerts = all_alerts(&c, &soc, "", 200);
    let first = &alerts[0];
    let alert_id = first["id"].as_i64().expect("id");
    let other_id = alerts[1]["id"].as_i64().expect("id");
    let doc_id = urlencode(first["doc_id"].as_str().expect("doc_id"));
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operation") {
            let content = &op["responses"]["200"]["content"];
            let Some(schema) = content.get("application/json").map(|c| &c["schema"]) else {
                assert!(
                    content.get("application/zip").is_some(),
                    "{method} {path}: no answer documented"
                );
                continue;
            };
            let url = path.replace("{site}", "demo-market").replace(
                "{id}",
                &if path.contains("documents") {
                    doc_id.clone()
                } else {
                    alert_id.to_string()
                },
            );
            let (status, body) = match method.as_str() {
                "get" => {
                    let (s, _, b) = c.get(&url, Some(&soc));
                    (s, b)
                }
                "post" => {
                    let body = if path.ends_with("/session") {
                        json!({"cookies": "sid=1"})
                    } else if path == "/api/v1/alerts/status" {
                        json!({"ids": [other_id], "status": "acknowledged"})
                    } else {
                        json!({"status": "investigating", "note": "schema check"})
                    };
                    c.post(&url, Some(&soc), body)
                }
                other => panic!("{other} {path}: a method the test does not know"),
            };
            assert_eq!(status, StatusCode::OK, "{method} {url}: {body}");
            let value: Value = serde_json::from_str(&body).expect("JSON");
            check_top_level(&format!("{method} {path}"), schema, &value);
            checked += 1;
        }
    }
    assert!(checked >= 11, "only {checked} routes checked");
    // The alert page's own parts, one level down.
    let detail = c.json(&format!("/api/v1/alerts/{alert_id}"), &soc);
    let detail_schema = &doc["paths"]["/api/v1/alerts/{id}"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    check_top_level(
        "the alert's document",
        &detail_schema["properties"]["document"],
        &detail["document"],
    );
    check_top_level(
        "the alert's history",
        &detail_schema["properties"]["history"],
        &detail["history"],
    );
    let search = c.json("/api/v1/search?q=%E9%8A%80%E8%A1%8C", &soc);
    let search_schema = &doc["paths"]["/api/v1/search"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    check_top_level(
        "a search hit",
        &search_schema["properties"]["items"],
        &search["items"],
    );
    check_top_level(
        "the facets",
        &search_schema["properties"]["facets"],
        &search["facets"],
    );
}
