//! `leakwatch run`: the continuous service. A scheduler runs a crawl pass
//! over every site each `recrawl` interval on the durable frontier (which
//! decides what is due); documents flow through a bounded channel
//! (back-pressure on the crawlers) to the pipeline's consume loop (match,
//! record, index, commit, then acknowledge to the frontier; a document that
//! keeps failing is set aside as a dead letter, a store that fails stops the
//! service); a delivery task sends what the outbox holds to the sinks.
//! SIGHUP or a change in the watchlists folder reloads watchlists and site
//! profiles (a bad file keeps the previous version) and retro-hunts new or
//! changed assets. SIGTERM/SIGINT shut down within the configured deadline.
//! This module only starts and stops the parts; each does its work elsewhere.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crawler::{
    CookieVault, Crawler, Delivery, Fetcher, Frontier, SiteEvent, SiteOutcome, SiteProfile,
    Transport,
};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use watchlists::{Matcher, WatchlistSet};

use crate::alert_store::AlertStore;
use crate::config::{Config, EvidenceConfig, SinkKind};
use crate::delivery;
use crate::evidence::EvidenceStore;
use crate::metrics::Metrics;
use crate::operator_events::{self, OperatorEvent};
use crate::pipeline::{CommitPolicy, Consumed, Pipeline, RaisedAlert};
use crate::reload::{load_watchlists, Reloader};
use crate::sinks::{Enricher, Sinks};
use crate::watched_assets::{self, Fingerprints};
use crate::{paths, tor};

/// Documents in flight between the crawlers and the pipeline; when full, the
/// crawlers wait (no unbounded queue).
const DOCUMENT_QUEUE: usize = 256;

/// Runs the service until SIGTERM/SIGINT.
pub(crate) async fn run(config: Config, data_dir: PathBuf) -> anyhow::Result<()> {
    // The durable frontier first: its lock refuses a second crawler on this
    // data dir before anything else is touched.
    let state_db = paths::state_db(&data_dir);
    let frontier = Frontier::open(&state_db)?;
    let metrics = Arc::new(Metrics::default());
    spawn_metrics(config.metrics_addr, &metrics).await?;
    let set = load_watchlists(&config.watchlists)?;
    let sinks = Sinks::new(
        &config.sinks,
        Enricher::new(paths::index_dir(&data_dir), config.watchlists.clone()),
    )?;
    let mut pipeline = open_pipeline(&config, &data_dir, &set, &metrics)?;
    pipeline
        .alert_store()
        .route_sightings_to(sinks.sighting_sinks());
    let known_assets = data_dir.join("watched-assets.json");
    let fingerprints = hunt_offline_changes(&mut pipeline, &set, &known_assets, &metrics)?;
    let tor = tor::connect(&config.tor, &data_dir, false).await?;
    let crawler = open_crawler(&config, tor.transport.clone(), frontier, &state_db)?;

    let (stop, shutdown) = watch::channel(false);
    spawn_signal_handler(stop.clone(), config.schedule.shutdown_deadline);
    let profiles = Arc::new(RwLock::new(config.sites.clone()));
    let (reloads_tx, reloads) = mpsc::channel(4);
    let reloader = Reloader::new(
        &config,
        profiles.clone(),
        known_assets,
        fingerprints,
        metrics.clone(),
    )
    .spawn(reloads_tx, shutdown.clone());
    spawn_console(&config, &data_dir).await?;
    operator_events::init(&pipeline.alert_store())?;
    record_untold_stops(
        &crawler,
        &pipeline.alert_store(),
        &config.sites,
        &operator_sinks(&config),
        &metrics,
    )?;
    let (events_tx, events) = mpsc::unbounded_channel();
    let delivery = spawn_delivery(
        pipeline.alert_store(),
        (sinks, operator_sinks(&config)),
        events,
        &metrics,
        shutdown.clone(),
    )?;
    spawn_evidence_gc(
        pipeline.evidence().clone(),
        &config.evidence,
        &metrics,
        shutdown.clone(),
    );
    let (documents_tx, documents) = mpsc::channel(DOCUMENT_QUEUE);
    let scheduler = spawn_scheduler(
        crawler.clone(),
        profiles,
        (config.schedule.recrawl, config.schedule.reload_poll),
        (documents_tx, events_tx),
        &metrics,
        shutdown,
    );

    // Until the scheduler stops and drops its sender, or a store fails.
    pipeline
        .consume(&crawler, documents, Some(reloads), |event| {
            count(event, &metrics)
        })
        .await
        .inspect_err(|_| {
            let _ = stop.send(true);
        })?;
    tracing::info!(documents = pipeline.documents, "index committed");
    wind_down(
        scheduler,
        reloader,
        delivery,
        config.schedule.shutdown_deadline,
    )
    .await;
    Ok(())
}

