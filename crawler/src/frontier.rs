//! The crawl frontier in SQLite (WAL): every URL of every site with its
//! schedule and fetch history, each site's pause state, and the outbox of
//! extracted documents the consumer has not yet acknowledged (with the
//! response each page came in, for the evidence archive). A page's
//! outcome — its row, the links it found, its documents — is one
//! transaction, so a kill -9 at any moment loses nothing fetched and
//! repeats nothing finished. It never decides policy: callers pass times.
//! Beside the URLs: each site's health by the hour (pages, failures, last
//! success) and the sessions an operator imported for it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use extract::{CanonicalUrl, Document};

use crate::error::FrontierError;
use crate::fetch::PageCapture;
use crate::session::{cookie_file_text, parse_cookie_file, SessionCookie};

/// `next_due` of a URL that is never fetched again.
pub const NEVER: i64 = i64::MAX;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS crawl_urls (
    id            INTEGER PRIMARY KEY,
    site          TEXT NOT NULL,
    url           TEXT NOT NULL,
    depth         INTEGER NOT NULL,
    role          TEXT NOT NULL,
    priority      INTEGER NOT NULL,
    next_due      INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    fetches       INTEGER NOT NULL DEFAULT 0,
    last_status   INTEGER,
    last_error    TEXT,
    fetched_at    INTEGER,
    etag          TEXT,
    last_modified TEXT,
    content_hash  TEXT,
    row_signature TEXT,
    UNIQUE (site, url)
);
CREATE INDEX IF NOT EXISTS crawl_urls_due ON crawl_urls (site, priority, next_due);
CREATE TABLE IF NOT EXISTS crawl_outbox (
    id       INTEGER PRIMARY KEY,
    site     TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS crawl_captures (
    id       INTEGER PRIMARY KEY,
    facts    TEXT NOT NULL,
    body     BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS crawl_sites (
    site                 TEXT PRIMARY KEY,
    paused_until         INTEGER,
    pause_reason         TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    breaker_trips        INTEGER NOT NULL DEFAULT 0,
    session_fingerprint  TEXT
);
CREATE TABLE IF NOT EXISTS crawl_site_hours (
    site     TEXT NOT NULL,
    hour     INTEGER NOT NULL,
    pages    INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, hour)
);
CREATE TABLE IF NOT EXISTS crawl_site_seen (
    site         TEXT PRIMARY KEY,
    last_success INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS crawl_channel_marks (
    site    TEXT NOT NULL,
    channel TEXT NOT NULL,
    newest  INTEGER NOT NULL,
    PRIMARY KEY (site, channel)
);
CREATE TABLE IF NOT EXISTS crawl_session_imports (
    site        TEXT PRIMARY KEY,
    cookies     TEXT NOT NULL,
    imported_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS crawl_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO crawl_meta (key, value) VALUES ('schema_version', '1');
";

/// Priorities, highest first: seeds, then everything new or changed, then
/// routine recrawls of topics. A site's seed (or a page a list shows
/// changed).
pub(crate) const PRIORITY_SEED: i64 = 2;
/// A link found on a page, never fetched yet.
pub(crate) const PRIORITY_NEW: i64 = 1;
/// A routine recrawl of a page already fetched.
pub(crate) const PRIORITY_RECRAWL: i64 = 0;

/// What a page is to the crawl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRole {
    /// Index, forum and pagination pages: re-polled for new links.
    List,
    /// A topic or listing page: yields documents.
    Topic,
}

impl PageRole {
    fn as_str(self) -> &'static str {
        match self {
            PageRole::List => "list",
            PageRole::Topic => "topic",
        }
    }

    fn parse(s: &str) -> PageRole {
        if s == "topic" {
            PageRole::Topic
        } else {
            PageRole::List
        }
    }
}

/// One URL as the frontier holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontierUrl {
    /// The URL's row in the frontier: stable for as long as the site is
    /// kept, and how callers tell URLs in flight apart.
    pub id: i64,
    /// The name of the site the URL belongs to.
    pub site: String,
    /// The canonical URL.
    pub url: String,
    /// Link hops from a seed (seeds are 0).
    pub depth: u32,
    /// Whether it is a list page or a topic page.
    pub role: PageRole,
    /// Failed attempts since the last successful fetch (a fetch or a 304
    /// resets it to 0).
    pub attempts: u32,
    /// Successful fetches so far, `304 Not Modified` included; validators
    /// are sent only once it is above 0.
    pub fetches: u32,
    /// The `ETag` of the last fetch, sent back as `If-None-Match`; `None`
    /// when never fetched or the server sent none.
    pub etag: Option<String>,
    /// The `Last-Modified` of the last fetch, sent back as
    /// `If-Modified-Since`; `None` when never fetched or the server sent
    /// none.
    pub last_modified: Option<String>,
    /// The digest of the documents of the last fetch; `None` when never
    /// fetched.
    pub content_hash: Option<String>,
}

/// A link found on a page.
#[derive(Debug, Clone)]
pub struct NewLink {
    /// Where the link leads.
    pub url: CanonicalUrl,
    /// Link hops from a seed: the depth of the page it was found on, plus
    /// one.
    pub depth: u32,
    /// Whether it leads to a list page or a topic page.
    pub role: PageRole,
    /// Digest of the link's row on a list page (reply count, last post).
    pub row_signature: Option<String>,
}

