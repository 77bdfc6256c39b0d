//! Triage of alerts: the statuses an alert moves through (new → acknowledged
//! / investigating → resolved or false positive), which moves are allowed,
//! and the audit trail (`alert_history`) every move writes in the same
//! transaction. The CLI and the console both change status through here.

use std::fmt;

use anyhow::Context;
use chrono::{SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::alert_store::AlertStore;

/// The audit table; created beside `alerts` by [`AlertStore::open`].
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS alert_history (
    id          INTEGER PRIMARY KEY,
    alert_id    INTEGER NOT NULL REFERENCES alerts(id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS alert_history_by_alert ON alert_history (alert_id, id);
CREATE INDEX IF NOT EXISTS alerts_by_status ON alerts (status, id);
CREATE INDEX IF NOT EXISTS alerts_by_customer ON alerts (customer, id);
CREATE INDEX IF NOT EXISTS alerts_by_customer_status ON alerts (customer, status);
";

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AlertStatus {
    /// Raised, not yet delivered to every sink it goes to.
    New,
    /// Delivered to every sink; nobody has looked at it yet.
    Delivered,
    /// Someone has seen it.
    Acknowledged,
    /// Someone is working on it.
    Investigating,
    /// Concluded: a real offer of the customer's asset (true positive).
    Resolved,
    /// Concluded: not an offer of the customer's asset.
    FalsePositive,
}

impl AlertStatus {
    /// Every status, in the order of an alert's life.
    pub(crate) const ALL: [AlertStatus; 6] = [
        AlertStatus::New,
        AlertStatus::Delivered,
        AlertStatus::Acknowledged,
        AlertStatus::Investigating,
        AlertStatus::Resolved,
        AlertStatus::FalsePositive,
    ];

    /// The statuses a person can set (the first two only the service sets).
    pub(crate) const SETTABLE: [AlertStatus; 4] = [
        AlertStatus::Acknowledged,
        AlertStatus::Investigating,
        AlertStatus::Resolved,
        AlertStatus::FalsePositive,
    ];

    /// The stored (and typed) name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AlertStatus::New => "new",
            AlertStatus::Delivered => "delivered",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Investigating => "investigating",
            AlertStatus::Resolved => "resolved",
            AlertStatus::FalsePositive => "false_positive",
        }
    }

    /// Parses a stored or typed name (`false-positive` too).
    pub(crate) fn parse(text: &str) -> Option<AlertStatus> {
        let t = text.trim().to_ascii_lowercase().replace('-', "_");
        AlertStatus::ALL.into_iter().find(|s| s.as_str() == t)
    }

    /// Like [`parse`](Self::parse), with an error listing the statuses.
    pub(crate) fn parse_or_explain(text: &str) -> anyhow::Result<AlertStatus> {
        AlertStatus::parse(text).with_context(|| {
            let names: Vec<&str> = AlertStatus::ALL.iter().map(|s| s.as_str()).collect();
            format!("status {text:?} unknown; use one of {}", names.join(", "))
        })
    }

    /// Not yet looked at by anyone.
    pub(crate) fn is_untriaged(self) -> bool {
        matches!(self, AlertStatus::New | AlertStatus::Delivered)
    }

    /// Concluded one way or the other.
    pub(crate) fn is_closed(self) -> bool {
        matches!(self, AlertStatus::Resolved | AlertStatus::FalsePositive)
    }

    /// Whether a person may move an alert from `self` to `to`: forward from
    /// untriaged to any settable status, between acknowledged and
    /// investigating, from either to a conclusion, and back from a
    /// conclusion to investigating (reopening). Never back to new or
    /// delivered, never to the same status.
    pub(crate) fn can_move_to(self, to: AlertStatus) -> bool {
        if self == to || to.is_untriaged() {
            return false;
        }
        if self.is_closed() {
            return to == AlertStatus::Investigating;
        }
        true
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of an alert's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct HistoryEntry {
    pub at: String,
    /// The token's name (or `cli:USER` for the command line).
    pub actor: String,
    pub from: String,
    pub to: String,
    pub note: String,
}

/// Why one alert did not move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotMoved {
    /// No such alert (or, through a scope, not one the caller may see).
    Missing(i64),
    /// The move is not allowed from where it stands.
    Refused {
        id: i64,
        from: AlertStatus,
        to: AlertStatus,
    },
}

impl fmt::Display for NotMoved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotMoved::Missing(id) => write!(f, "no alert with id {id}"),
            NotMoved::Refused { id, from, to } => {
                write!(f, "alert {id} is {from}: it cannot become {to}")
            }
        }
    }
}

