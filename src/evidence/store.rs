//! The archive on disk: pages under `DATA_DIR/evidence/ab/cdef….zst` by the
//! SHA-256 of their bytes, and their rows in the state store — a capture per
//! page, a version per document change. A file is made durable (temp file,
//! fsync, rename, fsync of the folder) before its row is written, so a row
//! never points at a missing or half file; a file without a row is garbage
//! that `gc` sweeps.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use crawler::{Document, PageCapture};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::content::{self, changes, document_text, object_path, sha256_hex, Change, Snapshot};
use super::retention::{self, Kept, Retention};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS evidence_captures (
    sha256          TEXT PRIMARY KEY,
    requested_url   TEXT NOT NULL,
    final_url       TEXT NOT NULL,
    status          INTEGER NOT NULL,
    headers         TEXT NOT NULL,
    fetched_at      TEXT NOT NULL,
    fetched_at_unix INTEGER NOT NULL,
    transport       TEXT NOT NULL,
    identity        TEXT,
    encoding        TEXT NOT NULL,
    size            INTEGER NOT NULL,
    stored_size     INTEGER NOT NULL,
    stored_at       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS evidence_captures_by_time ON evidence_captures (fetched_at_unix);
CREATE TABLE IF NOT EXISTS evidence_versions (
    doc_id        TEXT NOT NULL,
    version       INTEGER NOT NULL,
    sha256        TEXT NOT NULL REFERENCES evidence_captures(sha256),
    text_sha256   TEXT NOT NULL,
    title         TEXT,
    price         TEXT,
    seller        TEXT,
    text          TEXT NOT NULL,
    changes       TEXT NOT NULL,
    document      TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    PRIMARY KEY (doc_id, version)
);
CREATE INDEX IF NOT EXISTS evidence_versions_by_capture ON evidence_versions (sha256);
";

/// How long a file without a row is left alone by `gc`: a writer makes the
/// file durable first and writes its row a moment later.
const ORPHAN_GRACE: Duration = Duration::from_secs(600);

/// A stored page's facts, as its row holds them.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct CaptureRow {
    pub sha256: String,
    pub requested_url: String,
    pub final_url: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub fetched_at: String,
    pub transport: String,
    pub identity: Option<String>,
    pub encoding: String,
    /// Bytes as received.
    pub size: u64,
    /// Bytes on disk (zstd).
    pub stored_size: u64,
}

/// One version of a document.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct VersionRow {
    pub doc_id: String,
    pub version: i64,
    /// The page the version was read from.
    pub sha256: String,
    pub text_sha256: String,
    pub title: Option<String>,
    pub price: Option<String>,
    pub seller: Option<String>,
    /// What changed from the previous version (empty for the first).
    pub changes: Vec<Change>,
    pub recorded_at: String,
    #[serde(skip)]
    pub text: String,
    /// The document as extracted.
    pub document: serde_json::Value,
}

/// What archiving a document did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Archived {
    pub sha256: String,
    pub version: i64,
    /// A new version (the first, or the document changed).
    pub new_version: bool,
}

/// What `gc` removed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct GcReport {
    pub expired: usize,
    pub over_budget: usize,
    pub orphan_files: usize,
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// Bytes of alert evidence alone, which no budget removes.
    pub protected_bytes: u64,
}

/// The evidence archive of one data folder. Clones share one connection.
#[derive(Clone)]
pub(crate) struct EvidenceStore {
    root: PathBuf,
    db: Arc<Mutex<Connection>>,
    /// Pages kept by `archive_later`, durable at the next `flush`.
    pending: Arc<Mutex<Vec<Pending>>>,
}

