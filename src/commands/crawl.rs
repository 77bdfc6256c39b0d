//! `leakwatch crawl --config FILE --once`: one pass over every configured
//! site, then index and match what was found.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use crawler::{
    CookieVault, CrawlOptions, CrawlStats, Crawler, Delivery, FetchOptions, Fetcher, Frontier,
    Receipt, SiteEvent, SiteOutcome, SiteProfile, SiteReport, Transport,
};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tokio::sync::mpsc;
use watchlists::{Matcher, WatchlistSet};

use crate::commands::{format_alert, use_colour};
use crate::config::Config;
use crate::pipeline::{Pipeline, RaisedAlert};
use crate::{paths, GlobalArgs};

#[derive(Debug, Args)]
pub struct CrawlArgs {
    /// The service configuration (leakwatch.toml).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// One pass, then exit (the only mode of `crawl`; `leakwatch run` is the
    /// continuous service).
    #[arg(long)]
    once: bool,
}

/// What a crawl of several sites did.
pub struct CrawlOutcome {
    pub sites: Vec<(String, CrawlStats)>,
    pub reports: Vec<SiteReport>,
    pub alerts: Vec<RaisedAlert>,
}

pub fn run(global: &GlobalArgs, args: CrawlArgs) -> anyhow::Result<ExitCode> {
    if !args.once {
        eprintln!("note: `crawl` makes one pass; `--once` says so explicitly");
    }
    let config = Config::load(&args.config)?;
    let data_dir = match (&global.data_dir, &config.data_dir) {
        (Some(d), _) | (None, Some(d)) => d.clone(),
        (None, None) => paths::data_dir(None)?,
    };
    // The frontier first: its lock refuses a second crawler on this data
    // dir before the index is opened or Tor started.
    let frontier = Frontier::open(&paths::state_db(&data_dir))?;
    let set = WatchlistSet::load(&config.watchlists)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("the watchlists have errors (check with `leakwatch watchlist check`)")?;
    let mut pipeline = Pipeline::open(&data_dir, Matcher::new(&set))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let outcome = runtime.block_on(async {
        let tor = crate::tor::connect(&config.tor, &data_dir, true).await?;
        crawl_sites(
            config.sites,
            PassSettings {
                transport: tor.transport.clone(),
                fetch: config.fetch,
                crawl: config.crawl,
            },
            frontier,
            &data_dir,
            false,
            &mut pipeline,
        )
        .await
    })?;
    let colour = use_colour();
    for raised in outcome.alerts.iter().filter(|r| r.is_new()) {
        println!(
            "{}\n",
            format_alert(&raised.alert, Some(raised.recorded.id()), colour)
        );
    }
    print_summary(&outcome, pipeline.documents);
    let failed = outcome
        .sites
        .iter()
        .any(|(_, s)| s.pages == 0 && s.failed > 0);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn print_summary(outcome: &CrawlOutcome, documents: usize) {
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
}

/// Documents between index commits (after which their frontier receipts
/// are acknowledged), and the longest wait between commits.
const ACK_EVERY_DOCS: usize = 100;
const ACK_EVERY: Duration = Duration::from_secs(2);

/// How a pass reaches the sites, and the limits of its fetches.
pub struct PassSettings {
    pub transport: Transport,
    pub fetch: FetchOptions,
    /// Crawl-wide limits: the ceiling on requests in flight.
    pub crawl: CrawlOptions,
}

/// One pass over `sites` with the durable frontier in the data folder's
/// state store: only what is due is fetched (`fresh` forgets the sites'
/// history first, as the demo does). Every document goes through
/// `pipeline`; frontier receipts are acknowledged only after an index
/// commit, so a kill at any point redelivers instead of losing documents.
pub async fn crawl_sites(
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
            crawler.frontier().forget_site(site.name())?;
        }
    }
    let progress = SiteProgress::new(&sites);
    let (tx, mut rx) = mpsc::channel::<Delivery>(256);
    let on_event = {
        let progress = progress.clone();
        move |event: SiteEvent<'_>| progress.event(&event)
    };
    let ticking = progress.tick();
    let crawl = crawler.crawl_once(sites, tx, on_event);
    let consume = async {
        let mut alerts = Vec::new();
        let mut receipts: Vec<Receipt> = Vec::new();
        let mut last_commit = Instant::now();
        while let Some(delivery) = rx.recv().await {
            alerts.extend(pipeline.process(&delivery.document)?);
            receipts.push(delivery.receipt);
            if receipts.len() >= ACK_EVERY_DOCS || last_commit.elapsed() >= ACK_EVERY {
                pipeline.commit()?;
                crawler.acknowledge(&receipts)?;
                receipts.clear();
                last_commit = Instant::now();
            }
        }
        pipeline.commit()?;
        crawler.acknowledge(&receipts)?;
        anyhow::Ok(alerts)
    };
    let (reports, alerts) = tokio::join!(crawl, consume);
    ticking.abort();
    progress.finish();
    let reports = reports.context("the crawl state store failed")?;
    let alerts = alerts?;
    Ok(CrawlOutcome {
        sites: reports.iter().map(|r| (r.site.clone(), r.stats)).collect(),
        reports,
        alerts,
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

    /// Spins every site's line from one task: a steady tick per bar is a
    /// thread per site (and hundreds of threads spread the allocator over
    /// as many memory arenas).
    fn tick(&self) -> tokio::task::JoinHandle<()> {
        let bars = self.bars.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(120));
            loop {
                every.tick().await;
                for bar in bars.values() {
                    bar.tick();
                }
            }
        })
    }

    fn finish(&self) {
        for bar in self.bars.values() {
            bar.finish_and_clear();
        }
    }
}
