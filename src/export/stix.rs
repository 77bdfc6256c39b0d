//! Alerts as one STIX 2.1 bundle that a consumer understands without knowing
//! leakwatch; leakwatch's own fields go in a property extension declared by an
//! `extension-definition`, never in `x_` properties.
//!
//! Per alert: the victim `identity` (customer + asset), the offer as
//! `observed-data` over the listing's `url`, the seller's `user-account` and
//! the watched hosts and e-mail addresses it names, a `related-to`
//! relationship to the victim, a `compromised` `indicator` for each such host
//! or address (`based-on` the observation), and a `note` once an analyst has
//! acknowledged the alert. Ids are UUIDv5 of stable keys (see the README).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::{stable_uuid, timestamp, uuid_v5, ExportAlert, Tlp};

/// When the leakwatch identity, the extension definition and the victim
/// identities were defined: fixed, so re-exports do not make new versions.
const DEFINED: &str = "2026-12-01T00:00:00.000Z";

/// The version of the leakwatch property extension (bump with its properties).
const EXTENSION_VERSION: &str = "1.0.0";

/// The STIX 2.1 namespace for observable (SCO) ids (spec §2.9).
const SCO_NAMESPACE: [u8; 16] = [
    0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c, 0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7,
];

/// The OASIS TLP 2.0 marking extension (for the levels STIX 2.1 does not predefine).
const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The id of the leakwatch identity every object is `created_by_ref`.
pub(crate) fn producer_id() -> String {
    format!("identity--{}", stable_uuid(&["identity", "leakwatch"]))
}

/// The id of the extension-definition of leakwatch's alert properties.
pub(crate) fn extension_id() -> String {
    format!(
        "extension-definition--{}",
        stable_uuid(&["extension-definition", "leakwatch-alert"])
    )
}

/// The TLP marking-definition object for `tlp`: the STIX 2.1 predefined ones
/// for white/green/amber/red, OASIS's TLP 2.0 ones for clear and amber+strict.
pub(crate) fn tlp_marking(tlp: Tlp) -> Value {
    let v1 = |id: &str, level: &str| {
        json!({
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": format!("marking-definition--{id}"),
            "created": "2017-01-20T00:00:00.000Z",
            "definition_type": "tlp",
            "name": format!("TLP:{}", level.to_uppercase()),
            "definition": { "tlp": level },
        })
    };
    let v2 = |id: &str, level: &str| {
        json!({
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": format!("marking-definition--{id}"),
            "created": "2022-10-01T00:00:00.000Z",
            "name": format!("TLP:{}", level.to_uppercase()),
            "extensions": {
                TLP2_EXTENSION: { "extension_type": "property-extension", "tlp_2_0": level },
            },
        })
    };
    match tlp {
        Tlp::White => v1("613f2e26-407d-48c7-9eca-b8e91df99dc9", "white"),
        Tlp::Green => v1("34098fce-860f-48ae-8e50-ebd3cc5e41da", "green"),
        Tlp::Amber => v1("f88d31f6-486f-44da-b317-01333bde0b82", "amber"),
        Tlp::Red => v1("5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "red"),
        Tlp::Clear => v2("94868c89-83c2-464b-929b-a1a8aa3c8487", "clear"),
        Tlp::AmberStrict => v2("939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict"),
    }
}

fn producer() -> Value {
    json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": producer_id(),
        "created": DEFINED,
        "modified": DEFINED,
        "name": "leakwatch",
        "identity_class": "system",
        "description": "leakwatch: crawls dark-web forums and markets and alerts when an organisation's assets are offered for sale.",
    })
}

