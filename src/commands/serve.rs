//! `leakwatch serve`: the analyst console (API and UI) on a data folder,
//! without crawling — beside a running `leakwatch run` on the same data
//! (SQLite WAL readers, an index reader, triage writes through the state
//! store) or on the demo's data.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::alert_store::AlertStore;
use crate::console::{self, ConsoleConfig, ConsoleState};
use crate::{paths, GlobalArgs};

/// Where the console listens unless told otherwise.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (loopback by default; put a TLS proxy in front
    /// for anything else).
    #[arg(long, default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// The watchlists folder, for the watchlists page (default: the demo's,
    /// when the data folder has one).
    #[arg(long)]
    watchlists: Option<PathBuf>,
    /// Mark the session cookie Secure (when a TLS proxy serves the console).
    #[arg(long)]
    secure_cookies: bool,
}

pub(crate) fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let data_dir = paths::data_dir(global.data_dir.as_deref())?;
    let db = paths::existing_state_db(&data_dir, "`leakwatch demo` or `leakwatch run`")?;
    let store = AlertStore::open(&db)?;
    let demo_watchlists = data_dir.join("demo").join("watchlists");
    let watchlists = args
        .watchlists
        .or_else(|| demo_watchlists.is_dir().then_some(demo_watchlists));
    let state = ConsoleState::new(ConsoleConfig {
        store,
        index_dir: paths::index_dir(&data_dir),
        watchlists,
        secure_cookies: args.secure_cookies,
    });
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(serve_until_interrupted(args.listen, state, |bound| {
        // The first line says where; tests and scripts read it.
        println!("console at http://{bound}/");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        tracing::info!(%bound, "console serving");
    }))?;
    Ok(ExitCode::SUCCESS)
}

/// Serves the console on `listen` until the server ends or Ctrl-C;
/// `announce` is told the bound address first.
pub(crate) async fn serve_until_interrupted(
    listen: SocketAddr,
    state: ConsoleState,
    announce: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let (bound, server) = console::serve(listen, state).await?;
    announce(bound);
    tokio::select! {
        _ = server => {}
        r = tokio::signal::ctrl_c() => r.context("cannot wait for Ctrl-C")?,
    }
    Ok(())
}
