//! A market that starts answering with a CAPTCHA, under a running
//! `leakwatch run`: the site goes to "needs a human" after one such page,
//! no further request reaches it (counted at the server), `leakwatch sites`
//! says so with the reason; `leakwatch session import` while the service
//! runs makes the next requests carry the person's cookie, and the crawl
//! completes. The operator is told once, through the sinks, as an event.
//! The cookie's value reaches neither the terminal nor the log.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{leakwatch_in as leakwatch, start_run, wait_for, BIN};

/// The value a person's browser got for solving the CAPTCHA.
const CLEARANCE: &str = "clearance=c1ear-7f3a9e-person";

/// One request as the market saw it: path and whether it carried the
/// clearance cookie.
type Seen = Arc<Mutex<Vec<(String, bool)>>>;

/// A board of four topics on loopback. Two pages come; then every page
/// asked without the clearance cookie is a CAPTCHA.
fn start_market() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let root = format!("http://{}/", listener.local_addr().expect("addr"));
    let seen: Seen = Arc::default();
    let served = Arc::new(AtomicUsize::new(0));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = log.clone();
            let served = served.clone();
            std::thread::spawn(move || serve(stream, &log, &served));
        }
    });
    (root, seen)
}

fn serve(stream: TcpStream, seen: &Seen, served: &AtomicUsize) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_owned();
        let mut cleared = false;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("cookie") && value.contains(CLEARANCE) {
                    cleared = true;
                }
            }
        }
        seen.lock().expect("log").push((path.clone(), cleared));
        let walled = served.fetch_add(1, Ordering::SeqCst) >= 2 && !cleared;
        let (status, body) = if walled {
            (
                "200 OK",
                "<html><body><h2>请输入验证码</h2><form method=post><img src='/captcha.php?r=1'>\
                 <input name=captcha_code><button>进入</button></form></body></html>"
                    .to_owned(),
            )
        } else {
            page(&path)
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if stream.write_all(head.as_bytes()).is_err() || stream.write_all(body.as_bytes()).is_err()
        {
            return;
        }
    }
}

fn page(path: &str) -> (&'static str, String) {
    if path == "/list" {
        let rows: String = (1..=4)
            .map(|t| format!("<li><a class=t href=\"topic?t={t}\">listing {t}</a></li>"))
            .collect();
        return (
            "200 OK",
            format!("<html><body><ul>{rows}</ul></body></html>"),
        );
    }
    match path
        .strip_prefix("/topic?t=")
        .and_then(|t| t.parse::<u32>().ok())
    {
        Some(t @ 1..=4) => (
            "200 OK",
            format!(
                "<html><body><h1>出售 listing {t}</h1><div class=body>body {t}</div></body></html>"
            ),
        ),
        _ => ("404 Not Found", String::new()),
    }
}

