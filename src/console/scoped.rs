//! The one place where a caller's scope limits what the console reads and
//! writes: every alert, delivery, document, search, site and watchlist
//! query of the API and the UI goes through a [`Scoped`] view built from
//! the caller's token, which adds the customer condition itself. A
//! handler cannot ask the store or the index for anything unscoped.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use indexer::{FacetCounts, IndexDocument, SearchRequest, SortOrder};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, OptionalExtension};
use watchlists::Alert;

use crate::access::Principal;
use crate::alert_store::{AlertStore, Sighting};
use crate::console::marks::{find_marks, Mark};
use crate::console::ConsoleState;
use crate::site_status::{site_statuses, SiteCondition};
use crate::triage::{AlertStatus, HistoryEntry, NotMoved, StatusChange};

/// Most items a page of a list may hold.
pub(crate) const MAX_PAGE: usize = 200;

/// What a caller may see: everything (operator) or one customer's.
pub(crate) struct Scoped<'a> {
    state: &'a ConsoleState,
    /// `Some`: only this customer's alerts, documents and watchlists.
    customer: Option<&'a str>,
    principal: &'a Principal,
}

/// Filters of the alert queue.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertQuery {
    pub customer: Option<String>,
    pub status: Option<String>,
    pub severity: Option<String>,
    pub site: Option<String>,
    pub asset: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// Words the alert's asset, terms, snippet or URL contain.
    pub text: Option<String>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

/// An alert in the queue.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct AlertSummary {
    pub id: i64,
    pub status: String,
    pub first_seen: String,
    pub last_seen: String,
    #[serde(flatten)]
    pub alert: Alert,
}

/// One page of the queue, with counts by status of the whole scope.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct AlertPage {
    pub items: Vec<AlertSummary>,
    pub next_cursor: Option<String>,
    pub counts: BTreeMap<String, u64>,
}

/// A delivery of an alert to a sink.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct DeliveryRow {
    pub sink: String,
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
}

/// The document of an alert, as the index holds it, with other customers'
/// names removed.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct DocumentView {
    pub id: String,
    pub site: String,
    pub url: String,
    pub kind: String,
    pub lang: Option<String>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub price: Option<String>,
    pub seller: Option<String>,
    pub category: Option<String>,
    pub posted_at: Option<DateTime<Utc>>,
    pub fetched_at: Option<DateTime<Utc>>,
    pub encoding: Option<String>,
    pub customers: Vec<String>,
    pub alerts: Vec<String>,
}

/// One alert with everything the alert page shows.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct AlertDetail {
    #[serde(flatten)]
    pub summary: AlertSummary,
    pub document: Option<DocumentView>,
    /// Where the matched terms (`term`) and sale cues (`cue`) are in the
    /// document's title and body (byte offsets into the original text).
    pub marks: Vec<Mark>,
    pub also_seen_at: Vec<Sighting>,
    pub deliveries: Vec<DeliveryRow>,
    pub history: Vec<HistoryEntry>,
}

/// A search of the collected listings.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchQuery {
    /// The query, in `leakwatch search`'s language.
    #[serde(default)]
    pub q: String,
    pub site: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// `score` (default) or `date`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

/// One hit.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct SearchItem {
    pub score: f32,
    pub document: DocumentView,
    pub snippet: String,
    /// Byte ranges of `snippet` that matched.
    pub highlights: Vec<[usize; 2]>,
}

/// A page of hits with the facet counts of all matches.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct SearchPage {
    pub total: usize,
    pub items: Vec<SearchItem>,
    pub next_cursor: Option<String>,
    pub facets: Facets,
}

/// Counts of the matches by site, language, kind and month.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Facets {
    pub site: Vec<(String, u64)>,
    pub lang: Vec<(String, u64)>,
    pub kind: Vec<(String, u64)>,
    pub month: Vec<(String, u64)>,
}