fn extension_definition() -> Value {
    json!({
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": extension_id(),
        "created_by_ref": producer_id(),
        "created": DEFINED,
        "modified": DEFINED,
        "name": "leakwatch alert",
        "description": "What leakwatch knows of a dark-web offer beyond the STIX properties: the watchlist customer and asset it matched, the listing's text and price, and the matched terms and sale cues.",
        "schema": "Property extension. On observed-data: customer, asset, asset_name (strings, the watchlist's ids and name); severity (low|medium|high|critical); alert_id (integer, local to the leakwatch instance); doc_id, site, document_kind (listing|post|thread), title, snippet, category, lang (strings); terms, sale_cues (lists of strings as written in the listing); price (string as written), price_amount (number), price_currency (ISO 4217 or crypto code); posted_at (timestamp, as the site dated it); email_addresses_total (integer: watched addresses in the listing, of which at most 50 are exported); reposts (list of {doc_id, site, url, seen_at}); evidence_sha256 (string: SHA-256 of the page as received, kept in leakwatch's evidence archive). On identity: customer, asset, asset_kind (bank|ministry|government|company|account|brand|keyword), watched_domains (list of strings). Every property is optional.",
        "version": EXTENSION_VERSION,
        "extension_types": ["property-extension"],
    })
}

/// Objects in bundle order, each id once (the first version wins).
#[derive(Default)]
struct Objects {
    list: Vec<Value>,
    ids: HashSet<String>,
}

impl Objects {
    fn push(&mut self, object: Value) -> String {
        let id = object["id"]
            .as_str()
            .expect("every object has an id")
            .to_owned();
        if self.ids.insert(id.clone()) {
            self.list.push(object);
        }
        id
    }
}

/// The extension block of an object: `{extension-definition--…: {…}}`.
fn extension(properties: Map<String, Value>) -> Value {
    let mut ext = Map::new();
    ext.insert("extension_type".into(), json!("property-extension"));
    ext.extend(properties);
    json!({ extension_id(): ext })
}

/// A deterministic SCO id, as the STIX 2.1 specification makes them: UUIDv5
/// of the canonical JSON (sorted keys, no spaces) of its id-contributing
/// properties, in the SCO namespace.
fn sco_id(kind: &str, contributing: Value) -> String {
    // serde_json's map is sorted unless `preserve_order` is on; every caller
    // passes a single property, so the order cannot differ either way.
    let canonical = serde_json::to_string(&contributing).expect("JSON serialises");
    format!("{kind}--{}", uuid_v5(&SCO_NAMESPACE, canonical.as_bytes()))
}

fn sco(kind: &str, contributing: Value, more: Value, marking: &str) -> Value {
    let mut object = json!({
        "type": kind,
        "spec_version": "2.1",
        "id": sco_id(kind, contributing.clone()),
        "object_marking_refs": [marking],
    });
    let map = object.as_object_mut().expect("an object");
    for source in [contributing, more] {
        if let Value::Object(m) = source {
            map.extend(m);
        }
    }
    object
}

fn set_extension(object: &mut Value, properties: Map<String, Value>) {
    if !properties.is_empty() {
        object["extensions"] = extension(properties);
    }
}

/// The key of everything that belongs to one alert: the store's dedup key.
fn alert_key<'a>(a: &'a ExportAlert, role: &'a str) -> [&'a str; 4] {
    [role, &a.alert.customer, &a.alert.asset, &a.alert.doc_id]
}

fn victim(a: &ExportAlert, marking: &str) -> Value {
    let kind = a.asset.as_ref().map(|i| i.kind.as_str());
    let identity_class = match kind {
        Some("bank" | "ministry" | "government" | "company" | "brand") => "organization",
        // An account asset is a service's users, not one organisation.
        Some("account") => "class",
        _ => "unknown",
    };
    let mut object = json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": format!("identity--{}", stable_uuid(&["victim", &a.alert.customer, &a.alert.asset])),
        "created_by_ref": producer_id(),
        "created": DEFINED,
        "modified": DEFINED,
        "name": a.alert.asset_name,
        "description": format!(
            "Watched by leakwatch for {} as asset \"{}\".",
            a.alert.customer, a.alert.asset
        ),
        "identity_class": identity_class,
        "object_marking_refs": [marking],
    });
    let sectors: &[&str] = match kind {
        Some("bank") => &["financial-services"],
        Some("ministry") => &["government-national"],
        Some("government") => &["government"],
        _ => &[],
    };
    if !sectors.is_empty() {
        object["sectors"] = json!(sectors);
    }
    let mut ext = Map::new();
    ext.insert("customer".into(), json!(a.alert.customer));
    ext.insert("asset".into(), json!(a.alert.asset));
    if let Some(info) = &a.asset {
        ext.insert("asset_kind".into(), json!(info.kind));
        if !info.domains.is_empty() {
            ext.insert("watched_domains".into(), json!(info.domains));
        }
    }
    set_extension(&mut object, ext);
    object
}

