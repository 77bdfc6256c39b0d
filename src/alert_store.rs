//! The alert log in the SQLite state store, and its outbox: the deliveries
//! each new alert queues, one row per sink. Stores and reads only; sending
//! is `delivery`'s.
//!
//! One row per (customer, asset, document); a repost of a listing on another
//! site (near-duplicate text) is grouped under the first alert as a
//! sighting. New alerts get one outbox row per sink in the same transaction,
//! so a kill -9 at any moment neither loses a delivery nor makes one twice
//! (a delivery is marked done right after the sink accepts it). Sinks that
//! report repeats (MISP) also get a delivery for each new sighting, due once
//! the alert itself is delivered to them.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use watchlists::Alert;

use crate::neardup::same_listing;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS alerts (
    id          INTEGER PRIMARY KEY,
    customer    TEXT NOT NULL,
    asset       TEXT NOT NULL,
    doc_id      TEXT NOT NULL,
    severity    TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'new',
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    simhash     INTEGER NOT NULL DEFAULT 0,
    alert_json  TEXT NOT NULL,
    UNIQUE (customer, asset, doc_id)
);
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (first_seen);
CREATE TABLE IF NOT EXISTS sightings (
    alert_id    INTEGER NOT NULL REFERENCES alerts(id),
    doc_id      TEXT NOT NULL,
    url         TEXT,
    site        TEXT,
    seen_at     TEXT NOT NULL,
    UNIQUE (alert_id, doc_id)
);
CREATE TABLE IF NOT EXISTS deliveries (
    id              INTEGER PRIMARY KEY,
    alert_id        INTEGER NOT NULL REFERENCES alerts(id),
    sink            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    delivered_at    TEXT,
    UNIQUE (alert_id, sink)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS sighting_deliveries (
    id              INTEGER PRIMARY KEY,
    alert_id        INTEGER NOT NULL REFERENCES alerts(id),
    doc_id          TEXT NOT NULL,
    sink            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    delivered_at    TEXT,
    UNIQUE (alert_id, doc_id, sink)
);
CREATE INDEX IF NOT EXISTS sighting_deliveries_due ON sighting_deliveries (status, next_attempt_at);
";

/// A sighting of an alert's listing on another page.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Sighting {
    pub doc_id: String,
    pub url: Option<String>,
    pub site: Option<String>,
    pub seen_at: String,
}

impl Sighting {
    /// A sighting from the four columns of `r` from `first` on (doc_id,
    /// url, site, seen_at).
    fn from_row(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Sighting> {
        Ok(Sighting {
            doc_id: r.get(first)?,
            url: r.get(first + 1)?,
            site: r.get(first + 2)?,
            seen_at: r.get(first + 3)?,
        })
    }
}

/// An alert as stored, with its log fields.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct StoredAlert {
    pub id: i64,
    pub status: String,
    pub first_seen: String,
    pub last_seen: String,
    #[serde(flatten)]
    pub alert: Alert,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_seen_at: Vec<Sighting>,
    /// The sinks that have delivered it, in delivery order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delivered_to: Vec<String>,
    /// Its triage moves, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<crate::triage::HistoryEntry>,
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub(crate) struct AlertFilter {
    pub customer: Option<String>,
    pub status: Option<String>,
    pub since: Option<DateTime<Utc>>,
}

/// What recording an alert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// A new alert (with its deliveries queued).
    New(i64),
    /// Already known for this document; refreshed.
    Known(i64),
    /// The same listing as an existing alert, seen on another page.
    Sighting(i64),
}

impl Recorded {
    pub(crate) fn id(self) -> i64 {
        match self {
            Recorded::New(id) | Recorded::Known(id) | Recorded::Sighting(id) => id,
        }
    }
}

/// A queued delivery, with its alert: the alert itself, or (with
/// `sighting`) a repost of its listing. `id` is the row in the table of
/// its kind.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub id: i64,
    pub alert_id: i64,
    pub sink: String,
    pub attempts: u32,
    pub alert: Alert,
    /// When the alert was first recorded (RFC 3339).
    pub first_seen: String,
    /// The repost this delivery reports, for a sighting delivery.
    pub sighting: Option<Sighting>,
}

/// The columns both kinds of pending delivery start with: id, alert id,
/// sink, attempts, the alert's JSON and when it was first seen.
type DeliveryHead = (i64, i64, String, u32, String, String);

