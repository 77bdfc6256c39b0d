//! Documents set aside. A delivered document that cannot be processed
//! (matched, recorded, indexed) after a few tries gets a row here with its
//! error and is then acknowledged, so one bad document never stops the
//! service nor comes back first after a restart. Errors of the whole store
//! (disk full, I/O, a corrupt database) are never set aside: they stop the
//! service. Holds no alerts and sends nothing.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::{SecondsFormat, Utc};
use crawler::Document;
use rusqlite::{params, Connection};

/// Tries per document before it is set aside.
pub(crate) const MAX_ATTEMPTS: u32 = 3;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS dead_letters (
    doc_id      TEXT PRIMARY KEY,
    site        TEXT NOT NULL,
    url         TEXT NOT NULL,
    error       TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    times       INTEGER NOT NULL DEFAULT 1,
    first_at    TEXT NOT NULL,
    last_at     TEXT NOT NULL,
    document    TEXT NOT NULL
);
";

/// A document set aside, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct DeadLetter {
    pub doc_id: String,
    pub site: String,
    pub url: String,
    /// The last attempt's error, with its causes.
    pub error: String,
    /// Tries of the last time it was set aside.
    pub attempts: u32,
    /// How many times it was set aside (a redelivered document fails again).
    pub times: u32,
    pub first_at: String,
    pub last_at: String,
}

/// The dead-letter table in the state store.
pub(crate) struct DeadLetters {
    db: Connection,
}

impl DeadLetters {
    /// Opens (creating the table if needed) the dead letters of the state
    /// store at `path`.
    pub(crate) fn open(path: &Path) -> anyhow::Result<DeadLetters> {
        let db = Connection::open(path)
            .with_context(|| format!("{}: cannot open the state store", path.display()))?;
        db.busy_timeout(Duration::from_secs(30))
            .and_then(|_| db.pragma_update(None, "journal_mode", "WAL"))
            .and_then(|_| db.pragma_update(None, "synchronous", "FULL"))
            .and_then(|_| db.execute_batch(SCHEMA))
            .with_context(|| format!("{}: not a usable leakwatch state store", path.display()))?;
        Ok(DeadLetters { db })
    }

    /// Records `doc` as set aside after `attempts` tries that ended in `error`.
    pub(crate) fn record(&self, doc: &Document, attempts: u32, error: &str) -> anyhow::Result<()> {
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let json = serde_json::to_string(doc).context("a document serialises")?;
        self.db
            .execute(
                "INSERT INTO dead_letters (doc_id, site, url, error, attempts, first_at, last_at, document)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)
                 ON CONFLICT (doc_id) DO UPDATE SET error = ?4, attempts = ?5, last_at = ?6,
                    document = ?7, times = times + 1",
                params![doc.id, doc.site, doc.url, error, attempts, now, json],
            )
            .with_context(|| format!("cannot record the dead letter of {}", doc.id))?;
        Ok(())
    }

