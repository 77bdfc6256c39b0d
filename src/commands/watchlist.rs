//! `leakwatch watchlist check`: validate watchlist files with file:line errors.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use watchlists::WatchlistSet;

#[derive(Debug, Subcommand)]
pub enum WatchlistCommand {
    /// Validate a watchlist file or folder; print every problem as file:line.
    Check { path: PathBuf },
}

pub fn run(command: WatchlistCommand) -> anyhow::Result<ExitCode> {
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
    }
}
