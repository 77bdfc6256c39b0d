//! `leakwatch crawl --config FILE --once`: one pass over every configured
//! site, then index and match what was found.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use crawler::{crawl_site, CrawlEvent, CrawlStats, FetchOptions, Fetcher, SiteProfile, Transport};
use indicatif::{ProgressBar, ProgressStyle};
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
    let set = WatchlistSet::load(&config.watchlists)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("the watchlists have errors (check with `leakwatch watchlist check`)")?;
    let mut pipeline = Pipeline::open(&data_dir, Matcher::new(&set))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let outcome = runtime.block_on(crawl_sites(config.sites, config.transport, &mut pipeline))?;
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
    for (site, s) in &outcome.sites {
        println!(
            "{site}: {} pages fetched, {} failed, {} documents, {} KiB",
            s.pages,
            s.failed,
            s.documents,
            s.bytes / 1024
        );
    }
    let new = outcome.alerts.iter().filter(|r| r.is_new()).count();
    println!(
        "{documents} documents indexed, {} alerts ({new} new)",
        outcome.alerts.len()
    );
}

/// Crawls `sites` concurrently (each at its own rate limit) and feeds every
/// document through `pipeline`; commits the index at the end.
pub async fn crawl_sites(
    sites: Vec<SiteProfile>,
    transport: Transport,
    pipeline: &mut Pipeline,
) -> anyhow::Result<CrawlOutcome> {
    let fetcher = Arc::new(Fetcher::new(transport, FetchOptions::default())?);
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {pos} pages  {msg}")
            .expect("progress template is valid"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let (tx, mut rx) = mpsc::channel(256);
    let mut tasks = tokio::task::JoinSet::new();
    for profile in sites {
        let fetcher = fetcher.clone();
        let tx = tx.clone();
        let bar = bar.clone();
        tasks.spawn(async move {
            let stats = crawl_site(&fetcher, &profile, tx, |event| match event {
                CrawlEvent::Fetched { url, .. } => {
                    bar.inc(1);
                    bar.set_message(url.to_string());
                }
                CrawlEvent::Failed { url, error } => {
                    bar.println(format!("warning: {url}: {error}"));
                }
            })
            .await;
            (profile.name, stats)
        });
    }
    drop(tx);
    let mut alerts = Vec::new();
    while let Some(doc) = rx.recv().await {
        alerts.extend(pipeline.process(&doc)?);
    }
    let mut sites = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        sites.push(joined.context("a crawl task panicked")?);
    }
    sites.sort_by(|a, b| a.0.cmp(&b.0));
    pipeline.commit()?;
    bar.finish_and_clear();
    Ok(CrawlOutcome { sites, alerts })
}
