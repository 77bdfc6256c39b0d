//! `leakwatch pivot VALUE`: every document, site and seller that shares a
//! wallet, contact or key, oldest first. Exit 0 when something shares it,
//! 1 when nothing does.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::commands::search::open_index;
use crate::correlation::{pivot, Listing};
use crate::{paths, GlobalArgs};

#[derive(Debug, Args)]
pub(crate) struct PivotArgs {
    /// A wallet, e-mail, @handle or t.me link, QQ number, WeChat id, Jabber
    /// id, Tox or Session id, PGP fingerprint, onion or phone number, as
    /// written anywhere (`"QQ：12345678"`, `@Shop`, `0xAB…` in any case).
    value: String,
    /// One JSON object: value, kind, documents, sites, sellers.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(global: &GlobalArgs, args: PivotArgs) -> anyhow::Result<ExitCode> {
    let data_dir = paths::data_dir(global.data_dir.as_deref())?;
    let index = open_index(&paths::index_dir(&data_dir))?;
    let value = entities::canonical_value(&args.value);
    let docs = index
        .scan_entity(&value)
        .context("reading the index")?
        .collect::<Result<Vec<_>, _>>()
        .context("reading a document of the index")?;
    let report = pivot(&value, docs);
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&report)?).context("writing the report")?;
    } else if report.documents.is_empty() {
        writeln!(
            out,
            "no document has {value:?} (pivot compares whole values: a full address, \
             @handle, e-mail, number or fingerprint)"
        )
        .context("writing the report")?;
    } else {
        let kind = report.kind.map_or("value".into(), |k| k.to_string());
        writeln!(
            out,
            "{kind} {}: {} document(s) on {} site(s) by {} seller(s), oldest first\n",
            report.value,
            report.documents.len(),
            report.sites.len(),
            report.sellers.len()
        )
        .context("writing the report")?;
        for d in &report.documents {
            writeln!(out, "{}", listing_line(d)).context("writing the report")?;
        }
        writeln!(out, "\nsites:   {}", report.sites.join(", ")).context("writing the report")?;
        writeln!(out, "sellers: {}", report.sellers.join(", ")).context("writing the report")?;
    }
    Ok(if report.documents.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One document on one line: date, site, seller, title, then its URL.
pub(crate) fn listing_line(d: &Listing) -> String {
    let date = d.date.map_or_else(
        || "-".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M").to_string(),
    );
    format!(
        "{date}  {}  {}  {}\n    {}",
        d.site,
        d.seller.as_deref().unwrap_or("-"),
        d.title.as_deref().unwrap_or("(no title)"),
        d.url
    )
}
