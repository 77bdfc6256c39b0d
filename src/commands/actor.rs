//! `leakwatch actor SELLER [--site S]`: a seller's listings, the wallets
//! and contacts they carry, and the other seller names (on any site) that
//! share one of them. Exit 0 when the seller has listings, 1 when not.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use indexer::{DocumentIndex, IndexDocument, SearchRequest};

use crate::commands::pivot::listing_line;
use crate::commands::search::open_index;
use crate::correlation::{actor, ActorReport, Held};
use crate::{paths, GlobalArgs};

#[derive(Debug, Args)]
pub(crate) struct ActorArgs {
    /// The seller's name as the sites show it (any case).
    seller: String,
    /// Only the seller's listings on this site (links are still looked for
    /// on every site).
    #[arg(long)]
    site: Option<String>,
    /// One JSON object: seller, site, listings, wallets, contacts,
    /// linked_sellers.
    #[arg(long)]
    json: bool,
}

/// Every document whose seller field holds `seller` as a phrase (the exact
/// name is checked by the report).
fn candidates(
    index: &DocumentIndex,
    seller: &str,
    site: Option<&str>,
) -> anyhow::Result<Vec<IndexDocument>> {
    let phrase: String = seller
        .chars()
        .filter(|c| !matches!(c, '"' | '\\'))
        .collect();
    let request = SearchRequest {
        query: format!("seller:\"{}\"", phrase.trim()),
        site: site.map(str::to_owned),
        ..Default::default()
    };
    index
        .scan(&request)
        .with_context(|| format!("looking up seller {seller:?}"))?
        .collect::<Result<Vec<_>, _>>()
        .context("reading a document of the index")
}

pub(crate) fn run(global: &GlobalArgs, args: ActorArgs) -> anyhow::Result<ExitCode> {
    let data_dir = paths::data_dir(global.data_dir.as_deref())?;
    let index = open_index(&paths::index_dir(&data_dir))?;
    let site = args.site.as_deref();
    let own = candidates(&index, &args.seller, site)?;
    let report = actor(&args.seller, site, own, |value| {
        index
            .scan_entity(value)
            .context("reading the index")?
            .collect::<Result<Vec<_>, _>>()
            .context("reading a document of the index")
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&report)?).context("writing the report")?;
    } else {
        write!(out, "{}", render(&report)).context("writing the report")?;
    }
    Ok(if report.listings.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The report for a terminal.
fn render(r: &ActorReport) -> String {
    let on = r
        .site
        .as_deref()
        .map(|s| format!(" on {s}"))
        .unwrap_or_default();
    if r.listings.is_empty() {
        return format!("no listings by seller {:?}{on}\n", r.seller);
    }
    let mut s = format!(
        "seller {}{on}: {} listing(s), oldest first\n\n",
        r.seller,
        r.listings.len()
    );
    for d in &r.listings {
        s.push_str(&listing_line(d));
        s.push('\n');
    }
    let held = |title: &str, list: &[Held], s: &mut String| {
        s.push_str(&format!("\n{title}:"));
        if list.is_empty() {
            s.push_str(" none found\n");
            return;
        }
        s.push('\n');
        for h in list {
            s.push_str(&format!(
                "  {:<9} {}  ({} listing(s))\n",
                h.kind.as_str(),
                h.value,
                h.listings
            ));
        }
    };
    held("wallets", &r.wallets, &mut s);
    held("contacts", &r.contacts, &mut s);
    s.push_str("\nother sellers sharing one of them:");
    if r.linked_sellers.is_empty() {
        s.push_str(" none\n");
        return s;
    }
    s.push('\n');
    for l in &r.linked_sellers {
        let shared: Vec<String> = l
            .shared
            .iter()
            .map(|x| format!("{} {}", x.kind.as_str(), x.value))
            .collect();
        s.push_str(&format!(
            "  {} on {} ({} document(s)): {}\n",
            l.seller,
            l.sites.join(", "),
            l.documents,
            shared.join(", ")
        ));
    }
    s
}
