//! Crawl passes: per site, take due URLs from the frontier (as many as the
//! site's budget needs at the latency seen, up to its concurrency; the
//! fetcher keeps requests under the crawl-wide ceiling), fetch and extract
//! them (extraction a few pages at a time: one per core), and record
//! each outcome — links, documents, schedule, failure reason — in one
//! frontier transaction before handing the documents on. Transient failures
//! come back with backoff; a run of them trips the site's circuit breaker;
//! a logged-out page stops the site. A page too slow to come (timed out, or
//! under the transfer-rate floor) is tried once more in a pass at most,
//! within one request timeout, so one trickling page never holds a pass.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use scraper::Html;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument;
use url::Url;

use extract::{
    admit, cap_nesting, content_hash, extract_parsed, topic_row_signatures, CanonicalUrl, Document,
    ExtractOptions, Wall, MAX_DEPTH,
};

use crate::channels::{is_older_page, ChannelMarks, ChannelPage};
use crate::error::{CrawlError, CrawlErrorKind, FrontierError};
use crate::fetch::{FetchFailure, FetchOutcome, FetchedPage, Fetcher, PageCapture, Validators};
use crate::frontier::{
    Frontier, FrontierUrl, NewLink, PageOutcome, PageRole, Receipt, SiteState, LOGGED_OUT,
    NEEDS_HUMAN, NEVER,
};
use crate::in_flight::InFlight;
use crate::politeness::{backoff_delay, CircuitBreaker, SiteGate};
use crate::profile::SiteProfile;

/// Crawl-wide limits and retry policy.
#[derive(Debug, Clone)]
pub struct CrawlOptions {
    /// Requests in flight across all sites (a request holds its place from
    /// its site's turn to its answer, never while waiting for a turn).
    pub max_in_flight: usize,
    /// Bytes of page bodies held at once across all fetches, plus one
    /// fetch's size cap (`FetchOptions::max_body_bytes`).
    pub max_body_memory: u64,
    /// Attempts at a URL before it waits for its next regular recrawl.
    pub max_attempts: u32,
    /// First retry delay after a transient failure (doubles, with jitter).
    pub retry_base: Duration,
    /// The longest retry delay.
    pub retry_cap: Duration,
    /// Consecutive transient failures that rest a site.
    pub breaker_threshold: u32,
    /// How long a site rests the first time its breaker trips (doubles on
    /// each trip in a row).
    pub breaker_pause: Duration,
    /// The longest rest.
    pub breaker_max_pause: Duration,
}

impl Default for CrawlOptions {
    fn default() -> Self {
        CrawlOptions {
            max_in_flight: InFlight::DEFAULT_MAX_REQUESTS,
            max_body_memory: InFlight::DEFAULT_BODY_BYTES,
            max_attempts: 4,
            retry_base: Duration::from_secs(10),
            retry_cap: Duration::from_secs(30 * 60),
            breaker_threshold: 5,
            breaker_pause: Duration::from_secs(10 * 60),
            breaker_max_pause: Duration::from_secs(6 * 3600),
        }
    }
}

/// A document handed to the consumer, with the receipt to acknowledge once
/// it is durable (until then it is delivered again after a restart).
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The document.
    pub document: Document,
    /// What to acknowledge to the frontier once the document is durable.
    pub receipt: Receipt,
    /// The response the document was extracted from, as received (shared by
    /// the documents of one page; kept in the outbox with them, so a
    /// redelivery after a restart carries it too). `None` only for documents
    /// queued by a version that kept no captures.
    pub capture: Option<Arc<PageCapture>>,
}

/// Counts of one pass over one site.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CrawlStats {
    /// Pages fetched (200) this pass.
    pub pages: usize,
    /// Failed attempts (each reason is recorded in the frontier).
    pub failed: usize,
    /// Documents handed on.
    pub documents: usize,
    /// Body bytes fetched (after decompression).
    pub bytes: usize,
    /// `304 Not Modified` answers.
    pub not_modified: usize,
    /// Pages fetched whose documents had not changed.
    pub unchanged: usize,
    /// Failed attempts scheduled to be tried again.
    pub retries: usize,
}

/// How a site's pass ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteOutcome {
    /// Nothing more is due.
    Finished,
    /// The profile's `max_pages` for one pass was reached.
    PageLimit,
    /// The site is resting (circuit breaker, or paused from an earlier run).
    Paused {
        /// When it may be crawled again.
        until: DateTime<Utc>,
        /// Why it rests.
        reason: String,
    },
    /// The site showed its login page; it stays stopped until its cookies
    /// change.
    LoggedOut,
    /// The site showed a page only a person can get past (a CAPTCHA, an
    /// anti-bot queue, a login form where content was expected); it is not
    /// fetched again until an operator imports a session for it.
    NeedsHuman {
        /// The wall and the URL that showed it.
        reason: String,
    },
    /// The consumer of documents went away, or the site cannot be crawled.
    Stopped {
        /// Why.
        reason: String,
    },
}

/// One site's pass.
#[derive(Debug, Clone)]
pub struct SiteReport {
    /// The site's name.
    pub site: String,
    /// What the pass did.
    pub stats: CrawlStats,
    /// How it ended.
    pub outcome: SiteOutcome,
    /// When the site's next URL falls due (`None`: nothing scheduled).
    pub next_due: Option<DateTime<Utc>>,
}

