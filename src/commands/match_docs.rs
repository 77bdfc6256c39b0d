//! `leakwatch match`: stream documents (JSON lines) through the watchlists
//! and print alerts, in input order, matching on every core. Memory stays
//! constant whatever the input size; a malformed line is reported with its
//! number and skipped.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::Args;
use crawler::DocumentKind;
use serde::Deserialize;
use watchlists::{MatchDocument, Matcher, WatchlistSet};

use crate::commands::use_colour;
use crate::format::format_alert;

#[derive(Debug, Args)]
pub(crate) struct MatchArgs {
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

/// Lines handed to a worker at once: enough to amortise the hand-over,
/// few enough that memory stays small (a few MB in flight in all).
const BATCH_LINES: usize = 256;
const BATCH_BYTES: usize = 1 << 20;

/// A batch of input lines and the number of its first line. The lines sit
/// back to back in one buffer (no allocation per line); `ends[i]` is where
/// line `i` ends.
struct Batch {
    seq: u64,
    first_line: u64,
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Batch {
    fn lines(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.data[a..b])
    }
}

/// What the lines of one batch gave.
struct Done {
    seq: u64,
    first_line: u64,
    outcomes: Vec<Outcome>,
}

/// What one line gave.
enum Outcome {
    Blank,
    Malformed(String),
    Alerts(Vec<watchlists::Alert>),
}

pub(crate) fn run(args: MatchArgs) -> anyhow::Result<ExitCode> {
    let set = WatchlistSet::load(&args.watchlists).map_err(|e| anyhow::anyhow!("{e}"))?;
    let matcher = Matcher::new(&set);
    let name = args.input.display().to_string();
    let reader: Box<dyn BufRead + Send> = if name == "-" {
        Box::new(BufReader::with_capacity(1 << 20, std::io::stdin()))
    } else {
        Box::new(BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(&args.input).with_context(|| format!("{name}: cannot open"))?,
        ))
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let colour = !args.json && use_colour();
    let (mut documents, mut alerts, mut malformed) = (0u64, 0u64, 0u64);

    // One reader, a worker per core parsing and matching, and this thread
    // writing the results in input order. A batch takes a token from the
    // reader until it is written, so at most `in_flight` batches exist at
    // any time (queued, being matched or waiting for their turn): memory
    // stays constant whatever the input size.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let in_flight = workers * 3;
    let (token_tx, token_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        token_tx.send(()).context("starting the workers")?;
    }
    let (work_tx, work_rx) = sync_channel::<Batch>(in_flight);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = sync_channel::<Done>(in_flight);
    let stop = AtomicBool::new(false);
    let mut write_error = None;
    let mut lost_batches = false;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let reading = scope.spawn(|| read_batches(reader, &name, work_tx, token_rx, &stop));
        for _ in 0..workers {
            let (done_tx, work_rx, matcher) = (done_tx.clone(), work_rx.clone(), &matcher);
            scope.spawn(move || loop {
                let batch = match work_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok(batch) = batch else { return };
                let outcomes = batch
                    .lines()
                    .map(|line| match_line_guarded(matcher, line))
                    .collect();
                let done = Done {
                    seq: batch.seq,
                    first_line: batch.first_line,
                    outcomes,
                };
                if done_tx.send(done).is_err() {
                    return;
                }
            });
        }
        // The workers hold the only handles now: when they are all gone,
        // the reader's sends fail and the loop below ends.
        drop((done_tx, work_rx));
        let mut waiting = std::collections::BTreeMap::new();
        let mut next = 0u64;
        'results: for done in done_rx.iter() {
            waiting.insert(done.seq, done);
            while let Some(done) = waiting.remove(&next) {
                next += 1;
                for (i, outcome) in done.outcomes.into_iter().enumerate() {
                    let number = done.first_line + i as u64;
                    match outcome {
                        Outcome::Blank => {}
                        Outcome::Malformed(why) => {
                            malformed += 1;
                            eprintln!("{name}:{number}: {why}; skipped");
                        }
                        Outcome::Alerts(found) => {
                            documents += 1;
                            for alert in found {
                                alerts += 1;
                                let written = if args.json {
                                    serde_json::to_writer(&mut out, &alert)
                                        .map_err(std::io::Error::from)
                                        .and_then(|()| writeln!(out))
                                } else {
                                    writeln!(out, "{}\n", format_alert(&alert, None, colour))
                                };
                                if let Err(e) = written {
                                    // Output gone (e.g. `| head`): stop reading.
                                    write_error = Some(e);
                                    stop.store(true, Ordering::Relaxed);
                                    break 'results;
                                }
                            }
                        }
                    }
                }
                // The batch is written: the reader may read another.
                token_tx.send(()).ok();
            }
        }
        lost_batches = !waiting.is_empty();
        // Unblock everyone: workers fail to send, the reader to get a token.
        drop(done_rx);
        drop(token_tx);
        reading
            .join()
            .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?
    })?;
    if let Some(e) = write_error {
        return Err(e).context("writing alerts");
    }
    if lost_batches {
        anyhow::bail!(
            "{name}: a matching thread stopped early; the output ends after {documents} documents"
        );
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

/// Reads `reader` into numbered batches of lines until its end, taking a
/// token for each batch; stops early when `stop` is set or nobody listens.
fn read_batches(
    mut reader: Box<dyn BufRead + Send>,
    name: &str,
    work: SyncSender<Batch>,
    tokens: Receiver<()>,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let (mut seq, mut number) = (0u64, 0u64);
    loop {
        if stop.load(Ordering::Relaxed) || tokens.recv().is_err() {
            return Ok(());
        }
        let mut batch = Batch {
            seq,
            first_line: number + 1,
            data: Vec::with_capacity(BATCH_BYTES + (BATCH_BYTES >> 2)),
            ends: Vec::with_capacity(BATCH_LINES),
        };
        while batch.ends.len() < BATCH_LINES && batch.data.len() < BATCH_BYTES {
            let read = reader
                .read_until(b'\n', &mut batch.data)
                .with_context(|| format!("{name}: read error after line {number}"))?;
            if read == 0 {
                break;
            }
            number += 1;
            batch.ends.push(batch.data.len());
        }
        if batch.ends.is_empty() {
            return Ok(());
        }
        seq += 1;
        if work.send(batch).is_err() {
            return Ok(());
        }
    }
}

/// [`match_line`], with a panic (a bug) reported as that line's error
/// instead of taking the worker, and the run, down.
fn match_line_guarded(matcher: &Matcher, line: &[u8]) -> Outcome {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match_line(matcher, line)))
        .unwrap_or_else(|_| {
            Outcome::Malformed(
                "internal error while matching this document (please report it)".into(),
            )
        })
}

