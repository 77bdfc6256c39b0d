//! The console's own read connections to the state store: SQLite WAL
//! readers, so that the queue, the alert page, sessions and tokens are
//! read beside the crawl's and the pipeline's writes instead of behind
//! them (a WAL reader never waits for a writer). Writes (triage, sessions,
//! a token's last use) still go through the console's [`AlertStore`]
//! connection, one short transaction each, waiting their turn through the
//! store's busy timeout.
//!
//! [`AlertStore`]: crate::alert_store::AlertStore

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use rusqlite::{Connection, OpenFlags};

use crate::alert_store::AlertStore;

/// Idle readers kept open between requests (more are opened while more
/// requests run at once, and closed after).
const KEEP_IDLE: usize = 4;

/// How long a reader waits for a lock: only a checkpoint or a recovery
/// ever makes a WAL reader wait.
const READ_BUSY: Duration = Duration::from_secs(5);

/// Read-only connections to one state store, opened as requests need them.
pub(crate) struct Readers {
    /// The store's file; `None` for a store without one (in memory), read
    /// through the store's own connection.
    path: Option<PathBuf>,
    store: AlertStore,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    /// Readers of `store`'s file.
    pub(crate) fn new(store: &AlertStore) -> Readers {
        let path = store
            .with_connection(|db| Ok(db.path().filter(|p| !p.is_empty()).map(PathBuf::from)))
            .ok()
            .flatten();
        Readers {
            path,
            store: store.clone(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` on a reader (a statement or a few: each sees the last
    /// commit when it starts).
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let Some(path) = &self.path else {
            return self.store.with_connection(|db| f(db));
        };
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let db = match idle {
            Some(db) => db,
            None => open_reader(path)?,
        };
        let result = f(&db);
        // A reader is kept only between statements: nothing of `f` is
        // left running on it (its statements are done or dropped).
        if db.is_autocommit() {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < KEEP_IDLE {
                idle.push(db);
            }
        }
        result
    }
}

/// A connection that may read and never write.
fn open_reader(path: &std::path::Path) -> anyhow::Result<Connection> {
    // Opened read-write without create, then made query-only: a WAL
    // reader needs to map the `-shm` file, which a read-only open
    // cannot create when it is missing.
    let db = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("{}: cannot open the state store to read", path.display()))?;
    db.busy_timeout(READ_BUSY)
        .and_then(|_| db.pragma_update(None, "query_only", true))
        .with_context(|| format!("{}: cannot set up a reader", path.display()))?;
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_see_commits_and_cannot_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = AlertStore::open(&dir.path().join("state.db")).expect("store");
        let readers = Readers::new(&store);
        let count = || {
            readers
                .read(|db| {
                    Ok(db.query_row("SELECT count(*) FROM api_tokens", [], |r| {
                        r.get::<_, i64>(0)
                    })?)
                })
                .expect("read")
        };
        assert_eq!(count(), 0);
        let _ = store
            .create_token(
                "a",
                &crate::access::Scope::Operator,
                crate::access::Role::Viewer,
                None,
            )
            .expect("token");
        assert_eq!(count(), 1);
        let refused = readers.read(|db| Ok(db.execute("DELETE FROM api_tokens", [])?));
        assert!(refused.is_err(), "a reader wrote");
        assert_eq!(count(), 1);
        // While the store holds a write transaction open, a reader still
        // reads (the last commit), without waiting.
        store
            .with_connection(|db| {
                let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                tx.execute("DELETE FROM api_tokens", [])?;
                let started = std::time::Instant::now();
                assert_eq!(count(), 1);
                assert!(started.elapsed() < Duration::from_secs(1));
                tx.commit()?;
                Ok(())
            })
            .expect("write");
        assert_eq!(count(), 0);
    }
}
