//! `leakwatch run --config FILE`: the continuous service (see `service`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::config::Config;
use crate::{init_logging, paths, service, GlobalArgs, LogFormat};

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The service configuration (leakwatch.toml).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
}

pub(crate) fn run(global: &GlobalArgs, args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(&args.config);
    let format = match &config {
        Ok(c) if c.log_json => LogFormat::Json,
        _ => LogFormat::Text,
    };
    init_logging(global, format);
    let config = config?;
    let data_dir = match (&global.data_dir, &config.data_dir) {
        (Some(d), _) | (None, Some(d)) => d.clone(),
        (None, None) => paths::data_dir(None)?,
    };
    tracing::info!(config = %config.path.display(), data_dir = %data_dir.display(), sites = config.sites.len(), sinks = config.sinks.len(), "leakwatch service starting");
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(service::run(config, data_dir))?;
    tracing::info!("leakwatch service stopped");
    Ok(ExitCode::SUCCESS)
}
