//! `leakwatch run`: the continuous service. A scheduler runs a crawl pass
//! over every site each `recrawl` interval on the durable frontier (which
//! decides what is due); documents flow through a bounded channel
//! (back-pressure on the crawlers) to the pipeline (match, record, index,
//! batched commits, then acknowledged to the frontier; a document that keeps
//! failing is set aside as a dead letter, a store that fails stops the
//! service); an outbox task delivers alerts to the sinks.
//! SIGHUP or a change in the watchlists folder reloads watchlists and site
//! profiles (a bad file keeps the previous version) and retro-hunts new or
//! changed assets. SIGTERM/SIGINT shut down within the configured deadline.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use crawler::{CookieVault, Crawler, Delivery, Fetcher, Frontier, Receipt, SiteEvent, SiteProfile};
use tokio::sync::{mpsc, watch};
use watchlists::{Matcher, WatchlistSet};

use crate::alert_store::AlertStore;
use crate::config::{load_profiles, Config};
use crate::dead_letters::{self, DeadLetters, Handled};
use crate::metrics::Metrics;
use crate::outbox;
use crate::pipeline::{CommitPolicy, Pipeline};
use crate::sinks::Sinks;
use crate::watched_assets;

/// Documents in flight between the crawlers and the pipeline; when full, the
/// crawlers wait (no unbounded queue).
const DOCUMENT_QUEUE: usize = 256;

/// Pause before a failed document's next try (times the try number).
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// A new generation of watchlists for the pipeline.
struct Reload {
    matcher: Matcher,
    /// `customer/asset` keys that are new or changed: retro-hunt these.
    changed: HashSet<String>,
}

