//! End-to-end tests of the `leakwatch` binary: the demo over real loopback
//! HTTP (GBK, Shift_JIS and UTF-8 sites), search on its index, `crawl` with a
//! config, `match`, `extract`, `alerts` and `watchlist check`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

mod common;
use common::{repo, BIN};

fn shared() -> Option<PathBuf> {
    let p = repo().join("../shared");
    common::shared_present(&p.join("eval/docs.jsonl")).then_some(p)
}

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

fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}

/// Path and query of a URL (`/market/viewtopic.php?t=1`).
fn path_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme
        .find('/')
        .map_or("/".to_owned(), |i| after_scheme[i..].to_owned())
}

fn expected() -> Value {
    let text = std::fs::read_to_string(repo().join("examples/demo-market/expected.json"))
        .expect("expected.json");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

/// One demo run shared by the tests that read its results.
fn demo_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().to_str().expect("utf-8 temp path");
        let out = leakwatch(&["demo", "--data-dir", data]);
        assert!(
            out.status.success(),
            "demo failed: {}\n{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = stdout(&out);
        assert!(text.contains("112 documents indexed"), "{text}");
        assert!(
            text.contains("search 三菱日联"),
            "demo prints example searches:\n{text}"
        );
        dir
    })
    .path()
}

fn demo_data() -> &'static str {
    demo_dir().to_str().expect("utf-8 temp path")
}