/// The outcome of fetching one frontier URL.
#[derive(Debug)]
pub enum PageOutcome<'a> {
    /// A page was fetched and extracted.
    Fetched {
        /// The HTTP status of the final response.
        status: u16,
        /// The response's `ETag`, stored to send back as `If-None-Match`;
        /// `None`: the server sent none.
        etag: Option<&'a str>,
        /// The response's `Last-Modified`, stored to send back as
        /// `If-Modified-Since`; `None`: the server sent none.
        last_modified: Option<&'a str>,
        /// Digest of the extracted documents; documents are queued only
        /// when it differs from the last fetch's.
        content_hash: &'a str,
        /// When the URL is due again, in Unix milliseconds.
        next_due: i64,
        /// The links found on the page: new ones are added, known ones keep
        /// their schedule unless their row signature changed.
        links: &'a [NewLink],
        /// The documents extracted from the page.
        documents: &'a [Document],
        /// Where redirects led, when not to the URL itself, and what that
        /// page is: recorded as fetched too, so a link to it is not fetched
        /// again for nothing.
        final_url: Option<(&'a str, PageRole)>,
        /// The response as received, kept with the queued documents until
        /// they are acknowledged (so a redelivery carries it too).
        capture: Option<&'a PageCapture>,
    },
    /// `304 Not Modified`.
    NotModified {
        /// When the URL is due again, in Unix milliseconds.
        next_due: i64,
    },
    /// The fetch failed; `retry_at` is when to try again (`NEVER`: give up).
    Failed {
        /// The HTTP status when the server answered with an error; `None`
        /// for failures without one.
        status: Option<u16>,
        /// The error's message, kept as the URL's last error (see
        /// [`Frontier::failures`]).
        error: &'a str,
        /// When to try again, in Unix milliseconds; [`NEVER`] gives up.
        retry_at: i64,
        /// Whether this counts as an attempt (a site-wide pause does not).
        count_attempt: bool,
    },
}

/// A document in the outbox, to acknowledge once the consumer has made it
/// durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Receipt(pub i64);

/// Per-site state kept across runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteState {
    /// Until when the site rests, in Unix milliseconds ([`NEVER`] while it
    /// is logged out); `None`: not paused.
    pub paused_until: Option<i64>,
    /// Why the site rests, for the operator; `None` when not paused.
    pub pause_reason: Option<String>,
    /// Transient failures in a row, carried into the site's circuit
    /// breaker on the next pass.
    pub consecutive_failures: u32,
    /// How often the circuit breaker has tripped since the site's last
    /// success; each trip doubles the next rest.
    pub breaker_trips: u32,
    /// The fingerprint of the profile's cookies when the site was stopped
    /// as logged out ([`SessionConfig::fingerprint`]): the site stays
    /// stopped until the fingerprint differs. `None`: never logged out.
    ///
    /// [`SessionConfig::fingerprint`]: crate::SessionConfig::fingerprint
    pub session_fingerprint: Option<String>,
}

/// The pause reason that marks a site stopped for a lost session.
pub(crate) const LOGGED_OUT: &str = "logged out";

/// How the pause reason of a site stopped for a person begins (then the
/// wall and the URL that showed it).
pub(crate) const NEEDS_HUMAN: &str = "needs a human: ";

impl SiteState {
    /// Why the site waits for a person to pass a wall (a CAPTCHA, an
    /// anti-bot queue, a login form) and import the session, if it does.
    pub fn needs_human(&self) -> Option<&str> {
        self.pause_reason
            .as_deref()
            .filter(|r| r.starts_with(NEEDS_HUMAN))
    }

    /// The wall and the address of a site stopped for a person: what
    /// [`needs_human`](Self::needs_human) says, in its two parts.
    pub fn human_wall(&self) -> Option<(&str, &str)> {
        self.needs_human()?
            .strip_prefix(NEEDS_HUMAN)?
            .rsplit_once(" at ")
    }

    /// Whether the site is stopped because its session is gone.
    pub fn logged_out(&self) -> bool {
        self.pause_reason.as_deref() == Some(LOGGED_OUT)
    }
}

/// How a site has fared lately, from the frontier's own records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SiteHealth {
    /// When a page of the site last came (fetched or not modified), in Unix
    /// milliseconds; `None`: never.
    pub last_success: Option<i64>,
    /// Pages that came in the last 24 hours (by whole hours: the current
    /// hour and the 23 before it).
    pub pages_24h: u64,
    /// Fetches that failed in the same hours.
    pub failures_24h: u64,
    /// The earliest time one of the site's URLs is due, in Unix
    /// milliseconds; `None`: nothing scheduled.
    pub next_due: Option<i64>,
}

/// A session an operator imported for a site (`leakwatch session import`):
/// it takes the place of the profile's cookies of the same name and path.
#[derive(Debug, Clone)]
pub struct ImportedSession {
    /// The cookies, their values kept secret.
    pub cookies: Vec<SessionCookie>,
    /// When it was imported, in Unix milliseconds.
    pub imported_at: i64,
}

/// Counts of a site's URLs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrontierCounts {
    /// All the site's URLs.
    pub urls: u64,
    /// URLs fetched at least once.
    pub fetched: u64,
    /// URLs whose last attempt failed.
    pub failed: u64,
    /// URLs due at the time given to [`Frontier::counts`].
    pub due: u64,
}

/// The frontier store.
pub struct Frontier {
    db: Connection,
    /// The exclusive lock on `<state>.lock` (none in memory): one crawler
    /// per data dir, released by the OS even on kill -9.
    _lock: Option<std::fs::File>,
}

impl std::fmt::Debug for Frontier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frontier")
            .field("path", &self.db.path())
            .finish()
    }
}

