//! `leakwatch search`: query the index; a readable list by default, one JSON
//! object a line with `--json`. An index of an older schema is rebuilt from
//! its stored documents first, with a progress bar.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use indexer::{DocumentIndex, Highlighted, ReindexProgress, SearchHit, SearchRequest, SortOrder};
use indicatif::{ProgressBar, ProgressStyle};

use crate::commands::{parse_date, use_colour};
use crate::{paths, GlobalArgs};

#[derive(Debug, Args)]
pub(crate) struct SearchArgs {
    /// Words, "phrases", AND/OR/NOT, -word, word*, and fields: site:, lang:,
    /// kind:, seller:, currency:, amount:[0 TO 1], customer:.
    query: String,
    /// Only this site.
    #[arg(long)]
    site: Option<String>,
    /// Only documents with an alert for this customer.
    #[arg(long)]
    customer: Option<String>,
    /// Posted (or fetched) at or after: 2026-11-01, RFC 3339, or 7d.
    #[arg(long, value_parser = parse_date)]
    since: Option<DateTime<Utc>>,
    /// Posted (or fetched) before: 2026-11-01, RFC 3339, or 7d.
    #[arg(long, value_parser = parse_date)]
    until: Option<DateTime<Utc>>,
    /// Hits to show.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Hits to skip (the next page starts at --offset plus --limit).
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Order: best match first, or newest first.
    #[arg(long, value_enum, default_value_t = Sort::Score)]
    sort: Sort,
    /// One JSON object a line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Sort {
    Score,
    Date,
}

/// The index's request for these arguments.
fn request(args: &SearchArgs) -> SearchRequest {
    SearchRequest {
        query: args.query.clone(),
        site: args.site.clone(),
        customer: args.customer.clone(),
        since: args.since,
        until: args.until,
        limit: args.limit,
        offset: args.offset,
        sort: match args.sort {
            Sort::Score => SortOrder::Score,
            Sort::Date => SortOrder::Date,
        },
    }
}

