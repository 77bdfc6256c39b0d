//! `leakwatch search`: query the index; a readable list by default, one JSON
//! object a line with `--json`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use indexer::{DocumentIndex, Highlighted, SearchRequest, SortOrder};

use crate::commands::{parse_date, use_colour};
use crate::{paths, GlobalArgs};

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words, "phrases", AND/OR/NOT, and fields: site:, lang:, kind:, seller:.
    query: String,
    /// Only this site.
    #[arg(long)]
    site: Option<String>,
    /// Only documents with an alert for this customer.
    #[arg(long)]
    customer: Option<String>,
    /// Posted (or fetched) at or after: 2026-11-01, RFC 3339, or 7d.
    #[arg(long)]
    since: Option<String>,
    /// Posted (or fetched) before.
    #[arg(long)]
    until: Option<String>,
    #[arg(long, default_value_t = 10)]
    limit: usize,
    #[arg(long, default_value_t = 0)]
    offset: usize,
    #[arg(long, value_enum, default_value_t = Sort::Score)]
    sort: Sort,
    /// One JSON object a line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Sort {
    Score,
    Date,
}

pub fn run(global: &GlobalArgs, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let data_dir = paths::data_dir(global.data_dir.as_deref())?;
    let index = DocumentIndex::open(&paths::index_dir(&data_dir))?;
    let request = SearchRequest {
        query: args.query.clone(),
        site: args.site,
        customer: args.customer,
        since: args.since.as_deref().map(parse_date).transpose()?,
        until: args.until.as_deref().map(parse_date).transpose()?,
        limit: args.limit,
        offset: args.offset,
        sort: match args.sort {
            Sort::Score => SortOrder::Score,
            Sort::Date => SortOrder::Date,
        },
    };
    let (total, hits) = index.search(&request)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        for hit in &hits {
            let d = &hit.document;
            let line = serde_json::json!({
                "id": d.id, "site": d.site, "url": d.url, "kind": d.kind, "lang": d.lang,
                "title": d.title, "price": d.price, "seller": d.seller, "category": d.category,
                "posted_at": d.posted_at, "fetched_at": d.fetched_at, "alerts": d.alerts,
                "score": hit.score,
                "snippet": hit.snippet.text,
                "highlights": hit.snippet.ranges.iter().map(|r| [r.start, r.end]).collect::<Vec<_>>(),
            });
            writeln!(out, "{line}").context("writing results")?;
        }
        return Ok(if hits.is_empty() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    let colour = use_colour();
    for (i, hit) in hits.iter().enumerate() {
        let d = &hit.document;
        let date = d
            .posted_at
            .or(d.fetched_at)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "-".into());
        let mut facts = vec![d.site.clone(), date];
        if let Some(p) = &d.price {
            facts.push(p.clone());
        }
        if !d.alerts.is_empty() {
            facts.push(format!("alerts: {}", d.alerts.join(", ")));
        }
        writeln!(
            out,
            "{}. {}\n   {}\n   {}\n   {}\n",
            args.offset + i + 1,
            d.title.as_deref().unwrap_or("(no title)"),
            facts.join(" · "),
            d.url,
            render_snippet(&hit.snippet, colour)
        )
        .context("writing results")?;
    }
    writeln!(
        out,
        "{total} match{} for {:?}",
        if total == 1 { "" } else { "es" },
        args.query
    )
    .context("writing results")?;
    Ok(if hits.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The snippet on one line, hits in bold yellow (or [brackets] without colour).
fn render_snippet(snippet: &Highlighted, colour: bool) -> String {
    let (on, off) = if colour {
        ("\x1b[1;33m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    let mut out = String::new();
    let mut at = 0;
    for r in &snippet.ranges {
        out.push_str(&snippet.text[at..r.start]);
        out.push_str(on);
        out.push_str(&snippet.text[r.clone()]);
        out.push_str(off);
        at = r.end;
    }
    out.push_str(&snippet.text[at..]);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