impl Frontier {
    /// Opens (creating if needed) the frontier tables in the SQLite file at
    /// `path` (the state store, shared with other tables).
    ///
    /// `synchronous = NORMAL` in WAL mode: a committed page survives the
    /// process being killed (the OS holds the log); only a power cut can
    /// roll back the last pages, which are then simply fetched again.
    pub fn open(path: &Path) -> Result<Frontier, FrontierError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| FrontierError::Folder {
                path: parent.to_owned(),
                source,
            })?;
        }
        let lock = lock_exclusively(path)?;
        let db = open_state_store(path, SCHEMA)?;
        add_capture_column(&db)?;
        Ok(Frontier {
            db,
            _lock: Some(lock),
        })
    }

    /// Opens the frontier of an existing state store without its lock, to
    /// report on it (`leakwatch sites`) while a crawler may hold the lock.
    /// Callers only read, but for [`Frontier::import_session`], a row the
    /// crawler only reads (SQLite serialises the two writers).
    pub fn open_for_report(path: &Path) -> Result<Frontier, FrontierError> {
        let db = open_state_store(path, SCHEMA)?;
        add_capture_column(&db)?;
        Ok(Frontier { db, _lock: None })
    }

    /// The sites with URLs in the frontier, by name.
    pub fn sites(&self) -> Result<Vec<String>, FrontierError> {
        let mut stmt = self
            .db
            .prepare_cached("SELECT DISTINCT site FROM crawl_urls ORDER BY site")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A frontier that lives only as long as the value (one pass, tests).
    pub fn in_memory() -> Result<Frontier, FrontierError> {
        let db = Connection::open_in_memory()?;
        db.execute_batch(SCHEMA)?;
        add_capture_column(&db)?;
        Ok(Frontier { db, _lock: None })
    }

    /// Adds a site's seeds (due now, highest priority); known seeds keep
    /// their schedule.
    pub fn add_seeds(
        &mut self,
        site: &str,
        seeds: &[(CanonicalUrl, PageRole)],
        now: i64,
    ) -> Result<(), FrontierError> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO crawl_urls (site, url, depth, role, priority, next_due)
                 VALUES (?1, ?2, 0, ?3, ?4, ?5)",
            )?;
            for (url, role) in seeds {
                insert.execute(params![
                    site,
                    url.as_str(),
                    role.as_str(),
                    PRIORITY_SEED,
                    now
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Adds URLs discovered outside a page outcome (bulk loads, tests).
    pub fn add_links(
        &mut self,
        site: &str,
        links: &[NewLink],
        now: i64,
    ) -> Result<(), FrontierError> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        insert_links(&tx, site, links, now)?;
        tx.commit()?;
        Ok(())
    }

    /// The next URL of `site` that is due at `now`, not in `skip` (URLs in
    /// flight): seeds first, then new or changed pages, then recrawls; the
    /// longest-waiting first within each.
    pub fn next_due(
        &self,
        site: &str,
        now: i64,
        skip: &HashSet<i64>,
    ) -> Result<Option<FrontierUrl>, FrontierError> {
        let mut stmt = self.db.prepare_cached(
            "SELECT id, site, url, depth, role, attempts, fetches, etag, last_modified, content_hash
             FROM crawl_urls WHERE site = ?1 AND priority = ?2 AND next_due <= ?3
             ORDER BY next_due, id LIMIT ?4",
        )?;
        for priority in [PRIORITY_SEED, PRIORITY_NEW, PRIORITY_RECRAWL] {
            let limit = skip.len() as i64 + 1;
            let rows = stmt.query_map(params![site, priority, now, limit], row_to_url)?;
            for row in rows {
                let row = row?;
                if !skip.contains(&row.id) {
                    return Ok(Some(row));
                }
            }
        }
        Ok(None)
    }

    /// When the site's next URL falls due (`None`: nothing scheduled).
    pub fn earliest_due(&self, site: &str) -> Result<Option<i64>, FrontierError> {
        let t: Option<i64> = self.db.query_row(
            "SELECT min(next_due) FROM crawl_urls WHERE site = ?1 AND next_due < ?2",
            params![site, NEVER],
            |r| r.get(0),
        )?;
        Ok(t)
    }

    /// Records what fetching `url` gave, in one transaction; returns the
    /// receipts of the documents queued for the consumer (in the order given).
    pub fn record(
        &mut self,
        url: &FrontierUrl,
        outcome: &PageOutcome<'_>,
        now: i64,
    ) -> Result<Vec<Receipt>, FrontierError> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut receipts = Vec::new();
        match outcome {
            PageOutcome::Fetched {
                status,
                etag,
                last_modified,
                content_hash,
                next_due,
                links,
                documents,
                final_url,
                capture,
            } => {
                let fetch = Fetch {
                    status: *status,
                    content_hash,
                    next_due: *next_due,
                    now,
                };
                let previous = stored_content_hash(&tx, url.id)?;
                mark_fetched(&tx, url, &fetch, *etag, *last_modified)?;
                insert_links(&tx, &url.site, links, now)?;
                if let Some((target, role)) = final_url.filter(|(t, _)| *t != url.url) {
                    mark_redirect_target(&tx, url, target, role, &fetch)?;
                }
                if previous.as_deref() != Some(*content_hash) {
                    receipts = queue_documents(&tx, &url.site, documents, *capture)?;
                }
            }
            PageOutcome::NotModified { next_due } => {
                tx.execute(
                    "UPDATE crawl_urls SET next_due = ?2, priority = ?3, attempts = 0,
                        fetches = fetches + 1, last_status = 304, last_error = NULL, fetched_at = ?4
                     WHERE id = ?1",
                    params![url.id, next_due, regular_priority(url), now],
                )?;
            }
            PageOutcome::Failed {
                status,
                error,
                retry_at,
                count_attempt,
            } => {
                tx.execute(
                    "UPDATE crawl_urls SET next_due = ?2, attempts = attempts + ?3,
                        last_status = ?4, last_error = ?5
                     WHERE id = ?1",
                    params![url.id, retry_at, i64::from(*count_attempt), status, error],
                )?;
            }
        }
        note_health(
            &tx,
            &url.site,
            !matches!(outcome, PageOutcome::Failed { .. }),
            now,
        )?;
        tx.commit()?;
        Ok(receipts)
    }

    /// Documents queued but not yet acknowledged, oldest first.
    pub fn unacknowledged(&self, limit: usize) -> Result<Vec<(Receipt, Document)>, FrontierError> {
        Ok(self
            .unacknowledged_with_captures(limit)?
            .into_iter()
            .map(|(receipt, document, _)| (receipt, document))
            .collect())
    }

    /// Documents queued but not yet acknowledged, oldest first, each with
    /// the response it was extracted from (one shared value per page).
    #[allow(clippy::type_complexity)]
    pub fn unacknowledged_with_captures(
        &self,
        limit: usize,
    ) -> Result<Vec<(Receipt, Document, Option<Arc<PageCapture>>)>, FrontierError> {
        let mut stmt = self.db.prepare_cached(
            "SELECT o.id, o.document, o.capture, c.facts, c.body FROM crawl_outbox o
             LEFT JOIN crawl_captures c ON c.id = o.capture ORDER BY o.id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<Vec<u8>>>(4)?,
            ))
        })?;
        let mut captures: HashMap<i64, Arc<PageCapture>> = HashMap::new();
        let mut out = Vec::new();
        for row in rows {
            let (id, json, capture_id, facts, body) = row?;
            let capture = match (capture_id, facts, body) {
                (Some(cid), Some(facts), Some(body)) => match captures.get(&cid) {
                    Some(c) => Some(c.clone()),
                    None => {
                        let mut capture: PageCapture = serde_json::from_str(&facts)?;
                        capture.body = Arc::from(body);
                        let capture = Arc::new(capture);
                        captures.insert(cid, capture.clone());
                        Some(capture)
                    }
                },
                _ => None,
            };
            out.push((Receipt(id), serde_json::from_str(&json)?, capture));
        }
        Ok(out)
    }

    /// The consumer has made these documents durable: forget them.
    pub fn acknowledge(&mut self, receipts: &[Receipt]) -> Result<(), FrontierError> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut capture_of =
                tx.prepare_cached("SELECT capture FROM crawl_outbox WHERE id = ?1")?;
            let mut delete = tx.prepare_cached("DELETE FROM crawl_outbox WHERE id = ?1")?;
            let mut captures = HashSet::new();
            for r in receipts {
                let capture: Option<Option<i64>> =
                    capture_of.query_row([r.0], |row| row.get(0)).optional()?;
                captures.extend(capture.flatten());
                delete.execute([r.0])?;
            }
            // A page's capture goes with the last of its documents.
            let mut forget = tx.prepare_cached(
                "DELETE FROM crawl_captures WHERE id = ?1
                 AND NOT EXISTS (SELECT 1 FROM crawl_outbox WHERE capture = ?1)",
            )?;
            for id in captures {
                forget.execute([id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The state saved for `site`; the default (not paused, no failures)
    /// for a site never saved.
    pub fn site_state(&self, site: &str) -> Result<SiteState, FrontierError> {
        let state = self
            .db
            .query_row(
                "SELECT paused_until, pause_reason, consecutive_failures, breaker_trips, session_fingerprint
                 FROM crawl_sites WHERE site = ?1",
                [site],
                |r| {
                    Ok(SiteState {
                        paused_until: r.get(0)?,
                        pause_reason: r.get(1)?,
                        consecutive_failures: r.get(2)?,
                        breaker_trips: r.get(3)?,
                        session_fingerprint: r.get(4)?,
                    })
                },
            )
            .optional()?;
        Ok(state.unwrap_or_default())
    }

    /// Saves `site`'s state, replacing what was saved before.
    pub fn set_site_state(&mut self, site: &str, state: &SiteState) -> Result<(), FrontierError> {
        self.db.execute(
            "INSERT INTO crawl_sites (site, paused_until, pause_reason, consecutive_failures, breaker_trips, session_fingerprint)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (site) DO UPDATE SET paused_until = ?2, pause_reason = ?3,
                consecutive_failures = ?4, breaker_trips = ?5, session_fingerprint = ?6",
            params![
                site,
                state.paused_until,
                state.pause_reason,
                state.consecutive_failures,
                state.breaker_trips,
                state.session_fingerprint
            ],
        )?;
        Ok(())
    }

    /// How `site` has fared in the 24 hours before `now`.
    pub fn site_health(&self, site: &str, now: i64) -> Result<SiteHealth, FrontierError> {
        let (pages, failures): (i64, i64) = self.db.query_row(
            "SELECT coalesce(sum(pages), 0), coalesce(sum(failures), 0)
             FROM crawl_site_hours WHERE site = ?1 AND hour > ?2",
            params![site, hour_of(now) - 24],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let last_success = self
            .db
            .query_row(
                "SELECT last_success FROM crawl_site_seen WHERE site = ?1",
                [site],
                |r| r.get(0),
            )
            .optional()?;
        let next_due = self.db.query_row(
            "SELECT min(next_due) FROM crawl_urls WHERE site = ?1 AND next_due < ?2",
            params![site, NEVER],
            |r| r.get(0),
        )?;
        Ok(SiteHealth {
            last_success,
            pages_24h: u64::try_from(pages).unwrap_or(0),
            failures_24h: u64::try_from(failures).unwrap_or(0),
            next_due,
        })
    }

    /// Keeps `cookies` as `site`'s imported session (replacing an earlier
    /// import). The crawler takes it at the site's next pass; a site
    /// stopped for a person (logged out, a CAPTCHA) resumes with it.
    pub fn import_session(
        &mut self,
        site: &str,
        cookies: &[SessionCookie],
        now: i64,
    ) -> Result<(), FrontierError> {
        self.db.execute(
            "INSERT INTO crawl_session_imports (site, cookies, imported_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (site) DO UPDATE SET cookies = ?2, imported_at = ?3",
            params![site, cookie_file_text(cookies), now],
        )?;
        Ok(())
    }

    /// `site`'s imported session, if an operator imported one.
    pub fn imported_session(&self, site: &str) -> Result<Option<ImportedSession>, FrontierError> {
        let row: Option<(String, i64)> = self
            .db
            .query_row(
                "SELECT cookies, imported_at FROM crawl_session_imports WHERE site = ?1",
                [site],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((text, imported_at)) = row else {
            return Ok(None);
        };
        // Written by `import_session` from parsed cookies: it parses again.
        let place = PathBuf::from(format!("crawl_session_imports[{site}]"));
        let cookies = parse_cookie_file(&text, &place).map_err(|e| FrontierError::Corrupt {
            what: e.to_string(),
        })?;
        Ok(Some(ImportedSession {
            cookies,
            imported_at,
        }))
    }

    /// Sites whose session was imported after `since` (Unix milliseconds),
    /// so that a running crawler can resume them at once.
    pub fn sessions_imported_since(&self, since: i64) -> Result<Vec<String>, FrontierError> {
        let mut stmt = self.db.prepare_cached(
            "SELECT site FROM crawl_session_imports WHERE imported_at > ?1 ORDER BY site",
        )?;
        let rows = stmt.query_map([since], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest message number of each of `site`'s Telegram channels that
    /// a pass has read (channel names in lower case).
    pub fn channel_marks(&self, site: &str) -> Result<HashMap<String, u64>, FrontierError> {
        let mut stmt = self
            .db
            .prepare_cached("SELECT channel, newest FROM crawl_channel_marks WHERE site = ?1")?;
        let rows = stmt.query_map([site], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut marks = HashMap::new();
        for row in rows {
            let (channel, newest) = row?;
            marks.insert(channel, u64::try_from(newest).unwrap_or(0));
        }
        Ok(marks)
    }

    /// Raises a channel's newest message number (never lowers it).
    pub fn raise_channel_mark(
        &mut self,
        site: &str,
        channel: &str,
        newest: u64,
    ) -> Result<(), FrontierError> {
        self.db.execute(
            "INSERT INTO crawl_channel_marks (site, channel, newest) VALUES (?1, ?2, ?3)
             ON CONFLICT (site, channel) DO UPDATE SET newest = max(newest, excluded.newest)",
            params![
                site,
                channel.to_lowercase(),
                i64::try_from(newest).unwrap_or(i64::MAX)
            ],
        )?;
        Ok(())
    }

    /// URLs of `site` whose last attempt failed, with the reason.
    pub fn failures(&self, site: &str) -> Result<Vec<(String, String)>, FrontierError> {
        let mut stmt = self.db.prepare_cached(
            "SELECT url, last_error FROM crawl_urls WHERE site = ?1 AND last_error IS NOT NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([site], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One URL's row, by URL.
    pub fn get(&self, site: &str, url: &str) -> Result<Option<FrontierUrl>, FrontierError> {
        Ok(self
            .db
            .query_row(
                "SELECT id, site, url, depth, role, attempts, fetches, etag, last_modified, content_hash
                 FROM crawl_urls WHERE site = ?1 AND url = ?2",
                params![site, url],
                row_to_url,
            )
            .optional()?)
    }

    /// How many URLs `site` has, fetched, failing and due at `now` (Unix
    /// milliseconds).
    pub fn counts(&self, site: &str, now: i64) -> Result<FrontierCounts, FrontierError> {
        Ok(self.db.query_row(
            "SELECT count(*), count(fetched_at), count(last_error), coalesce(sum(next_due <= ?2), 0)
             FROM crawl_urls WHERE site = ?1",
            params![site, now],
            |r| {
                Ok(FrontierCounts {
                    urls: r.get::<_, i64>(0)? as u64,
                    fetched: r.get::<_, i64>(1)? as u64,
                    failed: r.get::<_, i64>(2)? as u64,
                    due: r.get::<_, i64>(3)? as u64,
                })
            },
        )?)
    }

    /// Drops everything known about `site` (a fresh start: the demo, a
    /// site whose profile changed beyond recognition).
    pub fn forget_site(&mut self, site: &str) -> Result<(), FrontierError> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM crawl_urls WHERE site = ?1", [site])?;
        tx.execute("DELETE FROM crawl_outbox WHERE site = ?1", [site])?;
        tx.execute("DELETE FROM crawl_sites WHERE site = ?1", [site])?;
        tx.execute("DELETE FROM crawl_channel_marks WHERE site = ?1", [site])?;
        tx.execute("DELETE FROM crawl_site_hours WHERE site = ?1", [site])?;
        tx.execute("DELETE FROM crawl_site_seen WHERE site = ?1", [site])?;
        tx.commit()?;
        Ok(())
    }
}

/// The priority of `url` once fetched: seeds stay first, list pages next,
/// topics are routine recrawls.
fn regular_priority(url: &FrontierUrl) -> i64 {
    if url.role == PageRole::Topic {
        PRIORITY_RECRAWL
    } else if url.depth == 0 {
        PRIORITY_SEED
    } else {
        PRIORITY_NEW
    }
}

/// The hour a Unix-millisecond time falls in (hours since the epoch).
fn hour_of(ms: i64) -> i64 {
    ms.div_euclid(3_600_000)
}

/// Counts a page that came (`ok`) or a fetch that failed in `site`'s hour,
/// and forgets hours older than two days.
fn note_health(tx: &Transaction<'_>, site: &str, ok: bool, now: i64) -> rusqlite::Result<()> {
    let hour = hour_of(now);
    tx.prepare_cached(
        "INSERT INTO crawl_site_hours (site, hour, pages, failures) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (site, hour) DO UPDATE SET
            pages = pages + excluded.pages, failures = failures + excluded.failures",
    )?
    .execute(params![site, hour, i64::from(ok), i64::from(!ok)])?;
    tx.prepare_cached("DELETE FROM crawl_site_hours WHERE site = ?1 AND hour < ?2")?
        .execute(params![site, hour - 48])?;
    if ok {
        tx.prepare_cached(
            "INSERT INTO crawl_site_seen (site, last_success) VALUES (?1, ?2)
             ON CONFLICT (site) DO UPDATE SET last_success = max(last_success, excluded.last_success)",
        )?
        .execute(params![site, now])?;
    }
    Ok(())
}

/// Opens the SQLite state store at `path` as the crawler's tables use it
/// (WAL, `synchronous = NORMAL`, a 30 s busy timeout) and creates `schema`.
pub(crate) fn open_state_store(path: &Path, schema: &str) -> Result<Connection, FrontierError> {
    let open_err = |source| FrontierError::Open {
        path: PathBuf::from(path),
        source,
    };
    let db = Connection::open(path).map_err(open_err)?;
    db.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(open_err)?;
    db.pragma_update(None, "journal_mode", "WAL")
        .map_err(open_err)?;
    db.pragma_update(None, "synchronous", "NORMAL")
        .map_err(open_err)?;
    db.execute_batch(schema).map_err(open_err)?;
    Ok(db)
}

/// Takes the exclusive lock of the state store at `path` (a `.lock` file
/// beside it), failing at once if another process holds it. Two crawlers
/// on one frontier would fetch every page twice and fight over the outbox.
fn lock_exclusively(path: &Path) -> Result<std::fs::File, FrontierError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let lock_err = |source| FrontierError::Lock {
        path: lock_path.clone(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(lock_err)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(FrontierError::Locked {
            path: path.to_owned(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(lock_err(e)),
    }
}

/// What a successful fetch writes to the rows it touches.
struct Fetch<'a> {
    status: u16,
    content_hash: &'a str,
    next_due: i64,
    now: i64,
}

/// The content hash of the last fetch of row `id`, if any.
fn stored_content_hash(tx: &Transaction<'_>, id: i64) -> Result<Option<String>, FrontierError> {
    Ok(tx
        .query_row(
            "SELECT content_hash FROM crawl_urls WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// Marks `url` fetched: its validators, its hash and when it is due again.
fn mark_fetched(
    tx: &Transaction<'_>,
    url: &FrontierUrl,
    fetch: &Fetch<'_>,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<(), FrontierError> {
    tx.execute(
        "UPDATE crawl_urls SET next_due = ?2, priority = ?3, attempts = 0,
            fetches = fetches + 1, last_status = ?4, last_error = NULL,
            fetched_at = ?5, etag = ?6, last_modified = ?7, content_hash = ?8
         WHERE id = ?1",
        params![
            url.id,
            fetch.next_due,
            regular_priority(url),
            fetch.status,
            fetch.now,
            etag,
            last_modified,
            fetch.content_hash
        ],
    )?;
    Ok(())
}

/// Records `target`, where fetching `url` was redirected, as fetched too:
/// a new row is scheduled by [`redirect_schedule`], a known row keeps its
/// own schedule (it may be a seed or a list page others redirect to).
fn mark_redirect_target(
    tx: &Transaction<'_>,
    url: &FrontierUrl,
    target: &str,
    role: PageRole,
    fetch: &Fetch<'_>,
) -> Result<(), FrontierError> {
    let (due, priority) = redirect_schedule(role, fetch.next_due);
    tx.execute(
        "INSERT INTO crawl_urls (site, url, depth, role, priority, next_due,
            fetches, last_status, fetched_at, content_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, ?9)
         ON CONFLICT (site, url) DO UPDATE SET
            fetches = crawl_urls.fetches + 1, last_status = ?7,
            fetched_at = ?8, content_hash = ?9",
        params![
            url.site,
            target,
            url.depth,
            role.as_str(),
            priority,
            due,
            fetch.status,
            fetch.now,
            fetch.content_hash,
        ],
    )?;
    Ok(())
}

/// When a new row for a redirect target is due, and its priority: a topic
/// never on its own (it is fetched through the URL that leads to it), a
/// list page on the schedule of the page that was fetched.
fn redirect_schedule(role: PageRole, next_due: i64) -> (i64, i64) {
    match role {
        PageRole::Topic => (NEVER, PRIORITY_RECRAWL),
        PageRole::List => (next_due, PRIORITY_NEW),
    }
}

/// Adds the outbox's link to captures to a state store made before it.
fn add_capture_column(db: &Connection) -> Result<(), FrontierError> {
    let has: bool = db.query_row(
        "SELECT count(*) FROM pragma_table_info('crawl_outbox') WHERE name = 'capture'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has {
        db.execute_batch("ALTER TABLE crawl_outbox ADD COLUMN capture INTEGER")?;
    }
    db.execute_batch(
        "CREATE INDEX IF NOT EXISTS crawl_outbox_capture ON crawl_outbox (capture)
         WHERE capture IS NOT NULL",
    )?;
    Ok(())
}

/// Queues `documents` for the consumer, with the `capture` of their page
/// (stored once); their receipts, in order.
fn queue_documents(
    tx: &Transaction<'_>,
    site: &str,
    documents: &[Document],
    capture: Option<&PageCapture>,
) -> Result<Vec<Receipt>, FrontierError> {
    let capture_id = match capture.filter(|_| !documents.is_empty()) {
        Some(c) => {
            tx.prepare_cached("INSERT INTO crawl_captures (facts, body) VALUES (?1, ?2)")?
                .execute(params![serde_json::to_string(c)?, &c.body[..]])?;
            Some(tx.last_insert_rowid())
        }
        None => None,
    };
    let mut insert = tx
        .prepare_cached("INSERT INTO crawl_outbox (site, document, capture) VALUES (?1, ?2, ?3)")?;
    let mut receipts = Vec::with_capacity(documents.len());
    for doc in documents {
        insert.execute(params![site, serde_json::to_string(doc)?, capture_id])?;
        receipts.push(Receipt(tx.last_insert_rowid()));
    }
    Ok(receipts)
}

/// Inserts new links; a known topic whose list-row signature changed since
/// it was last fetched becomes due now (new replies).
fn insert_links(
    tx: &Transaction<'_>,
    site: &str,
    links: &[NewLink],
    now: i64,
) -> Result<(), FrontierError> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO crawl_urls (site, url, depth, role, priority, next_due, row_signature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (site, url) DO UPDATE SET
            next_due = CASE WHEN crawl_urls.fetches > 0 AND crawl_urls.row_signature IS NOT NULL
                             AND crawl_urls.row_signature <> excluded.row_signature
                        THEN min(crawl_urls.next_due, excluded.next_due) ELSE crawl_urls.next_due END,
            priority = CASE WHEN crawl_urls.fetches > 0 AND crawl_urls.row_signature IS NOT NULL
                             AND crawl_urls.row_signature <> excluded.row_signature
                        THEN max(crawl_urls.priority, ?5) ELSE crawl_urls.priority END,
            row_signature = excluded.row_signature
         WHERE excluded.row_signature IS NOT NULL",
    )?;
    for link in links {
        upsert.execute(params![
            site,
            link.url.as_str(),
            link.depth,
            link.role.as_str(),
            PRIORITY_NEW,
            now,
            link.row_signature
        ])?;
    }
    Ok(())
}

fn row_to_url(r: &rusqlite::Row<'_>) -> rusqlite::Result<FrontierUrl> {
    Ok(FrontierUrl {
        id: r.get(0)?,
        site: r.get(1)?,
        url: r.get(2)?,
        depth: r.get(3)?,
        role: PageRole::parse(&r.get::<_, String>(4)?),
        attempts: r.get(5)?,
        fetches: r.get(6)?,
        etag: r.get(7)?,
        last_modified: r.get(8)?,
        content_hash: r.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use extract::UrlRules;

    fn url(s: &str) -> CanonicalUrl {
        CanonicalUrl::parse(s, &UrlRules::default()).expect("url")
    }

    fn link(s: &str, role: PageRole, sig: Option<&str>) -> NewLink {
        NewLink {
            url: url(s),
            depth: 1,
            role,
            row_signature: sig.map(str::to_owned),
        }
    }

    fn fetched<'a>(
        hash: &'a str,
        next_due: i64,
        links: &'a [NewLink],
        docs: &'a [Document],
    ) -> PageOutcome<'a> {
        PageOutcome::Fetched {
            status: 200,
            etag: Some("\"v1\""),
            last_modified: None,
            content_hash: hash,
            next_due,
            links,
            documents: docs,
            final_url: None,
            capture: None,
        }
    }

    #[test]
    fn seeds_then_links_in_priority_and_due_order() {
        let mut f = Frontier::in_memory().expect("frontier");
        f.add_seeds("s", &[(url("http://h/index.php"), PageRole::List)], 0)
            .expect("seed");
        let seed = f
            .next_due("s", 0, &HashSet::new())
            .expect("query")
            .expect("seed due");
        assert_eq!(seed.url, "http://h/index.php");
        let links = [
            link("http://h/viewtopic.php?t=1", PageRole::Topic, Some("a")),
            link("http://h/viewtopic.php?t=2", PageRole::Topic, None),
        ];
        f.record(&seed, &fetched("h0", 3_600_000, &links, &[]), 10)
            .expect("record");
        // The seed is not due until its interval; the topics are, in order.
        let first = f
            .next_due("s", 10, &HashSet::new())
            .expect("q")
            .expect("due");
        assert_eq!(first.url, "http://h/viewtopic.php?t=1");
        let second = f
            .next_due("s", 10, &HashSet::from([first.id]))
            .expect("q")
            .expect("due");
        assert_eq!(second.url, "http://h/viewtopic.php?t=2");
        assert_eq!(
            f.next_due("s", 10, &HashSet::from([first.id, second.id]))
                .expect("q"),
            None
        );
        assert_eq!(f.earliest_due("s").expect("q"), Some(10));
        assert_eq!(f.next_due("other", 10, &HashSet::new()).expect("q"), None);
    }

    #[test]
    fn unchanged_content_queues_no_document_and_receipts_acknowledge() {
        let mut f = Frontier::in_memory().expect("frontier");
        f.add_seeds("s", &[(url("http://h/t?1"), PageRole::Topic)], 0)
            .expect("seed");
        let u = f
            .next_due("s", 0, &HashSet::new())
            .expect("q")
            .expect("due");
        let doc = Document {
            id: "s:1".into(),
            title: Some("t".into()),
            ..Default::default()
        };
        let r1 = f
            .record(&u, &fetched("h1", 100, &[], std::slice::from_ref(&doc)), 1)
            .expect("record");
        assert_eq!(r1.len(), 1);
        let r2 = f
            .record(&u, &fetched("h1", 200, &[], std::slice::from_ref(&doc)), 2)
            .expect("record");
        assert!(r2.is_empty(), "same hash: nothing new");
        let pending = f.unacknowledged(10).expect("outbox");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].1.id, "s:1");
        f.acknowledge(&r1).expect("ack");
        assert!(f.unacknowledged(10).expect("outbox").is_empty());
        let r3 = f
            .record(&u, &fetched("h2", 300, &[], std::slice::from_ref(&doc)), 3)
            .expect("record");
        assert_eq!(r3.len(), 1, "changed hash: queued again");
    }

    #[test]
    fn a_page_capture_waits_with_its_documents_and_goes_with_the_last() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("state.db");
        let mut f = Frontier::open(&path).expect("frontier");
        f.add_seeds("s", &[(url("http://h/list"), PageRole::List)], 0)
            .expect("seed");
        let u = f
            .next_due("s", 0, &HashSet::new())
            .expect("q")
            .expect("due");
        let docs: Vec<Document> = ["s:1", "s:2"]
            .into_iter()
            .map(|id| Document {
                id: id.into(),
                title: Some("t".into()),
                ..Default::default()
            })
            .collect();
        // Shift_JIS bytes: kept as they are, not as text.
        let body: Arc<[u8]> = Arc::from(&b"\x82\xa0\x82\xa2<p>\xff"[..]);
        let capture = PageCapture {
            requested_url: "http://h/list".into(),
            final_url: "http://h/list".into(),
            status: 200,
            headers: vec![("content-type".into(), "text/html; charset=Shift_JIS".into())],
            fetched_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("time"),
            transport: "socks5h://127.0.0.1:9050".into(),
            identity: Some("s".into()),
            encoding: "Shift_JIS".into(),
            body,
        };
        let mut outcome = fetched("h1", 100, &[], &docs);
        if let PageOutcome::Fetched { capture: c, .. } = &mut outcome {
            *c = Some(&capture);
        }
        let receipts = f.record(&u, &outcome, 1).expect("record");
        drop(f);
        // After a restart (a kill), both documents come back with the page.
        let mut f = Frontier::open(&path).expect("reopen");
        let pending = f.unacknowledged_with_captures(10).expect("outbox");
        assert_eq!(pending.len(), 2);
        let first = pending[0].2.as_ref().expect("a capture");
        assert_eq!(**first, capture);
        assert_eq!(&first.body[..], &capture.body[..]);
        assert!(Arc::ptr_eq(first, pending[1].2.as_ref().expect("the same")));
        let captures = |f: &Frontier| -> i64 {
            f.db.query_row("SELECT count(*) FROM crawl_captures", [], |r| r.get(0))
                .expect("count")
        };
        f.acknowledge(&receipts[..1]).expect("ack one");
        assert_eq!(captures(&f), 1, "the second document still needs it");
        f.acknowledge(&receipts[1..]).expect("ack the other");
        assert_eq!(captures(&f), 0, "gone with the last document");
    }

    #[test]
    fn changed_row_signature_makes_a_fetched_topic_due_again() {
        let mut f = Frontier::in_memory().expect("frontier");
        let t1 = link(
            "http://h/viewtopic.php?t=1",
            PageRole::Topic,
            Some("replies:3"),
        );
        f.add_links("s", std::slice::from_ref(&t1), 0).expect("add");
        let topic = f
            .next_due("s", 0, &HashSet::new())
            .expect("q")
            .expect("due");
        f.record(&topic, &fetched("h", 1_000_000, &[], &[]), 5)
            .expect("record");
        assert_eq!(f.next_due("s", 10, &HashSet::new()).expect("q"), None);
        // Same row seen again on the list: still not due.
        f.add_links("s", std::slice::from_ref(&t1), 20)
            .expect("add");
        assert_eq!(f.next_due("s", 20, &HashSet::new()).expect("q"), None);
        // A new reply changes the row: due now.
        let t1b = link(
            "http://h/viewtopic.php?t=1",
            PageRole::Topic,
            Some("replies:4"),
        );
        f.add_links("s", &[t1b], 30).expect("add");
        let again = f
            .next_due("s", 30, &HashSet::new())
            .expect("q")
            .expect("due again");
        assert_eq!(again.url, "http://h/viewtopic.php?t=1");
        assert_eq!(
            again.etag.as_deref(),
            Some("\"v1\""),
            "validators kept for the conditional GET"
        );
    }

    #[test]
    fn failures_are_recorded_with_their_reason_and_state_persists_on_disk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.db");
        {
            let mut f = Frontier::open(&path).expect("open");
            f.add_seeds("s", &[(url("http://h/a"), PageRole::List)], 0)
                .expect("seed");
            let u = f
                .next_due("s", 0, &HashSet::new())
                .expect("q")
                .expect("due");
            f.record(
                &u,
                &PageOutcome::Failed {
                    status: Some(404),
                    error: "http://h/a: HTTP status 404",
                    retry_at: NEVER,
                    count_attempt: true,
                },
                1,
            )
            .expect("record");
            f.set_site_state(
                "s",
                &SiteState {
                    paused_until: Some(99),
                    pause_reason: Some("dead".into()),
                    ..Default::default()
                },
            )
            .expect("state");
        }
        let f = Frontier::open(&path).expect("reopen");
        assert_eq!(
            f.failures("s").expect("q"),
            [(
                "http://h/a".to_owned(),
                "http://h/a: HTTP status 404".to_owned()
            )]
        );
        assert_eq!(
            f.next_due("s", i64::MAX - 1, &HashSet::new()).expect("q"),
            None,
            "given up"
        );
        assert_eq!(f.site_state("s").expect("q").paused_until, Some(99));
        let counts = f.counts("s", 0).expect("counts");
        assert_eq!((counts.urls, counts.failed), (1, 1));
    }

    #[test]
    fn a_new_redirect_target_is_due_only_if_it_is_a_list_page() {
        assert_eq!(
            redirect_schedule(PageRole::Topic, 1_000),
            (NEVER, PRIORITY_RECRAWL)
        );
        assert_eq!(
            redirect_schedule(PageRole::List, 1_000),
            (1_000, PRIORITY_NEW)
        );
    }

    #[test]
    fn a_redirect_target_is_recorded_as_fetched_and_never_due_itself() {
        let mut f = Frontier::in_memory().expect("frontier");
        f.add_seeds("s", &[(url("http://h/t?id=1"), PageRole::Topic)], 0)
            .expect("seed");
        let u = f
            .next_due("s", 0, &HashSet::new())
            .expect("q")
            .expect("due");
        let mut outcome = fetched("h1", 100, &[], &[]);
        if let PageOutcome::Fetched { final_url, .. } = &mut outcome {
            *final_url = Some(("http://h/topic/1", PageRole::Topic));
        }
        f.record(&u, &outcome, 1).expect("record");
        // A later link to the target does not make it due.
        f.add_links("s", &[link("http://h/topic/1", PageRole::Topic, None)], 2)
            .expect("links");
        let due = f.next_due("s", 50, &HashSet::new()).expect("q");
        assert_eq!(due, None, "the target is not fetched on its own");
        let target = f.get("s", "http://h/topic/1").expect("q").expect("row");
        assert_eq!(target.fetches, 1);
        assert_eq!(target.content_hash.as_deref(), Some("h1"));
        assert_eq!(f.counts("s", 0).expect("counts").failed, 0);
    }

    #[test]
    fn a_seed_that_others_redirect_to_keeps_its_schedule() {
        let mut f = Frontier::in_memory().expect("frontier");
        f.add_seeds(
            "s",
            &[
                (url("http://h/index.php"), PageRole::List),
                (url("http://h/t?id=9"), PageRole::Topic),
            ],
            0,
        )
        .expect("seed");
        let index = f.get("s", "http://h/index.php").expect("q").expect("row");
        let deleted = f.get("s", "http://h/t?id=9").expect("q").expect("row");
        // A deleted topic redirects to the index.
        let mut outcome = fetched("h9", 100, &[], &[]);
        if let PageOutcome::Fetched { final_url, .. } = &mut outcome {
            *final_url = Some(("http://h/index.php", PageRole::List));
        }
        f.record(&deleted, &outcome, 1).expect("record");
        let due = f
            .next_due("s", 0, &HashSet::from([deleted.id]))
            .expect("q")
            .expect("the index is still due");
        assert_eq!(due.id, index.id);
    }

    #[test]
    fn a_second_process_cannot_open_the_same_state_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.db");
        let first = Frontier::open(&path).expect("open");
        let err = Frontier::open(&path).expect_err("locked");
        assert!(matches!(err, FrontierError::Locked { .. }), "{err}");
        assert!(err.to_string().contains("--data-dir"), "{err}");
        drop(first);
        Frontier::open(&path).expect("free again once the first is gone");
    }
}
