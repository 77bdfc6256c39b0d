//! The MISP sink: adds an alert's event (the export's, uuids UUIDv5 of
//! stable keys) through MISP's REST API, and a sighting when the alert's
//! listing is seen again on another page. Speaks HTTP only; the outbox
//! decides when.
//!
//! Never twice: MISP refuses an event whose uuid it has ("Event already
//! exists", HTTP 404), which for a re-send after a crash means delivered.
//! With one event per customer per day, the second alert of a day finds the
//! event there and adds only the objects it lacks (`/objects/add`), after
//! reading the event (`/events/view`). A sighting carries a uuid of its own
//! (alert and repost), which MISP keeps once.

use std::collections::HashSet;

use crawler::Secret;
use serde_json::{json, Value};

use crate::alert_store::Sighting;
use crate::export::misp::{self, Grouping};
use crate::export::{stable_uuid, ExportAlert, Tlp};
use crate::sinks::taxii::excerpt;

/// A MISP instance.
pub(crate) struct Misp {
    client: reqwest::Client,
    base: reqwest::Url,
    key: Secret,
    key_env: String,
    distribution: Option<u8>,
    grouping: Grouping,
    tlp: Tlp,
}

/// Whether an answer to `/events/add` says the event is there already
/// (MISP: HTTP 404 or 403, "Event already exists, if you would like to edit
/// it, use the url in the location header.").
pub(crate) fn already_exists(status: u16, body: &str) -> bool {
    matches!(status, 403 | 404 | 409) && body.contains("already exists")
}

/// The event pushed for `alert`: the export's, with the sink's distribution,
/// and for a day's event a title that stays true as alerts are added.
pub(crate) fn event_for(
    alert: &ExportAlert,
    grouping: Grouping,
    tlp: Tlp,
    distribution: Option<u8>,
) -> Value {
    let events = misp::events(std::slice::from_ref(alert), grouping, tlp);
    let mut event = events["response"][0].clone();
    if let Some(d) = distribution {
        event["Event"]["distribution"] = json!(d.to_string());
    }
    if grouping == Grouping::Day {
        let day = alert.first_seen.format("%Y-%m-%d");
        event["Event"]["info"] = json!(format!(
            "leakwatch: {}: dark-web offers of watched assets first seen {day}",
            alert.alert.customer
        ));
    }
    event
}

/// The objects of `objects` that `have` lacks, each after the objects it
/// refers to (so a reference never names an object the event does not hold
/// yet); a cycle, which the export never makes, keeps the given order.
pub(crate) fn in_reference_order<'a>(objects: &'a [Value], have: &HashSet<&str>) -> Vec<&'a Value> {
    let uuid = |o: &Value| o["uuid"].as_str().unwrap_or_default().to_owned();
    let mut placed: HashSet<String> = have.iter().map(|u| (*u).to_owned()).collect();
    let mut waiting: Vec<&Value> = objects
        .iter()
        .filter(|o| !placed.contains(&uuid(o)))
        .collect();
    let ours: HashSet<String> = waiting.iter().map(|o| uuid(o)).collect();
    let mut out = Vec::with_capacity(waiting.len());
    while !waiting.is_empty() {
        let ready = waiting.iter().position(|o| {
            o["ObjectReference"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["referenced_uuid"].as_str())
                .all(|target| placed.contains(target) || !ours.contains(target))
        });
        let next = waiting.remove(ready.unwrap_or(0));
        placed.insert(uuid(next));
        out.push(next);
    }
    out
}

/// The attribute a sighting of `event`'s listing is recorded on: the
/// `ail-leak` object's `origin` (the listing's URL), else its `first-seen`.
/// Both depend only on the alert record, so the uuid is the event's.
pub(crate) fn sighted_attribute(event: &Value) -> Option<String> {
    let leak = event["Event"]["Object"]
        .as_array()?
        .iter()
        .find(|o| o["name"] == "ail-leak")?;
    let attributes = leak["Attribute"].as_array()?;
    ["origin", "first-seen"].iter().find_map(|relation| {
        attributes
            .iter()
            .find(|a| a["object_relation"] == *relation)
            .and_then(|a| a["uuid"].as_str())
            .map(str::to_owned)
    })
}