/// leakwatch's own view of the offer, for the observed-data's extension.
fn offer_properties(a: &ExportAlert) -> Map<String, Value> {
    let mut ext = Map::new();
    let mut put = |k: &str, v: Value| {
        let empty = v.is_null()
            || v.as_str().is_some_and(str::is_empty)
            || v.as_array().is_some_and(Vec::is_empty);
        if !empty {
            ext.insert(k.to_owned(), v);
        }
    };
    put("customer", json!(a.alert.customer));
    put("asset", json!(a.alert.asset));
    put("asset_name", json!(a.alert.asset_name));
    put("severity", json!(a.severity_name()));
    put("alert_id", json!(a.id));
    put("doc_id", json!(a.alert.doc_id));
    put("site", json!(a.alert.site));
    put("terms", json!(a.alert.terms));
    put("sale_cues", json!(a.sale_cues()));
    put("snippet", json!(a.alert.snippet));
    put("price", json!(a.price_text()));
    if let Some(l) = &a.listing {
        put("document_kind", json!(l.kind));
        put("title", json!(l.title));
        put("category", json!(l.category));
        put("lang", json!(l.lang));
        put("price_amount", json!(l.price_amount));
        put("price_currency", json!(l.price_currency));
        put("posted_at", json!(l.posted_at.map(timestamp)));
    }
    if a.emails_total > a.emails.len() {
        put("email_addresses_total", json!(a.emails_total));
    }
    let reposts: Vec<Value> = a
        .reposts
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("doc_id".into(), json!(r.doc_id));
            if let Some(site) = &r.site {
                m.insert("site".into(), json!(site));
            }
            if let Some(url) = &r.url {
                m.insert("url".into(), json!(url));
            }
            m.insert("seen_at".into(), json!(timestamp(r.seen_at)));
            Value::Object(m)
        })
        .collect();
    put("reposts", json!(reposts));
    if let Some(page) = &a.evidence {
        put("evidence_sha256", json!(page.sha256));
    }
    ext
}

/// A compromised host or address, gathered over the alerts that name it.
struct Compromised {
    customer: String,
    asset_name: String,
    sco_type: &'static str,
    value: String,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    observations: Vec<(String, DateTime<Utc>)>,
}

