//! The demo's sources that are no forums, end to end through `leakwatch
//! demo`: the Telegram channels (messages as documents with their ids and
//! times, over an older-messages page; alerts from messages; a scam warning
//! that stays quiet; a channel without a public preview reported by
//! `leakwatch sites`) and the paste site (paste pages as documents, the
//! credentials offered for sale alerting, the harmless paste quiet).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

mod common;
use common::BIN;

fn leakwatch(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("LEAKWATCH_DATA_DIR")
        .env("NO_COLOR", "1")
        .output()
        .expect("leakwatch runs")
}

fn json_lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}

/// One demo run shared by the tests here.
fn demo_data() -> &'static str {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir: &Path = DIR
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let out = leakwatch(&["demo", "--data-dir", dir.path().to_str().expect("utf-8")]);
            assert!(
                out.status.success(),
                "demo failed: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            dir
        })
        .path();
    dir.to_str().expect("utf-8 temp path")
}

/// Every indexed document of `site`.
fn documents(site: &str) -> Vec<Value> {
    let out = leakwatch(&[
        "--data-dir",
        demo_data(),
        "search",
        &format!("site:{site}"),
        "--json",
        "--limit",
        "500",
    ]);
    assert!(out.status.success(), "{out:?}");
    json_lines(&out)
}

/// `(site, doc_id, customer/asset)` of every alert.
fn alerts() -> BTreeSet<(String, String, String)> {
    let out = leakwatch(&["--data-dir", demo_data(), "alerts", "--json"]);
    assert!(out.status.success(), "{out:?}");
    json_lines(&out)
        .iter()
        .map(|a| {
            (
                a["site"].as_str().expect("site").to_owned(),
                a["doc_id"].as_str().expect("doc_id").to_owned(),
                format!(
                    "{}/{}",
                    a["customer"].as_str().expect("customer"),
                    a["asset"].as_str().expect("asset")
                ),
            )
        })
        .collect()
}

#[test]
fn telegram_messages_are_documents_with_their_ids_and_times() {
    let docs = documents("demo-telegram");
    let ids: BTreeSet<&str> = docs.iter().map(|d| d["id"].as_str().expect("id")).collect();
    // 22 messages of riben_zhanghu (20 on its preview, 1 and 2 on the page
    // before message 3) and 6 of kouza_ichiba; none of the channel without
    // a preview.
    let want: BTreeSet<String> = (1..=22)
        .map(|n| format!("demo-telegram:riben_zhanghu/{n}"))
        .chain((101..=106).map(|n| format!("demo-telegram:kouza_ichiba/{n}")))
        .collect();
    assert_eq!(
        ids,
        want.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
    let first = docs
        .iter()
        .find(|d| d["id"] == "demo-telegram:riben_zhanghu/1")
        .expect("the oldest message, from the ?before= page");
    assert_eq!(first["posted_at"], "2026-11-10T02:10:00Z");
    assert_eq!(first["url"], "https://t.me/riben_zhanghu/1");
    assert_eq!(first["seller"], "riben_zhanghu");
    assert!(docs.iter().all(|d| d["posted_at"].is_string()), "{docs:?}");
}

#[test]
fn telegram_messages_alert_but_the_scam_warning_does_not() {
    let got = alerts();
    let telegram: BTreeSet<(String, String)> = got
        .iter()
        .filter(|(site, _, _)| site == "demo-telegram")
        .map(|(_, doc, asset)| (doc.clone(), asset.clone()))
        .collect();
    let pair = |doc: &str, asset: &str| (format!("demo-telegram:{doc}"), asset.to_owned());
    assert_eq!(
        telegram,
        BTreeSet::from([
            pair("riben_zhanghu/3", "mufg-group/mufg"),
            pair("riben_zhanghu/8", "yahoo-japan/yahoo-id"),
            pair("kouza_ichiba/102", "japan-post/yucho"),
            pair("kouza_ichiba/104", "melco/melco"),
        ])
    );
    // The warning names ゆうちょ银行 and is indexed, but raises nothing.
    let warning = documents("demo-telegram")
        .into_iter()
        .find(|d| d["id"] == "demo-telegram:riben_zhanghu/11")
        .expect("the warning is a document");
    assert!(
        warning["snippet"]
            .as_str()
            .is_some_and(|s| s.contains("防骗提醒")),
        "{warning}"
    );
    assert!(
        !got.iter()
            .any(|(_, doc, _)| doc == "demo-telegram:riben_zhanghu/11"),
        "the scam warning alerted"
    );
}

#[test]
fn the_paste_site_gives_its_pastes_and_the_combo_for_sale_alerts() {
    let docs = documents("demo-paste");
    let ids: BTreeSet<&str> = docs.iter().map(|d| d["id"].as_str().expect("id")).collect();
    // The archive's rows are left to their paste pages; the raw text is
    // not fetched.
    assert_eq!(
        ids,
        BTreeSet::from(["demo-paste:Hb7mWc2x", "demo-paste:Vq3TnK8s"])
    );
    let combo = docs
        .iter()
        .find(|d| d["id"] == "demo-paste:Vq3TnK8s")
        .expect("combo");
    assert_eq!(combo["seller"], "jp_combo_shop");
    assert_eq!(combo["posted_at"], "2026-11-23T11:15:42Z");
    assert!(
        combo["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/paste/Vq3TnK8s")),
        "{combo}"
    );
    let paste_alerts: Vec<(String, String)> = alerts()
        .into_iter()
        .filter(|(site, _, _)| site == "demo-paste")
        .map(|(_, doc, asset)| (doc, asset))
        .collect();
    assert_eq!(
        paste_alerts,
        [(
            "demo-paste:Vq3TnK8s".to_owned(),
            "jp-government/soumu".to_owned()
        )]
    );
}

#[test]
fn the_channel_without_a_preview_is_reported_with_the_reason() {
    let out = leakwatch(&["--data-dir", demo_data(), "sites", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let sites = json_lines(&out);
    let telegram = sites
        .iter()
        .find(|s| s["site"] == "demo-telegram")
        .expect("demo-telegram in `sites`");
    assert_eq!(telegram["failing"], 1, "{telegram}");
    let failing = telegram["failing_urls"].as_array().expect("failing_urls");
    assert_eq!(failing.len(), 1, "{telegram}");
    assert!(
        failing[0]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/s/tokyo_kouza_vip")),
        "{telegram}"
    );
    let error = failing[0]["error"].as_str().expect("error");
    assert!(
        error.contains("@tokyo_kouza_vip has no public preview"),
        "{error}"
    );
    // The other channels and the paste site went on.
    let paste = sites
        .iter()
        .find(|s| s["site"] == "demo-paste")
        .expect("demo-paste in `sites`");
    assert_eq!(paste["failing"], 0, "{paste}");
    // 3 preview pages (two newest, one older) and the redirect: the crawl
    // did not wander into the other sites on the same host.
    assert_eq!(telegram["urls"], 4, "{telegram}");
}
