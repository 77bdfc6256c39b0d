//! `leakwatch crawl --config FILE --once`: one pass over every configured
//! site, then index and match what was found.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use crawler::Frontier;
use watchlists::{Matcher, WatchlistSet};

use crate::commands::use_colour;
use crate::config::Config;
use crate::crawl_pass::{self, print_summary};
use crate::format::format_alert;
use crate::pipeline::{CommitPolicy, Pipeline};
use crate::{paths, GlobalArgs};

#[derive(Debug, Args)]
pub(crate) struct CrawlArgs {
    /// The service configuration (leakwatch.toml).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// One pass, then exit (the only mode of `crawl`; `leakwatch run` is the
    /// continuous service).
    #[arg(long)]
    once: bool,
}

pub(crate) fn run(global: &GlobalArgs, args: CrawlArgs) -> anyhow::Result<ExitCode> {
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
    let mut pipeline = Pipeline::open(&data_dir, Matcher::new(&set))?
        .with_commit_policy(CommitPolicy::from_schedule(&config.schedule))
        .with_evidence(&config.evidence, crate::tor::transport_name(&config.tor));
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let outcome = runtime.block_on(async {
        let tor = crate::tor::connect(&config.tor, &data_dir, true).await?;
        crawl_pass::run(
            config.sites,
            crawl_pass::PassSettings {
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
