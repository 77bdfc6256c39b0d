//! `leakwatch extract` as a user runs it: a saved page, an engine or a
//! profile, JSON lines on stdout, `--explain` on stderr.

mod common;

use std::path::Path;
use std::process::Command;

use common::{repo, BIN};

fn extract(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("extract")
        .args(args)
        .output()
        .expect("leakwatch runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn engine_auto_on_a_saved_market_page_with_explain() {
    let page = repo().join("extract/tests/fixtures/anwang/viewtopic.html");
    let (ok, stdout, stderr) = extract(&[
        page.to_str().expect("path"),
        "--url",
        "http://market.example/viewtopic.php?t=12034",
        "--fetched-at",
        "2018-11-03T00:00:00Z",
        "--json",
        "--explain",
    ]);
    assert!(ok, "{stderr}");
    let docs: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON document a line"))
        .collect();
    assert_eq!(docs.len(), 1, "{stdout}");
    assert_eq!(docs[0]["id"], "market:12034");
    assert_eq!(docs[0]["price"], "0.0123 BTC");
    assert_eq!(docs[0]["posted_at"], "2018-11-02T01:29:00Z");
    assert!(
        stderr.contains("rules:  preset anwang (detected: "),
        "{stderr}"
    );
    assert!(stderr.contains(r#"[label "商品单价"]"#), "{stderr}");
    // The price read by the indexer's parser: amount and currency.
    assert!(stderr.contains("(amount 0.0123, BTC)"), "{stderr}");
}

#[test]
fn a_profile_on_a_page_it_does_not_fit_says_why() {
    let page = repo().join("extract/tests/fixtures/mybb/forumdisplay.html");
    let profile = repo().join("examples/sites/demo-market.toml");
    let (ok, stdout, stderr) = extract(&[
        "--profile",
        profile.to_str().expect("path"),
        page.to_str().expect("path"),
        "--url",
        "http://demo.invalid/market/viewforum.php?f=2",
    ]);
    assert!(!ok);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("no document (list page"), "{stderr}");
}

#[test]
fn unknown_engine_is_named() {
    let page = Path::new("extract/tests/fixtures/smf/topic.html");
    let (ok, _, stderr) = extract(&["--engine", "kunena", page.to_str().expect("path")]);
    assert!(!ok);
    assert!(
        stderr.contains("kunena") && stderr.contains("phpbb"),
        "{stderr}"
    );
}

#[test]
fn the_real_market_page_when_present() {
    let page =
        repo().join("../shared/fixtures/real/anwang-2018/ff5006c3b65567793eeb35908ec79ee6.html");
    if !common::shared_present(&page) {
        return;
    }
    // No --url: the page's canonical link says where it came from.
    let (ok, stdout, stderr) = extract(&["--engine", "anwang", page.to_str().expect("path")]);
    assert!(ok, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one document");
    assert_eq!(
        doc["url"],
        "http://bmp3qqimv55xdznb.onion/viewtopic.php?t=8647"
    );
    assert_eq!(doc["listing_number"], "8647");
    assert_eq!(doc["seller"], "fullbitmin");
    assert_eq!(doc["extra"]["price_usd"], "6264.43 美元");
}

/// Runs `leakwatch extract` with `RUST_LOG` as given (unset: `None`).
fn extract_with_log(rust_log: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("RUST_LOG");
    if let Some(filter) = rust_log {
        cmd.env("RUST_LOG", filter);
    }
    cmd.output().expect("leakwatch runs")
}

#[test]
fn parser_warnings_stay_off_stderr_unless_rust_log_names_the_parser() {
    // A <div> inside a <table> row group makes html5ever "foster parent" it,
    // which it reports with a WARN record on every such page.
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("table.html");
    std::fs::write(
        &page,
        "<html><head><title>出售 账号</title></head><body><table><tr><td>x</td></tr>\
         <div>stray</div></table><p>出售三菱日联网银，价格私聊，只走担保交易。</p></body></html>",
    )
    .expect("write page");
    let page = page.to_str().expect("utf-8 path");
    let args = [
        "-vv",
        "extract",
        "--engine",
        "generic",
        page,
        "--url",
        "http://x.example/t/1",
    ];
    let quiet = extract_with_log(None, &args);
    let stderr = String::from_utf8_lossy(&quiet.stderr);
    assert!(quiet.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&quiet.stdout).lines().count(), 1);
    assert!(!stderr.contains("foster parenting"), "{stderr}");
    assert!(!stderr.contains("html5ever"), "{stderr}");
    // Debug logging is on: the parser alone is held back.
    let debug = extract_with_log(Some("debug"), &args);
    assert!(!String::from_utf8_lossy(&debug.stderr).contains("foster parenting"));
    // Asked for by name, the parser's warnings come through.
    let asked = extract_with_log(Some("warn,html5ever=warn"), &args);
    let stderr = String::from_utf8_lossy(&asked.stderr);
    assert!(
        stderr.contains("foster parenting not implemented"),
        "{stderr}"
    );
}

#[test]
fn files_that_are_not_pages_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Random bytes (xorshift; no NUL, so only the control characters give
    // them away), an empty file, and a sparse file past the 10 MiB cap.
    let mut x: u32 = 0x9E37_79B9;
    let noise: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8 | 1
        })
        .collect();
    let random = dir.path().join("random.bin");
    std::fs::write(&random, &noise).expect("write");
    let empty = dir.path().join("empty.html");
    std::fs::write(&empty, b"").expect("write");
    let large = dir.path().join("large.html");
    std::fs::File::create(&large)
        .and_then(|f| f.set_len(10 * 1024 * 1024 + 1))
        .expect("sparse file");
    for (file, what) in [
        (&random, "looks binary"),
        (&empty, "is empty"),
        (&large, "too large"),
    ] {
        let name = file.to_str().expect("utf-8 path");
        let out = extract_with_log(None, &["extract", "--engine", "auto", name]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name} printed a document");
        assert!(
            stderr.contains(&format!("{name}: not a page: ")) && stderr.contains(what),
            "{stderr}"
        );
    }
}

