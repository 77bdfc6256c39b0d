//! The analyst console in a real browser: Debian's `chromium`, driven by
//! `chromedriver` over the W3C WebDriver protocol (JSON over HTTP on
//! 127.0.0.1, spoken here with reqwest: no WebDriver crate is in the tree).
//! A customer logs in with a token on the demo's data, sees only its own
//! alerts, filters the queue and triages one with htmx (no navigation;
//! reload, back and the plain page agree), searches in Japanese and finds
//! the simplified-Chinese listing, switches the language; the hostile demo
//! listing runs nothing, and the only script is our own htmx from our own
//! origin. Screenshots of the queue and the alert page go to
//! `CARGO_TARGET_TMPDIR/console-browser/`.
//!
//! Needs `chromium` and `chromium-driver` (`.ci/run` installs them); without
//! them the test fails saying so, unless `LEAKWATCH_SKIP_BROWSER=1` (never
//! under CI).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod common;
use common::{free_port, repo, Killed, BIN};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver session on a local chromedriver.
struct Browser {
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    session: String,
    base: String,
}

impl Browser {
    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        self.runtime.block_on(async {
            let mut request = self.http.request(method.clone(), &url);
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(serde_json::to_vec(&body).expect("JSON"));
            }
            let response = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
            let status = response.status();
            let text = response.text().await.expect("WebDriver answers");
            let v: Value = serde_json::from_str(&text).expect("WebDriver answers JSON");
            assert!(status.is_success(), "{method} {path}: {status} {v}");
            v["value"].clone()
        })
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None)
    }

    fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url }));
    }

    fn find(&self, css: &str) -> String {
        let v = self.post("/element", json!({"using": "css selector", "value": css}));
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    fn find_all(&self, css: &str) -> Vec<String> {
        self.post("/elements", json!({"using": "css selector", "value": css}))
            .as_array()
            .expect("elements")
            .iter()
            .map(|e| e[ELEMENT].as_str().expect("element id").to_owned())
            .collect()
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.post(&format!("/element/{e}/click"), json!({}));
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.post(&format!("/element/{e}/clear"), json!({}));
        self.post(&format!("/element/{e}/value"), json!({ "text": text }));
    }

    fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.get(&format!("/element/{element}/attribute/{name}"))
            .as_str()
            .map(str::to_owned)
    }

    fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.get(&format!("/element/{e}/text"))
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    fn script(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
    }

    fn screenshot(&self, to: &Path) {
        let b64 = self.get("/screenshot");
        let png = base64_decode(b64.as_str().expect("base64 PNG"));
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(to, png).expect("write screenshot");
    }

    fn url(&self) -> String {
        self.get("/url").as_str().unwrap_or("").to_owned()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = self.runtime.block_on(self.http.delete(url).send());
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let digits: Vec<u32> = text.bytes().filter_map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, d)| n | d << (18 - 6 * i));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    out
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether the browser test can run; panics saying what is missing unless
/// skipping was asked for (never under CI).
fn browser_present() -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var_os("LEAKWATCH_SKIP_BROWSER").is_some() && std::env::var_os("CI").is_none() {
        println!("SKIPPED: {CHROMIUM} or {CHROMEDRIVER} missing (apt-get install chromium chromium-driver)");
        return false;
    }
    panic!(
        "{CHROMIUM} and {CHROMEDRIVER} are needed: apt-get install chromium chromium-driver \
         (.ci/run does), or set LEAKWATCH_SKIP_BROWSER=1 to skip this test"
    );
}

fn start_chromedriver() -> (Killed, String) {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let base = format!("http://127.0.0.1:{port}");
    wait_until("chromedriver", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (Killed(child), base)
}

fn new_session(base: &str, profile: &Path) -> Browser {
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let capabilities = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--window-size=1280,900", "--lang=en-US",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {"intl.accept_languages": "en-US,en"}
        }
    }}});
    let session = runtime.block_on(async {
        let text = http
            .post(format!("{base}/session"))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&capabilities).expect("JSON"))
            .send()
            .await
            .expect("new session")
            .text()
            .await
            .expect("answer");
        let v: Value = serde_json::from_str(&text).expect("JSON");
        v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_owned()
    });
    Browser {
        http,
        runtime,
        session,
        base: base.to_owned(),
    }
}

