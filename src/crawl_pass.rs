//! One crawl pass over a list of sites for the one-shot commands (`crawl
//! --once`, `demo`): a progress line per site while it runs, every document
//! down the pipeline's consume loop, a summary table after. Never runs on a
//! schedule: that is the service's.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use crawler::{
    CookieVault, CrawlOptions, CrawlStats, Crawler, Delivery, FetchOptions, Fetcher, Frontier,
    SiteEvent, SiteOutcome, SiteProfile, SiteReport, Transport,
};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

use crate::paths;
use crate::pipeline::{Consumed, Pipeline, RaisedAlert};

/// What a crawl of several sites did.
pub(crate) struct CrawlOutcome {
    pub sites: Vec<(String, CrawlStats)>,
    pub reports: Vec<SiteReport>,
    pub alerts: Vec<RaisedAlert>,
    /// Documents set aside as dead letters.
    pub set_aside: usize,
}

/// A row per site (pages, 304s, unchanged, documents, errors, KiB, state),
/// then the totals: `documents` indexed, alerts, dead letters.
pub(crate) fn print_summary(outcome: &CrawlOutcome, documents: usize) {
    println!(
        "{:<20} {:>6} {:>5} {:>9} {:>6} {:>6} {:>9}  state",
        "site", "pages", "304", "unchanged", "docs", "errors", "KiB"
    );
    for report in &outcome.reports {
        let s = &report.stats;
        let state = match &report.outcome {
            SiteOutcome::Finished if s == &CrawlStats::default() => match report.next_due {
                Some(at) => format!("nothing due; next at {}", at.format("%Y-%m-%d %H:%M UTC")),
                None => "nothing due".to_owned(),
            },
            SiteOutcome::Finished => "finished".to_owned(),
            SiteOutcome::PageLimit => "page limit reached".to_owned(),
            SiteOutcome::Paused { until, reason } => {
                format!(
                    "paused until {} ({reason})",
                    until.format("%Y-%m-%d %H:%M UTC")
                )
            }
            SiteOutcome::LoggedOut => "STOPPED: logged out, renew its cookies".to_owned(),
            SiteOutcome::NeedsHuman { reason } => format!(
                "STOPPED: {reason}; `leakwatch session import {} COOKIES.txt` resumes it",
                report.site
            ),
            SiteOutcome::Stopped { reason } => format!("stopped: {reason}"),
        };
        println!(
            "{:<20} {:>6} {:>5} {:>9} {:>6} {:>6} {:>9}  {state}",
            report.site,
            s.pages,
            s.not_modified,
            s.unchanged,
            s.documents,
            s.failed,
            s.bytes / 1024
        );
    }
    let new = outcome.alerts.iter().filter(|r| r.is_new()).count();
    println!(
        "{documents} documents indexed, {} alerts ({new} new)",
        outcome.alerts.len()
    );
    if outcome.set_aside > 0 {
        println!(
            "{} documents set aside as dead letters (`leakwatch sites` lists them)",
            outcome.set_aside
        );
    }
}

/// How a pass reaches the sites, and the limits of its fetches.
pub(crate) struct PassSettings {
    /// Direct, SOCKS or the embedded Tor client's bridge.
    pub(crate) transport: Transport,
    /// Timeouts, size cap, transfer-rate floor of each fetch.
    pub(crate) fetch: FetchOptions,
    /// Crawl-wide limits: the ceiling on requests in flight.
    pub(crate) crawl: CrawlOptions,
}