    /// Every document set aside, by site and id.
    pub(crate) fn list(&self) -> anyhow::Result<Vec<DeadLetter>> {
        let mut stmt = self.db.prepare(
            "SELECT doc_id, site, url, error, attempts, times, first_at, last_at
             FROM dead_letters ORDER BY site, doc_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DeadLetter {
                doc_id: r.get(0)?,
                site: r.get(1)?,
                url: r.get(2)?,
                error: r.get(3)?,
                attempts: r.get(4)?,
                times: r.get(5)?,
                first_at: r.get(6)?,
                last_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// What became of one document.
#[derive(Debug)]
pub(crate) enum Handled<T> {
    /// Processed (perhaps after a retry).
    Done(T),
    /// Failed `attempts` times; `error` is the last failure with its causes.
    SetAside { attempts: u32, error: String },
}

/// Runs `attempt` up to [`MAX_ATTEMPTS`] times, `pause` × the try number
/// apart. A failure of the whole store is returned at once (the caller
/// stops); a document that keeps failing comes back as
/// [`Handled::SetAside`].
pub(crate) async fn with_retries<T>(
    pause: Duration,
    mut attempt: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<Handled<T>> {
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt() {
            Ok(value) => return Ok(Handled::Done(value)),
            Err(e) if is_store_failure(&e) => return Err(e),
            Err(e) if tries >= MAX_ATTEMPTS => {
                return Ok(Handled::SetAside {
                    attempts: tries,
                    error: format!("{e:#}"),
                })
            }
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), attempt = tries, "document failed; trying again");
                tokio::time::sleep(pause * tries).await;
            }
        }
    }
}

/// Whether an error concerns the whole store rather than one document: an
/// I/O error, a full disk, a read-only, corrupt, locked or vanished database
/// or index. Retrying or skipping the document cannot help with those.
pub(crate) fn is_store_failure(error: &anyhow::Error) -> bool {
    use rusqlite::ErrorCode;
    error.chain().any(|cause| {
        if cause.is::<std::io::Error>() {
            return true;
        }
        if let Some(rusqlite::Error::SqliteFailure(e, _)) = cause.downcast_ref::<rusqlite::Error>()
        {
            return matches!(
                e.code,
                ErrorCode::DiskFull
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::CannotOpen
                    | ErrorCode::ReadOnly
                    | ErrorCode::DatabaseCorrupt
                    | ErrorCode::NotADatabase
                    | ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::OutOfMemory
            );
        }
        cause
            .downcast_ref::<indexer::IndexError>()
            .is_some_and(indexer::IndexError::concerns_storage)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn document(id: &str) -> Document {
        serde_json::from_value(serde_json::json!({
            "id": id, "site": "market", "url": format!("http://m.example/t/{id}"),
            "title": "出售", "fetched_at": "2026-01-01T00:00:00Z"
        }))
        .expect("a document")
    }

    #[tokio::test]
    async fn a_document_that_keeps_failing_is_set_aside_after_three_tries() {
        let calls = Cell::new(0);
        let handled = with_retries(Duration::ZERO, || -> anyhow::Result<()> {
            calls.set(calls.get() + 1);
            anyhow::bail!("the indexer rejects it")
        })
        .await
        .expect("not a store failure");
        assert_eq!(calls.get(), MAX_ATTEMPTS);
        let Handled::SetAside { attempts, error } = handled else {
            panic!("set aside")
        };
        assert_eq!((attempts, error.as_str()), (3, "the indexer rejects it"));
    }

    #[tokio::test]
    async fn a_passing_failure_is_retried_and_a_store_failure_stops_at_once() {
        let calls = Cell::new(0);
        let handled = with_retries(Duration::ZERO, || {
            calls.set(calls.get() + 1);
            if calls.get() < 2 {
                anyhow::bail!("busy for a moment")
            }
            Ok(7)
        })
        .await
        .expect("no store failure");
        assert!(matches!(handled, Handled::Done(7)));
        assert_eq!(calls.get(), 2);

        let calls = Cell::new(0);
        let disk_full = with_retries(Duration::ZERO, || -> anyhow::Result<()> {
            calls.set(calls.get() + 1);
            Err(anyhow::Error::new(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "No space left on device",
            ))
            .context("cannot index d1"))
        })
        .await;
        assert_eq!(calls.get(), 1);
        assert!(disk_full.is_err());
        let sqlite_full = anyhow::Error::new(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        ));
        assert!(is_store_failure(
            &sqlite_full.context("cannot record an alert")
        ));
        let constraint = anyhow::Error::new(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
            None,
        ));
        assert!(!is_store_failure(&constraint));
    }

    #[test]
    fn dead_letters_are_stored_once_per_document_and_counted_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let letters = DeadLetters::open(&dir.path().join("state.db")).expect("open");
        letters
            .record(&document("m:1"), 3, "cannot index m:1: bad")
            .expect("record");
        letters
            .record(&document("m:1"), 3, "cannot index m:1: worse")
            .expect("record");
        letters.record(&document("m:0"), 3, "x").expect("record");
        let list = letters.list().expect("list");
        assert_eq!(
            list.iter()
                .map(|d| (d.doc_id.as_str(), d.times, d.error.as_str()))
                .collect::<Vec<_>>(),
            [("m:0", 1, "x"), ("m:1", 2, "cannot index m:1: worse")]
        );
        assert_eq!(list[1].url, "http://m.example/t/m:1");
    }
}