/// The body of `/sightings/add/{attribute}` for a repost; its uuid follows
/// the attribute and the repost, so a re-send is the same sighting.
pub(crate) fn sighting_body(alert: &ExportAlert, repost: &Sighting, attribute: &str) -> Value {
    let seen_at = chrono::DateTime::parse_from_rfc3339(&repost.seen_at)
        .map(|t| t.timestamp())
        .unwrap_or_else(|_| alert.first_seen.timestamp());
    let place = repost.url.as_deref().unwrap_or(&repost.doc_id);
    let source = match &repost.site {
        Some(site) => format!("leakwatch: reposted on {site} at {place}"),
        None => format!("leakwatch: reposted at {place}"),
    };
    json!({
        "uuid": stable_uuid(&["misp-sighting", attribute, &repost.doc_id]),
        "type": "0",
        "source": source,
        "date_sighting": seen_at.to_string(),
        "timestamp": seen_at.to_string(),
    })
}

impl Misp {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        base: reqwest::Url,
        key: Secret,
        key_env: String,
        verify_tls: bool,
        distribution: Option<u8>,
        grouping: Grouping,
        timeout: std::time::Duration,
        tlp: Tlp,
    ) -> anyhow::Result<Misp> {
        Ok(Misp {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout)
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .tls_danger_accept_invalid_certs(!verify_tls)
                .build()?,
            base,
            key,
            key_env,
            distribution,
            grouping,
            tlp,
        })
    }

    /// POSTs (or GETs, without `body`) `path`; gives the status and body.
    async fn call(&self, path: &str, body: Option<&Value>) -> Result<(u16, String), String> {
        let url = self
            .base
            .join(path)
            .map_err(|e| format!("{}{path}: {e}", self.base))?;
        let builder = match body {
            Some(b) => self
                .client
                .post(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_string()),
            None => self.client.get(url.clone()),
        };
        let response = builder
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::AUTHORIZATION, self.key.expose())
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        if status == 401 || (status == 403 && text.contains("uthenticat")) {
            return Err(format!(
                "{url}: HTTP {status}: MISP refused the key; check ${} (an auth key of a user allowed to add events)",
                self.key_env
            ));
        }
        Ok((status, text))
    }

    fn failed(&self, path: &str, status: u16, text: &str) -> String {
        format!("{}{path}: HTTP {status}{}", self.base, excerpt(text))
    }

    /// Adds `alert`'s event, or its objects to the day's event.
    pub(crate) async fn add_alert(&self, alert: &ExportAlert) -> Result<(), String> {
        let event = event_for(alert, self.grouping, self.tlp, self.distribution);
        let (status, text) = self.call("events/add", Some(&event)).await?;
        if (200..300).contains(&status) {
            return Ok(());
        }
        if !already_exists(status, &text) {
            return Err(self.failed("events/add", status, &text));
        }
        if self.grouping == Grouping::Alert {
            // Sent before a crash and not marked: delivered.
            return Ok(());
        }
        let uuid = event["Event"]["uuid"].as_str().unwrap_or_default();
        let view = format!("events/view/{uuid}");
        let (status, text) = self.call(&view, None).await?;
        if !(200..300).contains(&status) {
            return Err(self.failed(&view, status, &text));
        }
        let existing: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}{view}: the answer is not JSON ({e})", self.base))?;
        let have: HashSet<&str> = existing["Event"]["Object"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["uuid"].as_str())
            .collect();
        let add = format!("objects/add/{uuid}");
        let objects = event["Event"]["Object"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for object in in_reference_order(&objects, &have) {
            let (status, text) = self.call(&add, Some(object)).await?;
            if !(200..300).contains(&status) {
                return Err(self.failed(&add, status, &text));
            }
        }
        Ok(())
    }

    /// Records that `alert`'s listing was seen again at `repost`.
    pub(crate) async fn add_sighting(
        &self,
        alert: &ExportAlert,
        repost: &Sighting,
    ) -> Result<(), String> {
        let event = event_for(alert, self.grouping, self.tlp, self.distribution);
        let attribute = sighted_attribute(&event)
            .ok_or("the alert's event has no ail-leak attribute to sight")?;
        let path = format!("sightings/add/{attribute}");
        let (status, text) = self
            .call(&path, Some(&sighting_body(alert, repost, &attribute)))
            .await?;
        if (200..300).contains(&status) || (status != 404 && text.contains("already exists")) {
            return Ok(());
        }
        Err(self.failed(&path, status, &text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::sample;

    #[test]
    fn events_keep_their_uuid_and_take_the_sinks_distribution() {
        let alerts = sample();
        let a = event_for(&alerts[0], Grouping::Alert, Tlp::Amber, Some(2));
        let b = event_for(&alerts[0], Grouping::Alert, Tlp::Amber, None);
        assert_eq!(a["Event"]["uuid"], b["Event"]["uuid"]);
        assert_eq!(a["Event"]["distribution"], "2");
        assert_eq!(b["Event"]["distribution"], "0", "amber: the organisation");
        let day = event_for(&alerts[0], Grouping::Day, Tlp::Amber, None);
        let other = event_for(&alerts[1], Grouping::Day, Tlp::Amber, None);
        assert_eq!(
            day["Event"]["uuid"], other["Event"]["uuid"],
            "one event a day"
        );
        assert!(!day["Event"]["info"]
            .as_str()
            .expect("info")
            .contains("offer(s)"));
    }

    #[test]
    fn sightings_name_the_listing_attribute_and_have_a_stable_uuid() {
        let alerts = sample();
        let event = event_for(&alerts[0], Grouping::Alert, Tlp::Amber, None);
        let attribute = sighted_attribute(&event).expect("an attribute");
        let origin = event["Event"]["Object"]
            .as_array()
            .expect("objects")
            .iter()
            .find(|o| o["name"] == "ail-leak")
            .and_then(|o| o["Attribute"].as_array())
            .and_then(|a| a.iter().find(|a| a["object_relation"] == "origin"))
            .expect("origin");
        assert_eq!(origin["uuid"], attribute.as_str());
        let repost = Sighting {
            doc_id: "demo-forum:208".into(),
            url: Some("http://forum.onion/showthread.php?tid=208".into()),
            site: Some("demo-forum".into()),
            seen_at: "2026-11-21T09:30:00Z".into(),
        };
        let body = sighting_body(&alerts[0], &repost, &attribute);
        assert_eq!(body, sighting_body(&alerts[0], &repost, &attribute));
        assert_ne!(
            body["uuid"],
            sighting_body(&alerts[0], &repost, "other")["uuid"]
        );
        assert_eq!(body["date_sighting"], "1795253400");
        assert!(body["source"]
            .as_str()
            .expect("source")
            .contains("demo-forum at http://forum.onion/"));
    }

    #[test]
    fn objects_are_added_after_what_they_refer_to() {
        let alerts = sample();
        let event = event_for(&alerts[0], Grouping::Day, Tlp::Amber, None);
        let objects = event["Event"]["Object"].as_array().expect("objects");
        let victim = objects
            .iter()
            .find(|o| o["name"] == "victim")
            .and_then(|o| o["uuid"].as_str())
            .expect("victim");
        let have: HashSet<&str> = [victim].into_iter().collect();
        let order = in_reference_order(objects, &have);
        assert_eq!(
            order.len(),
            objects.len() - 1,
            "the victim is there already"
        );
        let mut placed: HashSet<&str> = have.clone();
        for o in order {
            for r in o["ObjectReference"].as_array().into_iter().flatten() {
                let target = r["referenced_uuid"].as_str().expect("target");
                assert!(placed.contains(target), "{} before {target}", o["name"]);
            }
            placed.insert(o["uuid"].as_str().expect("uuid"));
        }
    }

    #[test]
    fn misps_duplicate_answer_is_recognised() {
        let body = r#"{"name":"Event already exists, if you would like to edit it, use the url in the location header.","message":"Event already exists, if you would like to edit it, use the url in the location header.","url":"/events/add"}"#;
        assert!(already_exists(404, body));
        assert!(!already_exists(500, body));
        assert!(!already_exists(404, r#"{"name":"Not Found"}"#));
    }
}
