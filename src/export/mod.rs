//! Stored alerts as threat-intelligence exchange formats (STIX 2.1 bundles,
//! MISP events): pure functions from [`ExportAlert`]s to JSON values. Nothing
//! here reads a file, the store or the clock, so the same alerts always give
//! the same bytes and the same object ids.

pub(crate) mod misp;
pub(crate) mod stix;

use std::collections::BTreeSet;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use sha1::{Digest, Sha1};
use watchlists::{Alert, Asset};

use crate::alert_store::StoredAlert;

/// Traffic Light Protocol level of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tlp {
    Clear,
    White,
    Green,
    Amber,
    AmberStrict,
    Red,
}

impl Tlp {
    /// The names accepted on the command line, as MISP's `tlp` taxonomy writes them.
    pub(crate) const NAMES: [&'static str; 6] =
        ["clear", "white", "green", "amber", "amber+strict", "red"];

    pub(crate) fn parse(name: &str) -> Option<Tlp> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "clear" => Tlp::Clear,
            "white" => Tlp::White,
            "green" => Tlp::Green,
            "amber" => Tlp::Amber,
            "amber+strict" => Tlp::AmberStrict,
            "red" => Tlp::Red,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::White => "white",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }
}

/// What the watchlist says of an alert's asset (absent when the export runs
/// without the watchlists).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AssetInfo {
    /// `bank`, `ministry`, … as in the watchlist file.
    pub kind: String,
    /// The watched domains (lower case, validated by the watchlist loader).
    pub domains: Vec<String>,
}

impl AssetInfo {
    pub(crate) fn from_asset(asset: &Asset) -> AssetInfo {
        AssetInfo {
            kind: asset.kind().as_str().to_owned(),
            domains: asset.domains().to_vec(),
        }
    }
}

/// What the index holds of the alerted document (absent when the index does
/// not have it any more).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Listing {
    pub kind: String,
    pub title: Option<String>,
    pub seller: Option<String>,
    pub category: Option<String>,
    pub lang: Option<String>,
    /// The price as the page wrote it, and as parsed from that.
    pub price: Option<String>,
    pub price_amount: Option<f64>,
    pub price_currency: Option<String>,
    pub posted_at: Option<DateTime<Utc>>,
}

impl Listing {
    pub(crate) fn from_document(doc: &indexer::IndexDocument) -> Listing {
        let parsed = doc.parsed_price();
        Listing {
            kind: doc.kind.clone(),
            title: doc.title.clone().filter(|t| !t.trim().is_empty()),
            seller: doc.seller.clone().filter(|s| !s.trim().is_empty()),
            category: doc.category.clone().filter(|c| !c.trim().is_empty()),
            lang: doc.lang.clone(),
            price: doc.price.clone().filter(|p| !p.trim().is_empty()),
            price_amount: parsed.as_ref().map(|p| p.amount),
            price_currency: parsed.and_then(|p| p.currency).map(|c| c.code().to_owned()),
            posted_at: doc.posted_at,
        }
    }
}

/// The same listing seen again on another page (a repost).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Repost {
    pub doc_id: String,
    pub url: Option<String>,
    pub site: Option<String>,
    pub seen_at: DateTime<Utc>,
}

/// One alert with everything an export says about it, timestamps parsed.
#[derive(Debug, Clone)]
pub(crate) struct ExportAlert {
    /// The store's row id (local to one data folder: never part of an object id).
    pub id: i64,
    /// `new`, `delivered` or `acknowledged` (the analyst's).
    pub status: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub alert: Alert,
    pub reposts: Vec<Repost>,
    pub listing: Option<Listing>,
    pub asset: Option<AssetInfo>,
    /// Hosts at or under a watched domain that the listing names
    /// (`login.bk.mufg[.]jp` → `login.bk.mufg.jp`), sorted.
    pub hosts: Vec<String>,
    /// E-mail addresses at or under a watched domain in the listing's text,
    /// sorted, at most [`MAX_EMAILS`].
    pub emails: Vec<String>,
    /// How many such addresses the text had in all.
    pub emails_total: usize,
    /// The page the alert was raised on, as the evidence archive keeps it.
    pub evidence: Option<PageEvidence>,
    /// The analysts' triage moves, oldest first (the console's and
    /// `leakwatch alerts set-status`'s audit trail).
    pub history: Vec<crate::triage::HistoryEntry>,
}