/// What happens during a pass, for progress bars, metrics and logs.
#[derive(Debug)]
pub enum SiteEvent<'a> {
    /// A page was fetched and extracted.
    Fetched {
        /// The site's name.
        site: &'a str,
        /// The page (after redirects).
        url: &'a Url,
        /// The HTTP status.
        status: u16,
        /// Body bytes.
        bytes: usize,
        /// Documents it yielded.
        documents: usize,
    },
    /// A conditional fetch found the page unchanged.
    NotModified {
        /// The site's name.
        site: &'a str,
        /// The page.
        url: &'a Url,
    },
    /// A fetch failed.
    Failed {
        /// The site's name.
        site: &'a str,
        /// The page.
        url: &'a Url,
        /// Why.
        error: &'a CrawlError,
        /// When it is tried again (`None`: only on a later recrawl).
        retry_at: Option<DateTime<Utc>>,
    },
    /// The site rests until `until` (the operator should know).
    Paused {
        /// The site's name.
        site: &'a str,
        /// When it may be crawled again.
        until: DateTime<Utc>,
        /// Why it rests.
        reason: &'a str,
    },
    /// The site's session is gone: the operator must renew its cookies.
    LoggedOut {
        /// The site's name.
        site: &'a str,
        /// The page that showed the login form (or redirected to it).
        url: &'a Url,
    },
    /// The site showed a wall only a person can pass and is stopped until
    /// an operator imports a session for it (`leakwatch session import`).
    /// Said once, when the site stops.
    NeedsHuman {
        /// The site's name.
        site: &'a str,
        /// The page that showed the wall.
        url: &'a Url,
        /// What the wall is.
        wall: Wall,
    },
}

/// Progress of the one-off [`crawl_site`], kept for its callers.
#[derive(Debug)]
pub enum CrawlEvent<'a> {
    /// A page was fetched.
    Fetched {
        /// The page.
        url: &'a Url,
        /// Body bytes.
        bytes: usize,
        /// Documents it yielded.
        documents: usize,
        /// URLs still waiting.
        queued: usize,
    },
    /// A fetch failed.
    Failed {
        /// The page.
        url: &'a Url,
        /// Why.
        error: &'a CrawlError,
    },
}

type EventSink = Arc<dyn Fn(SiteEvent<'_>) + Send + Sync>;

/// A crawler over a durable frontier. Cheap to clone.
#[derive(Clone)]
pub struct Crawler {
    fetcher: Arc<Fetcher>,
    frontier: Arc<Mutex<Frontier>>,
    frontier_turn: Arc<tokio::sync::Mutex<()>>,
    options: CrawlOptions,
    extraction: Arc<Semaphore>,
}

impl std::fmt::Debug for Crawler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crawler")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Crawler {
    /// A crawler fetching through (a clone of) `fetcher`, which takes the
    /// options' ceiling on requests in flight and body budget.
    pub fn new(fetcher: Arc<Fetcher>, frontier: Frontier, options: CrawlOptions) -> Crawler {
        let fetcher =
            Fetcher::clone(&fetcher).with_limits(options.max_in_flight, options.max_body_memory);
        Crawler {
            fetcher: Arc::new(fetcher),
            frontier: Arc::new(Mutex::new(frontier)),
            frontier_turn: Arc::default(),
            options,
            extraction: Arc::new(Semaphore::new(extraction_slots())),
        }
    }

    /// The ceiling on requests in flight (with how many are in flight now
    /// and the most ever).
    pub fn in_flight(&self) -> &Arc<InFlight> {
        self.fetcher.in_flight()
    }

    /// Runs `op` on the frontier (queries, an operator's change). The
    /// crawl waits meanwhile: keep it short.
    pub fn with_frontier<T>(&self, op: impl FnOnce(&mut Frontier) -> T) -> T {
        with_frontier(&self.frontier, op)
    }

    /// Sites whose session an operator imported after `since` (Unix
    /// milliseconds): a running service starts a pass for them at once.
    pub fn sessions_imported_since(&self, since: i64) -> Result<Vec<String>, FrontierError> {
        with_frontier(&self.frontier, |f| f.sessions_imported_since(since))
    }

    /// The consumer made these documents durable.
    pub fn acknowledge(&self, receipts: &[Receipt]) -> Result<(), FrontierError> {
        with_frontier(&self.frontier, |f| f.acknowledge(receipts))
    }

    /// Hands on documents queued by an earlier run that was not
    /// acknowledged (it was killed first); returns how many.
    pub async fn redeliver(
        &self,
        documents: &mpsc::Sender<Delivery>,
    ) -> Result<usize, FrontierError> {
        let pending = with_frontier(&self.frontier, |f| {
            f.unacknowledged_with_captures(usize::MAX >> 1)
        })?;
        let n = pending.len();
        for (receipt, document, capture) in pending {
            if documents
                .send(Delivery {
                    document,
                    receipt,
                    capture,
                })
                .await
                .is_err()
            {
                break;
            }
        }
        Ok(n)
    }

    /// One pass over `sites`, concurrently: redelivers unacknowledged
    /// documents first, then fetches everything due. Returns one report per
    /// site, sorted by name. Acknowledge every delivery of a pass before
    /// starting the next, or its documents are delivered again.
    pub async fn crawl_once(
        &self,
        sites: Vec<SiteProfile>,
        documents: mpsc::Sender<Delivery>,
        on_event: impl Fn(SiteEvent<'_>) + Send + Sync + 'static,
    ) -> Result<Vec<SiteReport>, FrontierError> {
        self.redeliver(&documents).await?;
        let on_event: EventSink = Arc::new(on_event);
        let mut tasks = tokio::task::JoinSet::new();
        for profile in sites {
            let crawler = self.clone();
            let documents = documents.clone();
            let on_event = on_event.clone();
            tasks.spawn(async move {
                let ctx = SiteContext {
                    fetcher: (*crawler.fetcher).clone(),
                    frontier: &crawler.frontier,
                    frontier_turn: &crawler.frontier_turn,
                    options: &crawler.options,
                    extraction: crawler.extraction.clone(),
                    profile: Arc::new(profile),
                };
                let mut events = |e: SiteEvent<'_>| on_event(e);
                run_site(&ctx, Sink::Durable(&documents), &mut events).await
            });
        }
        drop(documents);
        let mut reports = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(report) => reports.push(report?),
                Err(e) => tracing::error!(error = %e, "a site's crawl task failed"),
            }
        }
        reports.sort_by(|a, b| a.site.cmp(&b.site));
        Ok(reports)
    }
}

