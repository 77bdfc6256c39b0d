//! `leakwatch sites`: what the state store knows of each crawled site —
//! URLs known, fetched, failing (with the reason) and due, a pause, and the
//! documents set aside as dead letters with their errors. Only reads.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Args;
use crawler::Frontier;

use crate::dead_letters::{DeadLetter, DeadLetters};
use crate::{paths, GlobalArgs};

#[derive(Debug, Args)]
pub(crate) struct SitesArgs {
    /// One JSON object a site, dead letters included.
    #[arg(long)]
    json: bool,
}

/// One site's report.
#[derive(Debug, serde::Serialize)]
struct SiteReport {
    site: String,
    urls: u64,
    fetched: u64,
    failing: u64,
    due: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    paused: Option<String>,
    /// URLs whose last attempt failed, with the reason (a page too slow to
    /// come, a status, a refusal).
    failing_urls: Vec<FailingUrl>,
    dead_letters: Vec<DeadLetter>,
}

#[derive(Debug, serde::Serialize)]
struct FailingUrl {
    url: String,
    error: String,
}

/// Failing URLs shown per site without `--json`.
const SHOWN_FAILURES: usize = 10;

pub(crate) fn run(global: &GlobalArgs, args: SitesArgs) -> anyhow::Result<ExitCode> {
    let data_dir = paths::data_dir(global.data_dir.as_deref())?;
    let db = paths::existing_state_db(&data_dir, "`leakwatch crawl` or `leakwatch run`")?;
    let frontier = Frontier::open_for_report(&db)?;
    // The frontier keeps times in Unix milliseconds.
    let now = chrono::Utc::now().timestamp_millis();
    let mut letters: BTreeMap<String, Vec<DeadLetter>> = BTreeMap::new();
    for letter in DeadLetters::open(&db)?.list()? {
        letters.entry(letter.site.clone()).or_default().push(letter);
    }
    let mut names = frontier.sites()?;
    names.extend(letters.keys().cloned());
    names.sort();
    names.dedup();
    let mut reports = Vec::new();
    for site in names {
        let counts = frontier.counts(&site, now)?;
        let state = frontier.site_state(&site)?;
        let paused = state.paused_until.filter(|t| *t > now).map(|until| {
            let until = chrono::DateTime::from_timestamp_millis(until)
                .map_or_else(|| until.to_string(), |t| t.to_rfc3339());
            match state.pause_reason {
                Some(reason) => format!("until {until}: {reason}"),
                None => format!("until {until}"),
            }
        });
        let failing_urls = frontier
            .failures(&site)?
            .into_iter()
            .map(|(url, error)| FailingUrl { url, error })
            .collect();
        reports.push(SiteReport {
            failing_urls,
            dead_letters: letters.remove(&site).unwrap_or_default(),
            site,
            urls: counts.urls,
            fetched: counts.fetched,
            failing: counts.failed,
            due: counts.due,
            paused,
        });
    }
    if reports.is_empty() {
        eprintln!("{}: no site crawled yet", db.display());
        return Ok(ExitCode::from(1));
    }
    for r in &reports {
        if args.json {
            println!("{}", serde_json::to_string(r)?);
            continue;
        }
        println!(
            "{}: {} URLs, {} fetched, {} failing, {} due, {} dead letters{}",
            r.site,
            r.urls,
            r.fetched,
            r.failing,
            r.due,
            r.dead_letters.len(),
            r.paused
                .as_deref()
                .map_or(String::new(), |p| format!(", paused {p}"))
        );
        for f in r.failing_urls.iter().take(SHOWN_FAILURES) {
            println!("  failing: {}", f.error);
        }
        if r.failing_urls.len() > SHOWN_FAILURES {
            println!(
                "  … and {} more failing URLs (--json lists them all)",
                r.failing_urls.len() - SHOWN_FAILURES
            );
        }
        for d in &r.dead_letters {
            println!("  dead letter {} ({}): {}", d.doc_id, d.url, d.error);
        }
    }
    Ok(ExitCode::SUCCESS)
}
