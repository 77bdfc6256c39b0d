//! Operator events: what the people running leakwatch must act on — today,
//! a site stopped until a person passes its CAPTCHA, queue or login — told
//! once through the operator's sinks (those not limited to some customers:
//! a JSON-lines file, a webhook, e-mail), never as a customer alert. Kept in
//! the state store with one delivery row per sink, delivered and retried
//! like alerts; a kill -9 between sending and marking may send one twice,
//! with the same event id.

use chrono::{SecondsFormat, Utc};
use rusqlite::params;
#[cfg(test)]
use rusqlite::OptionalExtension;

use crate::alert_store::AlertStore;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS operator_events (
    id      INTEGER PRIMARY KEY,
    kind    TEXT NOT NULL,
    site    TEXT NOT NULL,
    url     TEXT NOT NULL,
    message TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS operator_deliveries (
    event_id        INTEGER NOT NULL REFERENCES operator_events(id),
    sink            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    PRIMARY KEY (event_id, sink)
);
";

/// Something an operator must act on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct OperatorEvent {
    /// The row id once recorded (0 before).
    pub id: i64,
    /// `needs_human`.
    pub kind: String,
    pub site: String,
    /// The page that showed it.
    pub url: String,
    /// What to do, in a sentence.
    pub message: String,
    /// RFC 3339.
    pub at: String,
}