/// Crawls `profile`'s site once from its seeds with a frontier that lives
/// only for this call (nothing is remembered between calls). Returns early
/// if the receiver of `documents` is gone. The durable form is [`Crawler`].
pub async fn crawl_site(
    fetcher: &Fetcher,
    profile: &SiteProfile,
    documents: mpsc::Sender<Document>,
    mut on_event: impl FnMut(CrawlEvent<'_>) + Send,
) -> CrawlStats {
    let frontier = match Frontier::in_memory() {
        Ok(f) => Mutex::new(f),
        Err(e) => {
            tracing::error!(site = %profile.rules().name, error = %e, "cannot create an in-memory frontier");
            return CrawlStats::default();
        }
    };
    let options = CrawlOptions {
        retry_base: Duration::from_secs(2),
        max_attempts: 3,
        ..CrawlOptions::default()
    };
    let frontier_turn = tokio::sync::Mutex::new(());
    let ctx = SiteContext {
        fetcher: fetcher.clone(),
        frontier: &frontier,
        frontier_turn: &frontier_turn,
        options: &options,
        extraction: Arc::new(Semaphore::new(extraction_slots())),
        profile: Arc::new(profile.clone()),
    };
    let mut events = |e: SiteEvent<'_>| match e {
        SiteEvent::Fetched {
            url,
            bytes,
            documents,
            ..
        } => on_event(CrawlEvent::Fetched {
            url,
            bytes,
            documents,
            queued: 0,
        }),
        SiteEvent::Failed { url, error, .. } => on_event(CrawlEvent::Failed { url, error }),
        _ => {}
    };
    match run_site(&ctx, Sink::Plain(&documents), &mut events).await {
        Ok(report) => report.stats,
        Err(e) => {
            tracing::error!(site = %profile.rules().name, error = %e, "in-memory frontier failed");
            CrawlStats::default()
        }
    }
}

/// Where a site's documents go.
enum Sink<'a> {
    /// With receipts, acknowledged by the consumer.
    Durable(&'a mpsc::Sender<Delivery>),
    /// Plain documents; receipts are acknowledged at once.
    Plain(&'a mpsc::Sender<Document>),
}

struct SiteContext<'a> {
    fetcher: Fetcher,
    frontier: &'a Mutex<Frontier>,
    /// Sites take turns at the frontier here, waiting without a thread.
    frontier_turn: &'a tokio::sync::Mutex<()>,
    options: &'a CrawlOptions,
    /// Pages parsed at once (the DOM of a page is many times its size).
    extraction: Arc<Semaphore>,
    profile: Arc<SiteProfile>,
}

impl SiteContext<'_> {
    /// Runs one frontier operation. Sites wait their turn here without
    /// holding a thread; only the one whose turn it is blocks, on SQLite
    /// (hundreds of sites waiting on the store's lock each in its own
    /// thread made the runtime start hundreds of threads).
    async fn store<T>(&self, op: impl FnOnce(&mut Frontier) -> T) -> T {
        let _turn = self.frontier_turn.lock().await;
        with_frontier(self.frontier, op)
    }
}

/// One site's report at the end of its pass, which also lets go of the
/// site's connections and their buffers until its next pass.
async fn site_report(
    ctx: &SiteContext<'_>,
    site: &str,
    stats: CrawlStats,
    outcome: SiteOutcome,
) -> SiteReport {
    ctx.fetcher.release(site);
    SiteReport {
        site: site.to_owned(),
        stats,
        outcome,
        next_due: ctx
            .store(|f| f.earliest_due(site))
            .await
            .ok()
            .flatten()
            .map(to_time),
    }
}

/// What fetching and extracting one page produced.
enum PageWork {
    Page(Box<ExtractedPage>),
    NotModified,
}

struct ExtractedPage {
    url: Url,
    capture: Arc<PageCapture>,
    status: u16,
    bytes: usize,
    etag: Option<String>,
    last_modified: Option<String>,
    documents: Vec<Document>,
    links: Vec<CanonicalUrl>,
    signatures: HashMap<CanonicalUrl, String>,
    logged_out: bool,
    /// A wall only a person can pass, instead of content.
    wall: Option<Wall>,
    /// Why the page's source cannot be read (a Telegram channel without a
    /// preview), when it cannot.
    unavailable: Option<String>,
    /// The messages of a Telegram channel page.
    channel_page: Option<ChannelPage>,
    hash: String,
}

type FetchResult = (FrontierUrl, Result<PageWork, FetchFailure>);