/// What a status change asks for.
#[derive(Debug, Clone)]
pub(crate) struct StatusChange<'a> {
    pub to: AlertStatus,
    pub note: &'a str,
    pub actor: &'a str,
    /// Only alerts of this customer (a customer token's scope).
    pub customer: Option<&'a str>,
}

fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl AlertStore {
    /// Moves each of `ids` to `change.to` with an audit row, all in one
    /// transaction; returns the ids that did not move and why (the others
    /// moved). An id outside `change.customer` counts as missing.
    pub(crate) fn set_status(
        &self,
        ids: &[i64],
        change: &StatusChange<'_>,
    ) -> anyhow::Result<Vec<NotMoved>> {
        self.with_connection(|db| set_status_in(db, ids, change))
    }
}

/// The audit trail of alert `id` on `db`, oldest first.
pub(crate) fn history_in(db: &Connection, id: i64) -> anyhow::Result<Vec<HistoryEntry>> {
    let mut stmt = db.prepare_cached(
        "SELECT at, actor, from_status, to_status, note FROM alert_history
         WHERE alert_id = ?1 ORDER BY id",
    )?;
    let rows = stmt
        .query_map([id], |r| {
            Ok(HistoryEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                from: r.get(2)?,
                to: r.get(3)?,
                note: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn set_status_in(
    db: &mut Connection,
    ids: &[i64],
    change: &StatusChange<'_>,
) -> anyhow::Result<Vec<NotMoved>> {
    let now = now_text();
    let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut refused = Vec::new();
    for &id in ids {
        let current: Option<String> = tx
            .query_row(
                "SELECT status FROM alerts WHERE id = ?1 AND (?2 IS NULL OR customer = ?2)",
                params![id, change.customer],
                |r| r.get(0),
            )
            .optional()?;
        let Some(current) = current else {
            refused.push(NotMoved::Missing(id));
            continue;
        };
        // A status this version does not know (written by a newer one) is
        // treated as untriaged: any settable move is allowed from it.
        let from = AlertStatus::parse(&current).unwrap_or(AlertStatus::New);
        if !from.can_move_to(change.to) {
            refused.push(NotMoved::Refused {
                id,
                from,
                to: change.to,
            });
            continue;
        }
        tx.execute(
            "UPDATE alerts SET status = ?2 WHERE id = ?1",
            params![id, change.to.as_str()],
        )?;
        tx.execute(
            "INSERT INTO alert_history (alert_id, at, actor, from_status, to_status, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                now,
                change.actor,
                current,
                change.to.as_str(),
                change.note
            ],
        )?;
    }
    tx.commit()?;
    Ok(refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AlertStatus::*;

    #[test]
    fn names_round_trip() {
        for s in AlertStatus::ALL {
            assert_eq!(AlertStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(AlertStatus::parse("False-Positive"), Some(FalsePositive));
        assert!(AlertStatus::parse("closed").is_none());
        let err = AlertStatus::parse_or_explain("closed").expect_err("unknown");
        assert!(err.to_string().contains("investigating"), "{err}");
    }

    #[test]
    fn moves() {
        for from in [New, Delivered] {
            for to in AlertStatus::SETTABLE {
                assert!(from.can_move_to(to), "{from} → {to}");
            }
        }
        assert!(Acknowledged.can_move_to(Investigating));
        assert!(Investigating.can_move_to(Acknowledged));
        assert!(Investigating.can_move_to(Resolved));
        assert!(Acknowledged.can_move_to(FalsePositive));
        assert!(Resolved.can_move_to(Investigating), "reopen");
        assert!(FalsePositive.can_move_to(Investigating), "reopen");
        assert!(!Resolved.can_move_to(FalsePositive));
        assert!(!Resolved.can_move_to(Acknowledged));
        for s in AlertStatus::ALL {
            assert!(!s.can_move_to(s), "{s} → itself");
            assert!(!s.can_move_to(New) && !s.can_move_to(Delivered));
        }
    }
}