/// The site's line of `leakwatch sites --json`, once the state store has it.
fn site_state(data: &Path) -> Option<serde_json::Value> {
    let out = leakwatch(data, &["sites", "--json"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["site"] == "walled")
}

/// A service folder in `dir` for the market at `root`: the walled site's
/// profile, the MUFG watchlist and a config with one JSON-lines sink (the
/// operator's: it has no customers). Returns the config's path.
fn service_folder(dir: &Path, root: &str) -> std::path::PathBuf {
    let sites = dir.join("sites");
    let lists = dir.join("watchlists");
    std::fs::create_dir_all(&sites).expect("mkdir");
    std::fs::create_dir_all(&lists).expect("mkdir");
    std::fs::copy(
        common::repo().join("examples/watchlists/mufg-group.toml"),
        lists.join("mufg-group.toml"),
    )
    .expect("copy watchlist");
    std::fs::write(
        sites.join("walled.toml"),
        format!(
            r#"name = "walled"
base_url = "{root}"
seeds = ["list"]
concurrency = 1
[rate_limit]
requests_per_minute = 600
[links]
follow = ["a.t"]
[topic]
url = 'topic\?t=\d+$'
title = "h1"
body = "div.body"
"#
        ),
    )
    .expect("profile");
    let config = dir.join("leakwatch.toml");
    std::fs::write(
        &config,
        r#"tor = "off"
sites = "sites"
watchlists = "watchlists"
data_dir = "data"
[schedule]
recrawl_minutes = 600
reload_poll_secs = 1
commit_every_secs = 1
shutdown_deadline_secs = 5
[[sinks]]
kind = "jsonl"
name = "file"
path = "alerts.jsonl"
"#,
    )
    .expect("config");
    config
}

/// The operator events the JSON-lines sink in `dir` holds.
fn operator_events(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("alerts.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v.get("event").is_some())
        .collect()
}

#[test]
fn a_captcha_stops_the_site_until_a_session_is_imported_into_the_running_service() {
    let (root, seen) = start_market();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = service_folder(dir.path(), &root);
    let data = dir.path().join("data");
    let log = dir.path().join("run.log");
    let _service = start_run(&config, std::fs::File::create(&log).expect("log"), &[]);
    let show_log = || std::fs::read_to_string(&log).unwrap_or_default();

    // The third page is the CAPTCHA: the site stops there.
    wait_for("the site to need a human", Duration::from_secs(60), || {
        site_state(&data).is_some_and(|s| s["state"] == "needs_human")
    });
    let state = site_state(&data).expect("state");
    let reason = state["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("a CAPTCHA page") && reason.contains("/topic?t=2"),
        "{state}"
    );
    let hits = seen.lock().expect("log").len();
    assert_eq!(hits, 3, "{:?}", seen.lock().expect("log"));
    wait_for("the operator event", Duration::from_secs(15), || {
        std::fs::read_to_string(dir.path().join("alerts.jsonl"))
            .is_ok_and(|t| t.contains("\"needs_human\""))
    });
    // The service goes on (its reload poll runs every second), but no
    // request reaches the site.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(seen.lock().expect("log").len(), 3, "{}", show_log());

    // A person solves it in a browser; the operator imports the cookie.
    let out = leakwatch(
        &data,
        &["session", "import", "walled", "--cookie", CLEARANCE],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("imported 1 cookie (clearance)"), "{stdout}");
    let value = CLEARANCE
        .split_once('=')
        .map(|(_, v)| v)
        .unwrap_or_default();
    assert!(!stdout.contains(value), "the cookie's value was printed");

    // The running service resumes the site at once: the rest of the board
    // comes, every request with the cookie.
    wait_for("the rest of the board", Duration::from_secs(30), || {
        seen.lock()
            .expect("log")
            .iter()
            .any(|(p, _)| p == "/topic?t=4")
    });
    let after: Vec<(String, bool)> = seen.lock().expect("log")[3..].to_vec();
    assert!(after.iter().all(|(_, cleared)| *cleared), "{after:?}");
    assert!(
        after.iter().any(|(p, _)| p == "/topic?t=2"),
        "the walled page is fetched again"
    );
    wait_for("the site to be ok", Duration::from_secs(30), || {
        site_state(&data).is_some_and(|s| s["state"] == "ok")
    });
    assert!(
        !show_log().contains(value),
        "the cookie's value reached the log"
    );
    // The operator was told once through the operator's sink (the JSON-lines
    // file), as an event, not as an alert.
    let events = operator_events(dir.path());
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["event"], "needs_human");
    assert_eq!(events[0]["site"], "walled");
    assert!(events[0]["url"]
        .as_str()
        .is_some_and(|u| u.ends_with("/topic?t=2")));
    assert!(events[0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("leakwatch session import walled")));
    // Told once in the log, not at every pass.
    assert_eq!(
        show_log().matches("the site needs a human").count(),
        1,
        "{}",
        show_log()
    );
}

/// A stop the operator was never told of — made by `crawl --once`, which has
/// no delivery task, as after a kill -9 between a stop and its recording —
/// is told when `run` starts, once: a second start does not tell it again.
#[test]
fn a_stop_nobody_was_told_of_is_told_when_the_service_starts() {
    let (root, seen) = start_market();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = service_folder(dir.path(), &root);
    let data = dir.path().join("data");
    let out = Command::new(BIN)
        .args([
            "crawl",
            "--once",
            "--config",
            config.to_str().expect("path"),
        ])
        .current_dir(dir.path())
        .output()
        .expect("crawl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        site_state(&data).is_some_and(|s| s["state"] == "needs_human"),
        "{:?}",
        site_state(&data)
    );
    assert!(operator_events(dir.path()).is_empty(), "crawl --once told");
    let hits = seen.lock().expect("log").len();

    for start in 1..=2 {
        let log = dir.path().join(format!("run-{start}.log"));
        let service = start_run(&config, std::fs::File::create(&log).expect("log"), &[]);
        let show_log = || std::fs::read_to_string(&log).unwrap_or_default();
        wait_for("the service's first pass", Duration::from_secs(30), || {
            show_log().contains("pass finished")
        });
        wait_for("the operator event", Duration::from_secs(15), || {
            !operator_events(dir.path()).is_empty()
        });
        // Let a second delivery round pass before counting.
        std::thread::sleep(Duration::from_secs(2));
        drop(service);
        let events = operator_events(dir.path());
        assert_eq!(events.len(), 1, "start {start}: {events:?}\n{}", show_log());
        assert_eq!(events[0]["event"], "needs_human");
        assert_eq!(events[0]["site"], "walled");
        assert!(events[0]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/topic?t=2")));
    }
    // The stopped site was never asked again.
    assert_eq!(seen.lock().expect("log").len(), hits);
}