/// A crawled site's health.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct SiteHealth {
    pub site: String,
    /// `ok`, `backing off`, `broken`, `needs a human` or `logged out`
    /// (as `leakwatch sites` says).
    pub state: String,
    /// Why the site is not ok, when it is not.
    pub reason: Option<String>,
    pub urls: u64,
    /// When a page last came.
    pub last_success: Option<String>,
    pub pages_24h: u64,
    /// Fetches that failed in the last 24 hours.
    pub failures_24h: u64,
    /// URLs whose last attempt failed.
    pub failing: u64,
    /// When the next URL falls due.
    pub next_due: Option<String>,
    /// `closed`, `counting` (failures in a row) or `open` (resting).
    pub circuit_breaker: String,
    pub consecutive_failures: u32,
    pub paused_until: Option<String>,
    pub pause_reason: Option<String>,
    pub logged_out: bool,
    /// Stopped until a person passes a CAPTCHA, a queue or a login.
    pub needs_human: bool,
}

/// A watchlist file and whether it loads.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct WatchlistView {
    pub file: String,
    pub customer: Option<String>,
    pub assets: Vec<String>,
    pub valid: bool,
    pub errors: Vec<String>,
    pub checked_at: String,
}

/// A request the caller got wrong (400), or a thing not there (404).
#[derive(Debug)]
pub(crate) enum Refusal {
    BadRequest(String),
    NotFound,
    Forbidden(String),
    /// A triage move not allowed from where the alert stands (409).
    Conflict(String),
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Refusal {
    fn from(e: anyhow::Error) -> Self {
        Refusal::Failed(e)
    }
}

impl From<crawler::FrontierError> for Refusal {
    fn from(e: crawler::FrontierError) -> Self {
        Refusal::Failed(e.into())
    }
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Self {
        Refusal::Failed(e.into())
    }
}

fn bad(message: impl Into<String>) -> Refusal {
    Refusal::BadRequest(message.into())
}

fn date_param(name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, Refusal> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| crate::commands::parse_date(v).map_err(|e| bad(format!("{name}: {e:#}"))))
        .transpose()
}

fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn page_size(limit: Option<usize>, default: usize) -> usize {
    limit.unwrap_or(default).clamp(1, MAX_PAGE)
}