/// Parses and matches one input line.
fn match_line(matcher: &Matcher, line: &[u8]) -> Outcome {
    let text = trim_ascii(line);
    if text.is_empty() {
        return Outcome::Blank;
    }
    // Validated once, quickly, here; parsing a `str` does not validate each string again.
    let Ok(text) = simdutf8::basic::from_utf8(text) else {
        let at = std::str::from_utf8(text)
            .err()
            .map_or(0, |e| e.valid_up_to());
        return Outcome::Malformed(format!("not UTF-8 (invalid byte {} of the line)", at + 1));
    };
    let doc: MatchLine = match serde_json::from_str(text) {
        Ok(doc) => doc,
        Err(e) => return Outcome::Malformed(format!("not a document ({e})")),
    };
    if doc.title.is_none() && doc.body.is_none() {
        return Outcome::Malformed(format!("document {:?} has neither title nor body", doc.id));
    }
    let alerts = matcher.match_document(&MatchDocument {
        id: &doc.id,
        site: doc.site.as_deref().filter(|s| !s.is_empty()),
        url: doc.url.as_deref().filter(|s| !s.is_empty()),
        kind: Some(doc.kind.as_str()),
        title: doc.title.as_deref(),
        body: doc.body.as_deref(),
        price: doc.price.as_deref(),
    });
    if alerts.is_empty() {
        return Outcome::Alerts(alerts);
    }
    // Only documents with an alert pay for entity extraction.
    let entities = entities::extract_entities(&indexer::entity_text(
        doc.title.as_deref(),
        doc.body.as_deref(),
    ));
    Outcome::Alerts(crate::convert::with_entities(alerts, &entities))
}

/// The fields of a document line (DESIGN.md "The document") that matching reads, borrowed
/// from the line where a string has no escapes (no copy per document); the other fields
/// are not read. Only `id` and one of `title`/`body` are required. (`borrow` alone would
/// not borrow an `Option<Cow<str>>`: serde only special-cases a bare `Cow<str>`.)
#[derive(Deserialize)]
struct MatchLine<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    site: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    url: Option<Cow<'a, str>>,
    #[serde(default)]
    kind: DocumentKind,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    title: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    body: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    price: Option<Cow<'a, str>>,
}

/// An optional string field, borrowed from the input when it has no escapes (copied when
/// it has), `None` for `null`.
fn borrowed<'de, D>(de: D) -> Result<Option<Cow<'de, str>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Visit;
    impl<'de> serde::de::Visitor<'de> for Visit {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
            de.deserialize_str(self)
        }
    }
    de.deserialize_option(Visit)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings without escapes are borrowed from the line; escaped ones are decoded; null
    /// and a missing field are `None`; a wrong type is refused.
    #[test]
    fn fields_are_borrowed_from_the_line() {
        let line = r#"{"id": "d1", "title": "出售 MUFG", "body": "a\nb", "url": null}"#;
        let doc: MatchLine = serde_json::from_str(line).expect("parses");
        assert!(matches!(doc.title, Some(Cow::Borrowed("出售 MUFG"))));
        assert!(matches!(doc.id, Cow::Borrowed("d1")));
        assert_eq!(doc.body.as_deref(), Some("a\nb"));
        assert!(matches!(doc.body, Some(Cow::Owned(_))));
        assert!(doc.url.is_none() && doc.price.is_none() && doc.site.is_none());
        assert!(serde_json::from_str::<MatchLine>(r#"{"id": "d2", "title": 5}"#).is_err());
    }
}