/// `site doctor` on a custom market's page: it names what it found, lists
/// the links a crawl would and would not follow, and writes a profile with
/// which `extract --profile` gives exactly what `--engine auto` gives.
#[test]
fn site_doctor_writes_a_profile_that_reproduces_generic_extraction() {
    let page = repo().join("extract/tests/fixtures/generic/market-ru.html");
    let page = page.to_str().expect("path");
    let url = "http://market.example/cat.php?c=7";
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = dir.path().join("market.toml");
    let out = Command::new(BIN)
        .args(["site", "doctor", page, "--url", url, "--write"])
        .arg(&profile)
        .output()
        .expect("leakwatch runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains("engine:  generic (no engine recognised)"),
        "{report}"
    );
    assert!(
        report.contains("kind:    list page (generic: 4 records at "),
        "{report}"
    );
    assert!(
        report.contains("1. База клиентов MUFG 2026, 120к строк"),
        "{report}"
    );
    assert!(
        report.contains("seller=dumpking  posted=2026-11-05T14:20:00Z  price=$450"),
        "{report}"
    );
    assert!(
        report.contains("column 3 (header \"Продавец\")"),
        "{report}"
    );
    // Followed: listings and list pages; not followed: login, register and
    // user profiles.
    assert!(
        report.contains("\n  http://market.example/item.php?id=4998\n"),
        "{report}"
    );
    assert!(
        report.contains("\n  http://market.example/cat.php?c=7&p=2\n"),
        "{report}"
    );
    assert!(report.contains("\n  http://market.example/login.php\n      http://market.example/login.php: matches links.deny pattern"), "{report}");
    assert!(report.contains("\n  http://market.example/user.php?u=12\n      http://market.example/user.php?u=12: matches links.deny pattern"), "{report}");
    let followed = report
        .split("links it does not follow")
        .next()
        .unwrap_or_default();
    assert!(!followed.contains("user.php"), "{report}");
    let written = std::fs::read_to_string(&profile).expect("the profile was written");
    assert!(written.contains("engine = \"generic\""), "{written}");
    assert!(
        written.contains("\nrow = \"table.goods > tbody > tr\"\n"),
        "{written}"
    );
    let fixed = ["--url", url, "--fetched-at", "2026-12-01T00:00:00Z"];
    let (ok, auto, err) = extract(&[&["--engine", "auto", page][..], &fixed[..]].concat());
    assert!(ok, "{err}");
    let profile = profile.to_str().expect("path");
    let (ok, with_profile, err) =
        extract(&[&["--profile", profile, page][..], &fixed[..]].concat());
    assert!(ok, "{err}");
    assert_eq!(auto.lines().count(), 4, "{auto}");
    assert_eq!(with_profile, auto);
}

/// A CAPTCHA gate is no listing: no document, exit 1, and `--explain` says why.
#[test]
fn a_captcha_page_yields_nothing() {
    let page = repo().join("extract/tests/fixtures/generic/captcha.html");
    let (ok, stdout, stderr) = extract(&[
        page.to_str().expect("path"),
        "--url",
        "http://market.example/",
        "--explain",
    ]);
    assert!(!ok);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("kind:   a CAPTCHA page: no documents"),
        "{stderr}"
    );
}

/// `site doctor URL` fetches the page (here directly, from the demo market
/// on loopback) and diagnoses it like a saved one.
#[test]
fn site_doctor_fetches_a_url() {
    let (_server, root) = common::demo_server();
    let url = format!("{root}forum/forumdisplay.php?fid=2");
    let out = Command::new(BIN)
        .args(["site", "doctor", &url, "--tor", "off"])
        .output()
        .expect("leakwatch runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains(&format!("page:    {url} ({url})")),
        "{report}"
    );
    assert!(
        report.contains("engine:  preset mybb (detected: "),
        "{report}"
    );
    assert!(report.contains("kind:    list page ("), "{report}");
    assert!(report.contains("links a crawl follows ("), "{report}");
}
