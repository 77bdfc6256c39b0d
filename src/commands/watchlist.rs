//! `leakwatch watchlist check` (validate with file:line errors) and
//! `leakwatch watchlist retro-hunt` (run watchlists over the whole index).

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Subcommand;
use watchlists::{Matcher, WatchlistSet};

use crate::commands::{parse_date, use_colour};
use crate::format::format_alert;
use crate::pipeline::Pipeline;
use crate::{paths, GlobalArgs};

#[derive(Debug, Subcommand)]
pub(crate) enum WatchlistCommand {
    /// Validate a watchlist file or folder; print every problem as file:line.
    Check { path: PathBuf },
    /// Run a (new or changed) watchlist over every document already in the
    /// index and raise the alerts it would have raised.
    RetroHunt {
        /// A watchlist file or folder.
        path: PathBuf,
        /// Only documents posted (or fetched) since: 2026-11-01, RFC 3339, or 30d.
        #[arg(long, value_parser = parse_date)]
        since: Option<DateTime<Utc>>,
        /// One JSON alert a line.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(global: &GlobalArgs, command: WatchlistCommand) -> anyhow::Result<ExitCode> {
    match command {
        WatchlistCommand::Check { path } => match WatchlistSet::load(&path) {
            Ok(set) => {
                let customers: Vec<&str> = set.customers().collect();
                println!(
                    "{}: OK — {} customer(s) ({}), {} asset(s)",
                    path.display(),
                    customers.len(),
                    customers.join(", "),
                    set.asset_count()
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(errors) => {
                eprintln!("{errors}");
                Ok(ExitCode::from(1))
            }
        },
        WatchlistCommand::RetroHunt { path, since, json } => {
            let set = WatchlistSet::load(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
            let assets: HashSet<String> = set
                .watchlists()
                .iter()
                .flat_map(|w| {
                    w.assets()
                        .iter()
                        .map(move |a| format!("{}/{}", w.customer(), a.id()))
                })
                .collect();
            let data_dir = paths::data_dir(global.data_dir.as_deref())?;
            if !paths::index_dir(&data_dir).exists() {
                anyhow::bail!(
                    "{}: no index yet; run `leakwatch demo` or `leakwatch crawl` first",
                    paths::index_dir(&data_dir).display()
                );
            }
            let mut pipeline = Pipeline::open(&data_dir, Matcher::new(&set))?;
            let raised = pipeline.retro_hunt(&assets, since)?;
            let colour = use_colour();
            for r in &raised {
                if json {
                    println!("{}", serde_json::to_string(&r.alert)?);
                } else {
                    println!(
                        "{}\n",
                        format_alert(&r.alert, Some(r.recorded.id()), colour)
                    );
                }
            }
            let new = raised.iter().filter(|r| r.is_new()).count();
            eprintln!("retro-hunt: {} alert(s), {new} new", raised.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}