/// Runs the service until SIGTERM/SIGINT.
pub async fn run(config: Config, data_dir: PathBuf) -> anyhow::Result<()> {
    // The durable frontier: only what is due is fetched, and a document is
    // acknowledged only after the index commit that holds it. Opened first:
    // its lock refuses a second crawler on this data dir before anything
    // else is touched.
    let state_db = crate::paths::state_db(&data_dir);
    let frontier = Frontier::open(&state_db)?;
    let metrics = Arc::new(Metrics::default());
    let dead_letters = DeadLetters::open(&state_db)?;
    if let Some(addr) = config.metrics_addr {
        let bound = crate::metrics::serve(addr, metrics.clone()).await?;
        tracing::info!(%bound, "metrics at /metrics, health at /healthz");
    }
    let set = load_watchlists(&config.watchlists)?;
    let mut fingerprints = watched_assets::fingerprints(&set);
    let sinks = Sinks::new(&config.sinks)?;
    let policy = CommitPolicy {
        every_docs: config.schedule.commit_every_docs,
        every: config.schedule.commit_every,
    };
    let mut pipeline =
        Pipeline::open(&data_dir, Matcher::new(&set))?.with_sinks(config.sinks.clone(), policy);
    metrics
        .index_docs
        .store(pipeline.index().num_docs(), Ordering::Relaxed);
    // A watchlist added while the service was down is new to the index too.
    let known_path = data_dir.join("watched-assets.json");
    let previously = watched_assets::read(&known_path);
    let changed_offline = watched_assets::changed(&previously, &fingerprints, &set);
    if !changed_offline.is_empty() && !previously.is_empty() {
        let raised = pipeline.retro_hunt(&changed_offline, None)?;
        report_retro_hunt(&raised, &metrics);
    }
    watched_assets::write(&known_path, &fingerprints);

    let tor = crate::tor::connect(&config.tor, &data_dir, false).await?;
    let fetcher = Arc::new(
        Fetcher::new(tor.transport.clone(), config.fetch.clone())?
            .with_cookie_vault(CookieVault::open(&state_db)?),
    );
    let crawler = Crawler::new(fetcher, frontier, config.crawl.clone());
    let profiles = Arc::new(RwLock::new(config.sites.clone()));
    let (shutdown_tx, shutdown) = watch::channel(false);
    let (docs_tx, mut docs_rx) = mpsc::channel::<Delivery>(DOCUMENT_QUEUE);
    let (reload_tx, mut reload_rx) = mpsc::channel::<Reload>(4);

    // Signals: the first TERM/INT shuts down gracefully, a second quits now;
    // so does the deadline. Quitting loses nothing: fetches not recorded are
    // made again, documents not acknowledged are redelivered, deliveries
    // not marked are retried, all on the next start.
    {
        let shutdown_tx = shutdown_tx.clone();
        let deadline = config.schedule.shutdown_deadline;
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
                    let _ = shutdown_tx.send(true);
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

    // Reloads: SIGHUP, or a change seen in the watchlists folder.
    let reload_task = {
        let watchlist_dir = config.watchlists.clone();
        let sites_dir = config.sites_dir.clone();
        let profiles = profiles.clone();
        let metrics = metrics.clone();
        let poll = config.schedule.reload_poll;
        let mut shutdown = shutdown.clone();
        let known_path = known_path.clone();
        tokio::spawn(async move {
            let mut hup =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            // The folder is watched (inotify) for changes, and polled as
            // well: watches miss changes on some network file systems.
            let (touched_tx, mut touched) = mpsc::channel::<()>(1);
            let _watch = watch_folder(&watchlist_dir, touched_tx);
            let mut seen = folder_state(&watchlist_dir);
            loop {
                let forced = tokio::select! {
                    _ = async { match hup.as_mut() { Some(h) => { h.recv().await; } None => std::future::pending().await } } => true,
                    Some(()) = touched.recv() => {
                        // Let an editor or `cp` finish writing first.
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        while touched.try_recv().is_ok() {}
                        false
                    }
                    _ = tokio::time::sleep(poll) => false,
                    _ = shutdown.changed() => return,
                };
                let now = folder_state(&watchlist_dir);
                if !forced && now == seen {
                    continue;
                }
                seen = now;
                if forced {
                    match load_profiles(&sites_dir) {
                        Ok(new) if !new.is_empty() => {
                            tracing::info!(sites = new.len(), "site profiles reloaded");
                            *profiles
                                .write()
                                .unwrap_or_else(std::sync::PoisonError::into_inner) = new;
                        }
                        Ok(_) => {
                            tracing::error!(dir = %sites_dir.display(), "no site profiles after reload; keeping the previous ones")
                        }
                        Err(e) => {
                            metrics.reload_failures.fetch_add(1, Ordering::Relaxed);
                            tracing::error!(error = %format!("{e:#}"), "site profiles not reloaded; keeping the previous ones");
                        }
                    }
                }
                match load_watchlists(&watchlist_dir) {
                    Ok(set) => {
                        let new = watched_assets::fingerprints(&set);
                        let changed = watched_assets::changed(&fingerprints, &new, &set);
                        tracing::info!(
                            assets = set.asset_count(),
                            changed = changed.len(),
                            "watchlists reloaded"
                        );
                        fingerprints = new;
                        watched_assets::write(&known_path, &fingerprints);
                        metrics.reloads.fetch_add(1, Ordering::Relaxed);
                        if reload_tx
                            .send(Reload {
                                matcher: Matcher::new(&set),
                                changed,
                            })
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        metrics.reload_failures.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(error = %format!("{e:#}"), "watchlists not reloaded; keeping the previous version");
                    }
                }
            }
        })
    };

    // Outbox: deliver due alerts every second; a last round at shutdown.
    let outbox_task = {
        let mut store = AlertStore::open(&crate::paths::state_db(&data_dir))?;
        let reconciled = outbox::reconcile(&mut store, &sinks)?;
        if reconciled > 0 {
            tracing::info!(
                deliveries = reconciled,
                "found written before the last stop; not written again"
            );
        }
        let metrics = metrics.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            loop {
                let stopping = *shutdown.borrow();
                match outbox::deliver_due(&mut store, &sinks).await {
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
                if stopping {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => {}
                }
            }
        })
    };

    // Scheduler: a pass over every site each interval; the frontier decides
    // what is due on each (list re-polls, topic refetches, paused sites).
    let scheduler = {
        let profiles = profiles.clone();
        let metrics = metrics.clone();
        let interval = config.schedule.recrawl;
        let mut shutdown = shutdown.clone();
        let crawler = crawler.clone();
        tokio::spawn(async move {
            loop {
                let current: Vec<SiteProfile> = profiles
                    .read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                let events = metrics.clone();
                let pass = crawler.crawl_once(current, docs_tx.clone(), move |event| match event {
                    SiteEvent::Fetched { site, .. } | SiteEvent::NotModified { site, .. } => {
                        events.page_fetched(site)
                    }
                    SiteEvent::Failed { site, .. } => events.page_failed(site),
                    _ => {}
                });
                tokio::select! {
                    reports = pass => match reports {
                        Ok(reports) => for r in reports {
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
                    _ = shutdown.changed() => break,
                }
            }
            drop(docs_tx);
        })
    };

    // The pipeline: documents and reloads in, batched commits.
    let deadline = config.schedule.shutdown_deadline;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut receipts: Vec<Receipt> = Vec::new();
    let mut last_ack = Instant::now();
    let commit_and_ack =
        |pipeline: &mut Pipeline, receipts: &mut Vec<Receipt>| -> anyhow::Result<()> {
            pipeline.commit()?;
            crawler
                .acknowledge(receipts)
                .context("cannot acknowledge documents in the frontier")?;
            receipts.clear();
            Ok(())
        };
    loop {
        tokio::select! {
            delivery = docs_rx.recv() => match delivery {
                Some(Delivery { document, receipt }) => {
                    // One document that keeps failing is set aside, not
                    // left unacknowledged (it would come back first after
                    // every restart); a failing store stops the service.
                    let handled = dead_letters::with_retries(RETRY_PAUSE, || pipeline.process(&document))
                        .await
                        .map_err(|e| store_failure(e, &shutdown_tx))?;
                    match handled {
                        Handled::Done(raised) => for raised in raised {
                            if raised.is_new() {
                                metrics.alerts_raised.fetch_add(1, Ordering::Relaxed);
                                tracing::warn!(customer = %raised.alert.customer, asset = %raised.alert.asset, doc = %raised.alert.doc_id, severity = ?raised.alert.severity, "alert");
                            }
                        },
                        Handled::SetAside { attempts, error } => {
                            dead_letters
                                .record(&document, attempts, &error)
                                .map_err(|e| store_failure(e, &shutdown_tx))?;
                            metrics.dead_letters.fetch_add(1, Ordering::Relaxed);
                            tracing::error!(site = %document.site, doc = %document.id, url = %document.url, attempts, %error, "document set aside as a dead letter (`leakwatch sites` lists it); going on");
                        }
                    }
                    receipts.push(receipt);
                    metrics.documents.fetch_add(1, Ordering::Relaxed);
                    metrics.queue_depth.store((DOCUMENT_QUEUE - docs_rx.capacity()) as u64, Ordering::Relaxed);
                    if receipts.len() >= config.schedule.commit_every_docs {
                        commit_and_ack(&mut pipeline, &mut receipts)?;
                        last_ack = Instant::now();
                    }
                }
                None => break, // the scheduler is gone: shutting down
            },
            Some(reload) = reload_rx.recv() => {
                pipeline.set_matcher(reload.matcher);
                if !reload.changed.is_empty() {
                    let raised = pipeline.retro_hunt(&reload.changed, None)?;
                    report_retro_hunt(&raised, &metrics);
                }
            }
            _ = tick.tick() => {
                if !receipts.is_empty() && last_ack.elapsed() >= config.schedule.commit_every {
                    commit_and_ack(&mut pipeline, &mut receipts)?;
                    last_ack = Instant::now();
                }
                pipeline.commit_if_due()?;
                metrics.index_docs.store(pipeline.index().num_docs(), Ordering::Relaxed);
            }
        }
    }
    commit_and_ack(&mut pipeline, &mut receipts)?;
    tracing::info!(documents = pipeline.documents, "index committed");
    let started = Instant::now();
    let _ = scheduler.await;
    reload_task.abort();
    match tokio::time::timeout(deadline.saturating_sub(started.elapsed()), outbox_task).await {
        Ok(_) => tracing::info!("outbox flushed"),
        Err(_) => tracing::warn!(
            "outbox not flushed before the deadline; pending deliveries go out on the next start"
        ),
    }
    Ok(())
}

/// Stops the other tasks and says why: the index or the state store cannot
/// be written, which no retry of one document can mend.
fn store_failure(error: anyhow::Error, shutdown: &watch::Sender<bool>) -> anyhow::Error {
    let _ = shutdown.send(true);
    error.context(
        "stopping: the index or the state store cannot be written (disk full? I/O error?); \
         documents not yet acknowledged are processed again after a restart",
    )
}

fn report_retro_hunt(raised: &[crate::pipeline::RaisedAlert], metrics: &Metrics) {
    let new = raised.iter().filter(|r| r.is_new()).count();
    metrics
        .alerts_raised
        .fetch_add(new as u64, Ordering::Relaxed);
    tracing::warn!(new, "retro-hunt over the index finished");
}

fn load_watchlists(path: &Path) -> anyhow::Result<WatchlistSet> {
    WatchlistSet::load(path)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("{}: watchlists have errors", path.display()))
}

/// Watches `dir` for changes (inotify), telling `touched`; `None` (with a
/// warning) where the platform or file system cannot, which leaves the poll.
fn watch_folder(dir: &Path, touched: mpsc::Sender<()>) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            // Full means a reload is already pending.
            let _ = touched.try_send(());
        }
    })
    .and_then(|mut w| {
        w.watch(dir, notify::RecursiveMode::NonRecursive)
            .map(|()| w)
    });
    match watcher {
        Ok(w) => Some(w),
        Err(error) => {
            tracing::warn!(dir = %dir.display(), %error, "cannot watch the watchlists folder; polling it instead");
            None
        }
    }
}

/// Names, sizes and modification times of the folder's TOML files.
fn folder_state(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((e.path(), m.len(), m.modified().ok()))
        })
        .collect();
    out.sort();
    out
}