/// Serves `/metrics` and `/healthz` when the configuration names an address.
async fn spawn_metrics(addr: Option<SocketAddr>, metrics: &Arc<Metrics>) -> anyhow::Result<()> {
    if let Some(addr) = addr {
        let bound = crate::metrics::serve(addr, metrics.clone()).await?;
        tracing::info!(%bound, "metrics at /metrics, health at /healthz");
    }
    Ok(())
}

/// Serves the analyst console when the configuration has `[api]`: on its
/// own connections to the state store (WAL readers for its reads, one
/// connection for triage and sessions, which waits its turn behind the
/// pipeline's short write transactions instead of sharing its connection),
/// with an index reader of its own.
async fn spawn_console(config: &Config, data_dir: &Path) -> anyhow::Result<()> {
    if let Some(api) = &config.api {
        let store = AlertStore::open(&paths::state_db(data_dir))?;
        let state = crate::console::ConsoleState::new(crate::console::ConsoleConfig {
            store,
            index_dir: paths::index_dir(data_dir),
            watchlists: Some(config.watchlists.clone()),
            secure_cookies: api.secure_cookies,
        });
        let (bound, _server) = crate::console::serve(api.listen, state).await?;
        tracing::info!(%bound, "analyst console at http://{bound}/");
    }
    Ok(())
}

/// The pipeline with the service's sinks and commit policy.
fn open_pipeline(
    config: &Config,
    data_dir: &Path,
    set: &WatchlistSet,
    metrics: &Metrics,
) -> anyhow::Result<Pipeline> {
    let pipeline = Pipeline::open(data_dir, Matcher::new(set))?
        .with_sinks(config.sinks.clone())
        .with_commit_policy(CommitPolicy::from_schedule(&config.schedule))
        .with_evidence(&config.evidence, crate::tor::transport_name(&config.tor));
    metrics
        .index_docs
        .store(pipeline.index().num_docs(), Ordering::Relaxed);
    metrics
        .evidence_bytes
        .store(pipeline.evidence().stored_bytes()?, Ordering::Relaxed);
    Ok(pipeline)
}

/// Retro-hunts the assets added or changed while the service was down (none
/// on a first start) and records the fingerprints of what is watched now.
fn hunt_offline_changes(
    pipeline: &mut Pipeline,
    set: &WatchlistSet,
    known_path: &Path,
    metrics: &Metrics,
) -> anyhow::Result<Fingerprints> {
    let fingerprints = watched_assets::fingerprints(set);
    let previously = watched_assets::read(known_path);
    let changed = watched_assets::changed(&previously, &fingerprints, set);
    if !changed.is_empty() && !previously.is_empty() {
        let raised = pipeline.retro_hunt(&changed, None)?;
        count_retro_hunt(&raised, metrics);
    }
    watched_assets::write(known_path, &fingerprints);
    Ok(fingerprints)
}

/// The crawler on the durable frontier, with the state store's cookies.
fn open_crawler(
    config: &Config,
    transport: Transport,
    frontier: Frontier,
    state_db: &Path,
) -> anyhow::Result<Crawler> {
    let fetcher = Fetcher::new(transport, config.fetch.clone())?
        .with_cookie_vault(CookieVault::open(state_db)?);
    Ok(Crawler::new(
        Arc::new(fetcher),
        frontier,
        config.crawl.clone(),
    ))
}

/// Signals: the first TERM/INT shuts down gracefully, a second quits now;
/// so does the deadline. Quitting loses nothing: fetches not recorded are
/// made again, documents not acknowledged are redelivered, deliveries not
/// marked are retried, all on the next start.
fn spawn_signal_handler(stop: watch::Sender<bool>, deadline: Duration) {
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM");
                    return;
                }
            };
        let mut count = 0;
        loop {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            count += 1;
            if count == 1 {
                tracing::warn!(
                    deadline_s = deadline.as_secs(),
                    "shutting down (a second signal quits at once)"
                );
                let _ = stop.send(true);
                tokio::spawn(async move {
                    tokio::time::sleep(deadline).await;
                    tracing::error!("shutdown deadline passed: quitting; unfinished work is redone on the next start");
                    std::process::exit(1);
                });
            } else {
                tracing::error!("second signal: quitting without finishing");
                std::process::exit(130);
            }
        }
    });
}

