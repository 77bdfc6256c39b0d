//! Alerts as MISP events (the JSON that MISP's import and PyMISP read), built
//! from MISP object templates — `ail-leak` for the listing, `url`, `victim`,
//! `user-account` for the seller, `credential` and `domain-ip` for the
//! addresses and hosts it names — with TLP and taxonomy tags.
//!
//! Nothing here is an IDS indicator (`to_ids` is false throughout): every
//! value is the victim's own or the offer's, none the attacker's
//! infrastructure.

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Value};

use super::{stable_uuid, timestamp, ExportAlert, Tlp};

/// How alerts are grouped into events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grouping {
    /// One event per alert.
    Alert,
    /// One event per customer per day (of the alert's first sighting).
    Day,
}

/// The MISP object templates used, as PyMISP bundles them (name, uuid,
/// version, meta-category, description).
struct Template {
    name: &'static str,
    uuid: &'static str,
    version: u32,
    meta_category: &'static str,
    description: &'static str,
}

const AIL_LEAK: Template = Template {
    name: "ail-leak",
    uuid: "dc6a8fa2-0a43-4a0c-a5aa-b1a5336ca80e",
    version: 9,
    meta_category: "misc",
    description: "An information leak as defined by the AIL Analysis Information Leak framework.",
};
const URL: Template = Template {
    name: "url",
    uuid: "60efb77b-40b5-4c46-871b-ed1ed999fce5",
    version: 10,
    meta_category: "network",
    description: "url object describes an url along with its normalized field (like extracted using faup parsing library) and its metadata.",
};
const VICTIM: Template = Template {
    name: "victim",
    uuid: "a8806e40-39ad-435f-be02-ac2a13d6fc7d",
    version: 10,
    meta_category: "misc",
    description: "Victim object describes the target of an attack or abuse.",
};
const USER_ACCOUNT: Template = Template {
    name: "user-account",
    uuid: "49606b06-22f0-4ac8-8eee-2f12ad46f3d3",
    version: 6,
    meta_category: "misc",
    description: "User-account object, defining aspects of user identification, authentication, privileges and other relevant data points.",
};
const CREDENTIAL: Template = Template {
    name: "credential",
    uuid: "a27e98c9-9b0e-414c-8076-d201e039ca09",
    version: 5,
    meta_category: "misc",
    description: "Credential describes one or more credential(s) including password(s), api key(s) or decryption key(s).",
};
const DOMAIN_IP: Template = Template {
    name: "domain-ip",
    uuid: "43b3b146-77eb-4931-b4cc-b66c60f28734",
    version: 11,
    meta_category: "network",
    description: "A domain/hostname and IP address seen as a tuple in a specific time frame.",
};

const FILE: Template = Template {
    name: "file",
    uuid: "688c46fb-5edb-40a3-8273-1af7923e2215",
    version: 25,
    meta_category: "file",
    description: "File object describing a file with meta-information",
};

/// The event tags besides TLP: valid machine tags of MISP's `infoleak` and
/// `dark-web` taxonomies.
const TAGS: [&str; 3] = [
    "infoleak:source=\"electronic-forum\"",
    "infoleak:submission=\"crawler\"",
    "dark-web:motivation=\"marketplace-for-sale\"",
];

/// The `sensor` of every `ail-leak` object: leakwatch's own (stable) uuid.
pub(crate) fn sensor_uuid() -> String {
    stable_uuid(&["misp-sensor", "leakwatch"])
}

/// An object under construction.
struct MispObject {
    template: &'static Template,
    uuid: String,
    timestamp: i64,
    comment: String,
    attributes: Vec<Value>,
    references: Vec<Value>,
}

impl MispObject {
    fn new(template: &'static Template, key: &[&str], timestamp: i64) -> MispObject {
        let mut full = vec!["misp-object", template.name];
        full.extend_from_slice(key);
        MispObject {
            template,
            uuid: stable_uuid(&full),
            timestamp,
            comment: String::new(),
            attributes: Vec::new(),
            references: Vec::new(),
        }
    }

    /// Adds an attribute (skipped when `value` is empty).
    fn add(&mut self, relation: &str, kind: &str, category: &str, value: impl Into<Value>) {
        let value: Value = value.into();
        let text = match &value {
            Value::String(s) => s.trim().to_owned(),
            Value::Null => return,
            other => other.to_string(),
        };
        if text.is_empty() {
            return;
        }
        self.attributes.push(json!({
            "uuid": stable_uuid(&["misp-attribute", &self.uuid, relation, &text]),
            "object_relation": relation,
            "type": kind,
            "category": category,
            "value": text,
            "to_ids": false,
            "disable_correlation": false,
            "distribution": "5",
            "timestamp": self.timestamp.to_string(),
        }));
    }

