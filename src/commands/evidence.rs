//! `leakwatch evidence ALERT_ID|DOC_ID [--out FILE.zip]`: the evidence
//! bundle of an alert or a document (the page as received, its text, the
//! metadata, a `sha256sum -c` manifest), and `leakwatch evidence gc`, which
//! prunes the archive by its retention settings.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::alert_store::AlertStore;
use crate::config::{Config, EvidenceConfig};
use crate::evidence::{self, EvidenceStore};
use crate::{paths, GlobalArgs};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct EvidenceArgs {
    #[command(subcommand)]
    action: Option<EvidenceAction>,
    /// An alert id (as `leakwatch alerts` prints it after `#`) or a
    /// document id (`site:…`).
    id: Option<String>,
    /// Where to write the bundle (default: evidence-ID.zip here).
    #[arg(long, value_name = "FILE.zip")]
    out: Option<PathBuf>,
    /// Print the bundle's metadata (the page's facts and every version of
    /// the document, with what changed) as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum EvidenceAction {
    /// Remove pages of no alert older than `evidence_days`, then the oldest
    /// of them while the archive is over `evidence_max_bytes`; never an
    /// alert's evidence.
    Gc {
        /// Read `evidence_days` and `evidence_max_bytes` from this config
        /// (default: 30 days, 10 GiB).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print what was removed as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(global: &GlobalArgs, args: EvidenceArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.action {
        Some(EvidenceAction::Gc {
            config: Some(path), ..
        }) => Some(Config::load(path)?),
        _ => None,
    };
    let data_dir = match (
        &global.data_dir,
        config.as_ref().and_then(|c| c.data_dir.as_ref()),
    ) {
        (Some(d), _) | (None, Some(d)) => d.clone(),
        (None, None) => paths::data_dir(None)?,
    };
    let db = paths::existing_state_db(&data_dir, "`leakwatch crawl` or `leakwatch run`")?;
    let alerts = AlertStore::open(&db)?;
    let store = EvidenceStore::open(&data_dir, &db)?;
    match args.action {
        Some(EvidenceAction::Gc { json, .. }) => {
            let settings = config.map(|c| c.evidence).unwrap_or_default();
            gc(&store, &settings, json)
        }
        None => {
            let Some(id) = args.id else {
                anyhow::bail!("give an alert id or a document id (or `gc`); see --help");
            };
            write_bundle(&store, &alerts, &id, args.out, args.json)
        }
    }
}

fn gc(store: &EvidenceStore, settings: &EvidenceConfig, json: bool) -> anyhow::Result<ExitCode> {
    let report = store.gc(
        evidence::retention(settings),
        chrono::Utc::now().timestamp(),
    )?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "removed {} page(s) past {} days and {} over the {}-byte budget, {} stray file(s); \
             {} bytes before, {} after ({} of them alert evidence, never removed)",
            report.expired,
            settings.max_age.as_secs() / 86_400,
            report.over_budget,
            settings.max_bytes,
            report.orphan_files,
            report.bytes_before,
            report.bytes_after,
            report.protected_bytes,
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn write_bundle(
    store: &EvidenceStore,
    alerts: &AlertStore,
    id: &str,
    out: Option<PathBuf>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let Some(subject) = evidence::find(store, alerts, id)? else {
        eprintln!(
            "no evidence for {id:?}: no such alert or document, or its page was not kept \
             (alerts raised before the archive existed, or by a retro-hunt over a page that \
             was not archived; `evidence = \"all\"` keeps every page)"
        );
        return Ok(ExitCode::from(1));
    };
    let zip = evidence::bundle(store, &subject)?;
    let out = out.unwrap_or_else(|| {
        let safe: String = id
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        PathBuf::from(format!("evidence-{safe}.zip"))
    });
    write_file(&out, &zip)?;
    if json {
        println!("{}", serde_json::to_string(&evidence::metadata(&subject))?);
    } else {
        println!(
            "wrote {} ({} bytes): {} version {} of {}, page {} ({} bytes, {}), SHA-256 {}",
            out.display(),
            zip.len(),
            subject.doc_id,
            subject.version.version,
            subject.versions.len(),
            subject.capture.final_url,
            subject.capture.size,
            subject.capture.encoding,
            subject.capture.sha256,
        );
        for v in &subject.versions {
            let changed: Vec<String> = v
                .changes
                .iter()
                .map(|c| match c.field.as_str() {
                    "text" => "text".to_owned(),
                    f => format!(
                        "{f} {} → {}",
                        c.from.as_deref().unwrap_or("(none)"),
                        c.to.as_deref().unwrap_or("(none)")
                    ),
                })
                .collect();
            println!(
                "  version {} at {}: {}",
                v.version,
                v.recorded_at,
                if changed.is_empty() {
                    "first seen".to_owned()
                } else {
                    changed.join(", ")
                }
            );
        }
        println!(
            "check it without leakwatch: unzip it, then `sha256sum -c {}`",
            evidence::MANIFEST
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to `path` whole or not at all (temp file, rename).
fn write_file(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut temp = tempfile_in(&dir)?;
    std::io::Write::write_all(&mut temp.1, bytes)
        .and_then(|_| temp.1.sync_all())
        .and_then(|_| std::fs::rename(&temp.0, path))
        .with_context(|| format!("cannot write {}", path.display()))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&temp.0);
        })
}

fn tempfile_in(dir: &std::path::Path) -> anyhow::Result<(PathBuf, std::fs::File)> {
    let path = dir.join(format!(".leakwatch-evidence-{}.tmp", std::process::id()));
    let file = std::fs::File::create(&path)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    Ok((path, file))
}