#[test]
fn alerts_end_quietly_when_the_reader_goes_away() {
    // `leakwatch alerts --json | head -0`: the pipe is closed before the
    // first line; the command stops without a panic or an error.
    for args in [&["alerts", "--json"][..], &["alerts"][..]] {
        let mut child = Command::new(BIN)
            .args(["--data-dir", demo_data()])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("leakwatch starts");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("leakwatch ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn demo_raises_exactly_the_designed_alerts() {
    let out = leakwatch(&["--data-dir", demo_data(), "alerts", "--json"]);
    assert!(out.status.success());
    let got: BTreeSet<(String, String, String)> = json_lines(&out)
        .iter()
        .map(|a| {
            (
                path_of(a["url"].as_str().expect("alert url")),
                a["customer"].as_str().expect("customer").to_owned(),
                a["asset"].as_str().expect("asset").to_owned(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = expected()["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|a| {
            (
                a["path"].as_str().expect("path").to_owned(),
                a["customer"].as_str().expect("customer").to_owned(),
                a["asset"].as_str().expect("asset").to_owned(),
            )
        })
        .collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}"
    );
    assert!(!expected()["no_alert_paths"]
        .as_array()
        .expect("no_alert_paths")
        .is_empty());
    for path in expected()["no_alert_paths"].as_array().expect("paths") {
        let path = path.as_str().expect("path");
        assert!(
            !got.iter().any(|(p, _, _)| p == path),
            "non-offer {path} raised an alert"
        );
    }
}

#[test]
fn every_alert_has_the_contract_fields() {
    let out = leakwatch(&["--data-dir", demo_data(), "alerts", "--json"]);
    let alerts = json_lines(&out);
    assert_eq!(
        alerts.len(),
        expected()["alerts"].as_array().expect("alerts").len()
    );
    for a in alerts {
        for key in [
            "doc_id", "customer", "asset", "severity", "terms", "context", "snippet", "url", "site",
        ] {
            assert!(a.get(key).is_some(), "alert lacks {key}: {a}");
        }
        let snippet = a["snippet"].as_str().expect("snippet");
        let terms = a["terms"].as_array().expect("terms");
        assert!(
            terms
                .iter()
                .any(|t| snippet.contains(t.as_str().expect("term"))),
            "the snippet shows none of the matched terms as written: {a}"
        );
    }
}

#[test]
fn search_finds_pages_decoded_from_gbk_and_shift_jis() {
    let exp = expected();
    for probe in exp["search_probes"].as_array().expect("probes") {
        let query = probe["query"].as_str().expect("query");
        let out = leakwatch(&[
            "--data-dir",
            demo_data(),
            "search",
            query,
            "--json",
            "--limit",
            "50",
        ]);
        let got: BTreeSet<String> = json_lines(&out)
            .iter()
            .map(|h| path_of(h["url"].as_str().expect("url")))
            .collect();
        let want: BTreeSet<String> = match probe.get("paths") {
            Some(paths) => paths
                .as_array()
                .expect("paths")
                .iter()
                .map(|p| p.as_str().expect("path").to_owned())
                .collect(),
            None => [probe["path"].as_str().expect("path").to_owned()].into(),
        };
        assert_eq!(got, want, "search {query}");
    }
}

#[test]
fn search_folds_widths_scripts_and_kana() {
    let hits = |q: &str| -> BTreeSet<String> {
        let out = leakwatch(&[
            "--data-dir",
            demo_data(),
            "search",
            q,
            "--json",
            "--limit",
            "100",
        ]);
        json_lines(&out)
            .iter()
            .map(|h| h["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let ids = |list: &[&str]| -> BTreeSet<String> { list.iter().map(|s| s.to_string()).collect() };
    // The demo documents that name each (examples/demo-market/listings.json):
    // pages, Telegram messages and pastes.
    let ministry = ids(&[
        "demo-forum:228",
        "demo-jp:1794591227",
        "demo-jp:1794708000",
        "demo-market:10002",
        "demo-market:10021",
        "demo-paste:Vq3TnK8s",
    ]);
    for form in ["總務省", "总务省", "総務省"] {
        assert_eq!(hits(form), ministry, "search {form}");
    }
    let yucho = ids(&[
        "demo-jp:1793660888",
        "demo-jp:1794923299",
        "demo-jp:1795043550",
        "demo-market:10007",
        "demo-market:10016",
        "demo-telegram:kouza_ichiba/102",
        "demo-telegram:riben_zhanghu/11",
    ]);
    assert_eq!(hits("ゆうちょ"), yucho);
    assert_eq!(hits("ユウチョ"), yucho);
    let mufg = ids(&[
        "demo-jp:1793590496",
        "demo-jp:1794999641",
        "demo-jp:1795169763",
        "demo-market:10015",
        "demo-market:10025",
        "demo-telegram:riben_zhanghu/3",
    ]);
    assert_eq!(hits("三菱UFJ"), mufg);
    assert_eq!(hits("三菱ＵＦＪ"), mufg);
    let site = leakwatch(&[
        "--data-dir",
        demo_data(),
        "search",
        "三菱",
        "--site",
        "demo-jp",
        "--json",
    ]);
    let on_site: Vec<(String, String)> = json_lines(&site)
        .iter()
        .map(|h| {
            (
                h["id"].as_str().expect("id").to_owned(),
                h["site"].as_str().expect("site").to_owned(),
            )
        })
        .collect();
    let mut want: Vec<(String, String)> = [
        "demo-jp:1793590496",
        "demo-jp:1794149941",
        "demo-jp:1794999641",
        "demo-jp:1795169763",
    ]
    .iter()
    .map(|id| (id.to_string(), "demo-jp".to_owned()))
    .collect();
    let mut got = on_site.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{on_site:?}");
    let table = leakwatch(&["--data-dir", demo_data(), "search", "三菱日联"]);
    assert!(stdout(&table).contains("[三菱日联]"), "{}", stdout(&table));
}

#[test]
fn alerts_filter_by_customer_and_acknowledge() {
    let out = leakwatch(&[
        "--data-dir",
        demo_data(),
        "alerts",
        "--customer",
        "mufg-group",
        "--json",
    ]);
    let alerts = json_lines(&out);
    let want = expected()["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["customer"] == "mufg-group")
        .count();
    assert!(want > 0, "expected.json has mufg-group alerts");
    assert_eq!(alerts.len(), want, "{}", stdout(&out));
    assert!(alerts.iter().all(|a| a["customer"] == "mufg-group"));

    // Acknowledge on a copy of the state store (the demo's is shared by
    // the other tests): exactly that alert changes status.
    let copy = tempfile::tempdir().expect("tempdir");
    std::fs::copy(demo_dir().join("state.db"), copy.path().join("state.db")).expect("copy");
    let data = copy.path().to_str().expect("utf-8 path");
    let id = alerts[0]["id"].as_i64().expect("alert id");
    let ack = leakwatch(&["--data-dir", data, "alerts", "ack", &id.to_string()]);
    assert!(
        ack.status.success(),
        "{}",
        String::from_utf8_lossy(&ack.stderr)
    );
    assert_eq!(stdout(&ack).trim(), "acknowledged 1 alert(s)");
    let acked = leakwatch(&[
        "--data-dir",
        data,
        "alerts",
        "--status",
        "acknowledged",
        "--json",
    ]);
    let acked_ids: Vec<i64> = json_lines(&acked)
        .iter()
        .map(|a| a["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(acked_ids, [id]);
    let rest = leakwatch(&[
        "--data-dir",
        data,
        "alerts",
        "--customer",
        "mufg-group",
        "--json",
    ]);
    assert_eq!(
        json_lines(&rest).len(),
        want,
        "acknowledged alerts are still listed"
    );

    let bad = leakwatch(&["--data-dir", data, "alerts", "ack", "999999"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no alert with id 999999"));

    // Triage to a conclusion: each move is allowed from where the alert
    // stands, audited with the note, and listed under its new status.
    let moved = leakwatch(&[
        "--data-dir",
        data,
        "alerts",
        "set-status",
        &id.to_string(),
        "resolved",
        "--note",
        "confirmed with the bank",
    ]);
    assert!(
        moved.status.success(),
        "{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    let again = leakwatch(&["--data-dir", data, "alerts", "ack", &id.to_string()]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "resolved cannot go back to acknowledged"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("is resolved"));
    let resolved = json_lines(&leakwatch(&[
        "--data-dir",
        data,
        "alerts",
        "--status",
        "resolved",
        "--json",
    ]));
    assert_eq!(resolved.len(), 1);
    let history = resolved[0]["history"].as_array().expect("history");
    let moves: Vec<(&str, &str, &str)> = history
        .iter()
        .map(|h| {
            (
                h["from"].as_str().expect("from"),
                h["to"].as_str().expect("to"),
                h["note"].as_str().expect("note"),
            )
        })
        .collect();
    assert_eq!(
        moves[1],
        ("acknowledged", "resolved", "confirmed with the bank")
    );
    assert!(
        moves[0].1 == "acknowledged"
            && history[0]["actor"]
                .as_str()
                .is_some_and(|a| a.starts_with("cli:"))
    );
    let unknown = leakwatch(&["--data-dir", data, "alerts", "--status", "closed"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("false_positive"));
}

#[test]
fn match_prints_contract_alerts_for_the_eval_corpus() {
    let Some(shared) = shared() else { return };
    let out = leakwatch(&[
        "match",
        "--watchlists",
        shared.join("eval/watchlists").to_str().expect("path"),
        "--input",
        shared.join("eval/docs.jsonl").to_str().expect("path"),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alerts = json_lines(&out);
    for a in &alerts {
        for key in [
            "doc_id", "customer", "asset", "severity", "terms", "context", "snippet",
        ] {
            assert!(a.get(key).is_some(), "alert lacks {key}: {a}");
        }
    }
    // Exactly the labelled alerts, each once.
    let got: Vec<(String, String)> = alerts
        .iter()
        .map(|a| {
            (
                a["doc_id"].as_str().expect("doc_id").to_owned(),
                format!(
                    "{}/{}",
                    a["customer"].as_str().expect("customer"),
                    a["asset"].as_str().expect("asset")
                ),
            )
        })
        .collect();
    let labelled =
        std::fs::read_to_string(shared.join("eval/expected.jsonl")).expect("expected.jsonl");
    let mut want: Vec<(String, String)> = Vec::new();
    for line in labelled.lines().filter(|l| !l.trim().is_empty()) {
        let e: Value = serde_json::from_str(line).expect("expected.jsonl line");
        for asset in e["alerts"].as_array().expect("alerts") {
            want.push((
                e["id"].as_str().expect("id").to_owned(),
                asset.as_str().expect("customer/asset").to_owned(),
            ));
        }
    }
    assert!(!want.is_empty());
    let mut sorted = got.clone();
    sorted.sort();
    want.sort();
    assert_eq!(sorted, want, "alerts as printed: {got:?}");
}

#[test]
fn eval_score_meets_the_bar() {
    let Some(shared) = shared() else { return };
    let out = Command::new("python3")
        .arg(shared.join("eval/score.py"))
        .args([
            "--bin",
            BIN,
            "--min-precision",
            "1.0",
            "--min-recall",
            "1.0",
        ])
        .output()
        .expect("python3 runs");
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("precision"), "{text}");
}

/// Runs `match --json` with the example watchlists on `jsonl` (the content of
/// a file named docs.jsonl).
fn match_jsonl(jsonl: impl AsRef<[u8]>) -> std::process::Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("docs.jsonl");
    std::fs::write(&input, jsonl).expect("write");
    leakwatch(&[
        "match",
        "--watchlists",
        repo().join("examples/watchlists").to_str().expect("path"),
        "--input",
        input.to_str().expect("path"),
        "--json",
    ])
}

#[test]
fn match_reports_a_malformed_line_and_goes_on() {
    let out = match_jsonl(
        "{\"id\":\"a\",\"title\":\"【出售】三菱日联银行网银账户\"}\n{not json\n{\"id\":\"b\",\"title\":\"出售 三菱UFJ銀行 口座\"}\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("docs.jsonl:2:"), "{stderr}");
    let ids: Vec<String> = json_lines(&out)
        .iter()
        .map(|a| a["doc_id"].as_str().expect("doc_id").to_owned())
        .collect();
    assert_eq!(ids, ["a", "b"]);
}

#[test]
fn match_names_a_line_that_is_not_utf8_and_goes_on() {
    let mut jsonl = b"{\"id\":\"bad\",\"title\":\"\xff\xfe offer\"}\n".to_vec();
    jsonl.extend_from_slice("{\"id\":\"b\",\"title\":\"出售 三菱UFJ銀行 口座\"}\n".as_bytes());
    let out = match_jsonl(jsonl);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("docs.jsonl:1: not UTF-8 (invalid byte 22 of the line)"),
        "{stderr}"
    );
    let ids: Vec<String> = json_lines(&out)
        .iter()
        .map(|a| a["doc_id"].as_str().expect("doc_id").to_owned())
        .collect();
    assert_eq!(ids, ["b"]);
}

#[test]
fn match_reads_escaped_strings_and_checks_the_kind() {
    // Lines are parsed without copying where a string has no escapes; a string
    // with escapes (\uXXXX, \n, \") must still match as its text, and an
    // unknown kind is still a malformed line.
    let out = match_jsonl(concat!(
        r#"{"id":"esc","site":"s","title":"\u3010\u51fa\u552e\u3011\n\"\u4e09\u83f1\u65e5\u8054\u94f6\u884c\" \u7f51\u94f6\u8d26\u6237"}"#,
        "\n",
        r#"{"id":"bad-kind","kind":"poster","title":"出售 三菱UFJ銀行 口座"}"#,
        "\n",
        r#"{"id":"plain","kind":"listing","title":"出售 三菱UFJ銀行 口座","price":"1 BTC"}"#,
        "\n",
    ));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("docs.jsonl:2:"), "{stderr}");
    let alerts = json_lines(&out);
    let ids: Vec<&str> = alerts
        .iter()
        .map(|a| a["doc_id"].as_str().expect("doc_id"))
        .collect();
    assert_eq!(ids, ["esc", "plain"]);
    assert_eq!(alerts[0]["terms"][0], "三菱日联银行");
}

#[test]
fn match_keeps_input_order_across_threads_and_stops_when_output_closes() {
    // Many batches (256 lines each), offers and noise interleaved, bad
    // lines scattered: alerts come out in input order, each bad line is
    // named by its number.
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("docs.jsonl");
    let mut text = String::new();
    let mut expected = Vec::new();
    for i in 0..6000 {
        if i % 1000 == 500 {
            text.push_str("{broken\n");
        } else if i % 7 == 0 {
            text.push_str(&format!(
                "{{\"id\":\"d{i}\",\"title\":\"【出售】三菱日联银行网银账户 {i}\"}}\n"
            ));
            expected.push(format!("d{i}"));
        } else {
            text.push_str(&format!(
                "{{\"id\":\"n{i}\",\"body\":\"今日は天気がいいですね {i}\"}}\n"
            ));
        }
    }
    std::fs::write(&input, &text).expect("write");
    let lists = repo().join("examples/watchlists");
    let args = [
        "match",
        "--watchlists",
        lists.to_str().expect("path"),
        "--input",
        input.to_str().expect("path"),
        "--json",
    ];
    let out = leakwatch(&args);
    assert_eq!(out.status.code(), Some(1));
    let ids: Vec<String> = json_lines(&out)
        .iter()
        .map(|a| a["doc_id"].as_str().expect("doc_id").to_owned())
        .collect();
    let mut deduped = ids.clone();
    deduped.dedup();
    assert_eq!(deduped, expected, "alerts in input order");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in [501, 1501, 2501, 3501, 4501, 5501] {
        assert!(stderr.contains(&format!("docs.jsonl:{line}: ")), "{stderr}");
    }

    // Output closed early (as by `| head -1`): the command ends (no thread
    // left waiting on another), quietly, as `head` users expect.
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("leakwatch starts");
    let mut first = [0u8; 64];
    std::io::Read::read_exact(child.stdout.as_mut().expect("stdout"), &mut first)
        .expect("some output");
    drop(child.stdout.take());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "still running after its output closed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "a closed output is not an error: {status}"
    );
}

#[test]
fn watchlist_check_names_file_and_line() {
    let good = leakwatch(&[
        "watchlist",
        "check",
        repo().join("examples/watchlists").to_str().expect("path"),
    ]);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "customer = \"x\"\n\n[[assets]]\nid = \"a\"\nkind = \"bank\"\nterms = [\"\"]\n",
    )
    .expect("write");
    let out = leakwatch(&["watchlist", "check", bad.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.toml:6"), "{stderr}");
}

#[test]
fn extract_runs_a_profile_on_a_saved_gbk_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let utf8 = std::fs::read_to_string(
        repo().join("examples/demo-market/site/market/viewtopic-10001.html"),
    )
    .expect("demo page");
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&utf8);
    assert!(!unmappable);
    let page = dir.path().join("viewtopic.html");
    std::fs::write(&page, &gbk).expect("write");
    let out = leakwatch(&[
        "extract",
        "--profile",
        repo()
            .join("examples/sites/demo-market.toml")
            .to_str()
            .expect("path"),
        "--url",
        "http://demo.invalid/market/viewtopic.php?t=10001",
        page.to_str().expect("path"),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs = json_lines(&out);
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    assert_eq!(d["id"], "demo-market:10001");
    assert_eq!(d["encoding"], "GBK");
    assert!(
        d["title"].as_str().expect("title").contains("三菱日联银行"),
        "{d}"
    );
    assert!(d["price"].as_str().expect("price").contains("BTC"), "{d}");
}

#[test]
fn crawl_with_a_config_over_loopback() {
    let (server, root) = common::demo_server();

    let dir = tempfile::tempdir().expect("tempdir");
    let sites = dir.path().join("sites");
    std::fs::create_dir(&sites).expect("mkdir");
    for name in ["demo-market", "demo-jp"] {
        let text = std::fs::read_to_string(repo().join(format!("examples/sites/{name}.toml")))
            .expect("profile");
        // Secrets that must never reach a log, however verbose.
        let text = format!(
            "headers = [\"X-Api-Key: hdr-s3cr3t-4711\"]\n{}\n[session]\ncookies = [\"sessid=ck-s3cr3t-0815\"]\n",
            text.replace("http://demo.invalid/", &root)
        );
        std::fs::write(sites.join(format!("{name}.toml")), text).expect("write");
    }
    let config = dir.path().join("leakwatch.toml");
    std::fs::write(
        &config,
        format!(
            "tor = \"off\"\nsites = \"sites\"\nwatchlists = {:?}\ndata_dir = \"data\"\n",
            repo().join("examples/watchlists").to_str().expect("path")
        ),
    )
    .expect("write");
    // RUST_LOG=trace: every crate's most verbose logging.
    let out = Command::new(BIN)
        .args([
            "crawl",
            "--config",
            config.to_str().expect("path"),
            "--once",
        ])
        .env("RUST_LOG", "trace")
        .output()
        .expect("leakwatch runs");
    drop(server);
    let text = stdout(&out);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("fetched"), "a verbose log: {log}");
    for secret in ["hdr-s3cr3t-4711", "ck-s3cr3t-0815"] {
        assert!(
            !text.contains(secret) && !log.contains(secret),
            "{secret} was logged"
        );
    }
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The summary table: site, pages, 304, unchanged, docs, errors, KiB, state.
    let row = |site: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(site))
            .unwrap_or_else(|| panic!("no summary row for {site}:\n{text}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        row("demo-market")[1..6],
        ["44", "0", "0", "34", "0"],
        "{text}"
    );
    assert_eq!(row("demo-jp")[1..6], ["21", "0", "0", "19", "0"], "{text}");
    // `leakwatch sites` reads the same pass back from the state store.
    let sites = leakwatch(&[
        "--data-dir",
        dir.path().join("data").to_str().expect("path"),
        "sites",
        "--json",
    ]);
    let got: Vec<(String, u64, u64, usize, usize)> = json_lines(&sites)
        .iter()
        .map(|s| {
            (
                s["site"].as_str().expect("site").to_owned(),
                s["fetched"].as_u64().expect("fetched"),
                s["failing"].as_u64().expect("failing"),
                s["failing_urls"].as_array().expect("failing_urls").len(),
                s["dead_letters"].as_array().expect("dead_letters").len(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("demo-jp".to_owned(), 21, 0, 0, 0),
            ("demo-market".to_owned(), 44, 0, 0, 0)
        ]
    );
    let search = leakwatch(&[
        "--data-dir",
        dir.path().join("data").to_str().expect("path"),
        "search",
        "瑠璃鴎堂",
        "--json",
    ]);
    assert_eq!(json_lines(&search).len(), 1);
}

#[test]
fn onion_sites_are_refused_without_tor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sites = dir.path().join("sites");
    std::fs::create_dir(&sites).expect("mkdir");
    let text =
        std::fs::read_to_string(repo().join("examples/sites/demo-forum.toml")).expect("profile");
    let onion = "http://2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion/";
    std::fs::write(
        sites.join("f.toml"),
        text.replace("http://demo.invalid/", onion),
    )
    .expect("write");
    let config = dir.path().join("leakwatch.toml");
    std::fs::write(
        &config,
        format!(
            "tor = \"off\"\nsites = \"sites\"\nwatchlists = {:?}\ndata_dir = \"data\"\n",
            repo().join("examples/watchlists").to_str().expect("path")
        ),
    )
    .expect("write");
    let out = leakwatch(&[
        "crawl",
        "--config",
        config.to_str().expect("path"),
        "--once",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains(".onion") && all.contains("tor"), "{all}");
}

#[test]
fn every_command_has_help() {
    for cmd in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["crawl", "--help"],
        vec!["search", "--help"],
        vec!["match", "--help"],
        vec!["extract", "--help"],
        vec!["alerts", "--help"],
        vec!["sites", "--help"],
        vec!["run", "--help"],
        vec!["watchlist", "check", "--help"],
    ] {
        let out = leakwatch(&cmd);
        assert!(out.status.success(), "{cmd:?}");
        assert!(stdout(&out).contains("Usage"), "{cmd:?}");
    }
}

#[test]
fn search_without_an_index_says_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = leakwatch(&[
        "--data-dir",
        dir.path().to_str().expect("path"),
        "search",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("leakwatch demo"));
}

#[test]
fn retro_hunt_raises_alerts_of_a_new_watchlist_on_the_index() {
    // A private index, so the shared demo's alert log is left alone. The new
    // watchlist is NEC's under another customer name: it must find exactly
    // the pages where the demo raises NEC alerts.
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8 temp path");
    let lists = dir.path().join("lists");
    std::fs::create_dir(&lists).expect("mkdir");
    let nec =
        std::fs::read_to_string(repo().join("examples/watchlists/nec.toml")).expect("nec.toml");
    let retro = nec.replace("customer = \"nec\"", "customer = \"retro\"");
    assert_ne!(nec, retro);
    std::fs::write(lists.join("retro.toml"), retro).expect("write");
    assert!(leakwatch(&["demo", "--data-dir", data]).status.success());
    let out = leakwatch(&[
        "--data-dir",
        data,
        "watchlist",
        "retro-hunt",
        lists.to_str().expect("path"),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: BTreeSet<String> = json_lines(&out)
        .iter()
        .inspect(|a| assert_eq!(a["customer"], "retro"))
        .map(|a| path_of(a["url"].as_str().expect("url")))
        .collect();
    let want: BTreeSet<String> = expected()["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["customer"] == "nec")
        .map(|a| a["path"].as_str().expect("path").to_owned())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
    let again = leakwatch(&[
        "--data-dir",
        data,
        "watchlist",
        "retro-hunt",
        lists.to_str().expect("path"),
    ]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains(&format!("{} alert(s), 0 new", want.len())),
        "{stderr}"
    );
}