/// Temp files of this process get distinct names.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl EvidenceStore {
    /// Opens (creating if needed) the archive under `data_dir`, its rows in
    /// the state store `state_db`.
    pub(crate) fn open(data_dir: &Path, state_db: &Path) -> anyhow::Result<EvidenceStore> {
        let root = data_dir.join("evidence");
        std::fs::create_dir_all(&root)
            .with_context(|| format!("cannot create the evidence folder {}", root.display()))?;
        let db = Connection::open(state_db)
            .with_context(|| format!("{}: cannot open the state store", state_db.display()))?;
        db.busy_timeout(Duration::from_secs(30))
            .and_then(|_| db.pragma_update(None, "journal_mode", "WAL"))
            .and_then(|_| db.pragma_update(None, "synchronous", "FULL"))
            .and_then(|_| db.execute_batch(SCHEMA))
            .with_context(|| {
                format!("{}: not a usable leakwatch state store", state_db.display())
            })?;
        Ok(EvidenceStore {
            root,
            db: Arc::new(Mutex::new(db)),
            pending: Arc::default(),
        })
    }

    fn db(&self) -> MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `doc_id` has versions in the archive (its later changes are
    /// kept too).
    pub(crate) fn has_versions(&self, doc_id: &str) -> anyhow::Result<bool> {
        Ok(self
            .db()
            .prepare_cached("SELECT 1 FROM evidence_versions WHERE doc_id = ?1 LIMIT 1")?
            .exists([doc_id])?)
    }

    /// Keeps `capture` (once per content) and, if `doc` changed since its
    /// last version, a new version of it, durably before it returns: for a
    /// page that raised an alert, whose evidence must exist before the alert
    /// is recorded. `transport` names how the page came when the capture's
    /// own name is not what an operator knows it as (the embedded Tor
    /// client's local bridge).
    pub(crate) fn archive_now(
        &self,
        doc: &Document,
        capture: &PageCapture,
        transport: Option<&str>,
    ) -> anyhow::Result<Archived> {
        // Versions are numbered in order: what waits goes first.
        self.flush()?;
        let sha = sha256_hex(&capture.body);
        let path = object_path(&self.root, &sha).expect("sha256_hex is a SHA-256");
        // The file first, outside the store's lock (the slow part)…
        let mut stored_size = match std::fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(_) => self.write_file(&path, &capture.body, true)?,
        };
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // …and again under it: `gc` may have removed a file of no row
        // between the two (it removes files only while holding the lock).
        if !path.exists() {
            stored_size = self.write_file(&path, &capture.body, true)?;
        }
        let archived = record_rows(&tx, doc, capture, &sha, stored_size, transport)?;
        tx.commit()?;
        Ok(archived)
    }

    /// Keeps `capture` and `doc`'s version like [`Self::archive_now`], made
    /// durable at the next [`Self::flush`]: for pages of no alert, which
    /// the crawler's outbox still holds until the pipeline's next commit
    /// (which flushes first). The file is written now (a kill leaves it
    /// whole: it is renamed into place), its fsync and its rows wait, so a
    /// page costs no disk flush of its own.
    pub(crate) fn archive_later(
        &self,
        doc: &Document,
        capture: &PageCapture,
        transport: Option<&str>,
    ) -> anyhow::Result<()> {
        let sha = sha256_hex(&capture.body);
        let path = object_path(&self.root, &sha).expect("sha256_hex is a SHA-256");
        let stored_size = match std::fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(_) => self.write_file(&path, &capture.body, false)?,
        };
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Pending {
                doc: doc.clone(),
                capture: capture.clone(),
                sha,
                stored_size,
                transport: transport.map(str::to_owned),
            });
        Ok(())
    }

    /// Makes what [`Self::archive_later`] kept durable: the files (one
    /// flush of their file system), then their rows in one transaction.
    pub(crate) fn flush(&self) -> anyhow::Result<usize> {
        let pending =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        if pending.is_empty() {
            return Ok(0);
        }
        sync_files(&self.root, pending.iter().map(|p| p.sha.as_str()))?;
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for p in &pending {
            let path = object_path(&self.root, &p.sha).expect("a SHA-256");
            let mut stored_size = p.stored_size;
            if !path.exists() {
                stored_size = self.write_file(&path, &p.capture.body, true)?;
            }
            record_rows(
                &tx,
                &p.doc,
                &p.capture,
                &p.sha,
                stored_size,
                p.transport.as_deref(),
            )?;
        }
        tx.commit()?;
        Ok(pending.len())
    }

    /// Writes `raw` compressed to `path`: a temp file in the same folder,
    /// renamed into place, so `path` is never a half file; with `sync`, the
    /// file is fsync'd before the rename and its folder after. Returns the
    /// bytes on disk.
    fn write_file(&self, path: &Path, raw: &[u8], sync: bool) -> anyhow::Result<u64> {
        let dir = path.parent().expect("an object path has a folder");
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the evidence folder {}", dir.display()))?;
        let stored = content::compress(raw).context("zstd cannot compress a page")?;
        let temp = dir.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| -> std::io::Result<()> {
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(&stored)?;
            if sync {
                file.sync_all()?;
            }
            std::fs::rename(&temp, path)?;
            if sync {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(e).with_context(|| {
                format!(
                    "cannot store a page as evidence in {} (disk full? permissions?)",
                    path.display()
                )
            });
        }
        Ok(stored.len() as u64)
    }

    /// The bytes of the page with SHA-256 `sha`, checked against it.
    pub(crate) fn read_page(&self, sha: &str) -> anyhow::Result<Vec<u8>> {
        let path =
            object_path(&self.root, sha).with_context(|| format!("{sha:?} is not a SHA-256"))?;
        let stored = std::fs::read(&path)
            .with_context(|| format!("{}: cannot read the stored page", path.display()))?;
        let raw = content::decompress(&stored)
            .with_context(|| format!("{}: not a zstd frame (damaged?)", path.display()))?;
        let actual = sha256_hex(&raw);
        anyhow::ensure!(
            actual == sha,
            "{}: the page's SHA-256 is {actual}, not {sha}: the file is damaged",
            path.display()
        );
        Ok(raw)
    }

    /// The capture row of `sha`.
    pub(crate) fn capture(&self, sha: &str) -> anyhow::Result<Option<CaptureRow>> {
        let db = self.db();
        let row = db
            .prepare_cached(
                "SELECT sha256, requested_url, final_url, status, headers, fetched_at, transport,
                    identity, encoding, size, stored_size FROM evidence_captures WHERE sha256 = ?1",
            )?
            .query_row([sha], |r| {
                Ok((
                    CaptureRow {
                        sha256: r.get(0)?,
                        requested_url: r.get(1)?,
                        final_url: r.get(2)?,
                        status: r.get(3)?,
                        headers: Vec::new(),
                        fetched_at: r.get(5)?,
                        transport: r.get(6)?,
                        identity: r.get(7)?,
                        encoding: r.get(8)?,
                        size: r.get::<_, i64>(9)? as u64,
                        stored_size: r.get::<_, i64>(10)? as u64,
                    },
                    r.get::<_, String>(4)?,
                ))
            })
            .optional()?;
        row.map(|(mut row, headers)| {
            row.headers = serde_json::from_str(&headers)
                .with_context(|| format!("capture {sha}: unreadable headers in the state store"))?;
            Ok(row)
        })
        .transpose()
    }

    /// Every version of `doc_id`, oldest first.
    pub(crate) fn versions(&self, doc_id: &str) -> anyhow::Result<Vec<VersionRow>> {
        let db = self.db();
        let mut stmt = db.prepare_cached(
            "SELECT doc_id, version, sha256, text_sha256, title, price, seller, text, changes,
                document, recorded_at FROM evidence_versions WHERE doc_id = ?1 ORDER BY version",
        )?;
        let rows = stmt
            .query_map([doc_id], |r| {
                Ok((
                    VersionRow {
                        doc_id: r.get(0)?,
                        version: r.get(1)?,
                        sha256: r.get(2)?,
                        text_sha256: r.get(3)?,
                        title: r.get(4)?,
                        price: r.get(5)?,
                        seller: r.get(6)?,
                        text: r.get(7)?,
                        changes: Vec::new(),
                        document: serde_json::Value::Null,
                        recorded_at: r.get(10)?,
                    },
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(mut v, changes, document)| {
                v.changes = serde_json::from_str(&changes).with_context(|| {
                    format!("{doc_id} version {}: unreadable changes", v.version)
                })?;
                v.document = serde_json::from_str(&document).with_context(|| {
                    format!("{doc_id} version {}: unreadable document", v.version)
                })?;
                Ok(v)
            })
            .collect()
    }

    /// The archive's size on disk, by its rows.
    pub(crate) fn stored_bytes(&self) -> anyhow::Result<u64> {
        let n: i64 = self.db().query_row(
            "SELECT coalesce(sum(stored_size), 0) FROM evidence_captures",
            [],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    /// Removes what `retention` says to (never a page of an alert or of a
    /// repost grouped under one), then files without a row.
    pub(crate) fn gc(&self, retention: Retention, now: i64) -> anyhow::Result<GcReport> {
        let mut db = self.db();
        // The alert log's tables exist: the caller opened the alert store.
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let kept: Vec<Kept> = tx
            .prepare(
                "SELECT c.sha256, c.fetched_at_unix, c.stored_size,
                    EXISTS (SELECT 1 FROM evidence_versions v WHERE v.sha256 = c.sha256
                        AND (v.doc_id IN (SELECT doc_id FROM alerts)
                             OR v.doc_id IN (SELECT doc_id FROM sightings)))
                 FROM evidence_captures c",
            )?
            .query_map([], |r| {
                Ok(Kept {
                    sha256: r.get(0)?,
                    fetched_at: r.get(1)?,
                    stored_bytes: r.get::<_, i64>(2)?.max(0) as u64,
                    protected: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let plan = retention::plan(&kept, now, retention);
        let mut report = GcReport {
            expired: plan.expired.len(),
            over_budget: plan.over_budget.len(),
            bytes_before: kept.iter().map(|k| k.stored_bytes).sum(),
            bytes_after: plan.bytes_after,
            protected_bytes: kept
                .iter()
                .filter(|k| k.protected)
                .map(|k| k.stored_bytes)
                .sum(),
            orphan_files: 0,
        };
        let removed: Vec<&String> = plan.expired.iter().chain(&plan.over_budget).collect();
        for sha in &removed {
            tx.execute("DELETE FROM evidence_versions WHERE sha256 = ?1", [sha])?;
            tx.execute("DELETE FROM evidence_captures WHERE sha256 = ?1", [sha])?;
        }
        // Rows first (a row never outlives its file), then the files, all
        // under the lock so no writer re-adds a row meanwhile.
        tx.commit()?;
        let hold = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for sha in &removed {
            if let Some(path) = object_path(&self.root, sha) {
                let _ = std::fs::remove_file(path);
            }
        }
        report.orphan_files = self.sweep_orphans(&hold)?;
        hold.commit()?;
        Ok(report)
    }

    /// Removes files no row names (older than a grace period), and temp
    /// files a kill left behind.
    fn sweep_orphans(&self, tx: &rusqlite::Transaction<'_>) -> anyhow::Result<usize> {
        let mut known = tx.prepare("SELECT 1 FROM evidence_captures WHERE sha256 = ?1")?;
        let cutoff = SystemTime::now() - ORPHAN_GRACE;
        let mut removed = 0;
        let Ok(folders) = std::fs::read_dir(&self.root) else {
            return Ok(0);
        };
        for folder in folders.flatten() {
            let prefix = folder.file_name().to_string_lossy().into_owned();
            let Ok(files) = std::fs::read_dir(folder.path()) else {
                continue;
            };
            for file in files.flatten() {
                let name = file.file_name().to_string_lossy().into_owned();
                let old = file
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t < cutoff);
                if !old {
                    continue;
                }
                let orphan = match name.strip_suffix(".zst") {
                    Some(rest) => {
                        let sha = format!("{prefix}{rest}");
                        !content::is_sha256(&sha) || !known.exists([&sha])?
                    }
                    None => name.starts_with(".tmp-"),
                };
                if orphan && std::fs::remove_file(file.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// A page kept by `archive_later`, waiting for the next flush.
struct Pending {
    doc: Document,
    capture: PageCapture,
    sha: String,
    stored_size: u64,
    transport: Option<String>,
}

/// The capture row of `capture` (once per SHA-256) and, if `doc` changed
/// since its last version, its next version; in `tx`.
fn record_rows(
    tx: &rusqlite::Transaction<'_>,
    doc: &Document,
    capture: &PageCapture,
    sha: &str,
    stored_size: u64,
    transport: Option<&str>,
) -> anyhow::Result<Archived> {
    let now = now_text();
    tx.prepare_cached(
        "INSERT OR IGNORE INTO evidence_captures (sha256, requested_url, final_url, status,
            headers, fetched_at, fetched_at_unix, transport, identity, encoding, size,
            stored_size, stored_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        sha,
        capture.requested_url,
        capture.final_url,
        capture.status,
        serde_json::to_string(&capture.headers)?,
        capture
            .fetched_at
            .to_rfc3339_opts(SecondsFormat::Millis, true),
        capture.fetched_at.timestamp(),
        transport.unwrap_or(&capture.transport),
        capture.identity,
        capture.encoding,
        capture.body.len() as i64,
        stored_size as i64,
        now,
    ])?;
    let text = document_text(doc.title.as_deref(), doc.body.as_deref());
    let snapshot = Snapshot {
        title: doc.title.clone(),
        price: doc.price.clone(),
        seller: doc.seller.clone(),
        text_sha256: sha256_hex(text.as_bytes()),
    };
    let last: Option<(i64, Snapshot)> = tx
        .prepare_cached(
            "SELECT version, text_sha256, title, price, seller FROM evidence_versions
             WHERE doc_id = ?1 ORDER BY version DESC LIMIT 1",
        )?
        .query_row([&doc.id], |r| {
            Ok((
                r.get(0)?,
                Snapshot {
                    text_sha256: r.get(1)?,
                    title: r.get(2)?,
                    price: r.get(3)?,
                    seller: r.get(4)?,
                },
            ))
        })
        .optional()?;
    let (version, changed) = match last {
        None => (1, Some(Vec::new())),
        Some((version, previous)) => {
            let c = changes(&previous, &snapshot);
            if c.is_empty() {
                (version, None)
            } else {
                (version + 1, Some(c))
            }
        }
    };
    if let Some(changed) = &changed {
        tx.prepare_cached(
            "INSERT INTO evidence_versions (doc_id, version, sha256, text_sha256, title,
                price, seller, text, changes, document, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            doc.id,
            version,
            sha,
            snapshot.text_sha256,
            snapshot.title,
            snapshot.price,
            snapshot.seller,
            text,
            serde_json::to_string(changed)?,
            serde_json::to_string(doc)?,
            now,
        ])?;
    }
    Ok(Archived {
        sha256: sha.to_owned(),
        version,
        new_version: changed.is_some(),
    })
}

/// Makes the files of `shas` under `root` durable, their folder entries
/// included: on Linux one `syncfs` of the archive's file system (a flush
/// of a hundred pages costs about one fsync), elsewhere an fsync of each
/// file and folder.
fn sync_files<'a>(root: &Path, shas: impl Iterator<Item = &'a str>) -> anyhow::Result<()> {
    let context = || {
        format!(
            "cannot flush the evidence archive in {} to disk",
            root.display()
        )
    };
    #[cfg(target_os = "linux")]
    {
        let _ = shas;
        let folder = std::fs::File::open(root).with_context(context)?;
        syncfs(&folder).with_context(context)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let mut folders = std::collections::BTreeSet::new();
        for sha in shas {
            let path = object_path(root, sha).expect("a SHA-256");
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .with_context(context)?;
            folders.extend(path.parent().map(Path::to_owned));
        }
        for folder in folders {
            std::fs::File::open(folder)
                .and_then(|f| f.sync_all())
                .with_context(context)?;
        }
        Ok(())
    }
}

/// `syncfs(2)` of the file system holding `file`.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // one system call on a descriptor we own, contract below
fn syncfs(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the whole call (borrowed from
    // `file`); syncfs only flushes and reads no memory of ours.
    if unsafe { libc::syncfs(file.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// `DateTime` of a capture row's `fetched_at`.
pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}