impl<'a> Scoped<'a> {
    pub(crate) fn new(state: &'a ConsoleState, principal: &'a Principal) -> Scoped<'a> {
        Scoped {
            state,
            customer: principal.scope.customer(),
            principal,
        }
    }

    fn store(&self) -> &AlertStore {
        &self.state.store
    }

    /// Whether the caller sees every customer.
    pub(crate) fn is_operator(&self) -> bool {
        self.customer.is_none()
    }

    /// One page of the alert queue, newest first.
    pub(crate) fn alerts(&self, q: &AlertQuery) -> Result<AlertPage, Refusal> {
        let status = non_empty(&q.status)
            .map(|s| AlertStatus::parse_or_explain(s).map_err(|e| bad(format!("status: {e}"))))
            .transpose()?;
        let severity = non_empty(&q.severity)
            .map(|s| {
                watchlists::Severity::parse(s).ok_or_else(|| {
                    bad(format!("severity {s:?}: use low, medium, high or critical"))
                })
            })
            .transpose()?;
        let since = date_param("since", non_empty(&q.since))?;
        let until = date_param("until", non_empty(&q.until))?;
        let cursor = non_empty(&q.cursor)
            .map(|c| {
                c.parse::<i64>()
                    .map_err(|_| bad(format!("cursor {c:?} is not one this API gave")))
            })
            .transpose()?;
        let limit = page_size(q.limit, 50);
        let text = non_empty(&q.text).map(str::to_lowercase);
        // Only the conditions given, so that SQLite can use the indexes
        // on (customer, id), (status, id) and (customer, status) and walk
        // them newest first, whatever the size of the log.
        let mut conditions: Vec<&str> = Vec::new();
        let mut values: Vec<SqlValue> = Vec::new();
        let mut given = |condition: &'static str, value: Option<SqlValue>| {
            if let Some(v) = value {
                conditions.push(condition);
                values.push(v);
            }
        };
        let text_value = |v: &str| SqlValue::Text(v.to_owned());
        given("customer = ?", self.customer.map(text_value));
        given("customer = ?", non_empty(&q.customer).map(text_value));
        given("status = ?", status.map(|s| text_value(s.as_str())));
        given("severity = ?", severity.map(|s| text_value(s.as_str())));
        given(
            "json_extract(alert_json, '$.site') = ?",
            non_empty(&q.site).map(text_value),
        );
        given("asset = ?", non_empty(&q.asset).map(text_value));
        given(
            "first_seen >= ?",
            since.map(|t| SqlValue::Text(time_text(t))),
        );
        given(
            "first_seen < ?",
            until.map(|t| SqlValue::Text(time_text(t))),
        );
        given("instr(lower(alert_json), ?) > 0", text.map(SqlValue::Text));
        given("id < ?", cursor.map(SqlValue::Integer));
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        values.push(SqlValue::Integer((limit + 1) as i64));
        let rows = self.state.read(|db| {
            let mut stmt = db.prepare_cached(&format!(
                "SELECT id, status, first_seen, last_seen, alert_json FROM alerts
                 {filter} ORDER BY id DESC LIMIT ?"
            ))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(values), summary_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })?;
        let mut items = rows
            .into_iter()
            .map(parse_summary)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|a| a.id.to_string())
        } else {
            None
        };
        Ok(AlertPage {
            items,
            next_cursor,
            counts: self.status_counts()?,
        })
    }

    /// Alerts by status in the caller's scope (every status, zeros too).
    pub(crate) fn status_counts(&self) -> Result<BTreeMap<String, u64>, Refusal> {
        let mut counts: BTreeMap<String, u64> = AlertStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0))
            .collect();
        let rows = self.state.read(|db| {
            let count = |r: &rusqlite::Row<'_>| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?));
            // A customer's: a range of the (customer, status) index; the
            // operator's: the whole (status, id) index.
            let rows = match self.customer {
                Some(c) => db
                    .prepare_cached(
                        "SELECT status, count(*) FROM alerts WHERE customer = ?1 GROUP BY status",
                    )?
                    .query_map([c], count)?
                    .collect::<Result<Vec<_>, _>>()?,
                None => db
                    .prepare_cached("SELECT status, count(*) FROM alerts GROUP BY status")?
                    .query_map([], count)?
                    .collect::<Result<Vec<_>, _>>()?,
            };
            Ok(rows)
        })?;
        for (status, n) in rows {
            counts.insert(status, n as u64);
        }
        Ok(counts)
    }

    /// One alert with its document, marks, sightings, deliveries and
    /// history; `NotFound` for an id outside the scope, as for one that
    /// does not exist.
    pub(crate) fn alert(&self, id: i64) -> Result<AlertDetail, Refusal> {
        let (summary, also_seen_at, deliveries, history) = self
            .state
            .read(|db| {
                let row = db
                    .query_row(
                        "SELECT id, status, first_seen, last_seen, alert_json FROM alerts
                         WHERE id = ?1 AND (?2 IS NULL OR customer = ?2)",
                        params![id, self.customer],
                        summary_row,
                    )
                    .optional()?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let mut sightings = db.prepare_cached(
                    "SELECT doc_id, url, site, seen_at FROM sightings WHERE alert_id = ?1
                     ORDER BY seen_at",
                )?;
                let also = sightings
                    .query_map([id], |r| {
                        Ok(Sighting {
                            doc_id: r.get(0)?,
                            url: r.get(1)?,
                            site: r.get(2)?,
                            seen_at: r.get(3)?,
                        })
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                let mut deliveries = db.prepare_cached(
                    "SELECT sink, status, attempts, last_error, delivered_at FROM deliveries
                     WHERE alert_id = ?1 ORDER BY id",
                )?;
                let deliveries = deliveries
                    .query_map([id], |r| {
                        Ok(DeliveryRow {
                            sink: r.get(0)?,
                            status: r.get(1)?,
                            attempts: r.get(2)?,
                            last_error: r.get(3)?,
                            delivered_at: r.get(4)?,
                        })
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                let history = crate::triage::history_in(db, id)?;
                Ok(Some((parse_summary(row)?, also, deliveries, history)))
            })?
            .ok_or(Refusal::NotFound)?;
        let document = self
            .state
            .document(&summary.alert.doc_id)?
            .map(|d| self.view(d));
        let marks = document
            .as_ref()
            .map(|d| {
                find_marks(
                    d.title.as_deref(),
                    d.body.as_deref(),
                    &summary.alert.terms,
                    &summary.alert.context,
                )
            })
            .unwrap_or_default();
        Ok(AlertDetail {
            summary,
            document,
            marks,
            also_seen_at,
            deliveries,
            history,
        })
    }

    /// Moves alerts through triage as the caller; ids outside the scope
    /// are reported missing, as ids that do not exist.
    pub(crate) fn set_status(
        &self,
        ids: &[i64],
        to: &str,
        note: &str,
    ) -> Result<Vec<NotMoved>, Refusal> {
        if !self.principal.may_triage() {
            return Err(Refusal::Forbidden(
                "this token is a viewer's: ask for an analyst token to triage".into(),
            ));
        }
        let to = AlertStatus::parse_or_explain(to).map_err(|e| bad(format!("status: {e}")))?;
        if to.is_untriaged() {
            return Err(bad(format!(
                "status {to} is set by the service; choose acknowledged, investigating, resolved or false_positive"
            )));
        }
        if ids.is_empty() || ids.len() > MAX_PAGE {
            return Err(bad(format!("give 1 to {MAX_PAGE} alert ids")));
        }
        if note.len() > 4000 {
            return Err(bad("a note holds at most 4000 bytes"));
        }
        Ok(self.store().set_status(
            ids,
            &StatusChange {
                to,
                note,
                actor: &self.principal.name,
                customer: self.customer,
            },
        )?)
    }

    /// A document of the index; a customer sees only the documents with
    /// one of its alerts.
    pub(crate) fn document(&self, id: &str) -> Result<DocumentView, Refusal> {
        let doc = self.state.document(id)?.ok_or(Refusal::NotFound)?;
        if let Some(c) = self.customer {
            if !doc.customers.iter().any(|d| d.eq_ignore_ascii_case(c)) {
                return Err(Refusal::NotFound);
            }
        }
        Ok(self.view(doc))
    }

    /// A document with the names of the customers the caller may not see
    /// removed.
    fn view(&self, d: IndexDocument) -> DocumentView {
        let own = |name: &str| match self.customer {
            None => true,
            Some(c) => {
                name.eq_ignore_ascii_case(c)
                    || name
                        .split_once('/')
                        .is_some_and(|(customer, _)| customer.eq_ignore_ascii_case(c))
            }
        };
        DocumentView {
            customers: d.customers.into_iter().filter(|c| own(c)).collect(),
            alerts: d.alerts.into_iter().filter(|a| own(a)).collect(),
            id: d.id,
            site: d.site,
            url: d.url,
            kind: d.kind,
            lang: d.lang,
            title: d.title,
            body: d.body,
            price: d.price,
            seller: d.seller,
            category: d.category,
            posted_at: d.posted_at,
            fetched_at: d.fetched_at,
            encoding: d.encoding,
        }
    }

    /// Searches the index; a customer searches only the documents with one
    /// of its alerts.
    pub(crate) fn search(&self, q: &SearchQuery) -> Result<SearchPage, Refusal> {
        let limit = page_size(q.limit, 20);
        let offset = match non_empty(&q.cursor) {
            Some(c) => c
                .parse::<usize>()
                .map_err(|_| bad(format!("cursor {c:?} is not one this API gave")))?,
            None => 0,
        };
        let sort = match non_empty(&q.sort) {
            None | Some("score") => SortOrder::Score,
            Some("date") => SortOrder::Date,
            Some(other) => return Err(bad(format!("sort {other:?}: use score or date"))),
        };
        let request = SearchRequest {
            query: q.q.clone(),
            site: non_empty(&q.site).map(str::to_owned),
            customer: self.customer.map(str::to_owned),
            since: date_param("since", non_empty(&q.since))?,
            until: date_param("until", non_empty(&q.until))?,
            limit,
            offset,
            sort,
        };
        let (results, facets) = self.state.search(&request)?;
        let items: Vec<SearchItem> = results
            .hits
            .into_iter()
            .map(|h| SearchItem {
                score: h.score,
                snippet: h.snippet.text,
                highlights: h.snippet.ranges.iter().map(|r| [r.start, r.end]).collect(),
                document: self.view(h.document),
            })
            .collect();
        let next = offset + items.len();
        Ok(SearchPage {
            total: results.total,
            next_cursor: (next < results.total && !items.is_empty()).then(|| next.to_string()),
            items,
            facets: Facets {
                site: facets.site,
                lang: facets.lang,
                kind: facets.kind,
                month: facets.month,
            },
        })
    }

    /// The evidence bundle of one of the caller's alerts (the ZIP of
    /// `leakwatch evidence ID`); 404 for another customer's alert or one
    /// whose page the archive does not hold.
    pub(crate) fn evidence_bundle(&self, id: i64) -> Result<Vec<u8>, Refusal> {
        let state_db = self.state.read(|db| {
            let visible = db
                .query_row(
                    "SELECT 1 FROM alerts WHERE id = ?1 AND (?2 IS NULL OR customer = ?2)",
                    params![id, self.customer],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            Ok(visible
                .then(|| db.path().map(std::path::PathBuf::from))
                .flatten())
        })?;
        let Some(state_db) = state_db else {
            return Err(Refusal::NotFound);
        };
        let data_dir = state_db.parent().map(Path::to_path_buf).unwrap_or_default();
        let archive = crate::evidence::EvidenceStore::open(&data_dir, &state_db)?;
        match crate::evidence::find(&archive, self.store(), &id.to_string())? {
            Some(subject) => Ok(crate::evidence::bundle(&archive, &subject)?),
            None => Err(Refusal::NotFound),
        }
    }

    /// Hands `site` the session a person made in a browser (a `Cookie`
    /// header's `name=value; …`), as `leakwatch session import` does: a
    /// running crawl resumes the site at once. The operator's analysts only;
    /// returns the cookie names (never the values).
    pub(crate) fn import_session(&self, site: &str, header: &str) -> Result<Vec<String>, Refusal> {
        if !self.is_operator() {
            return Err(Refusal::NotFound);
        }
        if !self.principal.may_triage() {
            return Err(Refusal::Forbidden(
                "this token is a viewer's: ask for an analyst token to import a session".into(),
            ));
        }
        let cookies =
            crawler::parse_cookie_header(header).map_err(|e| bad(format!("cookies: {e}")))?;
        if cookies.is_empty() {
            return Err(bad("cookies: give at least one name=value"));
        }
        let state_db = self
            .state
            .read(|db| Ok(db.path().map(std::path::PathBuf::from)))?
            .ok_or(Refusal::NotFound)?;
        let mut frontier = crawler::Frontier::open_for_report(&state_db)?;
        if !frontier.sites()?.iter().any(|s| s == site) {
            return Err(Refusal::NotFound);
        }
        frontier.import_session(site, &cookies, Utc::now().timestamp_millis())?;
        tracing::info!(site, by = %self.principal.name, cookies = cookies.len(), "session imported from the console");
        Ok(cookies.into_iter().map(|c| c.name).collect())
    }

    /// Every crawled site's health (the operator's only: sites are not a
    /// customer's data).
    pub(crate) fn sites(&self) -> Result<Vec<SiteHealth>, Refusal> {
        if !self.is_operator() {
            return Err(Refusal::NotFound);
        }
        Ok(self.state.read(|db| site_health(db, Utc::now()))?)
    }

    /// The watchlist files (a customer's own only) and whether each loads.
    pub(crate) fn watchlists(&self) -> Result<Vec<WatchlistView>, Refusal> {
        let Some(dir) = self.state.watchlists.as_deref() else {
            return Ok(Vec::new());
        };
        let all = load_watchlists(dir)?;
        Ok(all
            .into_iter()
            .filter(|w| match self.customer {
                None => true,
                Some(c) => w
                    .customer
                    .as_deref()
                    .is_some_and(|w| w.eq_ignore_ascii_case(c)),
            })
            .collect())
    }
}

type SummaryRow = (i64, String, String, String, String);

fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SummaryRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn parse_summary(
    (id, status, first_seen, last_seen, json): SummaryRow,
) -> anyhow::Result<AlertSummary> {
    let alert: Alert = serde_json::from_str(&json)
        .with_context(|| format!("alert {id} in the state store is unreadable"))?;
    Ok(AlertSummary {
        id,
        status,
        first_seen,
        last_seen,
        alert,
    })
}

/// Health of every site the frontier knows, as `leakwatch sites` reads it:
/// the frontier of the store's own file, opened beside the crawler.
fn site_health(db: &rusqlite::Connection, now: DateTime<Utc>) -> anyhow::Result<Vec<SiteHealth>> {
    let Some(path) = db
        .path()
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
    else {
        return Ok(Vec::new());
    };
    let frontier = crawler::Frontier::open_for_report(&path)?;
    let now_ms = now.timestamp_millis();
    let ms_text = |ms: i64| DateTime::from_timestamp_millis(ms).map(time_text);
    Ok(site_statuses(&frontier, now_ms)?
        .into_iter()
        .map(|s| {
            let resting = s.state.paused_until.is_some_and(|t| t > now_ms);
            SiteHealth {
                state: s.condition.as_str().to_owned(),
                reason: s.reason,
                urls: s.counts.urls,
                last_success: s.health.last_success.and_then(ms_text),
                pages_24h: s.health.pages_24h,
                failures_24h: s.health.failures_24h,
                failing: s.counts.failed,
                next_due: s.health.next_due.and_then(ms_text),
                circuit_breaker: if resting && s.condition == SiteCondition::BackingOff {
                    "open"
                } else if s.state.consecutive_failures > 0 {
                    "counting"
                } else {
                    "closed"
                }
                .into(),
                consecutive_failures: s.state.consecutive_failures,
                logged_out: s.condition == SiteCondition::LoggedOut,
                needs_human: s.condition == SiteCondition::NeedsHuman,
                paused_until: s
                    .state
                    .paused_until
                    .filter(|t| *t > now_ms && *t != crawler::NEVER)
                    .and_then(ms_text),
                pause_reason: if resting { s.state.pause_reason } else { None },
                site: s.site,
            }
        })
        .collect())
}

/// Each `.toml` file of `dir`, loaded on its own.
fn load_watchlists(dir: &Path) -> anyhow::Result<Vec<WatchlistView>> {
    let checked_at = time_text(Utc::now());
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read the watchlists folder", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files
        .into_iter()
        .map(|path| {
            let file = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match watchlists::WatchlistSet::load(&path) {
                Ok(set) => {
                    let list = set.watchlists().first();
                    WatchlistView {
                        file,
                        customer: list.map(|w| w.customer().to_owned()),
                        assets: list
                            .map(|w| w.assets().iter().map(|a| a.name().to_owned()).collect())
                            .unwrap_or_default(),
                        valid: true,
                        errors: Vec::new(),
                        checked_at: checked_at.clone(),
                    }
                }
                Err(errors) => WatchlistView {
                    customer: customer_line(&path),
                    file,
                    assets: Vec::new(),
                    valid: false,
                    errors: errors.errors().iter().map(|e| e.to_string()).collect(),
                    checked_at: checked_at.clone(),
                },
            }
        })
        .collect())
}

/// The `customer = "…"` line of a watchlist that does not load, so that
/// its customer still sees its own file's errors.
fn customer_line(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let (key, value) = l.split_once('=')?;
        (key.trim() == "customer").then(|| value.trim().trim_matches('"').to_owned())
    })
}

impl ConsoleState {
    /// A document of the index by id (unscoped: callers go through
    /// [`Scoped`]).
    fn document(&self, id: &str) -> anyhow::Result<Option<IndexDocument>> {
        self.with_index(|index| Ok(index.get(id)?))
            .map(Option::flatten)
    }

    /// A search and its facets, counted in one pass over the matches
    /// (unscoped: callers go through [`Scoped`]).
    fn search(
        &self,
        request: &SearchRequest,
    ) -> Result<(indexer::SearchResults, FacetCounts), Refusal> {
        let result = self.with_index(|index| Ok(index.search_with_facets(request)))?;
        match result {
            None => Ok((
                indexer::SearchResults {
                    total: 0,
                    hits: Vec::new(),
                },
                FacetCounts::default(),
            )),
            Some(Ok(found)) => Ok(found),
            Some(Err(e)) if !e.concerns_storage() => Err(bad(e.to_string())),
            Some(Err(e)) => Err(Refusal::Failed(e.into())),
        }
    }
}