    fn refer(&mut self, target: &str, relationship: &str) {
        self.references.push(json!({
            "uuid": stable_uuid(&["misp-reference", &self.uuid, relationship, target]),
            "object_uuid": self.uuid,
            "referenced_uuid": target,
            "relationship_type": relationship,
            "timestamp": self.timestamp.to_string(),
        }));
    }

    fn into_json(self) -> Value {
        let mut object = json!({
            "name": self.template.name,
            "meta-category": self.template.meta_category,
            "description": self.template.description,
            "template_uuid": self.template.uuid,
            "template_version": self.template.version.to_string(),
            "uuid": self.uuid,
            "timestamp": self.timestamp.to_string(),
            "distribution": "5",
            "sharing_group_id": "0",
            "comment": self.comment,
            "deleted": false,
            "Attribute": self.attributes,
        });
        if !self.references.is_empty() {
            object["ObjectReference"] = json!(self.references);
        }
        object
    }
}

/// MISP date-time attribute values: RFC 3339 with milliseconds.
fn datetime(t: chrono::DateTime<chrono::Utc>) -> String {
    timestamp(t)
}

/// The objects of one alert, ids scoped by the event (`event_uuid`) so the
/// same alert in a per-alert and a per-day event never shares an object uuid.
fn alert_objects(
    a: &ExportAlert,
    event_uuid: &str,
    out: &mut Vec<Value>,
    seen: &mut HashSet<String>,
) {
    let ts = a.last_seen.timestamp();

    // The victim: one per asset in an event.
    let mut victim = MispObject::new(
        &VICTIM,
        &[event_uuid, &a.alert.customer, &a.alert.asset],
        ts,
    );
    victim.comment = format!(
        "leakwatch watched asset {}/{}",
        a.alert.customer, a.alert.asset
    );
    victim.add(
        "name",
        "target-org",
        "Targeting data",
        a.alert.asset_name.as_str(),
    );
    let kind = a.asset.as_ref().map(|i| i.kind.as_str());
    let classification = match kind {
        Some("bank" | "ministry" | "government" | "company" | "brand") => "organization",
        Some("account") => "class",
        _ => "unknown",
    };
    victim.add("classification", "text", "Other", classification);
    let sector = match kind {
        Some("bank") => Some("financial services"),
        Some("ministry") => Some("government national"),
        _ => None,
    };
    if let Some(sector) = sector {
        victim.add("sectors", "text", "Other", sector);
    }
    for domain in a.asset.iter().flat_map(|i| &i.domains) {
        victim.add("domain", "domain", "Network activity", domain.as_str());
    }
    victim.add(
        "description",
        "text",
        "Other",
        format!(
            "Watched by leakwatch for {} as asset \"{}\"{}.",
            a.alert.customer,
            a.alert.asset,
            kind.map(|k| format!(" ({k})")).unwrap_or_default()
        ),
    );
    let victim_uuid = victim.uuid.clone();

    // The listing.
    let mut leak = MispObject::new(
        &AIL_LEAK,
        &[
            event_uuid,
            &a.alert.customer,
            &a.alert.asset,
            &a.alert.doc_id,
        ],
        ts,
    );
    leak.comment = format!("leakwatch alert {} ({})", a.id, a.severity_name());
    leak.add("sensor", "text", "Other", sensor_uuid());
    leak.add("origin", "text", "Other", a.alert.url.clone());
    leak.add("text", "text", "Other", leak_text(a));
    leak.add("first-seen", "datetime", "Other", datetime(a.first_seen));
    leak.add("last-seen", "datetime", "Other", datetime(a.last_seen));
    if let Some(posted) = a.listing.as_ref().and_then(|l| l.posted_at) {
        leak.add("original-date", "datetime", "Other", datetime(posted));
    }
    for r in &a.reposts {
        leak.add(
            "duplicate",
            "text",
            "Other",
            r.url.clone().unwrap_or_else(|| r.doc_id.clone()),
        );
    }
    if !a.reposts.is_empty() {
        leak.add(
            "duplicate_number",
            "counter",
            "Other",
            a.reposts.len().to_string(),
        );
    }
    leak.refer(&victim_uuid, "targets");

    let mut others = Vec::new();
    if let Some(url) = &a.alert.url {
        let mut o = MispObject::new(&URL, &[event_uuid, url], ts);
        o.add("url", "url", "Network activity", url.as_str());
        if let Ok(parsed) = url::Url::parse(url) {
            match parsed.host() {
                Some(url::Host::Domain(d)) => o.add("host", "hostname", "Network activity", d),
                Some(url::Host::Ipv4(ip)) => {
                    o.add("ip", "ip-dst", "Network activity", ip.to_string())
                }
                Some(url::Host::Ipv6(ip)) => {
                    o.add("ip", "ip-dst", "Network activity", ip.to_string())
                }
                None => {}
            }
            if let Some(port) = parsed.port() {
                o.add("port", "port", "Network activity", port.to_string());
            }
            if matches!(parsed.scheme(), "http" | "https" | "ftp") {
                o.add("scheme", "text", "Other", parsed.scheme());
            }
            o.add("resource_path", "text", "Other", parsed.path());
        }
        o.add("first-seen", "datetime", "Other", datetime(a.first_seen));
        o.add("last-seen", "datetime", "Other", datetime(a.last_seen));
        leak.refer(&o.uuid, "found-on");
        others.push(o);
    }
    if let Some(seller) = a.listing.as_ref().and_then(|l| l.seller.as_deref()) {
        let site = a.alert.site.as_deref().unwrap_or("");
        let mut o = MispObject::new(&USER_ACCOUNT, &[event_uuid, "seller", site, seller], ts);
        o.add("username", "text", "Other", seller);
        if !site.is_empty() {
            o.add("description", "text", "Other", format!("Seller on {site}"));
        }
        o.refer(&leak.uuid, "seller-of");
        others.push(o);
    }
    for email in &a.emails {
        let mut o = MispObject::new(&CREDENTIAL, &[event_uuid, &a.alert.customer, email], ts);
        o.add("username", "text", "Other", email.as_str());
        o.add(
            "text",
            "text",
            "Other",
            format!(
                "Account of {} named in a dark-web offer",
                a.alert.asset_name
            ),
        );
        o.refer(&victim_uuid, "belongs-to");
        leak.refer(&o.uuid, "leaks");
        others.push(o);
    }
    if let Some(page) = &a.evidence {
        // The page as the archive keeps it (`leakwatch evidence ID`
        // bundles it as page.raw): known by its hash.
        let mut o = MispObject::new(&FILE, &[event_uuid, "evidence", &page.sha256], ts);
        o.comment = "The listing's page as received, kept in leakwatch's evidence archive".into();
        o.add("filename", "filename", "External analysis", "page.raw");
        o.add(
            "sha256",
            "sha256",
            "External analysis",
            page.sha256.as_str(),
        );
        o.add(
            "mimetype",
            "mime-type",
            "Artifacts dropped",
            page.mime_type(),
        );
        o.add(
            "size-in-bytes",
            "size-in-bytes",
            "Other",
            page.size.to_string(),
        );
        leak.refer(&o.uuid, "related-to");
        others.push(o);
    }
    let watched = a.asset.as_ref().map_or(&[][..], |i| &i.domains[..]);
    for host in &a.hosts {
        let mut o = MispObject::new(&DOMAIN_IP, &[event_uuid, &a.alert.customer, host], ts);
        if watched.contains(host) {
            o.add("domain", "domain", "Network activity", host.as_str());
        } else {
            o.add("hostname", "hostname", "Network activity", host.as_str());
        }
        o.add(
            "text",
            "text",
            "Other",
            format!("Named in a dark-web offer about {}", a.alert.asset_name),
        );
        o.refer(&victim_uuid, "belongs-to");
        leak.refer(&o.uuid, "mentions");
        others.push(o);
    }

    for o in std::iter::once(victim)
        .chain(std::iter::once(leak))
        .chain(others)
    {
        if seen.insert(o.uuid.clone()) {
            out.push(o.into_json());
        }
    }
}