/// The evidence archive's page of an alert (`leakwatch evidence ID`
/// bundles it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageEvidence {
    /// SHA-256 of the bytes as received (lower-case hex).
    pub sha256: String,
    /// Their length.
    pub size: u64,
    /// The response's `Content-Type`, as sent.
    pub content_type: Option<String>,
}

impl PageEvidence {
    /// The media type alone (`text/html` of `text/html; charset=GBK`),
    /// `text/html` when the server named none.
    pub(crate) fn mime_type(&self) -> String {
        self.content_type
            .as_deref()
            .and_then(|t| t.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty() && t.contains('/'))
            .unwrap_or_else(|| "text/html".to_owned())
    }
}

/// Addresses exported per alert: a dump listing thousands quotes a few.
pub(crate) const MAX_EMAILS: usize = 50;

impl ExportAlert {
    /// Gathers an alert, its document (title and body are searched for
    /// e-mail addresses) and its asset's watchlist entry.
    pub(crate) fn new(
        stored: StoredAlert,
        document: Option<&indexer::IndexDocument>,
        asset: Option<&Asset>,
    ) -> anyhow::Result<ExportAlert> {
        let id = stored.id;
        let time = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .with_context(|| {
                    format!("alert {id}: time {text:?} in the state store is not RFC 3339")
                })
        };
        let first_seen = time(&stored.first_seen)?;
        let last_seen = time(&stored.last_seen)?.max(first_seen);
        let reposts = stored
            .also_seen_at
            .iter()
            .map(|s| {
                Ok(Repost {
                    doc_id: s.doc_id.clone(),
                    url: s.url.clone(),
                    site: s.site.clone(),
                    seen_at: time(&s.seen_at)?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let asset = asset.map(AssetInfo::from_asset);
        let domains = asset.as_ref().map_or(&[][..], |a| &a.domains[..]);
        let hosts: BTreeSet<String> = stored
            .alert
            .terms
            .iter()
            .filter_map(|t| watched_host(t, domains))
            .collect();
        let text = document.map(|d| {
            format!(
                "{}\n{}",
                d.title.as_deref().unwrap_or(""),
                d.body.as_deref().unwrap_or("")
            )
        });
        let all_emails = text
            .as_deref()
            .map(|t| emails_under(t, domains))
            .unwrap_or_default();
        Ok(ExportAlert {
            id,
            status: stored.status,
            history: stored.history,
            first_seen,
            last_seen,
            alert: stored.alert,
            reposts,
            listing: document.map(Listing::from_document),
            asset,
            hosts: hosts.into_iter().collect(),
            emails_total: all_emails.len(),
            emails: all_emails.into_iter().take(MAX_EMAILS).collect(),
            evidence: None,
        })
    }

    /// Whether an analyst acknowledged the alert (`leakwatch alerts ack`):
    /// the only status that is the analyst's rather than the delivery's.
    pub(crate) fn acknowledged(&self) -> bool {
        self.status == "acknowledged"
    }

    /// The sale cues without the `price: …` entries the matcher adds for a
    /// listing's price field.
    pub(crate) fn sale_cues(&self) -> Vec<&str> {
        self.alert
            .context
            .iter()
            .map(String::as_str)
            .filter(|c| !c.starts_with("price: "))
            .collect()
    }

    /// The price text: the listing's price field, else a `price: …` cue.
    pub(crate) fn price_text(&self) -> Option<&str> {
        self.listing
            .as_ref()
            .and_then(|l| l.price.as_deref())
            .or_else(|| {
                self.alert
                    .context
                    .iter()
                    .find_map(|c| c.strip_prefix("price: "))
            })
    }

    pub(crate) fn severity_name(&self) -> &'static str {
        match self.alert.severity {
            watchlists::Severity::Low => "low",
            watchlists::Severity::Medium => "medium",
            watchlists::Severity::High => "high",
            watchlists::Severity::Critical => "critical",
        }
    }

    /// A one-line title: the listing's, else the start of the snippet.
    pub(crate) fn headline(&self) -> String {
        let text = self
            .listing
            .as_ref()
            .and_then(|l| l.title.as_deref())
            .unwrap_or(&self.alert.snippet);
        let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        truncate_chars(&one_line, 120)
    }
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// STIX and MISP timestamps: RFC 3339, UTC, milliseconds (STIX requires them).
pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A name-based (version 5, SHA-1) UUID of `name` in `namespace` (RFC 9562 §5.5).
pub(crate) fn uuid_v5(namespace: &[u8; 16], name: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(namespace);
    hasher.update(name);
    let digest = hasher.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    hyphenated(&b)
}

/// The canonical text form of a UUID: 8-4-4-4-12 lower-case hex digits.
fn hyphenated(b: &[u8; 16]) -> String {
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The namespace of every leakwatch-made id: uuid5(NAMESPACE_URL,
/// "urn:leakwatch:export") (pinned by a test). Never the STIX SCO namespace,
/// which the STIX specification reserves for observables.
pub(crate) const LEAKWATCH_NAMESPACE: [u8; 16] = [
    0x75, 0x83, 0xec, 0xd5, 0x5d, 0x09, 0x59, 0x73, 0xa0, 0x51, 0xd2, 0xa0, 0xbf, 0x8e, 0xd4, 0x54,
];

/// The id of a leakwatch object, from its stable key (a JSON array of
/// strings, so no two keys run together).
pub(crate) fn stable_uuid(key: &[&str]) -> String {
    let name = serde_json::to_string(key).expect("a list of strings serialises");
    uuid_v5(&LEAKWATCH_NAMESPACE, name.as_bytes())
}

/// Dot spellings of defanged host names, longest first (as the matcher reads them).
const DOT_SPELLINGS: &[&str] = &[
    "[dot]", "(dot)", "{dot}", " [.] ", " (.) ", " dot ", "[.]", "(.)", "{.}", "\\.", "。",
];

/// The host a matched term names, refanged and lower-cased, when it is one of
/// `domains` or under one (`login.bk.mufg[.]jp` for `mufg.jp`).
pub(crate) fn watched_host(term: &str, domains: &[String]) -> Option<String> {
    let mut host = textfold::fold_str(term);
    for dot in DOT_SPELLINGS {
        host = host.replace(dot, ".");
    }
    let host = host.trim_matches(|c: char| c == '.' || c.is_whitespace());
    let host = host
        .strip_prefix("hxxps://")
        .or_else(|| host.strip_prefix("hxxp://"))
        .or_else(|| host.strip_prefix("https://"))
        .or_else(|| host.strip_prefix("http://"))
        .unwrap_or(host);
    let valid = host.split('.').count() >= 2
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    (valid && under_any(host, domains)).then(|| host.to_owned())
}

fn under_any(host: &str, domains: &[String]) -> bool {
    domains.iter().any(|d| {
        host == d
            || host
                .strip_suffix(d.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
    })
}

/// E-mail addresses in `text` whose domain is one of `domains` or under one,
/// lower-cased, deduplicated and sorted. Full-width forms count (folded).
pub(crate) fn emails_under(text: &str, domains: &[String]) -> Vec<String> {
    if domains.is_empty() {
        return Vec::new();
    }
    let folded = textfold::fold_str(text);
    let bytes = folded.as_bytes();
    let local_byte = |b: u8| b.is_ascii_alphanumeric() || b"._%+-".contains(&b);
    let host_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'-';
    let mut found = BTreeSet::new();
    for (at, _) in folded.match_indices('@') {
        let mut start = at;
        while start > 0 && local_byte(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && host_byte(bytes[end]) {
            end += 1;
        }
        let local = folded[start..at].trim_start_matches('.');
        let host = folded[at + 1..end].trim_end_matches(['.', '-']);
        if local.is_empty() || local.ends_with('.') || !host.contains('.') {
            continue;
        }
        if under_any(host, domains) {
            found.insert(format!("{local}@{host}"));
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::alert_store::Sighting;
    use watchlists::Severity;

    /// Known answers of Python's `uuid.uuid5`.
    #[test]
    fn uuid_v5_matches_the_rfc_algorithm() {
        const NAMESPACE_DNS: [u8; 16] = [
            0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4,
            0x30, 0xc8,
        ];
        const NAMESPACE_URL: [u8; 16] = [
            0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4,
            0x30, 0xc8,
        ];
        // python3 -c 'import uuid; print(uuid.uuid5(uuid.NAMESPACE_DNS, "python.org"))'
        assert_eq!(
            uuid_v5(&NAMESPACE_DNS, b"python.org"),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d"
        );
        // The leakwatch namespace is derived, not invented:
        // python3 -c 'import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, "urn:leakwatch:export"))'
        assert_eq!(
            uuid_v5(&NAMESPACE_URL, b"urn:leakwatch:export"),
            hyphenated(&LEAKWATCH_NAMESPACE)
        );
    }

    #[test]
    fn timestamps_have_milliseconds() {
        let t = DateTime::parse_from_rfc3339("2026-11-18T14:05:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(timestamp(t), "2026-11-18T14:05:00.000Z");
    }

    #[test]
    fn hosts_are_refanged_and_must_be_watched() {
        let domains = vec!["mufg.jp".to_owned(), "soumu.go.jp".to_owned()];
        let host = |t: &str| watched_host(t, &domains);
        assert_eq!(
            host("login.bk.mufg[.]jp").as_deref(),
            Some("login.bk.mufg.jp")
        );
        assert_eq!(host("soumu(dot)go(dot)jp").as_deref(), Some("soumu.go.jp"));
        assert_eq!(host("ＭＵＦＧ．ｊｐ").as_deref(), Some("mufg.jp"));
        assert_eq!(host("notmufg.jp"), None);
        assert_eq!(host("M.U.F.G"), None, "a spaced-out term is not a host");
        assert_eq!(host("三菱UFJ銀行"), None);
        assert_eq!(watched_host("mufg.jp", &[]), None, "no watchlist, no hosts");
    }

    #[test]
    fn emails_under_watched_domains_only() {
        let domains = vec!["soumu.go.jp".to_owned()];
        let text = "格式：邮箱----密码，例如 t-tanaka@soumu.go.jp, K.Sato@Mail.Soumu.go.jp. \
                    contact seller@proton.me or x@notsoumu.go.jp; ｙ．ｉｔｏ＠ｓｏｕｍｕ．ｇｏ．ｊｐ";
        assert_eq!(
            emails_under(text, &domains),
            [
                "k.sato@mail.soumu.go.jp",
                "t-tanaka@soumu.go.jp",
                "y.ito@soumu.go.jp"
            ]
        );
        assert!(emails_under(text, &[]).is_empty());
    }

    /// A stored alert as the demo leaves them, for the mapping tests.
    pub(crate) fn stored(id: i64, doc: &str, status: &str) -> StoredAlert {
        StoredAlert {
            id,
            status: status.to_owned(),
            first_seen: "2026-11-20T08:00:00Z".to_owned(),
            last_seen: "2026-11-21T09:30:00Z".to_owned(),
            alert: Alert {
                doc_id: doc.to_owned(),
                customer: "jp-government".to_owned(),
                asset: "soumu".to_owned(),
                asset_name: "総務省".to_owned(),
                severity: Severity::Critical,
                terms: vec![
                    "总务省".to_owned(),
                    "soumu.go.jp".to_owned(),
                    "mail.soumu(dot)go(dot)jp".to_owned(),
                ],
                context: vec!["出售".to_owned(), "price: 0.12 BTC".to_owned()],
                snippet: "日本总务省职员邮箱 3000条 例如 t-tanaka@soumu.go.jp".to_owned(),
                url: Some(format!("http://market.onion/viewtopic.php?t={id}")),
                site: Some("demo-market".to_owned()),
                entities: Vec::new(),
            },
            also_seen_at: vec![Sighting {
                doc_id: "demo-forum:208".to_owned(),
                url: Some("http://forum.onion/showthread.php?tid=208".to_owned()),
                site: Some("demo-forum".to_owned()),
                seen_at: "2026-11-21T09:30:00Z".to_owned(),
            }],
            delivered_to: vec![],
            history: Vec::new(),
        }
    }

    pub(crate) fn document(id: &str) -> indexer::IndexDocument {
        indexer::IndexDocument {
            id: id.to_owned(),
            site: "demo-market".to_owned(),
            url: "http://market.onion/viewtopic.php?t=1".to_owned(),
            kind: "listing".to_owned(),
            lang: Some("zh".to_owned()),
            title: Some("日本总务省职员邮箱 3000条".to_owned()),
            body: Some("邮箱账号3000条，例如 t-tanaka@soumu.go.jp 出售".to_owned()),
            price: Some("0.12 BTC".to_owned()),
            seller: Some("wasabi88".to_owned()),
            category: Some("数据-情报类".to_owned()),
            posted_at: Some(
                DateTime::parse_from_rfc3339("2026-11-18T14:05:00Z")
                    .expect("time")
                    .with_timezone(&Utc),
            ),
            ..Default::default()
        }
    }

    pub(crate) fn soumu() -> watchlists::WatchlistSet {
        watchlists::WatchlistSet::from_toml_str(
            std::path::Path::new("jp-government.toml"),
            "customer = \"jp-government\"\n[[assets]]\nid = \"soumu\"\nname = \"総務省\"\n\
             kind = \"ministry\"\nterms = [\"総務省\"]\ndomains = [\"soumu.go.jp\"]\n",
        )
        .expect("valid watchlist")
    }

    /// Two alerts of the same asset (one acknowledged), with their document
    /// and watchlist entry.
    pub(crate) fn sample() -> Vec<ExportAlert> {
        let set = soumu();
        let asset = &set.watchlists()[0].assets()[0];
        let mut first = ExportAlert::new(
            stored(1, "demo-market:10002", "delivered"),
            Some(&document("demo-market:10002")),
            Some(asset),
        )
        .expect("valid alert");
        first.evidence = Some(PageEvidence {
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_owned(),
            size: 4,
            content_type: Some("text/html; charset=GBK".to_owned()),
        });
        vec![
            first,
            ExportAlert::new(
                stored(2, "demo-market:10003", "acknowledged"),
                None,
                Some(asset),
            )
            .expect("valid alert"),
        ]
    }

    #[test]
    fn an_alert_gathers_hosts_emails_and_price() {
        let alerts = sample();
        let a = &alerts[0];
        assert_eq!(a.hosts, ["mail.soumu.go.jp", "soumu.go.jp"]);
        assert_eq!(a.emails, ["t-tanaka@soumu.go.jp"]);
        assert_eq!(a.sale_cues(), ["出售"]);
        assert_eq!(a.price_text(), Some("0.12 BTC"));
        let listing = a.listing.as_ref().expect("listing");
        assert_eq!(listing.price_amount, Some(0.12));
        assert_eq!(listing.price_currency.as_deref(), Some("BTC"));
        assert_eq!(alerts[1].price_text(), Some("0.12 BTC"), "from the cue");
        assert!(alerts[1].emails.is_empty(), "no document, no addresses");
    }

    #[test]
    fn a_bad_time_in_the_store_names_the_alert() {
        let mut s = stored(7, "d", "new");
        s.first_seen = "yesterday".to_owned();
        let err = ExportAlert::new(s, None, None).expect_err("bad time");
        assert!(format!("{err:#}").contains("alert 7"), "{err:#}");
    }
}