/// The STIX 2.1 bundle of `alerts`, marked `tlp`.
pub(crate) fn bundle(alerts: &[ExportAlert], tlp: Tlp) -> Value {
    let marking_object = tlp_marking(tlp);
    let marking = marking_object["id"]
        .as_str()
        .expect("marking id")
        .to_owned();
    let mut objects = Objects::default();
    objects.push(producer());
    objects.push(marking_object);
    objects.push(extension_definition());
    let mut compromised: BTreeMap<(String, &'static str, String), Compromised> = BTreeMap::new();
    for a in alerts {
        let created = timestamp(a.first_seen);
        let modified = timestamp(a.last_seen);
        let victim_id = objects.push(victim(a, &marking));

        let mut refs = Vec::new();
        if let Some(url) = &a.alert.url {
            refs.push(objects.push(sco("url", json!({ "value": url }), json!({}), &marking)));
        }
        if let Some(seller) = a.listing.as_ref().and_then(|l| l.seller.as_deref()) {
            refs.push(objects.push(sco(
                "user-account",
                json!({ "account_login": seller }),
                json!({ "display_name": seller }),
                &marking,
            )));
        }
        let named = a
            .hosts
            .iter()
            .map(|h| ("domain-name", h))
            .chain(a.emails.iter().map(|e| ("email-addr", e)));
        let mut named_ids = Vec::new();
        for (sco_type, value) in named {
            let id = objects.push(sco(
                sco_type,
                json!({ "value": value }),
                json!({}),
                &marking,
            ));
            refs.push(id);
            named_ids.push((sco_type, value));
        }
        for r in &a.reposts {
            if let Some(url) = &r.url {
                refs.push(objects.push(sco("url", json!({ "value": url }), json!({}), &marking)));
            }
        }
        // The page as the archive keeps it (`leakwatch evidence ID`): an
        // artifact known by its hash, at the listing's URL.
        if let (Some(page), Some(url)) = (&a.evidence, &a.alert.url) {
            refs.push(objects.push(sco(
                "artifact",
                json!({ "hashes": { "SHA-256": page.sha256 } }),
                json!({ "mime_type": page.mime_type(), "url": url }),
                &marking,
            )));
        }
        let mut seen = HashSet::new();
        refs.retain(|r| seen.insert(r.clone()));

        let observed_id = if refs.is_empty() {
            // Nothing observable (an alert without a URL): the offer is told
            // in a note on the victim, with the same extension.
            None
        } else {
            let mut observed = json!({
                "type": "observed-data",
                "spec_version": "2.1",
                "id": format!("observed-data--{}", stable_uuid(&alert_key(a, "observed-data"))),
                "created_by_ref": producer_id(),
                "created": created,
                "modified": modified,
                "first_observed": created,
                "last_observed": modified,
                "number_observed": 1 + a.reposts.len(),
                "object_refs": refs,
                "object_marking_refs": [marking],
            });
            set_extension(&mut observed, offer_properties(a));
            let id = objects.push(observed);
            objects.push(relationship(
                &id,
                "related-to",
                &victim_id,
                &created,
                &marking,
            ));
            Some(id)
        };
        if observed_id.is_none() {
            let mut note = json!({
                "type": "note",
                "spec_version": "2.1",
                "id": format!("note--{}", stable_uuid(&alert_key(a, "offer-note"))),
                "created_by_ref": producer_id(),
                "created": created,
                "modified": modified,
                "abstract": format!("{} offered for sale: {}", a.alert.asset_name, a.headline()),
                "content": a.alert.snippet,
                "object_refs": [victim_id],
                "object_marking_refs": [marking],
            });
            set_extension(&mut note, offer_properties(a));
            objects.push(note);
        }
        let about = observed_id.clone().unwrap_or_else(|| victim_id.clone());
        // Each triage move is a note by the analyst who made it, at the
        // time it was made.
        for entry in &a.history {
            let at = DateTime::parse_from_rfc3339(&entry.at)
                .map(|t| timestamp(t.with_timezone(&Utc)))
                .unwrap_or_else(|_| modified.clone());
            let content = if entry.note.trim().is_empty() {
                format!(
                    "Moved from {} to {} (leakwatch alert {} for {}/{}).",
                    entry.from, entry.to, a.id, a.alert.customer, a.alert.asset
                )
            } else {
                entry.note.clone()
            };
            objects.push(json!({
                "type": "note",
                "spec_version": "2.1",
                "id": format!("note--{}", stable_uuid(&[
                    "triage-note", &a.alert.customer, &a.alert.asset, &a.alert.doc_id,
                    &entry.at, &entry.from, &entry.to,
                ])),
                "created_by_ref": producer_id(),
                "created": at,
                "modified": at,
                "authors": [entry.actor],
                "abstract": format!("Triage: {} → {}", entry.from, entry.to),
                "content": content,
                "object_refs": [about],
                "object_marking_refs": [marking],
            }));
        }
        // An acknowledgement from before the audit trail existed.
        if a.history.is_empty() && a.acknowledged() {
            objects.push(json!({
                "type": "note",
                "spec_version": "2.1",
                "id": format!("note--{}", stable_uuid(&[
                    "status-note", &a.alert.customer, &a.alert.asset, &a.alert.doc_id, &a.status,
                ])),
                "created_by_ref": producer_id(),
                // The store kept no time of the acknowledgement: the last
                // sighting is the latest time known to precede it.
                "created": modified,
                "modified": modified,
                "abstract": "Acknowledged by an analyst in leakwatch",
                "content": format!(
                    "An analyst acknowledged this alert (leakwatch alert {} for {}/{}).",
                    a.id, a.alert.customer, a.alert.asset
                ),
                "object_refs": [about],
                "object_marking_refs": [marking],
            }));
        }
        if let Some(observed) = &observed_id {
            // The watched domain itself names the organisation, not a system
            // of it: no indicator (everyone resolves `mufg.jp`).
            let watched = a.asset.as_ref().map_or(&[][..], |i| &i.domains[..]);
            let actionable = named_ids
                .into_iter()
                .filter(|(t, v)| !(*t == "domain-name" && watched.contains(v)));
            for (sco_type, value) in actionable {
                let entry = compromised
                    .entry((a.alert.customer.clone(), sco_type, value.clone()))
                    .or_insert_with(|| Compromised {
                        customer: a.alert.customer.clone(),
                        asset_name: a.alert.asset_name.clone(),
                        sco_type,
                        value: value.clone(),
                        first: a.first_seen,
                        last: a.last_seen,
                        observations: Vec::new(),
                    });
                entry.first = entry.first.min(a.first_seen);
                entry.last = entry.last.max(a.last_seen);
                entry.observations.push((observed.clone(), a.first_seen));
            }
        }
    }
    for c in compromised.values() {
        let what = if c.sco_type == "email-addr" {
            "E-mail address"
        } else {
            "Host"
        };
        let indicator = json!({
            "type": "indicator",
            "spec_version": "2.1",
            "id": format!("indicator--{}", stable_uuid(&["indicator", &c.customer, c.sco_type, &c.value])),
            "created_by_ref": producer_id(),
            "created": timestamp(c.first),
            "modified": timestamp(c.last),
            "name": format!("{what} of {} offered for sale: {}", c.asset_name, c.value),
            "description": format!(
                "{what} of {} named in {} dark-web offer(s) that leakwatch matched; treat it as compromised (reset credentials, review access).",
                c.asset_name,
                c.observations.len()
            ),
            "indicator_types": ["compromised"],
            "pattern": format!("[{}:value = '{}']", c.sco_type, pattern_literal(&c.value)),
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": timestamp(c.first),
            "object_marking_refs": [marking],
        });
        let id = objects.push(indicator);
        for (observed, when) in &c.observations {
            objects.push(relationship(
                &id,
                "based-on",
                observed,
                &timestamp(*when),
                &marking,
            ));
        }
    }
    let list = objects.list;
    let content = serde_json::to_string(&list).expect("JSON serialises");
    json!({
        "type": "bundle",
        "id": format!("bundle--{}", uuid_v5(&super::LEAKWATCH_NAMESPACE, content.as_bytes())),
        "objects": list,
    })
}

fn relationship(source: &str, kind: &str, target: &str, when: &str, marking: &str) -> Value {
    json!({
        "type": "relationship",
        "spec_version": "2.1",
        "id": format!("relationship--{}", stable_uuid(&["relationship", kind, source, target])),
        "created_by_ref": producer_id(),
        "created": when,
        "modified": when,
        "relationship_type": kind,
        "source_ref": source,
        "target_ref": target,
        "object_marking_refs": [marking],
    })
}

/// A STIX pattern string literal's content: `\` and `'` escaped.
fn pattern_literal(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::sample;

    fn objects(bundle: &Value) -> &Vec<Value> {
        bundle["objects"].as_array().expect("objects")
    }

    fn of_type<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
        objects(bundle)
            .iter()
            .filter(|o| o["type"] == kind)
            .collect()
    }

    #[test]
    fn two_exports_give_the_same_ids_and_bytes() {
        let a = bundle(&sample(), Tlp::Amber);
        let b = bundle(&sample(), Tlp::Amber);
        assert_eq!(a, b);
        let ids: Vec<&str> = objects(&a)
            .iter()
            .filter_map(|o| o["id"].as_str())
            .collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), unique.len(), "each object once");
        // An export of the first alert alone names its objects the same way.
        let alone = bundle(&sample()[..1], Tlp::Amber);
        let observed = |b: &Value| of_type(b, "observed-data")[0]["id"].clone();
        assert_eq!(observed(&alone), observed(&a));
        assert_ne!(alone["id"], a["id"], "the bundle id follows its content");
    }

    #[test]
    fn ids_are_uuid_v5_and_observables_follow_the_spec() {
        let b = bundle(&sample(), Tlp::Amber);
        for o in objects(&b) {
            let id = o["id"].as_str().expect("id");
            if o["type"] == "marking-definition" {
                continue; // the published TLP ids
            }
            let uuid = id.split_once("--").expect("type--uuid").1;
            assert_eq!(&uuid[14..15], "5", "{id} is version 5");
        }
        // Observable ids as the STIX spec computes them, pinned from the
        // OASIS Python library: stix2.URL(value=…).id, stix2.UserAccount(
        // account_login="wasabi88").id, stix2.EmailAddress(value=…).id.
        let id_of = |kind: &str, key: &str, value: &str| {
            of_type(&b, kind)
                .into_iter()
                .find(|o| o[key] == value)
                .map(|o| o["id"].clone())
                .unwrap_or_else(|| panic!("no {kind} {value}"))
        };
        assert_eq!(
            id_of("url", "value", "http://market.onion/viewtopic.php?t=1"),
            "url--fdfe8419-0c77-5344-9620-eac85fed8a5b"
        );
        assert_eq!(
            id_of("user-account", "account_login", "wasabi88"),
            "user-account--2e268d9a-37ea-50a7-97ff-b2b0890abafc"
        );
        assert_eq!(
            id_of("email-addr", "value", "t-tanaka@soumu.go.jp"),
            "email-addr--273bf956-0ab2-51f5-86af-16c68f4564da"
        );
    }

    #[test]
    fn no_custom_top_level_properties_and_one_extension_definition() {
        let b = bundle(&sample(), Tlp::Amber);
        let definitions = of_type(&b, "extension-definition");
        assert_eq!(definitions.len(), 1);
        assert_eq!(definitions[0]["id"], extension_id());
        assert_eq!(
            definitions[0]["extension_types"],
            json!(["property-extension"])
        );
        fn walk(v: &Value, path: &str) {
            match v {
                Value::Object(m) => {
                    for (k, v) in m {
                        assert!(!k.starts_with("x_"), "custom property {path}.{k}");
                        walk(v, &format!("{path}.{k}"));
                    }
                }
                Value::Array(items) => items.iter().for_each(|i| walk(i, path)),
                _ => {}
            }
        }
        walk(&b, "bundle");
        let observed = of_type(&b, "observed-data")[0];
        let ext = &observed["extensions"][extension_id()];
        assert_eq!(ext["extension_type"], "property-extension");
        assert_eq!(ext["customer"], "jp-government");
        assert_eq!(ext["price_amount"], 0.12);
        assert_eq!(ext["price_currency"], "BTC");
        assert_eq!(ext["sale_cues"], json!(["出售"]));
    }

    #[test]
    fn every_alert_object_is_marked_and_created_by_leakwatch() {
        for (tlp, id) in [
            (
                Tlp::Amber,
                "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
            ),
            (
                Tlp::Red,
                "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
            ),
            (
                Tlp::AmberStrict,
                "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            ),
        ] {
            let b = bundle(&sample(), tlp);
            assert_eq!(of_type(&b, "marking-definition")[0]["id"], id);
            for o in objects(&b) {
                let meta = o["id"] == producer_id()
                    || o["type"] == "marking-definition"
                    || o["type"] == "extension-definition";
                if meta {
                    continue;
                }
                assert_eq!(o["object_marking_refs"], json!([id]), "{}", o["id"]);
                let sco = [
                    "url",
                    "user-account",
                    "domain-name",
                    "email-addr",
                    "artifact",
                ]
                .contains(&o["type"].as_str().expect("type"));
                if !sco {
                    assert_eq!(o["created_by_ref"], producer_id(), "{}", o["id"]);
                }
            }
        }
    }

    #[test]
    fn the_page_kept_as_evidence_is_an_artifact_known_by_its_hash() {
        let alerts = sample();
        let page = alerts[0]
            .evidence
            .clone()
            .expect("the sample's first alert has its page");
        let b = bundle(&alerts, Tlp::Amber);
        let artifacts = of_type(&b, "artifact");
        assert_eq!(artifacts.len(), 1, "only the first alert has a page");
        let artifact = artifacts[0];
        assert_eq!(artifact["hashes"]["SHA-256"], page.sha256);
        assert_eq!(artifact["mime_type"], "text/html");
        assert_eq!(artifact["url"], "http://market.onion/viewtopic.php?t=1");
        let observed = of_type(&b, "observed-data");
        let with_page: Vec<_> = observed
            .iter()
            .filter(|o| {
                o["object_refs"]
                    .as_array()
                    .expect("refs")
                    .contains(&artifact["id"])
            })
            .collect();
        assert_eq!(with_page.len(), 1);
        assert_eq!(
            with_page[0]["extensions"][extension_id()]["evidence_sha256"],
            page.sha256
        );
    }

    #[test]
    fn the_offer_the_victim_and_the_indicators() {
        let b = bundle(&sample(), Tlp::Amber);
        let victims: Vec<_> = of_type(&b, "identity")
            .into_iter()
            .filter(|i| i["id"] != producer_id())
            .collect();
        assert_eq!(victims.len(), 1, "two alerts of one asset: one victim");
        assert_eq!(victims[0]["name"], "総務省");
        assert_eq!(victims[0]["sectors"], json!(["government-national"]));
        let observed = of_type(&b, "observed-data");
        assert_eq!(observed.len(), 2);
        assert_eq!(observed[0]["first_observed"], "2026-11-20T08:00:00.000Z");
        assert_eq!(observed[0]["last_observed"], "2026-11-21T09:30:00.000Z");
        assert_eq!(
            observed[0]["number_observed"], 2,
            "the listing and its repost"
        );
        let seller = of_type(&b, "user-account");
        assert_eq!(seller[0]["account_login"], "wasabi88");
        let patterns: Vec<&str> = of_type(&b, "indicator")
            .iter()
            .filter_map(|i| i["pattern"].as_str())
            .collect();
        assert_eq!(
            patterns,
            [
                "[domain-name:value = 'mail.soumu.go.jp']",
                "[email-addr:value = 't-tanaka@soumu.go.jp']"
            ],
            "the watched domain itself is no indicator; named hosts and addresses are"
        );
        let based_on = of_type(&b, "relationship")
            .into_iter()
            .filter(|r| r["relationship_type"] == "based-on")
            .count();
        assert_eq!(based_on, 3, "the host in both alerts, the address in one");
        let notes = of_type(&b, "note");
        assert_eq!(
            notes.len(),
            1,
            "only the acknowledged alert has a status note"
        );
        assert_eq!(notes[0]["object_refs"], json!([observed[1]["id"]]));
    }

    #[test]
    fn each_triage_move_is_a_note_by_its_analyst_at_its_time() {
        use crate::triage::HistoryEntry;
        let mut alerts = sample();
        alerts[0].status = "resolved".to_owned();
        alerts[0].history = vec![
            HistoryEntry {
                at: "2026-11-22T01:00:00Z".to_owned(),
                actor: "soc-tanaka".to_owned(),
                from: "new".to_owned(),
                to: "investigating".to_owned(),
                note: String::new(),
            },
            HistoryEntry {
                at: "2026-11-22T03:30:00Z".to_owned(),
                actor: "soc-sato".to_owned(),
                from: "investigating".to_owned(),
                to: "resolved".to_owned(),
                note: "Accounts reset with the bank; seller reported.".to_owned(),
            },
        ];
        let b = bundle(&alerts, Tlp::Amber);
        let observed = of_type(&b, "observed-data");
        let notes: Vec<_> = of_type(&b, "note")
            .into_iter()
            .filter(|n| n["object_refs"] == json!([observed[0]["id"]]))
            .collect();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert_eq!(notes[0]["authors"], json!(["soc-tanaka"]));
        assert_eq!(notes[0]["created"], "2026-11-22T01:00:00.000Z");
        assert_eq!(notes[0]["abstract"], "Triage: new → investigating");
        assert_eq!(
            notes[1]["content"],
            "Accounts reset with the bank; seller reported."
        );
        assert_ne!(notes[0]["id"], notes[1]["id"]);
        // The same moves export to the same notes.
        assert_eq!(bundle(&alerts, Tlp::Amber), b);
    }

    #[test]
    fn pattern_literals_are_escaped() {
        assert_eq!(pattern_literal(r"a'b\c"), r"a\'b\\c");
    }
}