fn leak_text(a: &ExportAlert) -> String {
    let mut lines = vec![
        format!(
            "{} ({}/{}), {}: {}",
            a.alert.asset_name,
            a.alert.customer,
            a.alert.asset,
            a.severity_name(),
            a.headline()
        ),
        a.alert.snippet.clone(),
        format!("Matched: {}", a.alert.terms.join(", ")),
    ];
    let cues = a.sale_cues();
    if !cues.is_empty() {
        lines.push(format!("Sale cues: {}", cues.join(", ")));
    }
    if let Some(price) = a.price_text() {
        lines.push(format!("Price: {price}"));
    }
    if let Some(site) = &a.alert.site {
        lines.push(format!("Site: {site}"));
    }
    if a.emails_total > a.emails.len() {
        lines.push(format!(
            "{} watched e-mail addresses in the listing; the first {} are exported.",
            a.emails_total,
            a.emails.len()
        ));
    }
    lines.join("\n")
}

fn threat_level(alerts: &[&ExportAlert]) -> &'static str {
    match alerts.iter().map(|a| a.alert.severity).max() {
        Some(watchlists::Severity::Critical | watchlists::Severity::High) => "1",
        Some(watchlists::Severity::Medium) => "2",
        Some(watchlists::Severity::Low) => "3",
        None => "4",
    }
}

