//! `pivot` and `actor` on the index `leakwatch demo` leaves: the demo
//! market's listings share a Telegram handle and a BTC wallet (wasabi88 on
//! the market, mailman on the forum, 資料屋 on the board), a USDT-TRC20
//! wallet (银狐, yucho_acc, 口座屋◆Qw98ErTy) and a QQ number written in
//! full-width digits on one page (老周数据, 东瀛四件套, 老号收购), and the
//! commands must find exactly those links; alerts carry the entities.

use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

mod common;
use common::BIN;

const BTC: &str = "bc1q9x67cjp6wjnmx2c580clky35tvnw85hfpw36vp";
const TRON: &str = "TYp5KWvozWf8f5ZnwDUwFiboqsKEJNNPFB";

fn leakwatch(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .args(["--data-dir", demo_data()])
        .env_remove("LEAKWATCH_DATA_DIR")
        .env("NO_COLOR", "1")
        .output()
        .expect("leakwatch runs")
}

/// One demo run shared by the tests here.
fn demo_data() -> &'static str {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().to_str().expect("utf-8 temp path");
        let out = Command::new(BIN)
            .args(["demo", "--data-dir", data])
            .env_remove("LEAKWATCH_DATA_DIR")
            .output()
            .expect("demo runs");
        assert!(
            out.status.success(),
            "demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
    .path()
    .to_str()
    .expect("utf-8 temp path")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// (site, seller) of each document of a pivot report, and whether their
/// dates never go back.
fn documents(report: &Value) -> (Vec<(String, String)>, bool) {
    let docs = report["documents"].as_array().expect("documents");
    let dates: Vec<&str> = docs
        .iter()
        .map(|d| d["date"].as_str().expect("dated"))
        .collect();
    let pairs = docs
        .iter()
        .map(|d| {
            (
                d["site"].as_str().expect("site").to_owned(),
                d["seller"].as_str().expect("seller").to_owned(),
            )
        })
        .collect();
    (pairs, dates.windows(2).all(|w| w[0] <= w[1]))
}

fn pair(site: &str, seller: &str) -> (String, String) {
    (site.to_owned(), seller.to_owned())
}

#[test]
fn pivot_on_a_handle_finds_three_sites_oldest_first() {
    let report = json(&leakwatch(&["pivot", "@Wasabi_Mail", "--json"]));
    assert_eq!(report["value"], "@wasabi_mail");
    assert_eq!(report["kind"], "telegram");
    let (docs, in_order) = documents(&report);
    // jp-07 (Nov 10), forum 208 (Nov 13), market 10002 (Nov 18).
    assert_eq!(
        docs,
        [
            pair("demo-jp", "資料屋"),
            pair("demo-forum", "mailman"),
            pair("demo-market", "wasabi88")
        ]
    );
    assert!(in_order, "{report}");
    assert_eq!(
        strings(&report["sites"]),
        ["demo-jp", "demo-forum", "demo-market"]
    );
}

#[test]
fn pivot_on_wallets_and_a_full_width_qq_number() {
    let report = json(&leakwatch(&["pivot", TRON, "--json"]));
    assert_eq!(report["kind"], "tron");
    assert_eq!(
        sorted(strings(&report["sellers"])),
        ["yucho_acc", "口座屋◆Qw98ErTy", "银狐"]
    );
    let report = json(&leakwatch(&["pivot", &BTC.to_uppercase(), "--json"]));
    assert_eq!(report["kind"], "btc");
    assert_eq!(sorted(strings(&report["sellers"])), ["mailman", "wasabi88"]);
    // 老周数据 wrote it as ＱＱ：１２３４５６７８ (full width), the others not.
    let report = json(&leakwatch(&["pivot", "QQ 12345678", "--json"]));
    assert_eq!(report["value"], "12345678");
    assert_eq!(
        sorted(strings(&report["sellers"])),
        ["东瀛四件套", "老号收购", "老周数据"]
    );
    let (_, in_order) = documents(&report);
    assert!(in_order, "{report}");
}

#[test]
fn pivot_on_nothing_shared_exits_1() {
    let out = leakwatch(&["pivot", "@nobody_here"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no document has"));
}

#[test]
fn actor_shows_wallets_contacts_and_the_sellers_they_link() {
    let report = json(&leakwatch(&["actor", "wasabi88", "--json"]));
    let listings = report["listings"].as_array().expect("listings");
    assert_eq!(listings.len(), 1);
    assert_eq!(listings[0]["site"], "demo-market");
    let values = |key: &str| -> Vec<String> {
        report[key]
            .as_array()
            .expect(key)
            .iter()
            .map(|h| {
                format!(
                    "{} {}",
                    h["kind"].as_str().expect("kind"),
                    h["value"].as_str().expect("value")
                )
            })
            .collect()
    };
    assert_eq!(values("wallets"), [format!("btc {BTC}")]);
    // The sample address of the leak is an e-mail address in the text too:
    // nothing tells a victim's address from a seller's.
    assert_eq!(
        values("contacts"),
        ["email t-tanaka@soumu.go.jp", "telegram @wasabi_mail"]
    );
    let linked: Vec<(String, Vec<String>, usize)> = report["linked_sellers"]
        .as_array()
        .expect("linked")
        .iter()
        .map(|l| {
            (
                l["seller"].as_str().expect("seller").to_owned(),
                strings(&l["sites"]),
                l["shared"].as_array().expect("shared").len(),
            )
        })
        .collect();
    assert_eq!(
        linked,
        [
            ("mailman".to_owned(), vec!["demo-forum".to_owned()], 2),
            ("資料屋".to_owned(), vec!["demo-jp".to_owned()], 1),
        ]
    );

    // Text output, and a seller on one site.
    let out = leakwatch(&["actor", "银狐", "--site", "demo-market"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("tron      {TRON}")), "{text}");
    assert!(text.contains("yucho_acc on demo-forum"), "{text}");
    assert!(text.contains("口座屋◆Qw98ErTy on demo-jp"), "{text}");
    // Not on that site: nothing, exit 1.
    let out = leakwatch(&["actor", "银狐", "--site", "demo-forum"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn search_has_exact_entity_and_wallet_fields() {
    let ids = |q: &str| -> Vec<String> {
        let out = leakwatch(&["search", q, "--json", "--limit", "50"]);
        let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("JSON line");
                v["seller"].as_str().unwrap_or("-").to_owned()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        ids(&format!("wallet:{TRON}")),
        ["yucho_acc", "口座屋◆Qw98ErTy", "银狐"]
    );
    assert_eq!(
        ids("entity:@wasabi_mail"),
        ["mailman", "wasabi88", "資料屋"]
    );
    assert_eq!(ids("entity:dumpster@exploit.im"), ["dumpster"]);
    // A contact is no wallet; a handle's name is no entity.
    assert!(ids("wallet:@wasabi_mail").is_empty());
    assert!(ids("entity:wasabi_mail").is_empty());
}

#[test]
fn alerts_carry_their_documents_entities() {
    let out = leakwatch(&["alerts", "--json", "--customer", "jp-government"]);
    assert!(out.status.success());
    let alerts: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let soumu = alerts
        .iter()
        .find(|a| {
            a["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("viewtopic.php?t=10002"))
        })
        .expect("the alert on wasabi88's listing");
    let entities: Vec<(&str, &str)> = soumu["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().expect("kind"),
                e["value"].as_str().expect("value"),
            )
        })
        .collect();
    assert!(
        entities.contains(&("telegram", "@wasabi_mail")),
        "{entities:?}"
    );
    assert!(entities.contains(&("btc", BTC)), "{entities:?}");
    // An alert whose document has none carries no key at all.
    assert!(alerts.iter().any(|a| a.get("entities").is_none()));
}
