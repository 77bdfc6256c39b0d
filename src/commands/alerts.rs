//! `leakwatch alerts`: list alerts from the alert log, or move them through
//! triage (`ack`, `set-status`) as the console does, with the same audit rows.

use std::io::Write;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use crate::alert_store::{AlertFilter, AlertStore};
use crate::commands::{parse_date, use_colour};
use crate::format::format_alert;
use crate::triage::{AlertStatus, StatusChange};
use crate::{paths, GlobalArgs};

#[derive(Debug, Args)]
pub(crate) struct AlertsArgs {
    #[command(subcommand)]
    action: Option<AlertsAction>,
    /// Only this customer's alerts.
    #[arg(long)]
    customer: Option<String>,
    /// Only alerts in this status: new (not yet delivered everywhere),
    /// delivered (to every sink it goes to), acknowledged, investigating,
    /// resolved (a true positive) or false_positive.
    #[arg(long)]
    status: Option<String>,
    /// First seen at or after: 2026-11-01, RFC 3339, or 7d.
    #[arg(long, value_parser = parse_date)]
    since: Option<DateTime<Utc>>,
    /// One JSON alert a line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum AlertsAction {
    /// Mark alerts acknowledged (ids as printed after `#`).
    Ack { ids: Vec<i64> },
    /// Move alerts to a triage status: acknowledged, investigating,
    /// resolved or false_positive (e.g. `set-status 4 7 resolved --note …`).
    SetStatus {
        /// Alert ids, then the status.
        #[arg(required = true, num_args = 2..)]
        ids_then_status: Vec<String>,
        /// Why (kept in the alert's history).
        #[arg(long, default_value = "")]
        note: String,
    },
}

/// Who the audit trail names for a command-line change.
fn cli_actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

/// Applies a triage move; prints what did not move. Exit 1 if any did not.
fn triage(
    store: &AlertStore,
    ids: &[i64],
    to: AlertStatus,
    note: &str,
) -> anyhow::Result<ExitCode> {
    let actor = cli_actor();
    let not_moved = store.set_status(
        ids,
        &StatusChange {
            to,
            note,
            actor: &actor,
            customer: None,
        },
    )?;
    for n in &not_moved {
        eprintln!("{n}");
    }
    let moved = ids.len() - not_moved.len();
    if to == AlertStatus::Acknowledged {
        println!("acknowledged {moved} alert(s)");
    } else {
        println!("{moved} alert(s) now {to}");
    }
    Ok(if not_moved.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub(crate) fn run(global: &GlobalArgs, args: AlertsArgs) -> anyhow::Result<ExitCode> {
    let data_dir = paths::data_dir(global.data_dir.as_deref())?;
    let db = paths::existing_state_db(&data_dir, "`leakwatch demo` or `leakwatch crawl`")?;
    let store = AlertStore::open(&db)?;
    match args.action {
        Some(AlertsAction::Ack { ids }) => {
            return triage(&store, &ids, AlertStatus::Acknowledged, "")
        }
        Some(AlertsAction::SetStatus {
            mut ids_then_status,
            note,
        }) => {
            let status = ids_then_status.pop().unwrap_or_default();
            let to = AlertStatus::parse_or_explain(&status)?;
            if to.is_untriaged() {
                anyhow::bail!(
                    "status {to} is set by the service; choose acknowledged, investigating, \
                     resolved or false_positive"
                );
            }
            let ids = ids_then_status
                .iter()
                .map(|id| {
                    id.trim_start_matches('#').parse::<i64>().map_err(|_| {
                        anyhow::anyhow!("{id:?} is no alert id; write the ids, then the status")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            return triage(&store, &ids, to, &note);
        }
        None => {}
    }
    if let Some(status) = &args.status {
        AlertStatus::parse_or_explain(status)?;
    }
    let filter = AlertFilter {
        customer: args.customer,
        status: args
            .status
            .as_deref()
            .and_then(AlertStatus::parse)
            .map(|s| s.as_str().to_owned()),
        since: args.since,
    };
    let alerts = store.list(&filter)?;
    let colour = use_colour();
    // Written with `?`, not `println!`: a reader that goes away (`| head`)
    // ends the command quietly (main treats a broken pipe as success).
    let mut out = std::io::stdout().lock();
    for stored in &alerts {
        if args.json {
            writeln!(out, "{}", serde_json::to_string(stored)?)?;
        } else {
            let mut status = format!(
                "{} · first seen {} · last seen {}",
                stored.status, stored.first_seen, stored.last_seen
            );
            if !stored.delivered_to.is_empty() {
                status.push_str(&format!(
                    " · delivered to {}",
                    stored.delivered_to.join(", ")
                ));
            }
            writeln!(
                out,
                "{}\n    {status}",
                format_alert(&stored.alert, Some(stored.id), colour)
            )?;
            for seen in &stored.also_seen_at {
                writeln!(
                    out,
                    "    also seen at {} {} ({})",
                    seen.site.as_deref().unwrap_or("-"),
                    seen.url.as_deref().unwrap_or(&seen.doc_id),
                    seen.seen_at
                )?;
            }
            for h in &stored.history {
                let note = if h.note.is_empty() {
                    String::new()
                } else {
                    format!(": {}", h.note)
                };
                writeln!(
                    out,
                    "    {} {} → {} by {}{note}",
                    h.at, h.from, h.to, h.actor
                )?;
            }
            writeln!(out)?;
        }
    }
    if !args.json {
        writeln!(out, "{} alert(s)", alerts.len())?;
    }
    Ok(ExitCode::SUCCESS)
}