/// Event distribution for a TLP level: amber and red stay in the
/// organisation, green goes to the community, clear/white to all.
fn distribution(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear | Tlp::White => "3",
        Tlp::Green => "1",
        Tlp::Amber | Tlp::AmberStrict | Tlp::Red => "0",
    }
}

fn event(uuid: String, info: String, date: String, alerts: &[&ExportAlert], tlp: Tlp) -> Value {
    let mut objects = Vec::new();
    let mut seen = HashSet::new();
    for a in alerts {
        alert_objects(a, &uuid, &mut objects, &mut seen);
    }
    let last = alerts
        .iter()
        .map(|a| a.last_seen.timestamp())
        .max()
        .unwrap_or(0);
    let mut tags = vec![json!({ "name": format!("tlp:{}", tlp.name()) })];
    tags.extend(TAGS.iter().map(|t| json!({ "name": t })));
    // Analysis: initial until an analyst acknowledged every alert in it.
    let analysis = if alerts.iter().all(|a| a.acknowledged()) {
        "1"
    } else {
        "0"
    };
    json!({
        "Event": {
            "uuid": uuid,
            "info": info,
            "date": date,
            "timestamp": last.to_string(),
            "published": false,
            "analysis": analysis,
            "threat_level_id": threat_level(alerts),
            "distribution": distribution(tlp),
            "Orgc": { "name": "leakwatch", "uuid": stable_uuid(&["misp-org", "leakwatch"]) },
            "Tag": tags,
            "Object": objects,
        }
    })
}