/// Opens the index, rebuilding one of an older schema with a progress bar
/// (on stderr, so `--json` output stays clean).
pub(crate) fn open_index(dir: &Path) -> anyhow::Result<DocumentIndex> {
    let mut bar: Option<ProgressBar> = None;
    let index = DocumentIndex::open_upgrading(dir, |p: ReindexProgress| {
        let bar = bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(p.total);
            bar.set_style(
                ProgressStyle::with_template(
                    "rebuilding the index for this version {bar:30} {pos}/{len} documents ({eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        bar.set_position(p.done);
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
        eprintln!(
            "rebuilt the index in {} for this version of leakwatch",
            dir.display()
        );
    }
    Ok(index?)
}

pub(crate) fn run(global: &GlobalArgs, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let data_dir = paths::data_dir(global.data_dir.as_deref())?;
    let index = open_index(&paths::index_dir(&data_dir))?;
    let request = request(&args);
    let results = index.search_page(&request)?;
    let hits = &results.hits;
    let mut out = std::io::stdout().lock();
    if args.json {
        for hit in hits {
            writeln!(out, "{}", json_line(hit)).context("writing results")?;
        }
    } else {
        let colour = use_colour();
        for (i, hit) in hits.iter().enumerate() {
            writeln!(out, "{}", render_hit(args.offset + i + 1, hit, colour))
                .context("writing results")?;
        }
        writeln!(
            out,
            "{}",
            summary(results.total, args.offset, hits.len(), &args.query)
        )
        .context("writing results")?;
    }
    Ok(if hits.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One hit as a JSON object (the keys other tools read are stable).
fn json_line(hit: &SearchHit) -> serde_json::Value {
    let d = &hit.document;
    serde_json::json!({
        "id": d.id, "site": d.site, "url": d.url, "kind": d.kind, "lang": d.lang,
        "title": d.title, "price": d.price,
        "price_amount": hit.price.map(|p| p.amount),
        "price_currency": hit.price.and_then(|p| p.currency).map(|c| c.code()),
        "seller": d.seller, "category": d.category,
        "posted_at": d.posted_at, "fetched_at": d.fetched_at,
        "customers": d.customers, "alerts": d.alerts, "entities": d.entities,
        "score": hit.score,
        "snippet": hit.snippet.text,
        "highlights": hit.snippet.ranges.iter().map(|r| [r.start, r.end]).collect::<Vec<_>>(),
    })
}

/// One hit for a terminal: title; site, date, price and alerts; the snippet
/// with the hits marked; the URL.
fn render_hit(rank: usize, hit: &SearchHit, colour: bool) -> String {
    let d = &hit.document;
    let date = d
        .posted_at
        .or(d.fetched_at)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into());
    let mut facts = vec![d.site.clone(), date];
    match (&d.price, hit.price) {
        (Some(written), Some(price)) => {
            let parsed = match price.currency {
                Some(c) => format!("{} {c}", price.amount),
                None => price.amount.to_string(),
            };
            if written.replace(' ', "") == parsed.replace(' ', "") {
                facts.push(written.clone());
            } else {
                facts.push(format!("{written} ({parsed})"));
            }
        }
        (Some(written), None) => facts.push(written.clone()),
        (None, _) => {}
    }
    if !d.alerts.is_empty() {
        facts.push(format!("alerts: {}", d.alerts.join(", ")));
    }
    format!(
        "{rank}. {}\n   {}\n   {}\n   {}\n",
        d.title.as_deref().unwrap_or("(no title)"),
        facts.join(" · "),
        render_snippet(&hit.snippet, colour),
        d.url,
    )
}

/// The last line: how many matched, and how to see the next page.
fn summary(total: usize, offset: usize, shown: usize, query: &str) -> String {
    let mut line = format!(
        "{total} match{} for {query:?}",
        if total == 1 { "" } else { "es" }
    );
    if shown > 0 && (offset > 0 || offset + shown < total) {
        line.push_str(&format!("; showing {}–{}", offset + 1, offset + shown));
        if offset + shown < total {
            line.push_str(&format!(", next page: --offset {}", offset + shown));
        }
    }
    line
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

#[cfg(test)]
mod tests {
    //! The flags as a user types them, through clap, against a small index.
    use super::*;
    use chrono::TimeZone;
    use clap::Parser;
    use indexer::IndexDocument;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SearchArgs,
    }

    fn args(argv: &[&str]) -> SearchArgs {
        let argv = std::iter::once("search").chain(argv.iter().copied());
        Cli::try_parse_from(argv).expect("flags parse").args
    }

    /// Five listings, one a day from 2026-10-01, alternating two sites; the
    /// even ones carry an alert for customer "mufg-group".
    fn index() -> (tempfile::TempDir, DocumentIndex) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut index = DocumentIndex::open_or_create(dir.path()).expect("create");
        for i in 0..5u32 {
            let doc = IndexDocument {
                id: format!("d{i}"),
                site: if i % 2 == 0 { "demo-cn" } else { "demo-jp" }.into(),
                url: format!("http://x.onion/{i}"),
                kind: "listing".into(),
                title: Some(format!("出售 三菱日联银行 账户 {i}")),
                body: Some("带登录密码".repeat(i as usize + 1)),
                price: Some(format!("{i}.5 BTC")),
                posted_at: Utc.with_ymd_and_hms(2026, 10, i + 1, 0, 0, 0).single(),
                customers: if i % 2 == 0 {
                    vec!["mufg-group".into()]
                } else {
                    Vec::new()
                },
                alerts: if i % 2 == 0 {
                    vec!["mufg-group/mufg".into()]
                } else {
                    Vec::new()
                },
                ..Default::default()
            };
            let _ = index.upsert(&doc).expect("upsert");
        }
        index.commit().expect("commit");
        (dir, index)
    }

    fn ids(index: &DocumentIndex, argv: &[&str]) -> Vec<String> {
        let request = request(&args(argv));
        let (_, hits) = index.search(&request).expect("search");
        hits.into_iter().map(|h| h.document.id).collect()
    }

    #[test]
    fn defaults() {
        let a = args(&["三菱"]);
        let r = request(&a);
        assert_eq!((r.limit, r.offset, r.sort), (10, 0, SortOrder::Score));
        assert!(!a.json && r.site.is_none() && r.since.is_none() && r.until.is_none());
    }

    #[test]
    fn sort_offset_limit_page_through_newest_first() {
        let (_dir, index) = index();
        let all = ids(&index, &["银行", "--sort", "date"]);
        assert_eq!(all, ["d4", "d3", "d2", "d1", "d0"]);
        assert_eq!(
            ids(&index, &["银行", "--sort", "date", "--limit", "2"]),
            ["d4", "d3"]
        );
        assert_eq!(
            ids(
                &index,
                &["银行", "--sort", "date", "--limit", "2", "--offset", "2"]
            ),
            ["d2", "d1"]
        );
        assert_eq!(
            ids(&index, &["银行", "--sort", "date", "--offset", "4"]),
            ["d0"]
        );
        assert!(ids(&index, &["银行", "--offset", "9"]).is_empty());
        // Score order: the longest body repeats the matched words most.
        assert_eq!(ids(&index, &["登录密码", "--limit", "1"]), ["d4"]);
        assert!(Cli::try_parse_from(["search", "x", "--sort", "price"]).is_err());
    }

    #[test]
    fn since_until_customer_site() {
        let (_dir, index) = index();
        let sorted = |argv: &[&str]| {
            let mut v = ids(&index, argv);
            v.sort();
            v
        };
        assert_eq!(
            sorted(&["银行", "--since", "2026-10-03"]),
            ["d2", "d3", "d4"]
        );
        assert_eq!(sorted(&["银行", "--until", "2026-10-03"]), ["d0", "d1"]);
        assert_eq!(
            sorted(&[
                "银行",
                "--since",
                "2026-10-02",
                "--until",
                "2026-10-04T00:00:00Z"
            ]),
            ["d1", "d2"]
        );
        assert_eq!(
            sorted(&["银行", "--customer", "mufg-group"]),
            ["d0", "d2", "d4"]
        );
        assert_eq!(sorted(&["银行", "--site", "demo-jp"]), ["d1", "d3"]);
        assert_eq!(
            sorted(&[
                "银行",
                "--customer",
                "mufg-group",
                "--site",
                "demo-cn",
                "--until",
                "2026-10-04"
            ]),
            ["d0", "d2"]
        );
        let argv = ["search", "x", "--until", "soon"];
        let err = match Cli::try_parse_from(argv) {
            Ok(_) => panic!("--until soon was taken"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("--until") && err.contains("soon"), "{err}");
    }

    #[test]
    fn json_keeps_its_keys_and_adds_the_parsed_price() {
        let (_dir, index) = index();
        let request = request(&args(&["三菱日联", "--limit", "1", "--sort", "date"]));
        let (_, hits) = index.search(&request).expect("search");
        let line = json_line(&hits[0]);
        for key in [
            "id",
            "site",
            "url",
            "kind",
            "lang",
            "title",
            "price",
            "seller",
            "category",
            "posted_at",
            "fetched_at",
            "alerts",
            "score",
            "snippet",
            "highlights",
            "price_amount",
            "price_currency",
            "customers",
        ] {
            assert!(line.get(key).is_some(), "missing {key} in {line}");
        }
        assert_eq!(line["price_amount"], 4.5);
        assert_eq!(line["price_currency"], "BTC");
        let snippet = line["snippet"].as_str().expect("snippet");
        let [a, b] = [0, 1].map(|i| line["highlights"][0][i].as_u64().expect("range") as usize);
        assert_eq!(&snippet[a..b], "三菱日联");
    }

    #[test]
    fn readable_output() {
        let (_dir, index) = index();
        let (total, hits) = index
            .search(&request(&args(&[
                "三菱日联",
                "--sort",
                "date",
                "--limit",
                "2",
            ])))
            .expect("search");
        let text = render_hit(1, &hits[0], false);
        assert!(text.starts_with("1. 出售 三菱日联银行 账户 4\n"), "{text}");
        assert!(
            text.contains("demo-cn · 2026-10-05 00:00 · 4.5 BTC · alerts: mufg-group/mufg"),
            "{text}"
        );
        assert!(text.contains("[三菱日联]"), "{text}");
        assert_eq!(
            summary(total, 0, hits.len(), "三菱日联"),
            "5 matches for \"三菱日联\"; showing 1–2, next page: --offset 2"
        );
        assert_eq!(summary(1, 0, 1, "x"), "1 match for \"x\"");
    }

    #[test]
    fn query_errors_point_at_the_problem() {
        let (_dir, index) = index();
        let err = index
            .search(&request(&args(&["銀行 foo:bar"])))
            .expect_err("unknown field");
        let shown = format!("{:#}", anyhow::Error::from(err));
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[1], "  銀行 foo:bar", "{shown}");
        assert_eq!(lines[2], "       ^", "{shown}");
    }
}
