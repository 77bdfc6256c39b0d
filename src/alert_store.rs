//! The alert log: every alert ever raised, one row per (customer, asset,
//! document), in the SQLite state store (WAL; each write is one transaction,
//! so a kill -9 loses nothing that was reported and duplicates nothing).

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use watchlists::Alert;

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
    alert_json  TEXT NOT NULL,
    UNIQUE (customer, asset, doc_id)
);
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (first_seen);
";

/// An alert as stored, with its log fields.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredAlert {
    pub id: i64,
    pub status: String,
    pub first_seen: String,
    pub last_seen: String,
    #[serde(flatten)]
    pub alert: Alert,
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub customer: Option<String>,
    pub status: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub doc_ids: Option<Vec<String>>,
}

pub struct AlertStore {
    db: Connection,
}

impl AlertStore {
    /// Opens (creating if needed) the alert log in the state store at `path`.
    pub fn open(path: &Path) -> anyhow::Result<AlertStore> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let db = Connection::open(path)
            .with_context(|| format!("{}: cannot open the state store", path.display()))?;
        db.pragma_update(None, "journal_mode", "WAL")
            .and_then(|_| db.pragma_update(None, "synchronous", "FULL"))
            .and_then(|_| db.busy_timeout(std::time::Duration::from_secs(10)))
            .and_then(|_| db.execute_batch(SCHEMA))
            .with_context(|| format!("{}: not a usable leakwatch state store", path.display()))?;
        Ok(AlertStore { db })
    }

    /// Records `alert`; returns its row id and whether it is new (a known
    /// alert only has its last-seen time and content refreshed).
    pub fn record(&self, alert: &Alert) -> anyhow::Result<(i64, bool)> {
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let json = serde_json::to_string(alert).context("alert serialises")?;
        let severity = serde_json::to_value(alert.severity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let inserted = self.db.execute(
            "INSERT OR IGNORE INTO alerts (customer, asset, doc_id, severity, first_seen, last_seen, alert_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
            params![alert.customer, alert.asset, alert.doc_id, severity, now, json],
        )?;
        if inserted == 0 {
            self.db.execute(
                "UPDATE alerts SET last_seen = ?4, alert_json = ?5, severity = ?6
                 WHERE customer = ?1 AND asset = ?2 AND doc_id = ?3",
                params![
                    alert.customer,
                    alert.asset,
                    alert.doc_id,
                    now,
                    json,
                    severity
                ],
            )?;
        }
        let id: i64 = self.db.query_row(
            "SELECT id FROM alerts WHERE customer = ?1 AND asset = ?2 AND doc_id = ?3",
            params![alert.customer, alert.asset, alert.doc_id],
            |row| row.get(0),
        )?;
        Ok((id, inserted == 1))
    }

    /// Alerts matching `filter`, oldest first.
    pub fn list(&self, filter: &AlertFilter) -> anyhow::Result<Vec<StoredAlert>> {
        let mut stmt = self.db.prepare(
            "SELECT id, status, first_seen, last_seen, alert_json FROM alerts
             WHERE (?1 IS NULL OR customer = ?1)
               AND (?2 IS NULL OR status = ?2)
               AND (?3 IS NULL OR first_seen >= ?3)
             ORDER BY id",
        )?;
        let since = filter
            .since
            .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true));
        let rows = stmt.query_map(params![filter.customer, filter.status, since], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, status, first_seen, last_seen, json) = row?;
            let alert: Alert = serde_json::from_str(&json)
                .with_context(|| format!("alert {id} in the state store is unreadable"))?;
            if let Some(ids) = &filter.doc_ids {
                if !ids.contains(&alert.doc_id) {
                    continue;
                }
            }
            out.push(StoredAlert {
                id,
                status,
                first_seen,
                last_seen,
                alert,
            });
        }
        Ok(out)
    }

    /// Marks alerts acknowledged; returns the ids that did not exist.
    pub fn acknowledge(&self, ids: &[i64]) -> anyhow::Result<Vec<i64>> {
        let mut missing = Vec::new();
        for id in ids {
            let found: Option<i64> = self
                .db
                .query_row("SELECT id FROM alerts WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            if found.is_none() {
                missing.push(*id);
                continue;
            }
            self.db.execute(
                "UPDATE alerts SET status = 'acknowledged' WHERE id = ?1",
                [id],
            )?;
        }
        Ok(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use watchlists::Severity;

    fn alert(doc: &str) -> Alert {
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
            site: None,
        }
    }

    #[test]
    fn one_row_per_customer_asset_document() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = AlertStore::open(&dir.path().join("state.db")).expect("open");
        let (id1, new1) = store.record(&alert("d1")).expect("record");
        let (id2, new2) = store.record(&alert("d1")).expect("record");
        let (_, new3) = store.record(&alert("d2")).expect("record");
        assert!(new1 && !new2 && new3);
        assert_eq!(id1, id2);
        assert_eq!(store.list(&AlertFilter::default()).expect("list").len(), 2);
        assert_eq!(store.acknowledge(&[id1, 999]).expect("ack"), [999]);
        let acked = store
            .list(&AlertFilter {
                status: Some("acknowledged".into()),
                ..Default::default()
            })
            .expect("list");
        assert_eq!(acked.len(), 1);
    }
}