impl OperatorEvent {
    /// A site stopped at a wall only a person can pass.
    pub(crate) fn needs_human(site: &str, url: &str, wall: &str) -> OperatorEvent {
        OperatorEvent {
            id: 0,
            kind: "needs_human".to_owned(),
            site: site.to_owned(),
            url: url.to_owned(),
            message: format!(
                "{site} stopped at {wall} ({url}); a person should pass it in Tor Browser, export the site's cookies and run `leakwatch session import {site} cookies.txt`"
            ),
            at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    }

    /// The one-line JSON form sinks carry.
    pub(crate) fn payload(&self) -> serde_json::Value {
        serde_json::json!({
            "event": self.kind,
            "event_id": self.id,
            "site": self.site,
            "url": self.url,
            "message": self.message,
            "at": self.at,
        })
    }
}

/// A pending delivery of an event to one sink.
#[derive(Debug, Clone)]
pub(crate) struct EventDelivery {
    pub event: OperatorEvent,
    pub sink: String,
    pub attempts: u32,
}

/// Creates the tables (on an existing state store too).
pub(crate) fn init(store: &AlertStore) -> anyhow::Result<()> {
    store.with_connection(|db| Ok(db.execute_batch(SCHEMA)?))
}

/// Records `event` with a delivery to each of `sinks`; returns its id.
pub(crate) fn record(
    store: &AlertStore,
    event: &OperatorEvent,
    sinks: &[String],
    now: i64,
) -> anyhow::Result<i64> {
    store.with_connection(|db| {
        let tx = db.transaction()?;
        tx.execute(
            "INSERT INTO operator_events (kind, site, url, message, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![event.kind, event.site, event.url, event.message, event.at],
        )?;
        let id = tx.last_insert_rowid();
        for sink in sinks {
            tx.execute(
                "INSERT INTO operator_deliveries (event_id, sink, next_attempt_at) VALUES (?1, ?2, ?3)",
                params![id, sink, now],
            )?;
        }
        tx.commit()?;
        Ok(id)
    })
}

/// Whether a needs-human event for `site` at `url` was recorded at or
/// after `since_ms` (Unix milliseconds).
pub(crate) fn told(
    store: &AlertStore,
    site: &str,
    url: &str,
    since_ms: i64,
) -> anyhow::Result<bool> {
    store.with_connection(|db| {
        let mut stmt = db.prepare_cached(
            "SELECT at FROM operator_events WHERE kind = 'needs_human' AND site = ?1 AND url = ?2",
        )?;
        let times = stmt
            .query_map(params![site, url], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(times.iter().any(|at| {
            chrono::DateTime::parse_from_rfc3339(at)
                .is_ok_and(|t| t.timestamp() >= since_ms.div_euclid(1000))
        }))
    })
}

/// Deliveries due at `now` (Unix seconds), oldest first.
pub(crate) fn due(store: &AlertStore, now: i64) -> anyhow::Result<Vec<EventDelivery>> {
    store.with_connection(|db| {
        let mut stmt = db.prepare_cached(
            "SELECT e.id, e.kind, e.site, e.url, e.message, e.at, d.sink, d.attempts
             FROM operator_deliveries d JOIN operator_events e ON e.id = d.event_id
             WHERE d.status = 'pending' AND d.next_attempt_at <= ?1
             ORDER BY e.id LIMIT 100",
        )?;
        let rows = stmt.query_map([now], |r| {
            Ok(EventDelivery {
                event: event_row(r)?,
                sink: r.get(6)?,
                attempts: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
}

/// An event from the first six columns of a row (id, kind, site, url,
/// message, at).
fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OperatorEvent> {
    Ok(OperatorEvent {
        id: r.get(0)?,
        kind: r.get(1)?,
        site: r.get(2)?,
        url: r.get(3)?,
        message: r.get(4)?,
        at: r.get(5)?,
    })
}

/// Marks a delivery done.
pub(crate) fn delivered(store: &AlertStore, event_id: i64, sink: &str) -> anyhow::Result<()> {
    store.with_connection(|db| {
        db.execute(
            "UPDATE operator_deliveries SET status = 'done', attempts = attempts + 1, last_error = NULL
             WHERE event_id = ?1 AND sink = ?2",
            params![event_id, sink],
        )?;
        Ok(())
    })
}

/// Notes a failed attempt; the next at `next` (Unix seconds).
pub(crate) fn failed(
    store: &AlertStore,
    event_id: i64,
    sink: &str,
    error: &str,
    next: i64,
) -> anyhow::Result<()> {
    store.with_connection(|db| {
        db.execute(
            "UPDATE operator_deliveries SET attempts = attempts + 1, last_error = ?3, next_attempt_at = ?4
             WHERE event_id = ?1 AND sink = ?2",
            params![event_id, sink, error, next],
        )?;
        Ok(())
    })
}

/// The events recorded for `site`, oldest first.
#[cfg(test)]
fn of_site(store: &AlertStore, site: &str) -> anyhow::Result<Vec<OperatorEvent>> {
    store.with_connection(|db| {
        let exists = db
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'operator_events'",
                [],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !exists {
            return Ok(Vec::new());
        }
        let mut stmt = db.prepare_cached(
            "SELECT id, kind, site, url, message, at FROM operator_events WHERE site = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([site], event_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_delivered_to_each_sink_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = AlertStore::open(&dir.path().join("state.db")).expect("store");
        init(&store).expect("schema");
        let event = OperatorEvent::needs_human("walled", "http://x.onion/t/2", "a CAPTCHA page");
        let id = record(&store, &event, &["file".into(), "soc".into()], 100).expect("record");
        assert_eq!(due(&store, 99).expect("due").len(), 0, "not yet");
        let pending = due(&store, 100).expect("due");
        assert_eq!(pending.len(), 2);
        assert_eq!(pending[0].event.id, id);
        assert!(pending[0].event.message.contains("session import walled"));
        delivered(&store, id, "file").expect("done");
        failed(&store, id, "soc", "HTTP 503", 200).expect("failed");
        assert_eq!(due(&store, 150).expect("due").len(), 0);
        let retry = due(&store, 200).expect("due");
        assert_eq!(
            (retry.len(), retry[0].sink.as_str(), retry[0].attempts),
            (1, "soc", 1)
        );
        assert_eq!(of_site(&store, "walled").expect("events").len(), 1);
        assert_eq!(event.payload()["event"], "needs_human");
    }
}