/// Marks delivered what the sinks already hold from before the last stop,
/// then delivers due alerts every second; a last round at shutdown.
fn spawn_delivery(
    store: AlertStore,
    (sinks, operator_sinks): (Sinks, Vec<String>),
    mut events: mpsc::UnboundedReceiver<OperatorEvent>,
    metrics: &Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let reconciled = delivery::reconcile(&store, &sinks)?;
    if reconciled > 0 {
        tracing::info!(
            deliveries = reconciled,
            "found written before the last stop; not written again"
        );
    }
    let metrics = metrics.clone();
    Ok(tokio::spawn(async move {
        loop {
            let stopping = *shutdown.borrow();
            while let Ok(event) = events.try_recv() {
                let now = chrono::Utc::now().timestamp();
                if let Err(e) = operator_events::record(&store, &event, &operator_sinks, now) {
                    tracing::error!(error = %format!("{e:#}"), site = %event.site, "cannot record an operator event");
                }
            }
            delivery_round(&store, &sinks, &metrics).await;
            if let Err(e) = delivery::deliver_events(&store, &sinks).await {
                tracing::error!(error = %format!("{e:#}"), "operator events round failed");
            }
            if stopping {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }))
}

/// Tells the operator of each site stopped for a person whose event was
/// never recorded: the stop is in the frontier, but no event for its page
/// was recorded since the site's last session import (a kill -9 between
/// the stop and its recording, or a stop made by `crawl --once`, which has
/// no delivery task). Returns how many were recorded.
fn record_untold_stops(
    crawler: &Crawler,
    store: &AlertStore,
    sites: &[SiteProfile],
    sinks: &[String],
    metrics: &Metrics,
) -> anyhow::Result<usize> {
    let mut recorded = 0;
    for profile in sites {
        let site = profile.name();
        let (state, imported) = crawler
            .with_frontier(|f| anyhow::Ok((f.site_state(site)?, f.imported_session(site)?)))?;
        let Some((wall, url)) = state.human_wall() else {
            continue;
        };
        metrics.site_needs_human(site, true);
        let since = imported.map_or(0, |i| i.imported_at);
        if operator_events::told(store, site, url, since)? {
            continue;
        }
        let event = OperatorEvent::needs_human(site, url, wall);
        operator_events::record(store, &event, sinks, chrono::Utc::now().timestamp())?;
        tracing::warn!(
            site,
            url,
            "the site still needs a human; the operator is told now"
        );
        recorded += 1;
    }
    Ok(recorded)
}

/// How often the service prunes the evidence archive by its retention.
const EVIDENCE_GC_EVERY: Duration = Duration::from_secs(3600);

/// Prunes the evidence archive (`evidence_days`, `evidence_max_bytes`;
/// never an alert's pages) at start and then every hour, as `leakwatch
/// evidence gc` does, until the service stops.
fn spawn_evidence_gc(
    store: EvidenceStore,
    config: &EvidenceConfig,
    metrics: &Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    let retention = crate::evidence::retention(config);
    let metrics = metrics.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EVIDENCE_GC_EVERY);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = shutdown.changed() => return,
            }
            let store = store.clone();
            let now = chrono::Utc::now().timestamp();
            match tokio::task::spawn_blocking(move || store.gc(retention, now)).await {
                Ok(Ok(report)) => {
                    metrics
                        .evidence_bytes
                        .store(report.bytes_after, Ordering::Relaxed);
                    if report.expired + report.over_budget + report.orphan_files > 0 {
                        tracing::info!(
                            expired = report.expired,
                            over_budget = report.over_budget,
                            stray_files = report.orphan_files,
                            bytes = report.bytes_after,
                            "evidence archive pruned"
                        );
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %format!("{e:#}"), "evidence gc failed; trying again in an hour")
                }
                Err(e) => tracing::warn!(error = %e, "evidence gc task failed"),
            }
        }
    });
}

/// One round of deliveries, counted; a failed round is logged and retried
/// the next second.
async fn delivery_round(store: &AlertStore, sinks: &Sinks, metrics: &Metrics) {
    match delivery::deliver_due(store, sinks).await {
        Ok(stats) => {
            for (sink, n) in &stats.delivered {
                metrics.alerts_delivered(sink, *n);
            }
            metrics
                .delivery_failures
                .fetch_add(stats.failed, Ordering::Relaxed);
        }
        Err(e) => tracing::error!(error = %format!("{e:#}"), "outbox round failed"),
    }
    if let Ok(p) = store.pending_deliveries() {
        metrics.pending_deliveries.store(p, Ordering::Relaxed);
    }
}