/// The MISP events of `alerts`, as MISP's REST search answers them:
/// `{"response": [{"Event": …}, …]}`.
pub(crate) fn events(alerts: &[ExportAlert], grouping: Grouping, tlp: Tlp) -> Value {
    let mut out = Vec::new();
    match grouping {
        Grouping::Alert => {
            for a in alerts {
                let uuid = stable_uuid(&[
                    "misp-event",
                    &a.alert.customer,
                    &a.alert.asset,
                    &a.alert.doc_id,
                ]);
                let where_ = a
                    .alert
                    .site
                    .as_deref()
                    .map(|s| format!(" on {s}"))
                    .unwrap_or_default();
                let info = format!(
                    "leakwatch: {} ({}/{}) offered{where_}: {}",
                    a.alert.asset_name,
                    a.alert.customer,
                    a.alert.asset,
                    a.headline()
                );
                let date = a.first_seen.format("%Y-%m-%d").to_string();
                out.push(event(uuid, info, date, &[a], tlp));
            }
        }
        Grouping::Day => {
            let mut days: BTreeMap<(String, String), Vec<&ExportAlert>> = BTreeMap::new();
            for a in alerts {
                let day = a.first_seen.format("%Y-%m-%d").to_string();
                days.entry((a.alert.customer.clone(), day))
                    .or_default()
                    .push(a);
            }
            for ((customer, day), group) in days {
                let uuid = stable_uuid(&["misp-event-day", &customer, &day]);
                let info = format!(
                    "leakwatch: {customer}: {} dark-web offer(s) of watched assets first seen {day}",
                    group.len()
                );
                out.push(event(uuid, info, day, &group, tlp));
            }
        }
    }
    json!({ "response": out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::sample;

    fn all_events(v: &Value) -> &Vec<Value> {
        v["response"].as_array().expect("response")
    }

    fn objects<'a>(event: &'a Value, name: &str) -> Vec<&'a Value> {
        event["Event"]["Object"]
            .as_array()
            .expect("objects")
            .iter()
            .filter(|o| o["name"] == name)
            .collect()
    }

    fn values<'a>(object: &'a Value, relation: &str) -> Vec<&'a str> {
        object["Attribute"]
            .as_array()
            .expect("attributes")
            .iter()
            .filter(|a| a["object_relation"] == relation)
            .filter_map(|a| a["value"].as_str())
            .collect()
    }

    #[test]
    fn one_event_per_alert_with_stable_uuids() {
        let a = events(&sample(), Grouping::Alert, Tlp::Amber);
        assert_eq!(a, events(&sample(), Grouping::Alert, Tlp::Amber));
        let list = all_events(&a);
        assert_eq!(list.len(), 2);
        assert_ne!(list[0]["Event"]["uuid"], list[1]["Event"]["uuid"]);
        let mut uuids = HashSet::new();
        for e in list {
            for o in e["Event"]["Object"].as_array().expect("objects") {
                assert!(
                    uuids.insert(o["uuid"].clone()),
                    "object uuid twice: {}",
                    o["uuid"]
                );
                for attr in o["Attribute"].as_array().expect("attributes") {
                    assert!(uuids.insert(attr["uuid"].clone()), "attribute uuid twice");
                    assert_eq!(attr["to_ids"], false);
                }
            }
        }
    }

    #[test]
    fn the_listing_victim_seller_and_credentials() {
        let v = events(&sample(), Grouping::Alert, Tlp::Amber);
        let e = &all_events(&v)[0];
        let leak = objects(e, "ail-leak");
        assert_eq!(leak.len(), 1);
        assert_eq!(values(leak[0], "sensor"), [sensor_uuid().as_str()]);
        assert_eq!(
            values(leak[0], "origin"),
            ["http://market.onion/viewtopic.php?t=1"]
        );
        assert_eq!(values(leak[0], "first-seen"), ["2026-11-20T08:00:00.000Z"]);
        assert_eq!(
            values(leak[0], "duplicate"),
            ["http://forum.onion/showthread.php?tid=208"]
        );
        let victim = objects(e, "victim");
        assert_eq!(values(victim[0], "name"), ["総務省"]);
        assert_eq!(values(victim[0], "domain"), ["soumu.go.jp"]);
        assert_eq!(values(victim[0], "sectors"), ["government national"]);
        assert_eq!(
            values(objects(e, "user-account")[0], "username"),
            ["wasabi88"]
        );
        assert_eq!(
            values(objects(e, "credential")[0], "username"),
            ["t-tanaka@soumu.go.jp"]
        );
        assert_eq!(
            values(objects(e, "domain-ip")[0], "hostname"),
            ["mail.soumu.go.jp"]
        );
        assert_eq!(values(objects(e, "url")[0], "host"), ["market.onion"]);
        let references: Vec<&str> = leak[0]["ObjectReference"]
            .as_array()
            .expect("references")
            .iter()
            .filter_map(|r| r["relationship_type"].as_str())
            .collect();
        assert_eq!(
            references,
            [
                "targets",
                "found-on",
                "leaks",
                "related-to",
                "mentions",
                "mentions"
            ]
        );
        // The page kept as evidence: a file object known by its hash.
        let alerts = sample();
        let page = alerts[0].evidence.as_ref().expect("the sample's page");
        let files = objects(e, "file");
        assert_eq!(files.len(), 1);
        assert_eq!(values(files[0], "sha256"), [page.sha256.as_str()]);
        assert_eq!(values(files[0], "filename"), ["page.raw"]);
        assert_eq!(values(files[0], "mimetype"), ["text/html"]);
        assert_eq!(values(files[0], "size-in-bytes"), ["4"]);
        let hosts = objects(e, "domain-ip");
        assert_eq!(
            values(hosts[1], "domain"),
            ["soumu.go.jp"],
            "the watched domain itself"
        );
    }

    #[test]
    fn tlp_and_taxonomy_tags() {
        let v = events(&sample(), Grouping::Alert, Tlp::AmberStrict);
        let tags: Vec<&str> = all_events(&v)[0]["Event"]["Tag"]
            .as_array()
            .expect("tags")
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(tags[0], "tlp:amber+strict");
        assert!(tags.contains(&"infoleak:source=\"electronic-forum\""));
        assert_eq!(all_events(&v)[0]["Event"]["distribution"], "0");
    }

    #[test]
    fn one_event_per_customer_per_day() {
        let v = events(&sample(), Grouping::Day, Tlp::Amber);
        let list = all_events(&v);
        assert_eq!(list.len(), 1, "both alerts: one customer, one day");
        let e = &list[0]["Event"];
        assert_eq!(e["date"], "2026-11-20");
        assert_eq!(objects(&list[0], "ail-leak").len(), 2);
        assert_eq!(
            objects(&list[0], "victim").len(),
            1,
            "one victim object per asset"
        );
        assert_eq!(e["analysis"], "0", "one of the two is not acknowledged");
        let per_alert = events(&sample(), Grouping::Alert, Tlp::Amber);
        let leak_uuid = |ev: &Value| objects(ev, "ail-leak")[0]["uuid"].clone();
        assert_ne!(
            leak_uuid(&list[0]),
            leak_uuid(&all_events(&per_alert)[0]),
            "object uuids are scoped by their event"
        );
    }
}
