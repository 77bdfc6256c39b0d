//! `leakwatch sites`: what the state store knows of each crawled site — its
//! state (ok, backing off, broken, needs a human, logged out) with the
//! reason, the last success, pages and failures in the last 24 hours, the
//! next fetch due, URLs known, fetched, failing (with the reason) and due,
//! and the documents set aside as dead letters with their errors. Only
//! reads.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Args;
use crawler::Frontier;

use crate::dead_letters::{DeadLetter, DeadLetters};
use crate::site_status::{rfc3339, site_statuses, SiteCondition};
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
    state: SiteCondition,
    /// Why the site is not ok, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// RFC 3339; absent when no page ever came.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_success: Option<String>,
    pages_24h: u64,
    failures_24h: u64,
    /// When the next URL falls due (RFC 3339); absent when none is
    /// scheduled.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_due: Option<String>,
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
    let mut reports = Vec::new();
    for status in site_statuses(&frontier, now)? {
        let site = status.site;
        let state = status.state;
        let paused = state.paused_until.filter(|t| *t > now).map(|until| {
            let until = if until == crawler::NEVER {
                "until a person acts".to_owned()
            } else {
                format!("until {}", rfc3339(until))
            };
            match state.pause_reason {
                Some(reason) => format!("{until}: {reason}"),
                None => until,
            }
        });
        let failing_urls = frontier
            .failures(&site)?
            .into_iter()
            .map(|(url, error)| FailingUrl { url, error })
            .collect();
        reports.push(SiteReport {
            state: status.condition,
            reason: status.reason,
            last_success: status.health.last_success.map(rfc3339),
            pages_24h: status.health.pages_24h,
            failures_24h: status.health.failures_24h,
            next_due: status.health.next_due.map(rfc3339),
            failing_urls,
            dead_letters: letters.remove(&site).unwrap_or_default(),
            site,
            urls: status.counts.urls,
            fetched: status.counts.fetched,
            failing: status.counts.failed,
            due: status.counts.due,
            paused,
        });
    }
    // Sites known only by their dead letters (forgotten by the frontier).
    for (site, dead_letters) in letters {
        reports.push(SiteReport {
            state: SiteCondition::Ok,
            reason: None,
            last_success: None,
            pages_24h: 0,
            failures_24h: 0,
            next_due: None,
            failing_urls: Vec::new(),
            dead_letters,
            site,
            urls: 0,
            fetched: 0,
            failing: 0,
            due: 0,
            paused: None,
        });
    }
    reports.sort_by(|a, b| a.site.cmp(&b.site));
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
            "{}: {}{} — last success {}, 24 h: {} pages, {} failures; next due {}",
            r.site,
            r.state.as_str(),
            r.reason
                .as_deref()
                .map_or(String::new(), |why| format!(" ({why})")),
            r.last_success.as_deref().unwrap_or("never"),
            r.pages_24h,
            r.failures_24h,
            r.next_due.as_deref().unwrap_or("nothing scheduled"),
        );
        println!(
            "  {} URLs, {} fetched, {} failing, {} due, {} dead letters{}",
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