/// A crawl pass over every site each `interval`; the frontier decides what
/// is due on each (list re-polls, topic refetches, paused sites). A session
/// an operator imports (`leakwatch session import`, seen within `poll`)
/// starts the next pass at once. At shutdown it drops `documents`, which
/// ends the consume loop.
fn spawn_scheduler(
    crawler: Crawler,
    profiles: Arc<RwLock<Vec<SiteProfile>>>,
    (interval, poll): (Duration, Duration),
    (documents, operator): (mpsc::Sender<Delivery>, mpsc::UnboundedSender<OperatorEvent>),
    metrics: &Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let metrics = metrics.clone();
    tokio::spawn(async move {
        loop {
            let current: Vec<SiteProfile> = profiles
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            let events = metrics.clone();
            let operator = operator.clone();
            let pass = crawler.crawl_once(current, documents.clone(), move |event| match event {
                SiteEvent::Fetched { site, .. } | SiteEvent::NotModified { site, .. } => {
                    events.page_fetched(site)
                }
                SiteEvent::Failed { site, .. } => events.page_failed(site),
                SiteEvent::NeedsHuman { site, url, wall } => {
                    events.site_needs_human(site, true);
                    // The delivery task records it; it outlives the pass.
                    let _ = operator.send(OperatorEvent::needs_human(
                        site,
                        url.as_str(),
                        wall.reason(),
                    ));
                }
                _ => {}
            });
            let started = chrono::Utc::now().timestamp_millis();
            tokio::select! {
                reports = pass => match reports {
                    Ok(reports) => for r in reports {
                        let stopped = matches!(r.outcome, SiteOutcome::NeedsHuman { .. });
                        metrics.site_needs_human(&r.site, stopped);
                        tracing::info!(site = %r.site, pages = r.stats.pages, failed = r.stats.failed, documents = r.stats.documents, "pass finished");
                    },
                    Err(e) => tracing::error!(error = %e, "crawl pass failed (state store)"),
                },
                // Dropping the pass stops its fetches; what they had not
                // recorded is fetched again on the next start.
                _ = shutdown.changed() => break,
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                sites = session_imported(&crawler, started, poll) => {
                    tracing::info!(sites = ?sites, "a session was imported: crawling at once");
                }
                _ = shutdown.changed() => break,
            }
        }
    })
}

/// The sinks that take operator events: those for every customer that an
/// operator reads (a file, a webhook, mail), not the CTI platforms.
fn operator_sinks(config: &Config) -> Vec<String> {
    config
        .sinks
        .iter()
        .filter(|s| s.customers.is_empty())
        .filter(|s| {
            matches!(
                s.kind,
                SinkKind::Jsonl { .. } | SinkKind::Webhook { .. } | SinkKind::Email { .. }
            )
        })
        .map(|s| s.name.clone())
        .collect()
}

/// Waits until an operator imports a session (for any site) after `since`,
/// looking every `poll`; returns the sites.
async fn session_imported(crawler: &Crawler, since: i64, poll: Duration) -> Vec<String> {
    loop {
        tokio::time::sleep(poll).await;
        match crawler.sessions_imported_since(since) {
            Ok(sites) if !sites.is_empty() => return sites,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot look for imported sessions"),
        }
    }
}

/// Counts (and logs the new alerts of) what the consume loop did.
fn count(event: Consumed, metrics: &Metrics) {
    match event {
        Consumed::Document {
            raised,
            set_aside,
            queued,
        } => {
            for raised in raised.iter().filter(|r| r.is_new()) {
                metrics.alerts_raised.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(customer = %raised.alert.customer, asset = %raised.alert.asset, doc = %raised.alert.doc_id, severity = ?raised.alert.severity, "alert");
            }
            if set_aside {
                metrics.dead_letters.fetch_add(1, Ordering::Relaxed);
            }
            metrics.documents.fetch_add(1, Ordering::Relaxed);
            metrics.queue_depth.store(queued as u64, Ordering::Relaxed);
        }
        Consumed::RetroHunt { raised } => count_retro_hunt(&raised, metrics),
        Consumed::Committed {
            index_docs,
            evidence_bytes,
        } => {
            metrics.index_docs.store(index_docs, Ordering::Relaxed);
            metrics
                .evidence_bytes
                .store(evidence_bytes, Ordering::Relaxed);
        }
    }
}

fn count_retro_hunt(raised: &[RaisedAlert], metrics: &Metrics) {
    let new = raised.iter().filter(|r| r.is_new()).count();
    metrics
        .alerts_raised
        .fetch_add(new as u64, Ordering::Relaxed);
    tracing::warn!(new, "retro-hunt over the index finished");
}

/// After the consume loop: waits for the scheduler, stops the reloader, and
/// gives the delivery task's last round what is left of the deadline.
async fn wind_down(
    scheduler: JoinHandle<()>,
    reloader: JoinHandle<()>,
    delivery: JoinHandle<()>,
    deadline: Duration,
) {
    let started = Instant::now();
    let _ = scheduler.await;
    reloader.abort();
    match tokio::time::timeout(deadline.saturating_sub(started.elapsed()), delivery).await {
        Ok(_) => tracing::info!("outbox flushed"),
        Err(_) => tracing::warn!(
            "outbox not flushed before the deadline; pending deliveries go out on the next start"
        ),
    }
}