/// One pass over `sites` with the durable frontier in the data folder's
/// state store: only what is due is fetched (`fresh` forgets the sites'
/// history first, as the demo does). Every document goes through
/// `pipeline`'s consume loop (its commit policy, its dead letters).
pub(crate) async fn run(
    sites: Vec<SiteProfile>,
    settings: PassSettings,
    frontier: Frontier,
    data_dir: &Path,
    fresh: bool,
    pipeline: &mut Pipeline,
) -> anyhow::Result<CrawlOutcome> {
    let state_db = paths::state_db(data_dir);
    let fetcher = Arc::new(
        Fetcher::new(settings.transport, settings.fetch)?
            .with_cookie_vault(CookieVault::open(&state_db)?),
    );
    let crawler = Crawler::new(fetcher, frontier, settings.crawl);
    if fresh {
        for site in &sites {
            crawler.with_frontier(|f| f.forget_site(site.name()))?;
        }
    }
    let progress = SiteProgress::new(&sites);
    let (tx, rx) = mpsc::channel::<Delivery>(256);
    let on_event = {
        let progress = progress.clone();
        move |event: SiteEvent<'_>| progress.event(&event)
    };
    let crawl = crawler.crawl_once(sites, tx, on_event);
    let mut alerts = Vec::new();
    let mut set_aside = 0;
    let consume = pipeline.consume(&crawler, rx, None, |event| {
        if let Consumed::Document {
            raised,
            set_aside: aside,
            ..
        } = event
        {
            alerts.extend(raised);
            set_aside += usize::from(aside);
        }
    });
    let (reports, consumed) = tokio::join!(crawl, consume);
    progress.finish();
    let reports = reports.context("the crawl state store failed")?;
    consumed?;
    Ok(CrawlOutcome {
        sites: reports.iter().map(|r| (r.site.clone(), r.stats)).collect(),
        reports,
        alerts,
        set_aside,
    })
}

/// One progress line per site: pages, bytes, errors.
#[derive(Clone)]
struct SiteProgress {
    multi: MultiProgress,
    bars: Arc<HashMap<String, ProgressBar>>,
    counters: Arc<Mutex<HashMap<String, (usize, usize)>>>,
}

impl SiteProgress {
    fn new(sites: &[SiteProfile]) -> SiteProgress {
        let multi = MultiProgress::new();
        let style = ProgressStyle::with_template("{spinner} {prefix:<20} {pos:>6} pages  {msg}")
            .expect("progress template is valid");
        let bars = sites
            .iter()
            .map(|s| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(style.clone());
                bar.set_prefix(s.name().to_owned());
                bar.enable_steady_tick(Duration::from_millis(120));
                (s.name().to_owned(), bar)
            })
            .collect();
        SiteProgress {
            multi,
            bars: Arc::new(bars),
            counters: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn event(&self, event: &SiteEvent<'_>) {
        let (site, bytes, error) = match event {
            SiteEvent::Fetched { site, bytes, .. } => (*site, *bytes, false),
            SiteEvent::NotModified { site, .. } => (*site, 0, false),
            SiteEvent::Failed {
                site, url, error, ..
            } => {
                self.multi
                    .println(format!("warning: {site}: {url}: {error}"))
                    .ok();
                (*site, 0, true)
            }
            SiteEvent::Paused {
                site,
                until,
                reason,
            } => {
                self.multi
                    .println(format!(
                        "warning: {site}: paused until {}: {reason}",
                        until.format("%Y-%m-%d %H:%M UTC")
                    ))
                    .ok();
                return;
            }
            SiteEvent::LoggedOut { site, url } => {
                self.multi
                    .println(format!(
                        "WARNING: {site}: logged out ({url} is the login page); the site is stopped until its cookies are renewed"
                    ))
                    .ok();
                return;
            }
            SiteEvent::NeedsHuman { site, url, wall } => {
                self.multi
                    .println(format!(
                        "WARNING: {site}: {url} is {wall}; the site is stopped until a person passes it and imports the session (`leakwatch session import {site} COOKIES.txt`)"
                    ))
                    .ok();
                return;
            }
        };
        let Some(bar) = self.bars.get(site) else {
            return;
        };
        let mut counters = self
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let c = counters.entry(site.to_owned()).or_default();
        c.0 += bytes;
        if error {
            c.1 += 1;
        } else {
            bar.inc(1);
        }
        bar.set_message(format!("{} KiB  {} errors", c.0 / 1024, c.1));
    }

    fn finish(&self) {
        for bar in self.bars.values() {
            bar.finish_and_clear();
        }
    }
}
