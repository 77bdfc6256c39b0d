//! `leakwatch`: the command line and the wiring of the crates — crawler →
//! (indexer, watchlists) → alert store. Errors reach the user through
//! `anyhow` here; the crates use typed errors.

mod access;
mod alert_store;
mod commands;
mod config;
mod console;
mod convert;
mod correlation;
mod crawl_pass;
mod dead_letters;
mod delivery;
mod demo_market;
mod evidence;
mod export;
mod format;
mod logging;
mod metrics;
mod neardup;
mod operator_events;
mod paths;
mod pipeline;
mod reload;
mod service;
mod sinks;
mod site_status;
mod tor;
mod triage;
mod watched_assets;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
pub use logging::init_logging;

/// Watches dark-web forums and markets and alerts when an organisation's
/// assets are offered there.
#[derive(Debug, Parser)]
#[command(name = "leakwatch", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Data folder (index in DIR/index, state in DIR/state.db). Default: the
    /// platform data folder + /leakwatch.
    #[arg(long, global = true, env = "LEAKWATCH_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Log format on stderr (default: text, or the config's `log_format` for `run`).
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    /// More logging (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run offline end to end on the bundled demo market: serve it on
    /// loopback, crawl, index, match the example watchlists, print alerts.
    Demo(commands::demo::DemoArgs),
    /// The continuous service: crawl on schedule, index, match, deliver alerts.
    Run(commands::run::RunArgs),
    /// Crawl every site of a config once, then index and match what was found.
    Crawl(commands::crawl::CrawlArgs),
    /// Search the index.
    Search(commands::search::SearchArgs),
    /// Match documents (JSON lines) against watchlists; print alerts.
    Match(commands::match_docs::MatchArgs),
    /// Run a site profile's extraction on a saved page; print documents as JSON lines.
    Extract(commands::extract::ExtractArgs),
    /// Every document, site and seller that shares a wallet, contact or key.
    Pivot(commands::pivot::PivotArgs),
    /// A seller's listings, wallets and contacts, and the other sellers
    /// sharing one of them.
    Actor(commands::actor::ActorArgs),
    /// List alerts from the state store.
    Alerts(commands::alerts::AlertsArgs),
    /// Export alerts as a STIX 2.1 bundle or MISP events.
    Export(commands::export::ExportArgs),
    /// The evidence bundle of an alert or a document (the page as received,
    /// its text, metadata, a `sha256sum -c` manifest); `evidence gc` prunes.
    Evidence(commands::evidence::EvidenceArgs),
    /// Work with site profiles: `site doctor` diagnoses extraction on a page.
    Site {
        #[command(subcommand)]
        command: commands::site::SiteCommand,
    },
    /// What the state store knows of each site, dead letters included.
    Sites(commands::sites::SitesArgs),
    /// Sessions of sites: `session import` hands a site the cookies of a
    /// person's browser (after a login or a CAPTCHA).
    Session {
        #[command(subcommand)]
        command: commands::session::SessionCommand,
    },
    /// Serve the analyst console (API and UI) on the data without crawling.
    Serve(commands::serve::ServeArgs),
    /// Create, list and revoke the console's API tokens.
    Token {
        #[command(subcommand)]
        command: commands::token::TokenCommand,
    },
    /// Work with watchlist files.
    Watchlist {
        #[command(subcommand)]
        command: commands::watchlist::WatchlistCommand,
    },
}

/// glibc's malloc gives each thread that allocates an arena of its own, up
/// to eight a core, and an arena keeps the pages it freed for its next
/// allocations. Between the async runtime's threads, the blocking pool that
/// parses pages and the index writer's threads, a crawl of 100 sites held
/// 250 MB of resident memory for 50 MB of live heap; with two arenas, 100 MB.
/// An operator's own `MALLOC_ARENA_MAX` wins.
#[allow(unsafe_code)] // one call into the C allocator, contract below
fn limit_allocator_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it is called
        // before the process starts any other thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

fn main() -> ExitCode {
    limit_allocator_arenas();
    // arti and the TLS clients share one process-wide crypto provider; it must
    // be chosen before any of them starts.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => commands::run::run(&cli.global, args),
        command => {
            init_logging(&cli.global, LogFormat::Text);
            dispatch(&cli.global, command)
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            if err
                .chain()
                .filter_map(|e| e.downcast_ref::<std::io::Error>())
                .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(global: &GlobalArgs, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => commands::run::run(global, args),
        Command::Demo(args) => commands::demo::run(global, args),
        Command::Crawl(args) => commands::crawl::run(global, args),
        Command::Search(args) => commands::search::run(global, args),
        Command::Match(args) => commands::match_docs::run(args),
        Command::Extract(args) => commands::extract::run(args),
        Command::Pivot(args) => commands::pivot::run(global, args),
        Command::Actor(args) => commands::actor::run(global, args),
        Command::Alerts(args) => commands::alerts::run(global, args),
        Command::Export(args) => commands::export::run(global, args),
        Command::Evidence(args) => commands::evidence::run(global, args),
        Command::Sites(args) => commands::sites::run(global, args),
        Command::Session { command } => commands::session::run(global, command),
        Command::Watchlist { command } => commands::watchlist::run(global, command),
        Command::Site { command } => commands::site::run(global, command),
        Command::Serve(args) => commands::serve::run(global, args),
        Command::Token { command } => commands::token::run(global, command),
    }
}
