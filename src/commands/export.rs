//! `leakwatch export`: alerts from the state store as one STIX 2.1 bundle or
//! MISP events, for threat-intelligence platforms. Reads the store, the index
//! (a listing's title, seller, price) and the watchlists (asset kinds and
//! domains); never changes any of them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::builder::PossibleValuesParser;
use clap::{Args, ValueEnum};
use indexer::DocumentIndex;
use watchlists::WatchlistSet;

use crate::alert_store::{AlertFilter, AlertStore};
use crate::commands::parse_date;
use crate::config::Config;
use crate::export::{misp, stix, ExportAlert, Tlp};
use crate::{paths, GlobalArgs};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// One STIX 2.1 bundle.
    Stix,
    /// MISP events (`{"response": [{"Event": …}, …]}`).
    Misp,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum MispGroup {
    /// One event per alert.
    Alert,
    /// One event per customer per day the alerts were first seen.
    Day,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum)]
    format: Format,
    /// Only this customer's alerts.
    #[arg(long)]
    customer: Option<String>,
    /// First seen at or after: 2026-11-01, RFC 3339, or 7d.
    #[arg(long, value_parser = parse_date)]
    since: Option<DateTime<Utc>>,
    /// Only alerts in this status: new, delivered or acknowledged.
    #[arg(long, value_parser = PossibleValuesParser::new(["new", "delivered", "acknowledged"]))]
    status: Option<String>,
    /// Write here (atomically) instead of to standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Traffic Light Protocol marking of everything exported.
    #[arg(long, default_value = "amber", value_parser = PossibleValuesParser::new(Tlp::NAMES))]
    tlp: String,
    /// MISP only: one event per alert, or per customer per day.
    #[arg(long, value_enum, default_value_t = MispGroup::Alert)]
    misp_group: MispGroup,
    /// Watchlist file or folder, for the assets' kinds and domains (default:
    /// the config's, or the demo's copy in the data folder).
    #[arg(long, value_name = "PATH")]
    watchlists: Option<PathBuf>,
    /// The service configuration: its data folder and watchlists.
    #[arg(long, value_name = "FILE", conflicts_with = "watchlists")]
    config: Option<PathBuf>,
}

pub(crate) fn run(global: &GlobalArgs, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let config = args.config.as_deref().map(Config::load).transpose()?;
    let data_dir = match (
        &global.data_dir,
        config.as_ref().and_then(|c| c.data_dir.as_ref()),
    ) {
        (Some(d), _) | (None, Some(d)) => d.clone(),
        (None, None) => paths::data_dir(None)?,
    };
    let db = paths::state_db(&data_dir);
    if !db.exists() {
        anyhow::bail!(
            "{}: no state store yet; run `leakwatch demo` or `leakwatch crawl` first",
            db.display()
        );
    }
    let tlp = Tlp::parse(&args.tlp).expect("clap allows only Tlp::NAMES");
    let filter = AlertFilter {
        customer: args.customer.clone(),
        status: args.status.clone(),
        since: args.since,
    };
    let stored = AlertStore::open(&db)?.list(&filter)?;

    let watchlist_path = args
        .watchlists
        .clone()
        .or_else(|| config.as_ref().map(|c| c.watchlists.clone()))
        .or_else(|| {
            let demo = data_dir.join("demo").join("watchlists");
            demo.is_dir().then(|| {
                eprintln!("using the demo's watchlists in {}", demo.display());
                demo
            })
        });
    let set = match &watchlist_path {
        Some(path) => Some(
            WatchlistSet::load(path)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| {
                    format!(
                        "{}: the watchlists have errors (check with `leakwatch watchlist check`)",
                        path.display()
                    )
                })?,
        ),
        None => {
            eprintln!(
                "note: no watchlists (--watchlists PATH or --config FILE): victims carry only \
                 the asset names, and no hosts, addresses or indicators are exported"
            );
            None
        }
    };
    let index = match DocumentIndex::open(&paths::index_dir(&data_dir)) {
        Ok(index) => Some(index),
        Err(e) => {
            eprintln!(
                "note: no listing details (title, seller, price): the index cannot be read: {e}"
            );
            None
        }
    };

    // The pages the alerts were raised on, when the evidence archive has them.
    let evidence = crate::evidence::EvidenceStore::open(&data_dir, &db).ok();
    let mut alerts = Vec::with_capacity(stored.len());
    let mut unreadable = 0;
    for s in stored {
        let document = match index.as_ref().map(|i| i.get(&s.alert.doc_id)) {
            Some(Ok(doc)) => doc,
            Some(Err(e)) => {
                unreadable += 1;
                tracing::warn!(doc = %s.alert.doc_id, error = %e, "cannot read the alerted document");
                None
            }
            None => None,
        };
        let asset = set.as_ref().and_then(|set| {
            set.watchlists()
                .iter()
                .filter(|w| w.customer() == s.alert.customer)
                .flat_map(|w| w.assets())
                .find(|a| a.id() == s.alert.asset)
        });
        let page = match &evidence {
            Some(store) => crate::evidence::alert_page(store, &s)?,
            None => None,
        };
        let mut alert = ExportAlert::new(s, document.as_ref(), asset)?;
        alert.evidence = page;
        alerts.push(alert);
    }
    if unreadable > 0 {
        eprintln!(
            "note: {unreadable} alerted document(s) could not be read from the index (see the log)"
        );
    }

    let (value, what) = match args.format {
        Format::Stix => {
            let bundle = stix::bundle(&alerts, tlp);
            let n = bundle["objects"].as_array().map_or(0, Vec::len);
            (bundle, format!("a STIX 2.1 bundle of {n} objects"))
        }
        Format::Misp => {
            let grouping = match args.misp_group {
                MispGroup::Alert => misp::Grouping::Alert,
                MispGroup::Day => misp::Grouping::Day,
            };
            let events = misp::events(&alerts, grouping, tlp);
            let n = events["response"].as_array().map_or(0, Vec::len);
            (events, format!("{n} MISP event(s)"))
        }
    };
    let mut bytes = serde_json::to_vec_pretty(&value).context("serialising the export")?;
    bytes.push(b'\n');
    match &args.out {
        Some(path) => write_atomically(path, &bytes)?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)
                .and_then(|_| out.flush())
                .context("writing the export")?;
        }
    }
    let target = args
        .out
        .as_ref()
        .map(|p| format!(" to {}", p.display()))
        .unwrap_or_default();
    eprintln!(
        "exported {} alert(s) as {what}{target} (TLP:{})",
        alerts.len(),
        tlp.name().to_uppercase()
    );
    Ok(if alerts.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over
/// `path`: a reader never sees half an export.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{}: not a file name", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
