//! `leakwatch alerts`: list alerts from the alert log, or acknowledge them.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::alert_store::{AlertFilter, AlertStore};
use crate::commands::{parse_date, use_colour};
use crate::format::format_alert;
use crate::{paths, GlobalArgs};

#[derive(Debug, Args)]
pub(crate) struct AlertsArgs {
    #[command(subcommand)]
    action: Option<AlertsAction>,
    /// Only this customer's alerts.
    #[arg(long)]
    customer: Option<String>,
    /// Only alerts in this status: new (not yet delivered everywhere),
    /// delivered (to every sink it goes to) or acknowledged.
    #[arg(long)]
    status: Option<String>,
    /// First seen at or after: 2026-11-01, RFC 3339, or 7d.
    #[arg(long)]
    since: Option<String>,
    /// One JSON alert a line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum AlertsAction {
    /// Mark alerts acknowledged (ids as printed after `#`).
    Ack { ids: Vec<i64> },
}

pub(crate) fn run(global: &GlobalArgs, args: AlertsArgs) -> anyhow::Result<ExitCode> {
    let data_dir = paths::data_dir(global.data_dir.as_deref())?;
    let db = paths::existing_state_db(&data_dir, "`leakwatch demo` or `leakwatch crawl`")?;
    let store = AlertStore::open(&db)?;
    if let Some(AlertsAction::Ack { ids }) = args.action {
        let missing = store.acknowledge(&ids)?;
        if !missing.is_empty() {
            eprintln!("no alert with id {missing:?}");
            return Ok(ExitCode::from(1));
        }
        println!("acknowledged {} alert(s)", ids.len());
        return Ok(ExitCode::SUCCESS);
    }
    let filter = AlertFilter {
        customer: args.customer,
        status: args.status,
        since: args.since.as_deref().map(parse_date).transpose()?,
    };
    let alerts = store.list(&filter)?;
    let colour = use_colour();
    for stored in &alerts {
        if args.json {
            println!("{}", serde_json::to_string(stored)?);
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
            println!(
                "{}\n    {status}",
                format_alert(&stored.alert, Some(stored.id), colour)
            );
            for seen in &stored.also_seen_at {
                println!(
                    "    also seen at {} {} ({})",
                    seen.site.as_deref().unwrap_or("-"),
                    seen.url.as_deref().unwrap_or(&seen.doc_id),
                    seen.seen_at
                );
            }
            println!();
        }
    }
    if !args.json {
        println!("{} alert(s)", alerts.len());
    }
    Ok(ExitCode::SUCCESS)
}