fn leakwatch(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("LEAKWATCH_DATA_DIR")
        .output()
        .expect("leakwatch runs")
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-browser");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

#[test]
fn a_customer_triages_searches_and_switches_language_in_chromium() {
    if !browser_present() {
        return;
    }
    let data = tempfile::tempdir().expect("tempdir");
    let data_path = data.path().to_str().expect("path");
    let demo = leakwatch(&["demo", "--data-dir", data_path]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let token = leakwatch(&[
        "--data-dir",
        data_path,
        "token",
        "create",
        "--name",
        "yamada",
        "--customer",
        "mufg-group",
    ]);
    let token = String::from_utf8_lossy(&token.stdout).trim().to_owned();
    assert!(token.starts_with("lw_"));

    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", data_path])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("address");
    let _server = Killed(child);
    let site = first
        .trim()
        .trim_start_matches("console at ")
        .trim_end_matches('/')
        .to_owned();

    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, driver) = start_chromedriver();
    let b = new_session(&driver, profile.path());
    let shots = out_dir();

    // Log in with the customer token.
    b.goto(&format!("{site}/alerts"));
    wait_until("the login page", || b.url().ends_with("/login"));
    b.type_into("#token", &token);
    b.click("#login");
    wait_until("the queue", || b.url().ends_with("/alerts"));

    // Only this customer's alerts, as many as the demo designed for it.
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("examples/demo-market/expected.json"))
            .expect("expected"),
    )
    .expect("JSON");
    let want = expected["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["customer"] == "mufg-group")
        .count();
    let rows = b.find_all("tr.alert-row");
    assert_eq!(rows.len(), want);
    for r in &rows {
        assert_eq!(
            b.attribute(r, "data-customer").as_deref(),
            Some("mufg-group")
        );
    }
    b.screenshot(&shots.join("alert-queue.png"));
    // htmx is ours: loaded from this origin, as every other resource.
    wait_until("htmx", || {
        b.script("return typeof window.htmx") == json!("object")
    });
    let resources = b.script("return performance.getEntriesByType('resource').map(e => e.name)");
    let resources: Vec<&str> = resources
        .as_array()
        .expect("resource list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        resources.iter().any(|r| r.contains("/assets/htmx.")),
        "{resources:?}"
    );
    assert!(
        resources.iter().all(|r| r.starts_with(&site)),
        "a resource from elsewhere: {resources:?}"
    );
    // CSP violations from here on (htmx's swaps included) are counted.
    b.script(
        "window.__lw_csp = []; document.addEventListener('securitypolicyviolation', \
         e => window.__lw_csp.push(e.violatedDirective + ' ' + e.blockedURI)); return 0",
    );

    // Filter the queue with htmx: the results are swapped in, the page is
    // not reloaded (a flag set on it survives), the URL is pushed.
    b.script("window.__lw_same_page = 1; return 0");
    b.type_into("#filters input[name=text]", "lw_pwned");
    b.click("#filter-go");
    wait_until("the filtered queue", || {
        b.url().contains("text=lw_pwned") && b.find_all("tr.alert-row").len() == 1
    });
    assert_eq!(
        b.script("return window.__lw_same_page"),
        json!(1),
        "no navigation"
    );
    assert_eq!(
        b.script("return window.__lw_csp.length"),
        json!(0),
        "{:?}",
        b.script("return window.__lw_csp")
    );
    // The language switch leads back to the filtered queue.
    assert!(
        b.script("return document.getElementById('lang-switch').getAttribute('href')")
            .as_str()
            .is_some_and(|h| h.contains("text%3Dlw_pwned")),
        "{}",
        b.script("return document.getElementById('lang-switch').getAttribute('href')")
    );
    // Back: the whole queue again (htmx keeps no copy of a page; it reloads).
    b.post("/back", json!({}));
    wait_until("the whole queue again", || {
        !b.url().contains("text=") && b.find_all("tr.alert-row").len() == want
    });
    // Bulk triage with htmx: tick one alert, acknowledge it; its row
    // changes in place.
    b.script("window.__lw_same_page = 1; return 0");
    let first = b.find_all("tr.alert-row")[0].clone();
    let first_id = b.attribute(&first, "data-id").expect("data-id");
    let status_cell =
        format!("return document.querySelector(\"tr.alert-row[data-id='{first_id}'] td.status\")?.textContent");
    assert_ne!(b.script(&status_cell), json!("Acknowledged"));
    b.click(&format!(
        "tr.alert-row[data-id='{first_id}'] input[type=checkbox]"
    ));
    b.click("#bulk #status-select option[value=acknowledged]");
    b.click("#bulk-apply");
    wait_until("the row acknowledged", || {
        b.script(&status_cell) == json!("Acknowledged")
    });
    assert_eq!(
        b.script("return window.__lw_same_page"),
        json!(1),
        "no navigation"
    );
    assert_eq!(b.find_all("tr.alert-row").len(), want, "the same queue");

    // The pushed URL is a real page: loaded afresh, the same single row.
    b.goto(&format!("{site}/alerts?text=lw_pwned"));
    let hostile = b.find_all("tr.alert-row");
    assert_eq!(
        hostile.len(),
        1,
        "the hostile listing alerts for mufg-group"
    );

    // The hostile listing: its page runs nothing of the payload.
    b.click("tr.alert-row td a");
    wait_until("the alert page", || b.url().contains("/alerts/"));
    let alert_url = b.url();
    let title = b.text("h3.listing-title");
    assert!(
        title.contains("<script>window.__lw_pwned=1</script>"),
        "shown as text: {title}"
    );
    assert_eq!(
        b.script("return typeof window.__lw_pwned"),
        json!("undefined")
    );
    // One script, ours: htmx from this origin; nothing inline.
    let scripts = b.script("return Array.from(document.scripts).map(s => s.src)");
    let scripts = scripts.as_array().expect("scripts");
    assert_eq!(scripts.len(), 1, "{scripts:?}");
    assert!(
        scripts[0]
            .as_str()
            .is_some_and(|src| src.starts_with(&format!("{site}/assets/htmx."))),
        "{scripts:?}"
    );
    assert_eq!(
        b.script(
            "return document.querySelectorAll('img, svg, iframe, style, meta[http-equiv]').length"
        ),
        json!(0)
    );
    assert_ne!(
        b.script("return getComputedStyle(document.body).display"),
        json!("none")
    );
    assert_eq!(b.script("return document.querySelectorAll('a[href^=\"javascript:\"], a[href^=\"http\"]').length"), json!(0));
    let csp = b.post(
        "/execute/async",
        json!({"script": "const done = arguments[0]; fetch(location.href).then(r => done(r.headers.get('content-security-policy')));", "args": []}),
    );
    assert!(
        csp.as_str()
            .is_some_and(|c| c.contains("script-src 'self'") && c.contains("default-src 'self'")),
        "{csp}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        b.script("return typeof window.__lw_pwned"),
        json!("undefined"),
        "nothing ran later either"
    );
    assert!(b.url().starts_with(&site), "no redirect to a crawled site");

    // Triage it with htmx: the status and the history change in place,
    // without a navigation; a reload shows it kept, with the note.
    b.screenshot(&shots.join("alert-page.png"));
    wait_until("htmx", || {
        b.script("return typeof window.htmx") == json!("object")
    });
    b.script(
        "window.__lw_same_page = 1; window.__lw_csp = []; \
         document.addEventListener('securitypolicyviolation', \
         e => window.__lw_csp.push(e.violatedDirective + ' ' + e.blockedURI)); return 0",
    );
    let rows_before = b.find_all("#history li").len();
    b.click("#status-select option[value=investigating]");
    b.type_into("#note", "payload checked: inert");
    b.click("#apply");
    wait_until("the new status in place", || {
        b.script("return document.getElementById('alert-status').dataset.status")
            == json!("investigating")
    });
    assert_eq!(
        b.script("return window.__lw_same_page"),
        json!(1),
        "no navigation"
    );
    assert_eq!(b.url(), alert_url);
    assert_eq!(b.find_all("#history li").len(), rows_before + 1);
    assert!(b.text("#history").contains("payload checked: inert"));
    assert_eq!(
        b.script("return window.__lw_csp.length"),
        json!(0),
        "{:?}",
        b.script("return window.__lw_csp")
    );
    assert_eq!(
        b.script("return document.getElementById('note').value"),
        json!(""),
        "a fresh form"
    );
    assert_eq!(
        b.script("return typeof window.__lw_pwned"),
        json!("undefined")
    );
    b.post("/refresh", json!({}));
    let status = b.find("#alert-status");
    assert_eq!(
        b.attribute(&status, "data-status").as_deref(),
        Some("investigating")
    );
    assert!(b.text("#history").contains("payload checked: inert"));
    assert!(b.text("#history").contains("yamada"));
    assert_eq!(
        b.script("return window.__lw_same_page"),
        Value::Null,
        "the reload was a new page"
    );

    // Search in Japanese kanji; the simplified-Chinese listing is found.
    b.goto(&format!("{site}/search"));
    b.type_into("#q", "三菱日聯銀行");
    b.click("#search-go");
    wait_until("results", || b.url().contains("q="));
    let hits = b.find_all("li.hit");
    assert!(!hits.is_empty(), "no hit for 三菱日聯銀行");
    let shown = b.text("ol.hits");
    assert!(
        shown.contains("三菱日联"),
        "the simplified-Chinese listing: {shown}"
    );

    // Switch the language: the same page in Japanese, and back.
    assert_eq!(
        b.script("return document.documentElement.lang"),
        json!("en")
    );
    b.click("#lang-switch");
    wait_until("Japanese", || {
        b.script("return document.documentElement.lang") == json!("ja")
    });
    assert!(b.text("header nav").contains("アラート"));
    assert!(
        b.url().contains("/search"),
        "the switch came back to the page"
    );
    b.click("#lang-switch");
    wait_until("English", || {
        b.script("return document.documentElement.lang") == json!("en")
    });
    println!("screenshots in {}", shots.display());
}