/// Reads the first six columns of a pending delivery's row ([`DeliveryHead`]).
fn delivery_head(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeliveryHead> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

/// A handle on the alert log. Clones share one connection: the pipeline
/// records alerts and the delivery task marks deliveries through the same
/// one, each call a statement or a transaction of its own.
#[derive(Clone)]
pub(crate) struct AlertStore {
    db: Arc<Mutex<Connection>>,
    /// The sinks that also take sightings (shared by the clones).
    sighting_sinks: Arc<Mutex<Vec<String>>>,
}

fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl AlertStore {
    /// Opens (creating if needed) the alert log in the state store at `path`.
    pub(crate) fn open(path: &Path) -> anyhow::Result<AlertStore> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let db = Connection::open(path)
            .with_context(|| format!("{}: cannot open the state store", path.display()))?;
        db.busy_timeout(std::time::Duration::from_secs(30))
            .and_then(|_| db.pragma_update(None, "journal_mode", "WAL"))
            .and_then(|_| db.pragma_update(None, "synchronous", "FULL"))
            .and_then(|_| db.execute_batch(SCHEMA))
            .and_then(|_| db.execute_batch(crate::triage::SCHEMA))
            .and_then(|_| db.execute_batch(crate::access::SCHEMA))
            .with_context(|| format!("{}: not a usable leakwatch state store", path.display()))?;
        Ok(AlertStore {
            db: Arc::new(Mutex::new(db)),
            sighting_sinks: Arc::default(),
        })
    }

    /// Names the sinks that also get a delivery for each new sighting (a
    /// repost of an alerted listing), when the alert's route includes them.
    pub(crate) fn route_sightings_to(&self, sinks: Vec<String>) {
        *self
            .sighting_sinks
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = sinks;
    }

    /// The connection, for one call. A panic while it was held left no
    /// transaction open (rusqlite rolls back on drop), so a poisoned lock is
    /// still a usable connection.
    fn db(&self) -> MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the connection (for the triage, access and console
    /// queries, which live in their own modules).
    pub(crate) fn with_connection<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        f(&mut self.db())
    }

    /// Records `alert` (text fingerprint `simhash`), queueing a delivery to
    /// each of `sinks` (with its first attempt time) if it is new.
    pub(crate) fn record(
        &self,
        alert: &Alert,
        simhash: u64,
        sinks: &[(String, i64)],
    ) -> anyhow::Result<Recorded> {
        let now = now_text();
        let json = serde_json::to_string(alert).context("alert serialises")?;
        let severity = alert.severity.as_str();
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let known: Option<i64> = tx
            .query_row(
                "SELECT id FROM alerts WHERE customer = ?1 AND asset = ?2 AND doc_id = ?3",
                params![alert.customer, alert.asset, alert.doc_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = known {
            tx.execute(
                "UPDATE alerts SET last_seen = ?2, alert_json = ?3, severity = ?4, simhash = ?5 WHERE id = ?1",
                params![id, now, json, severity, simhash as i64],
            )?;
            tx.commit()?;
            return Ok(Recorded::Known(id));
        }
        let known_sighting: Option<i64> = tx
            .query_row(
                "SELECT s.alert_id FROM sightings s JOIN alerts a ON a.id = s.alert_id
                 WHERE a.customer = ?1 AND a.asset = ?2 AND s.doc_id = ?3",
                params![alert.customer, alert.asset, alert.doc_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = known_sighting {
            tx.commit()?;
            return Ok(Recorded::Sighting(id));
        }
        if simhash != 0 {
            let mut stmt = tx.prepare(
                "SELECT id, simhash, alert_json FROM alerts WHERE customer = ?1 AND asset = ?2 AND simhash != 0",
            )?;
            let candidates = stmt
                .query_map(params![alert.customer, alert.asset], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            drop(stmt);
            let same = candidates.into_iter().find(|(_, h, json)| {
                let other_site = serde_json::from_str::<Alert>(json)
                    .map(|a| a.site != alert.site)
                    .unwrap_or(false);
                other_site && same_listing(*h as u64, simhash)
            });
            if let Some((id, _, _)) = same {
                let inserted = tx.execute(
                    "INSERT OR IGNORE INTO sightings (alert_id, doc_id, url, site, seen_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, alert.doc_id, alert.url, alert.site, now],
                )?;
                if inserted > 0 {
                    let takers = self
                        .sighting_sinks
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .clone();
                    for (sink, first_attempt) in sinks.iter().filter(|(s, _)| takers.contains(s)) {
                        tx.execute(
                            "INSERT OR IGNORE INTO sighting_deliveries (alert_id, doc_id, sink, next_attempt_at) VALUES (?1, ?2, ?3, ?4)",
                            params![id, alert.doc_id, sink, first_attempt],
                        )?;
                    }
                }
                tx.execute(
                    "UPDATE alerts SET last_seen = ?2 WHERE id = ?1",
                    params![id, now],
                )?;
                tx.commit()?;
                return Ok(Recorded::Sighting(id));
            }
        }
        tx.execute(
            "INSERT INTO alerts (customer, asset, doc_id, severity, first_seen, last_seen, simhash, alert_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
            params![alert.customer, alert.asset, alert.doc_id, severity, now, simhash as i64, json],
        )?;
        let id = tx.last_insert_rowid();
        for (sink, first_attempt) in sinks {
            tx.execute(
                "INSERT INTO deliveries (alert_id, sink, next_attempt_at) VALUES (?1, ?2, ?3)",
                params![id, sink, first_attempt],
            )?;
        }
        tx.commit()?;
        Ok(Recorded::New(id))
    }

    /// Alerts matching `filter`, oldest first, with their sightings.
    pub(crate) fn list(&self, filter: &AlertFilter) -> anyhow::Result<Vec<StoredAlert>> {
        let db = self.db();
        let mut stmt = db.prepare(
            "SELECT id, status, first_seen, last_seen, alert_json FROM alerts
             WHERE (?1 IS NULL OR customer = ?1)
               AND (?2 IS NULL OR status = ?2)
               AND (?3 IS NULL OR first_seen >= ?3)
             ORDER BY id",
        )?;
        let since = filter
            .since
            .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true));
        let rows = stmt
            .query_map(params![filter.customer, filter.status, since], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut sightings = db.prepare(
            "SELECT doc_id, url, site, seen_at FROM sightings WHERE alert_id = ?1 ORDER BY seen_at",
        )?;
        let mut delivered = db.prepare(
            "SELECT sink FROM deliveries WHERE alert_id = ?1 AND status = 'delivered'
             ORDER BY delivered_at, id",
        )?;
        let mut out = Vec::new();
        for (id, status, first_seen, last_seen, json) in rows {
            let alert: Alert = serde_json::from_str(&json)
                .with_context(|| format!("alert {id} in the state store is unreadable"))?;
            let also_seen_at = sightings
                .query_map([id], |r| Sighting::from_row(r, 0))?
                .collect::<Result<Vec<_>, _>>()?;
            let delivered_to = delivered
                .query_map([id], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            let history = crate::triage::history_in(&db, id)?;
            out.push(StoredAlert {
                history,
                id,
                status,
                first_seen,
                last_seen,
                alert,
                also_seen_at,
                delivered_to,
            });
        }
        Ok(out)
    }

    /// Pending deliveries due at `now` (unix seconds), oldest first: the
    /// alerts', then the sightings' (a sighting only once no delivery of
    /// its alert to the same sink is pending), at most `limit` of each.
    pub(crate) fn due_deliveries(&self, now: i64, limit: usize) -> anyhow::Result<Vec<Delivery>> {
        let db = self.db();
        let mut stmt = db.prepare(
            "SELECT d.id, d.alert_id, d.sink, d.attempts, a.alert_json, a.first_seen
             FROM deliveries d JOIN alerts a ON a.id = d.alert_id
             WHERE d.status = 'pending' AND d.next_attempt_at <= ?1
             ORDER BY d.id LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![now, limit as i64], |r| {
                Ok((delivery_head(r)?, None))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut stmt = db.prepare(
            "SELECT s.id, s.alert_id, s.sink, s.attempts, a.alert_json, a.first_seen,
                    si.doc_id, si.url, si.site, si.seen_at
             FROM sighting_deliveries s
             JOIN alerts a ON a.id = s.alert_id
             JOIN sightings si ON si.alert_id = s.alert_id AND si.doc_id = s.doc_id
             WHERE s.status = 'pending' AND s.next_attempt_at <= ?1
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = s.alert_id
                               AND d.sink = s.sink AND d.status = 'pending')
             ORDER BY s.id LIMIT ?2",
        )?;
        let sightings = stmt
            .query_map(params![now, limit as i64], |r| {
                Ok((delivery_head(r)?, Some(Sighting::from_row(r, 6)?)))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .chain(sightings)
            .map(
                |((id, alert_id, sink, attempts, json, first_seen), sighting)| {
                    Ok(Delivery {
                        id,
                        alert_id,
                        sink,
                        attempts,
                        alert: serde_json::from_str(&json).with_context(|| {
                            format!("alert {alert_id} in the state store is unreadable")
                        })?,
                        first_seen,
                        sighting,
                    })
                },
            )
            .collect()
    }

    /// Number of deliveries still pending (for metrics and shutdown).
    pub(crate) fn pending_deliveries(&self) -> anyhow::Result<u64> {
        Ok(self.db().query_row(
            "SELECT (SELECT COUNT(*) FROM deliveries WHERE status = 'pending')
                  + (SELECT COUNT(*) FROM sighting_deliveries WHERE status = 'pending')",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Marks a delivery done. An alert becomes `delivered` once all its
    /// deliveries are done (unless already acknowledged); a sighting is
    /// just marked.
    pub(crate) fn delivered(&self, delivery: &Delivery) -> anyhow::Result<()> {
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if delivery.sighting.is_some() {
            tx.execute(
                "UPDATE sighting_deliveries SET status = 'delivered', delivered_at = ?2, attempts = attempts + 1 WHERE id = ?1",
                params![delivery.id, now_text()],
            )?;
        } else {
            tx.execute(
                "UPDATE deliveries SET status = 'delivered', delivered_at = ?2, attempts = attempts + 1 WHERE id = ?1",
                params![delivery.id, now_text()],
            )?;
            tx.execute(
                "UPDATE alerts SET status = 'delivered'
                 WHERE id = (SELECT alert_id FROM deliveries WHERE id = ?1) AND status = 'new'
                   AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.status = 'pending')",
                [delivery.id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a failed attempt; the next one is due at `next_attempt_at`.
    pub(crate) fn failed(
        &self,
        delivery: &Delivery,
        error: &str,
        next_attempt_at: i64,
    ) -> anyhow::Result<()> {
        let sql = if delivery.sighting.is_some() {
            "UPDATE sighting_deliveries SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1"
        } else {
            "UPDATE deliveries SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1"
        };
        self.db()
            .execute(sql, params![delivery.id, error, next_attempt_at])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use watchlists::Severity;

    fn alert(doc: &str, site: &str) -> Alert {
        Alert {
            doc_id: doc.into(),
            customer: "c".into(),
            asset: "a".into(),
            asset_name: "A".into(),
            severity: Severity::High,
            terms: vec!["A".into()],
            context: vec!["出售".into()],
            snippet: "出售 A".into(),
            url: None,
            site: Some(site.into()),
            entities: Vec::new(),
        }
    }

    #[test]
    fn entities_are_kept_and_alerts_stored_without_them_still_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = AlertStore::open(&dir.path().join("state.db")).expect("open");
        let mut with = alert("m:1", "m");
        with.entities = entities::extract_entities("出售 A，联系TG@abc_shop QQ：12345678");
        assert_eq!(with.entities.len(), 2);
        store.record(&with, 1, &[]).expect("record");
        let mut old = alert("m:2", "m");
        old.asset = "b".into();
        store.record(&old, 2, &[]).expect("record");
        // A row as an older leakwatch wrote it: no `entities` key at all.
        let json = serde_json::to_string(&old).expect("json");
        assert!(!json.contains("entities"), "{json}");
        store
            .db()
            .execute(
                "UPDATE alerts SET alert_json = ?1 WHERE doc_id = 'm:2'",
                [&json],
            )
            .expect("update");
        let listed = store.list(&AlertFilter::default()).expect("list");
        let by_doc = |doc: &str| {
            listed
                .iter()
                .find(|a| a.alert.doc_id == doc)
                .unwrap_or_else(|| panic!("{doc} listed"))
        };
        assert_eq!(by_doc("m:1").alert.entities, with.entities);
        assert!(by_doc("m:2").alert.entities.is_empty());
        let shown = serde_json::to_value(by_doc("m:1")).expect("json");
        assert_eq!(shown["entities"][0]["value"], "@abc_shop");
        assert_eq!(shown["entities"][1]["kind"], "qq");
    }

    #[test]
    fn one_row_per_customer_asset_document() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = AlertStore::open(&dir.path().join("state.db")).expect("open");
        let sinks = [("file".to_owned(), 0)];
        let r1 = store.record(&alert("d1", "s"), 0, &sinks).expect("record");
        let r2 = store.record(&alert("d1", "s"), 0, &sinks).expect("record");
        let r3 = store.record(&alert("d2", "s"), 0, &sinks).expect("record");
        assert!(matches!(r1, Recorded::New(_)));
        assert_eq!(r2, Recorded::Known(r1.id()));
        assert!(matches!(r3, Recorded::New(_)));
        assert_eq!(store.list(&AlertFilter::default()).expect("list").len(), 2);
        assert_eq!(store.due_deliveries(0, 10).expect("due").len(), 2);
        let ack = crate::triage::StatusChange {
            to: crate::triage::AlertStatus::Acknowledged,
            note: "",
            actor: "test",
            customer: None,
        };
        assert_eq!(
            store.set_status(&[r1.id(), 999], &ack).expect("ack"),
            [crate::triage::NotMoved::Missing(999)]
        );
        let history = store
            .with_connection(|db| crate::triage::history_in(db, r1.id()))
            .expect("history");
        assert_eq!(history.len(), 1);
        assert_eq!(
            (
                history[0].actor.as_str(),
                history[0].from.as_str(),
                history[0].to.as_str()
            ),
            ("test", "new", "acknowledged")
        );
    }

    #[test]
    fn reposts_on_other_sites_are_sightings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = AlertStore::open(&dir.path().join("state.db")).expect("open");
        let first = store
            .record(&alert("d1", "market-a"), 0xFFFF_0000, &[])
            .expect("record");
        let same_site = store
            .record(&alert("d2", "market-a"), 0xFFFF_0001, &[])
            .expect("record");
        let repost = store
            .record(&alert("d3", "market-b"), 0xFFFF_0001, &[])
            .expect("record");
        assert!(matches!(same_site, Recorded::New(_)));
        assert_eq!(repost, Recorded::Sighting(first.id()));
        assert_eq!(
            store
                .record(&alert("d3", "market-b"), 0xFFFF_0001, &[])
                .expect("again"),
            Recorded::Sighting(first.id())
        );
        let list = store.list(&AlertFilter::default()).expect("list");
        assert_eq!(list[0].also_seen_at.len(), 1);
        assert_eq!(list[0].also_seen_at[0].doc_id, "d3");
    }

    #[test]
    fn sightings_are_delivered_after_their_alert_to_the_sinks_that_take_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = AlertStore::open(&dir.path().join("state.db")).expect("open");
        store.route_sightings_to(vec!["misp".to_owned()]);
        let sinks = [("misp".to_owned(), 0), ("hook".to_owned(), 0)];
        let first = store
            .record(&alert("d1", "market-a"), 0xFFFF_0000, &sinks)
            .expect("record");
        let repost = store
            .record(&alert("d3", "market-b"), 0xFFFF_0001, &sinks)
            .expect("record");
        assert_eq!(repost, Recorded::Sighting(first.id()));
        // Seen again: no second sighting delivery.
        store
            .record(&alert("d3", "market-b"), 0xFFFF_0001, &sinks)
            .expect("record");
        let due = store.due_deliveries(10, 10).expect("due");
        assert_eq!(
            due.len(),
            2,
            "the alert's two deliveries; the sighting waits"
        );
        assert!(due.iter().all(|d| d.sighting.is_none()));
        assert_eq!(store.pending_deliveries().expect("pending"), 3);
        let misp = due.iter().find(|d| d.sink == "misp").expect("misp");
        store.delivered(misp).expect("delivered");
        let due = store.due_deliveries(10, 10).expect("due");
        let sighting: Vec<&Delivery> = due.iter().filter(|d| d.sighting.is_some()).collect();
        assert_eq!(sighting.len(), 1);
        assert_eq!(sighting[0].sink, "misp");
        assert_eq!(sighting[0].alert_id, first.id());
        assert_eq!(
            sighting[0].sighting.as_ref().map(|s| s.doc_id.as_str()),
            Some("d3")
        );
        store.failed(sighting[0], "HTTP 500", 20).expect("failed");
        assert!(store
            .due_deliveries(10, 10)
            .expect("due")
            .iter()
            .all(|d| d.sighting.is_none()));
        store.delivered(sighting[0]).expect("delivered");
        assert_eq!(
            store.pending_deliveries().expect("pending"),
            1,
            "the hook's"
        );
    }

    #[test]
    fn delivery_lifecycle() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = AlertStore::open(&dir.path().join("state.db")).expect("open");
        let sinks = [("hook".to_owned(), 0), ("mail".to_owned(), 100)];
        let id = store
            .record(&alert("d1", "s"), 0, &sinks)
            .expect("record")
            .id();
        let due = store.due_deliveries(50, 10).expect("due");
        assert_eq!(due.len(), 1);
        store.failed(&due[0], "HTTP 500", 60).expect("failed");
        assert!(store.due_deliveries(50, 10).expect("due").is_empty());
        let due = store.due_deliveries(200, 10).expect("due");
        assert_eq!(due.len(), 2);
        assert_eq!(due[0].attempts, 1);
        for d in &due {
            store.delivered(d).expect("delivered");
        }
        let list = store.list(&AlertFilter::default()).expect("list");
        assert_eq!((list[0].id, list[0].status.as_str()), (id, "delivered"));
        assert_eq!(store.pending_deliveries().expect("pending"), 0);
    }
}