async fn run_site(
    ctx: &SiteContext<'_>,
    sink: Sink<'_>,
    events: &mut (dyn FnMut(SiteEvent<'_>) + Send),
) -> Result<SiteReport, FrontierError> {
    let site_name = ctx.profile.rules().name.clone();
    let site = site_name.as_str();
    let span = tracing::info_span!("site", site = %site);
    let mut pass = match resume_site(ctx, site, &span, events).await? {
        Resume::Go(pass) => *pass,
        Resume::Stop(outcome) => {
            return Ok(site_report(ctx, site, CrawlStats::default(), outcome).await)
        }
    };
    let profile = pass.profile.clone();
    let seeds: Vec<(CanonicalUrl, PageRole)> = profile
        .seeds()
        .iter()
        .filter_map(|s| CanonicalUrl::new(s.clone(), &profile.rules().links.url_rules).ok())
        .map(|u| {
            let role = role_of(&profile, &u);
            (u, role)
        })
        .collect();
    let now = now_ms();
    ctx.store(|f| f.add_seeds(site, &seeds, now)).await?;
    pass.channels = ChannelMarks::new(ctx.store(|f| f.channel_marks(site)).await?);

    // Fetches run as their own tasks: a slow frontier write here never
    // holds back a request whose turn has come.
    let mut in_flight: JoinSet<FetchResult> = JoinSet::new();
    let mut flying: HashSet<i64> = HashSet::new();
    let mut claimed = 0usize;
    let mut stopping: Option<SiteOutcome> = None;
    loop {
        // As many fetches as the budget needs at the latency seen (those
        // beyond one wait at the gate, holding no place under the ceiling).
        let window = pass
            .gate
            .fetches_to_keep()
            .clamp(1, profile.concurrency().max(1));
        if stopping.is_none() {
            while in_flight.len() < window && claimed < profile.max_pages() {
                let next = ctx.store(|f| f.next_due(site, now_ms(), &flying)).await?;
                let Some(url) = next else { break };
                flying.insert(url.id);
                pass.retrying.remove(&url.id);
                claimed += 1;
                in_flight.spawn(fetch_and_extract(
                    ctx.fetcher.clone(),
                    ctx.extraction.clone(),
                    profile.clone(),
                    url,
                ));
            }
        }
        if in_flight.is_empty() {
            if stopping.is_some() {
                break;
            }
            if claimed >= profile.max_pages() {
                tracing::info!(parent: &span, max_pages = profile.max_pages(), "page limit of one pass reached");
                stopping = Some(SiteOutcome::PageLimit);
                break;
            }
            if pass.retrying.is_empty() {
                break;
            }
            // Only retries of this pass are left: wait for the first.
            let earliest = ctx.store(|f| f.earliest_due(site)).await?.unwrap_or(NEVER);
            let wait = (earliest - now_ms()).clamp(1, ctx.options.retry_cap.as_millis() as i64);
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
            continue;
        }
        // Wait for a page, or for a retry to fall due while there is room.
        let retry_wakeup =
            if stopping.is_none() && !pass.retrying.is_empty() && in_flight.len() < window {
                let earliest = ctx.store(|f| f.earliest_due(site)).await?.unwrap_or(NEVER);
                Some(Duration::from_millis(
                    (earliest - now_ms()).clamp(1, 60_000) as u64,
                ))
            } else {
                None
            };
        let done = match retry_wakeup {
            Some(wait) => tokio::select! {
                done = in_flight.join_next() => done,
                () = tokio::time::sleep(wait) => None,
            },
            None => in_flight.join_next().await,
        };
        let (url, result) = match done {
            Some(Ok(finished)) => finished,
            Some(Err(e)) => {
                // A panicked fetch: its URL stays in `flying`, so it is not
                // tried again in this pass; it is still due next pass.
                tracing::error!(parent: &span, error = %e, "a fetch task failed");
                continue;
            }
            None => continue,
        };
        flying.remove(&url.id);
        let page_url = Url::parse(&url.url).unwrap_or_else(|_| profile.rules().base_url.clone());
        let now = now_ms();
        // The login page, shown or redirected to: the session is gone.
        let logged_out = match &result {
            Ok(PageWork::Page(page)) => page.logged_out,
            Ok(PageWork::NotModified) => false,
            Err(failure) => matches!(failure.error.kind(), CrawlErrorKind::LoggedOut),
        };
        if logged_out {
            stop_logged_out(
                ctx,
                site,
                &pass.fingerprint,
                &page_url,
                &mut pass.state,
                events,
            )
            .await?;
            stopping = Some(SiteOutcome::LoggedOut);
            continue;
        }
        let stop = match result {
            Ok(PageWork::Page(page)) if page.wall.is_some() => {
                let wall = page.wall.unwrap_or(Wall::Captcha);
                let reason = stop_needs_human(
                    ctx,
                    (site, &pass.fingerprint),
                    (&page.url, wall),
                    &mut pass.state,
                    events,
                )
                .await?;
                Some(SiteOutcome::NeedsHuman { reason })
            }
            Ok(PageWork::Page(page)) => {
                pass.breaker.success();
                pass.take_page(ctx, &sink, &url, *page, now, events).await?
            }
            Ok(PageWork::NotModified) => {
                pass.breaker.success();
                let next_due = now + interval_ms(&profile, url.role);
                ctx.store(|f| f.record(&url, &PageOutcome::NotModified { next_due }, now))
                    .await?;
                pass.stats.not_modified += 1;
                events(SiteEvent::NotModified {
                    site,
                    url: &page_url,
                });
                None
            }
            Err(failure) => {
                pass.take_failure(ctx, (&url, &page_url), &failure, now, (&span, events))
                    .await?
            }
        };
        if stop.is_some() {
            stopping = stop;
        }
    }
    let Pass {
        mut state,
        breaker,
        channels,
        stats,
        ..
    } = pass;
    state.consecutive_failures = breaker.consecutive_failures;
    state.breaker_trips = breaker.trips;
    ctx.store(|f| f.set_site_state(site, &state)).await?;
    // Kept once the pass is over: a pass cut short reads its channels back
    // again to the depth instead of stopping at what it had just seen.
    for (channel, newest) in channels.seen() {
        ctx.store(|f| f.raise_channel_mark(site, channel, *newest))
            .await?;
    }
    Ok(site_report(ctx, site, stats, stopping.unwrap_or(SiteOutcome::Finished)).await)
}

/// How a site's pass begins: stopped at once with its outcome, or going
/// on with what [`resume_site`] read.
enum Resume {
    /// The site rests, waits for a person or cannot be reached at all.
    Stop(SiteOutcome),
    /// The site is crawled.
    Go(Box<Pass>),
}

/// One site's pass while it runs: what it crawls with and what it has
/// counted so far.
struct Pass {
    /// The profile, with an imported session's cookies in place.
    profile: Arc<SiteProfile>,
    /// The session's fingerprint, kept with a stop for a person.
    fingerprint: String,
    state: SiteState,
    breaker: CircuitBreaker,
    gate: Arc<SiteGate>,
    stats: CrawlStats,
    channels: ChannelMarks,
    /// URLs waiting for a retry in this pass.
    retrying: HashSet<i64>,
    /// URLs that were too slow once in this pass: the next time, they wait
    /// for a later pass.
    slow_once: HashSet<i64>,
}

/// Resumes the site's state at the start of a pass: an operator's imported
/// session, a stop for a person (lifted when the cookies changed), a rest
/// still running, and the site's gate.
async fn resume_site(
    ctx: &SiteContext<'_>,
    site: &str,
    span: &tracing::Span,
    events: &mut (dyn FnMut(SiteEvent<'_>) + Send),
) -> Result<Resume, FrontierError> {
    // An operator's imported session takes the place of the profile's
    // cookies of the same names.
    let profile = match ctx.store(|f| f.imported_session(site)).await {
        Ok(Some(imported)) => Arc::new(ctx.profile.with_imported_cookies(&imported.cookies)),
        Ok(None) => ctx.profile.clone(),
        Err(e) => {
            tracing::error!(parent: span, error = %e, "the imported session is unreadable: crawling with the profile's cookies");
            ctx.profile.clone()
        }
    };

    // Resume the site's state: a rest still running, a lost session, a
    // wall waiting for a person.
    let now = now_ms();
    let fingerprint = profile.session().fingerprint();
    let mut state = ctx.store(|f| f.site_state(site)).await?;
    let stopped_for_person = state.pause_reason.as_deref().and_then(|r| {
        if r == LOGGED_OUT {
            Some(SiteOutcome::LoggedOut)
        } else {
            r.starts_with(NEEDS_HUMAN).then(|| SiteOutcome::NeedsHuman {
                reason: r.to_owned(),
            })
        }
    });
    if let Some(outcome) = stopped_for_person {
        if state.session_fingerprint.as_deref() == Some(fingerprint.as_str()) {
            let reason = match &outcome {
                SiteOutcome::LoggedOut => "still logged out: renew the site's cookies (session.cookies, session.cookie_file or `leakwatch session import`)".to_owned(),
                _ => format!(
                    "{}; waiting for `leakwatch session import {site} COOKIES.txt`",
                    state.pause_reason.as_deref().unwrap_or_default()
                ),
            };
            events(SiteEvent::Paused {
                site,
                until: to_time(NEVER),
                reason: &reason,
            });
            return Ok(Resume::Stop(outcome));
        }
        tracing::info!(parent: span, "the site's cookies changed: trying it again");
        state.paused_until = None;
        state.pause_reason = None;
    }
    let mut breaker = CircuitBreaker::new(
        ctx.options.breaker_threshold,
        ctx.options.breaker_pause,
        ctx.options.breaker_max_pause,
    );
    breaker.consecutive_failures = state.consecutive_failures;
    breaker.trips = state.breaker_trips;
    if let Some(until) = state.paused_until {
        if until > now {
            let reason = state.pause_reason.clone().unwrap_or_default();
            events(SiteEvent::Paused {
                site,
                until: to_time(until),
                reason: &reason,
            });
            return Ok(Resume::Stop(SiteOutcome::Paused {
                until: to_time(until),
                reason,
            }));
        }
        breaker.half_open();
        state.paused_until = None;
        state.pause_reason = None;
    }

    let gate = match ctx.fetcher.gate(&profile) {
        Ok(g) => g,
        Err(e) => {
            events(SiteEvent::Failed {
                site,
                url: &profile.rules().base_url,
                error: &e,
                retry_at: None,
            });
            return Ok(Resume::Stop(SiteOutcome::Stopped {
                reason: e.to_string(),
            }));
        }
    };
    Ok(Resume::Go(Box::new(Pass {
        profile,
        fingerprint,
        state,
        breaker,
        gate,
        stats: CrawlStats::default(),
        channels: ChannelMarks::new(HashMap::new()),
        retrying: HashSet::new(),
        slow_once: HashSet::new(),
    })))
}

impl Pass {
    /// Records a fetched page with its links and hands its documents on;
    /// `Some` when the site's pass must stop (the consumer is gone).
    async fn take_page(
        &mut self,
        ctx: &SiteContext<'_>,
        sink: &Sink<'_>,
        url: &FrontierUrl,
        mut page: ExtractedPage,
        now: i64,
        events: &mut (dyn FnMut(SiteEvent<'_>) + Send),
    ) -> Result<Option<SiteOutcome>, FrontierError> {
        let profile = &self.profile;
        let site = profile.rules().name.as_str();
        // Of a channel's messages, those an earlier pass read are
        // known: only the new ones go on.
        if let Some(p) = &page.channel_page {
            if let Some(known) = self.channels.known(&p.channel) {
                page.documents
                    .retain(|d| extract::telegram_message_number(d).is_none_or(|n| n > known));
            }
        }
        // A channel's older messages: only as far back as the
        // backfill goes, and never past a message seen before.
        let older_too = page.channel_page.as_ref().is_none_or(|p| {
            self.channels
                .follow_older(p, profile.backfill(), to_time(now))
        });
        let links: Vec<NewLink> = if url.depth < profile.max_depth() {
            page.links
                .iter()
                .filter(|l| older_too || !is_older_page(l.as_url()))
                .map(|l| NewLink {
                    url: l.clone(),
                    depth: url.depth + 1,
                    role: role_of(profile, l),
                    row_signature: page.signatures.get(l).cloned(),
                })
                .collect()
        } else {
            Vec::new()
        };
        // A page of older messages does not change: read once.
        let next_due = if page.channel_page.is_some() && is_older_page(&page.url) {
            NEVER
        } else {
            now + interval_ms(profile, url.role)
        };
        if let Some(p) = &page.channel_page {
            self.channels.saw(p);
        }
        let final_role = CanonicalUrl::new(page.url.clone(), &profile.rules().links.url_rules)
            .map_or(url.role, |u| role_of(profile, &u));
        let receipts = ctx
            .store(|f| {
                f.record(
                    url,
                    &PageOutcome::Fetched {
                        status: page.status,
                        etag: page.etag.as_deref(),
                        last_modified: page.last_modified.as_deref(),
                        content_hash: &page.hash,
                        next_due,
                        links: &links,
                        documents: &page.documents,
                        final_url: Some((page.url.as_str(), final_role)),
                        capture: Some(&page.capture),
                    },
                    now,
                )
            })
            .await?;
        self.stats.pages += 1;
        self.stats.bytes += page.bytes;
        let fresh = receipts.len() == page.documents.len();
        if !fresh {
            self.stats.unchanged += 1;
        }
        events(SiteEvent::Fetched {
            site,
            url: &page.url,
            status: page.status,
            bytes: page.bytes,
            documents: if fresh { page.documents.len() } else { 0 },
        });
        if fresh {
            let ExtractedPage {
                documents, capture, ..
            } = page;
            let n = documents.len();
            if deliver(ctx, sink, documents, receipts, capture).await? {
                self.stats.documents += n;
            } else {
                return Ok(Some(SiteOutcome::Stopped {
                    reason: "the consumer of documents has gone".into(),
                }));
            }
        }
        Ok(None)
    }

    /// Records a failed fetch and when it is tried again, and trips the
    /// circuit breaker on too many transient failures; `Some` when the site
    /// rests from now on.
    async fn take_failure(
        &mut self,
        ctx: &SiteContext<'_>,
        (url, page_url): (&FrontierUrl, &Url),
        failure: &FetchFailure,
        now: i64,
        (span, events): (&tracing::Span, &mut (dyn FnMut(SiteEvent<'_>) + Send)),
    ) -> Result<Option<SiteOutcome>, FrontierError> {
        let profile = &self.profile;
        let site = profile.rules().name.as_str();
        self.stats.failed += 1;
        let error_text = failure.error.to_string();
        let status = match failure.error.kind() {
            CrawlErrorKind::Status { status } => Some(*status),
            _ => None,
        };
        let retry_at = if failure.error.is_transient() {
            if let Some(pause) = failure.retry_after {
                self.gate.pause_for(pause);
            }
            let slow = failure.error.is_slow();
            let failed = FailedFetch {
                attempt: url.attempts + 1,
                slow,
                slow_again: slow && !self.slow_once.insert(url.id),
                retry_after: failure.retry_after,
            };
            let policy = RetryPolicy {
                max_attempts: ctx.options.max_attempts,
                retry_base: ctx.options.retry_base,
                retry_cap: ctx.options.retry_cap,
                request_timeout: ctx.fetcher.options().request_timeout,
                list_interval: profile.recrawl().list_interval,
                topic_interval: profile.recrawl().topic_interval,
            };
            match retry_at(&policy, &failed) {
                Retry::LaterPass(later) => {
                    now + i64::try_from(later.as_millis()).unwrap_or(NEVER / 2)
                }
                Retry::ThisPass(delay) => {
                    self.retrying.insert(url.id);
                    self.stats.retries += 1;
                    now + delay.as_millis() as i64
                }
            }
        } else if let CrawlErrorKind::Unavailable { .. } = failure.error.kind() {
            // A channel gone private or blocked may come back.
            now + interval_ms(profile, PageRole::List)
        } else {
            NEVER
        };
        ctx.store(|f| {
            f.record(
                url,
                &PageOutcome::Failed {
                    status,
                    error: &error_text,
                    retry_at,
                    count_attempt: true,
                },
                now,
            )
        })
        .await?;
        tracing::warn!(parent: span, url = %page_url, error = %failure.error, "fetch failed");
        events(SiteEvent::Failed {
            site,
            url: page_url,
            error: &failure.error,
            retry_at: (retry_at != NEVER).then(|| to_time(retry_at)),
        });
        if !failure.error.is_transient() {
            return Ok(None);
        }
        let Some(pause) = self.breaker.failure() else {
            return Ok(None);
        };
        let until = now + pause.as_millis() as i64;
        let reason = format!(
            "{} consecutive failures, the last: {error_text}",
            self.breaker.consecutive_failures
        );
        tracing::warn!(parent: span, until = %to_time(until), %reason, "site paused (circuit breaker)");
        // When it comes back, it comes back on new circuits,
        // and at its next mirror if it has mirrors.
        ctx.fetcher.renew_identity(site);
        ctx.fetcher.fail_over(profile);
        self.state.paused_until = Some(until);
        self.state.pause_reason = Some(reason.clone());
        events(SiteEvent::Paused {
            site,
            until: to_time(until),
            reason: &reason,
        });
        Ok(Some(SiteOutcome::Paused {
            until: to_time(until),
            reason,
        }))
    }
}

/// What [`retry_at`] weighs a transiently failed fetch by.
#[derive(Debug, Clone, Copy)]
struct RetryPolicy {
    /// Attempts in one pass before the URL waits for a later pass.
    max_attempts: u32,
    /// The first backoff, doubled per attempt.
    retry_base: Duration,
    /// The longest backoff.
    retry_cap: Duration,
    /// The fetcher's whole-request timeout: the longest a slow page waits.
    request_timeout: Duration,
    /// The site's list interval.
    list_interval: Duration,
    /// The site's topic interval.
    topic_interval: Duration,
}

/// A transiently failed fetch, as [`retry_at`] sees it.
#[derive(Debug, Clone, Copy)]
struct FailedFetch {
    /// This attempt, from 1.
    attempt: u32,
    /// A timeout or a transfer under the rate floor.
    slow: bool,
    /// Slow a second time in this pass.
    slow_again: bool,
    /// The server's `Retry-After`.
    retry_after: Option<Duration>,
}

/// When a transiently failed page is fetched again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// In this pass, after the delay.
    ThisPass(Duration),
    /// Given up for this pass: due again after the delay.
    LaterPass(Duration),
}

/// When a transiently failed page is tried again: after its backoff (or the
/// server's `Retry-After`, if longer) in this pass; a slow page waits one
/// request timeout at most and is tried once more in a pass at most. After
/// the last attempt it is back after the list interval, doubling per
/// further failure, at most the topic interval.
fn retry_at(policy: &RetryPolicy, failed: &FailedFetch) -> Retry {
    if failed.attempt >= policy.max_attempts || failed.slow_again {
        let doublings = failed.attempt.saturating_sub(policy.max_attempts).min(20);
        let later = policy
            .list_interval
            .saturating_mul(1 << doublings)
            .min(policy.topic_interval.max(policy.list_interval));
        Retry::LaterPass(later)
    } else {
        let backoff = backoff_delay(policy.retry_base, failed.attempt - 1, policy.retry_cap);
        let mut delay = failed.retry_after.unwrap_or_default().max(backoff);
        if failed.slow {
            // The pass waits on a slow page one request
            // timeout at most before trying it again.
            delay = delay.min(policy.request_timeout);
        }
        Retry::ThisPass(delay)
    }
}

/// Hands documents on; `false` when the consumer is gone.
async fn deliver(
    ctx: &SiteContext<'_>,
    sink: &Sink<'_>,
    documents: Vec<Document>,
    receipts: Vec<Receipt>,
    capture: Arc<PageCapture>,
) -> Result<bool, FrontierError> {
    match sink {
        Sink::Durable(tx) => {
            for (document, receipt) in documents.into_iter().zip(receipts) {
                let delivery = Delivery {
                    document,
                    receipt,
                    capture: Some(capture.clone()),
                };
                if tx.send(delivery).await.is_err() {
                    return Ok(false);
                }
            }
        }
        Sink::Plain(tx) => {
            ctx.store(|f| f.acknowledge(&receipts)).await?;
            for document in documents {
                if tx.send(document).await.is_err() {
                    return Ok(false);
                }
            }
        }
    }
    Ok(true)
}

/// Stops a site whose session is gone, until its cookies change: the
/// login page is never crawled in a loop.
async fn stop_logged_out(
    ctx: &SiteContext<'_>,
    site: &str,
    fingerprint: &str,
    url: &Url,
    state: &mut SiteState,
    events: &mut (dyn FnMut(SiteEvent<'_>) + Send),
) -> Result<(), FrontierError> {
    tracing::error!(
        site,
        url = %url,
        "logged out: the site shows its login page; stopping it until its cookies are renewed"
    );
    stop_for_person(ctx, (site, fingerprint), LOGGED_OUT.to_owned(), state).await?;
    events(SiteEvent::LoggedOut { site, url });
    Ok(())
}

/// Stops a site that shows a wall only a person can pass (no hammering a
/// CAPTCHA), until an operator imports a session for it; returns the
/// reason kept in its state. The page is left due, to be fetched first
/// when the site resumes.
async fn stop_needs_human(
    ctx: &SiteContext<'_>,
    (site, fingerprint): (&str, &str),
    (url, wall): (&Url, Wall),
    state: &mut SiteState,
    events: &mut (dyn FnMut(SiteEvent<'_>) + Send),
) -> Result<String, FrontierError> {
    let reason = format!("{NEEDS_HUMAN}{wall} at {url}");
    tracing::error!(
        site,
        url = %url,
        wall = %wall,
        "the site needs a human: stopping it until a session is imported (`leakwatch session import`)"
    );
    stop_for_person(ctx, (site, fingerprint), reason.clone(), state).await?;
    events(SiteEvent::NeedsHuman { site, url, wall });
    Ok(reason)
}

/// Keeps the site stopped for `reason` until its session's fingerprint
/// differs from `fingerprint` (new cookies in the profile, or imported).
async fn stop_for_person(
    ctx: &SiteContext<'_>,
    (site, fingerprint): (&str, &str),
    reason: String,
    state: &mut SiteState,
) -> Result<(), FrontierError> {
    state.paused_until = Some(NEVER);
    state.pause_reason = Some(reason);
    state.session_fingerprint = Some(fingerprint.to_owned());
    ctx.store(|f| f.set_site_state(site, state)).await
}

/// Fetches one frontier URL and extracts it on the blocking pool, one
/// extraction slot at a time.
async fn fetch_and_extract(
    fetcher: Fetcher,
    extraction: Arc<Semaphore>,
    profile: Arc<SiteProfile>,
    url: FrontierUrl,
) -> FetchResult {
    let canonical = match CanonicalUrl::parse(&url.url, &profile.rules().links.url_rules) {
        Ok(c) => c,
        Err(e) => {
            let error = CrawlError::new(
                url.url.clone(),
                CrawlErrorKind::Refused {
                    reason: e.to_string(),
                },
            );
            return (url, Err(error.into()));
        }
    };
    let validators = if url.fetches > 0 {
        Validators {
            etag: url.etag.clone(),
            last_modified: url.last_modified.clone(),
        }
    } else {
        Validators::default()
    };
    let fetched = {
        let span = tracing::debug_span!("fetch", site = %profile.rules().name, url = %canonical, attempt = url.attempts + 1);
        fetcher
            .fetch_conditional(&profile, &canonical, &validators)
            .instrument(span)
            .await
    };
    let page = match fetched {
        Ok(FetchOutcome::Page(page)) => page,
        Ok(FetchOutcome::NotModified) => return (url, Ok(PageWork::NotModified)),
        Err(f) => return (url, Err(f)),
    };
    let role = url.role;
    // The semaphore is never closed; without a permit we still go on.
    let slot = extraction.acquire_owned().await.ok();
    let extracted = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        extract(&profile, role, *page)
    })
    .await;
    match extracted {
        Ok(page) => match page.unavailable {
            Some(reason) => {
                let error =
                    CrawlError::new(page.url.to_string(), CrawlErrorKind::Unavailable { reason });
                (url, Err(error.into()))
            }
            None => (url, Ok(PageWork::Page(Box::new(page)))),
        },
        Err(e) => {
            let error = CrawlError::new(
                url.url.clone(),
                CrawlErrorKind::Refused {
                    reason: format!("extraction failed: {e}"),
                },
            );
            (url, Err(error.into()))
        }
    }
}

/// Decoding is done; parses, checks for a logged-out page, extracts
/// documents and links, and signs list rows. CPU only.
fn extract(profile: &SiteProfile, role: PageRole, page: FetchedPage) -> ExtractedPage {
    let text = &*cap_nesting(&page.decoded.text, MAX_DEPTH);
    // Parsed once: for the logged-out check, extraction and row signatures.
    let parsed = Html::parse_document(text);
    let logged_out = profile.session().is_logged_out(&page.url, &parsed);
    let mut wall = None;
    let mut unavailable = None;
    let (documents, links, signatures) = if logged_out {
        (Vec::new(), Vec::new(), HashMap::new())
    } else {
        let (extracted, explanation) = extract_parsed(
            profile.rules(),
            &page.url,
            &parsed,
            text,
            page.fetched_at,
            Some(page.decoded.encoding.name()),
            &ExtractOptions::default(),
        );
        // A page that gave nothing may be a wall that a profile's own
        // selectors did not look for.
        wall = explanation
            .wall
            .or_else(|| {
                (extracted.documents.is_empty() && extracted.links.is_empty())
                    .then(|| extract::wall(&parsed))
                    .flatten()
            })
            .filter(|w| w.needs_human());
        unavailable = explanation.unavailable;
        let links = extracted
            .links
            .into_iter()
            .filter_map(|l| admit(profile.rules(), l).ok())
            .collect();
        let mut signatures: HashMap<CanonicalUrl, String> = match role {
            PageRole::List => topic_row_signatures(
                profile.rules(),
                &page.url,
                &parsed,
                Some(page.decoded.encoding),
            )
            .into_iter()
            .collect(),
            PageRole::Topic => HashMap::new(),
        };
        // Where the list's rows give a reply count (the presets' `replies`),
        // it alone says whether a topic changed: view counts and "5 minutes
        // ago" in the same row change without news, and refetching every
        // topic on every poll is how crawlers get banned.
        if role == PageRole::List {
            for (link, replies) in extracted.row_replies {
                if let Ok(topic) = admit(profile.rules(), link) {
                    signatures.insert(topic, format!("replies:{}", replies.trim()));
                }
            }
        }
        (extracted.documents, links, signatures)
    };
    ExtractedPage {
        channel_page: ChannelPage::of(&documents),
        hash: content_hash(&documents),
        capture: page.capture,
        url: page.url,
        status: page.status,
        bytes: page.bytes,
        etag: page.etag,
        last_modified: page.last_modified,
        documents,
        links,
        signatures,
        logged_out,
        wall,
        unavailable,
    }
}

/// Pages extracted at once: one per core (more only adds DOMs in memory).
fn extraction_slots() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

fn role_of(profile: &SiteProfile, url: &CanonicalUrl) -> PageRole {
    if profile.rules().topic.url.is_match(url.as_str()) {
        PageRole::Topic
    } else {
        PageRole::List
    }
}

fn interval_ms(profile: &SiteProfile, role: PageRole) -> i64 {
    let d = match role {
        PageRole::List => profile.recrawl().list_interval,
        PageRole::Topic => profile.recrawl().topic_interval,
    };
    i64::try_from(d.as_millis()).unwrap_or(NEVER / 2)
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms.min(253_402_300_799_000))
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Runs one frontier operation. SQLite calls block, so on a multi-threaded
/// runtime they step off the worker (`block_in_place`): the other sites'
/// requests and timers keep their schedule meanwhile.
fn with_frontier<T>(frontier: &Mutex<Frontier>, op: impl FnOnce(&mut Frontier) -> T) -> T {
    let run = || op(&mut lock(frontier));
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
        _ => run(),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            retry_base: Duration::from_secs(10),
            retry_cap: Duration::from_secs(300),
            request_timeout: Duration::from_secs(30),
            list_interval: 10 * MIN,
            topic_interval: 60 * MIN,
        }
    }

    fn failed(attempt: u32) -> FailedFetch {
        FailedFetch {
            attempt,
            slow: false,
            slow_again: false,
            retry_after: None,
        }
    }

    fn this_pass(retry: Retry) -> Duration {
        match retry {
            Retry::ThisPass(d) => d,
            Retry::LaterPass(d) => panic!("given up for the pass ({d:?})"),
        }
    }

    #[test]
    fn retry_at_backs_off_within_the_pass() {
        // base · 2^(attempt-1) times a factor in [0.5, 1).
        let first = this_pass(retry_at(&policy(), &failed(1)));
        assert!(
            first >= Duration::from_secs(5) && first < Duration::from_secs(10),
            "{first:?}"
        );
        let second = this_pass(retry_at(&policy(), &failed(2)));
        assert!(
            second >= Duration::from_secs(10) && second < Duration::from_secs(20),
            "{second:?}"
        );
    }

    #[test]
    fn retry_at_keeps_a_longer_retry_after_and_bounds_a_slow_page() {
        let told = FailedFetch {
            retry_after: Some(Duration::from_secs(120)),
            ..failed(1)
        };
        assert_eq!(
            this_pass(retry_at(&policy(), &told)),
            Duration::from_secs(120)
        );
        let slow = FailedFetch { slow: true, ..told };
        assert_eq!(
            this_pass(retry_at(&policy(), &slow)),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn retry_at_gives_up_for_the_pass_doubling_up_to_the_topic_interval() {
        let p = policy();
        assert_eq!(retry_at(&p, &failed(3)), Retry::LaterPass(10 * MIN));
        assert_eq!(retry_at(&p, &failed(4)), Retry::LaterPass(20 * MIN));
        assert_eq!(retry_at(&p, &failed(5)), Retry::LaterPass(40 * MIN));
        assert_eq!(retry_at(&p, &failed(6)), Retry::LaterPass(60 * MIN));
        assert_eq!(retry_at(&p, &failed(60)), Retry::LaterPass(60 * MIN));
        // A topic interval shorter than the list interval does not shorten it.
        let short_topics = RetryPolicy {
            topic_interval: MIN,
            ..p
        };
        assert_eq!(
            retry_at(&short_topics, &failed(5)),
            Retry::LaterPass(10 * MIN)
        );
        // Slow a second time: waits for a later pass at the first attempt.
        let slow_again = FailedFetch {
            slow: true,
            slow_again: true,
            ..failed(1)
        };
        assert_eq!(retry_at(&p, &slow_again), Retry::LaterPass(10 * MIN));
    }
}
