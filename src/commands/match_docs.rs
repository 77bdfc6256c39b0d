//! `leakwatch match`: stream documents (JSON lines) through the watchlists
//! and print alerts. Memory stays constant whatever the input size; a
//! malformed line is reported with its number and skipped.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use crawler::Document;
use watchlists::{Matcher, WatchlistSet};

use crate::commands::{format_alert, use_colour};
use crate::convert::match_view;

#[derive(Debug, Args)]
pub struct MatchArgs {
    /// A watchlist file or a folder of them.
    #[arg(long, value_name = "PATH")]
    watchlists: PathBuf,
    /// Documents as JSON lines; `-` for standard input.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// One JSON alert a line.
    #[arg(long)]
    json: bool,
}

pub fn run(args: MatchArgs) -> anyhow::Result<ExitCode> {
    let set = WatchlistSet::load(&args.watchlists).map_err(|e| anyhow::anyhow!("{e}"))?;
    let matcher = Matcher::new(&set);
    let name = args.input.display().to_string();
    let reader: Box<dyn BufRead> = if name == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(&args.input).with_context(|| format!("{name}: cannot open"))?,
        ))
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let colour = !args.json && use_colour();
    let (mut documents, mut alerts, mut malformed) = (0u64, 0u64, 0u64);
    let mut line = Vec::new();
    let mut reader = reader;
    let mut number = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("{name}: read error after line {number}"))?;
        if read == 0 {
            break;
        }
        number += 1;
        let text = trim_ascii(&line);
        if text.is_empty() {
            continue;
        }
        let doc: Document = match serde_json::from_slice(text) {
            Ok(doc) => doc,
            Err(e) => {
                malformed += 1;
                eprintln!("{name}:{number}: not a document ({e}); skipped");
                continue;
            }
        };
        if doc.title.is_none() && doc.body.is_none() {
            malformed += 1;
            eprintln!(
                "{name}:{number}: document {:?} has neither title nor body; skipped",
                doc.id
            );
            continue;
        }
        documents += 1;
        for alert in matcher.match_document(&match_view(&doc)) {
            alerts += 1;
            if args.json {
                serde_json::to_writer(&mut out, &alert).context("writing alerts")?;
                writeln!(out).context("writing alerts")?;
            } else {
                writeln!(out, "{}\n", format_alert(&alert, None, colour))
                    .context("writing alerts")?;
            }
        }
    }
    out.flush().context("writing alerts")?;
    eprintln!(
        "{documents} documents, {alerts} alerts{}",
        if malformed > 0 {
            format!(", {malformed} malformed lines skipped")
        } else {
            String::new()
        }
    );
    Ok(if malformed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}
